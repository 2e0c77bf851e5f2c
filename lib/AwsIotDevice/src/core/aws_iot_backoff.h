// Retry delays: exponential growth, jitter, a cap, and a floor.
//
// The delay for attempt n (0-based) is drawn from [base/2, base] where
// base = min(cap, initial * 2^n) ("equal jitter"), then raised to the floor.
// The floor defaults to 1000 ms because AWS IoT throttles more than one MQTT
// CONNECT per second for one client id.
#pragma once

#include <stdint.h>

namespace awsiot {

// Random source: returns a uniformly distributed 32-bit value. `ctx` is passed through.
typedef uint32_t (*RandomFn)(void* ctx);

struct BackoffConfig {
  uint32_t initial_ms;
  uint32_t cap_ms;
  uint32_t floor_ms;
};

// Ceilings 2 s, 4 s, 8 s ... 2 minutes; each delay drawn from [ceiling/2, ceiling], so the
// first retry already comes 1 to 2 s later (spread, and never under AWS's 1 s).
constexpr BackoffConfig kMqttBackoff = {2000u, 120000u, 1000u};
// WiFi: start at 2 s, cap at 1 minute.
constexpr BackoffConfig kWifiBackoff = {2000u, 60000u, 1000u};

class Backoff {
 public:
  Backoff(const BackoffConfig& config, RandomFn random, void* random_ctx);

  // The delay before the next attempt; counts one failed attempt.
  uint32_t next_delay_ms();
  // After a success: the next failure starts again from `initial_ms`.
  void reset() { failures_ = 0; }
  uint32_t failures() const { return failures_; }
  // The ceiling of the delay for the next attempt, before jitter (for tests and logs).
  uint32_t base_ms() const;

 private:
  BackoffConfig config_;
  RandomFn random_;
  void* random_ctx_;
  uint32_t failures_;
};

// True when at least `interval_ms` passed from `since` to `now`, correct across the
// wrap-around of a 32-bit millisecond counter (about 49.7 days).
inline bool elapsed(uint32_t now, uint32_t since, uint32_t interval_ms) {
  return static_cast<uint32_t>(now - since) >= interval_ms;
}

}  // namespace awsiot
