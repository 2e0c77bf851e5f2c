// ESP32 (arduino-esp32 2.0.17): mbedTLS through WiFiClientSecure, PEM files on LittleFS.
// The whole file compiles only when building for the ESP32 (an empty unit elsewhere).
#if defined(ESP32)

#include <Arduino.h>
#include <LittleFS.h>
#include <WiFi.h>
#include <WiFiClientSecure.h>
#include <esp_system.h>

#include <stdio.h>

#include "device_log.h"
#include "device_platform.h"
#include "fs_files.h"

namespace device {

namespace {

WiFiClientSecure g_client;
// setCACert / setCertificate / setPrivateKey keep the pointers and parse the text (up to
// its NUL) at every connect: the buffers live as long as the program.
FileBuffer g_ca;
FileBuffer g_cert;
FileBuffer g_key;
bool g_have_error_state = false;

constexpr unsigned long kHandshakeTimeoutSeconds = 20;  // the core's default is 120

}  // namespace

awsiot::Platform platform() { return awsiot::Platform::kEsp32; }
const char* platform_name() { return "esp32"; }

void default_client_id(char* out, size_t out_size) {
  const uint64_t mac = ESP.getEfuseMac();
  snprintf(out, out_size, "esp32-%08lx%04x", static_cast<unsigned long>(mac & 0xFFFFFFFFu),
           static_cast<unsigned>((mac >> 32) & 0xFFFFu));
}

uint32_t random_u32(void*) { return esp_random(); }
uint32_t free_heap() { return ESP.getFreeHeap(); }
uint32_t max_free_block() { return ESP.getMaxAllocHeap(); }

bool mount_filesystem() {
  if (!LittleFS.begin(false)) {  // formatOnFail = false: never erase the certificates
    LOGF("[fs] ERROR: LittleFS did not mount (no filesystem image on the board?): "
                  "run `pio run -t uploadfs`\n");
    return false;
  }
  return true;
}

bool load_identity() {
  bool missing = false;
  const bool ca = load_file("/ca.pem", awsiot::Expect::kPem, Presence::kRequired, &g_ca, &missing);
  const bool cert = load_file("/cert.pem", awsiot::Expect::kPem, Presence::kRequired, &g_cert, &missing);
  const bool key = load_file("/private.pem", awsiot::Expect::kPem, Presence::kRequired, &g_key, &missing);
  if (!ca || !cert || !key) return false;
  if (strstr(g_key.c_str(), "ENCRYPTED") != nullptr) {
    LOGF("[fs] ERROR: /private.pem is encrypted; set AWS_IOT_KEY_PASSPHRASE so the plugin "
                  "writes it decrypted, then run `pio run -e esp32 -t uploadfs`\n");
    return false;
  }
  g_client.setCACert(g_ca.c_str());
  g_client.setCertificate(g_cert.c_str());
  g_client.setPrivateKey(g_key.c_str());
  g_client.setHandshakeTimeout(kHandshakeTimeoutSeconds);
  return true;
}

Client& tls_client() { return g_client; }

void tls_prepare(const char*, uint16_t, time_t) {
  // mbedTLS sizes its buffers itself; the default build does not check certificate dates
  // (the plugin checks them on the PC), but the clock is still set before connecting.
  g_client.stop();
  g_have_error_state = true;
}

void tls_last_error(char* out, size_t out_size) {
  if (out_size == 0) return;
  out[0] = '\0';
  if (!g_have_error_state) return;
  char text[100];
  const int error = g_client.lastError(text, sizeof text);
  if (error == 0) return;
  const char* hint = awsiot::mbedtls_error_hint(error);
  snprintf(out, out_size, "mbedTLS -0x%04X (%s)%s%s", static_cast<unsigned>(-error), text,
           hint != nullptr ? ": " : "", hint != nullptr ? hint : "");
}

}  // namespace device

#endif  // defined(ESP32)
