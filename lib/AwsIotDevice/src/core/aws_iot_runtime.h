// Runtime facts in portable form: 64-bit uptime, the MAC-based client id, wiping key
// material, and which halts restart the board.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace awsiot {

// millis() wraps after 49.7 days; this counts the wraps. Call update() at least once
// every 49 days (every loop() does).
class Uptime {
 public:
  Uptime() : wraps_(0), last_(0) {}
  uint64_t update(uint32_t now_ms) {
    if (now_ms < last_) ++wraps_;
    last_ = now_ms;
    return (static_cast<uint64_t>(wraps_) << 32) | now_ms;
  }

 private:
  uint32_t wraps_;
  uint32_t last_;
};

// ESP.getEfuseMac() on the ESP32 holds the MAC's first byte in its LOWEST byte
// (24:6F:28:AA:BB:CC reads 0x0000CCBBAA286F24): this gives the bytes in MAC order.
void mac_from_efuse(uint64_t efuse, uint8_t mac[6]);

// "<prefix>-246f28aabbcc": the MAC in its usual order, lower-case hex.
void mac_client_id(const char* prefix, const uint8_t mac[6], char* out, size_t out_size);

// Overwrites `size` bytes with zeros in a way the compiler does not drop (a plain memset
// before delete[] may be removed as a dead store). For key material before freeing it.
void wipe(void* data, size_t size);

// Why the client stopped before connecting. Configuration errors (settings, files on the
// filesystem) need the user: the board waits and repeats the reason. Anything else (an
// allocation that failed at boot) may pass: the board restarts after a while.
enum class HaltKind : uint8_t { kConfiguration, kTransient };
constexpr uint32_t kTransientHaltRestartMs = 60000u;
// 0: never restart.
constexpr uint32_t halt_restart_after_ms(HaltKind kind) {
  return kind == HaltKind::kTransient ? kTransientHaltRestartMs : 0u;
}

}  // namespace awsiot
