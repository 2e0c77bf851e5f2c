// ESP32 (arduino-esp32 2.0.17): mbedTLS through WiFiClientSecure, PEM files on LittleFS.
// The whole file compiles only when building for the ESP32 (an empty unit elsewhere).
#if defined(ESP32)

#include <Arduino.h>
#include <LittleFS.h>
#include <WiFi.h>
#include <WiFiClientSecure.h>
#include <esp_system.h>
#include <mbedtls/error.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include <stdio.h>

#include "device_log.h"
#include "device_platform.h"
#include "fs_files.h"

namespace device {

namespace {

// arduino-esp32 2.0.17 keeps the last error in a protected member that a successful
// handshake sets to the socket number and that neither stop() nor a DNS failure resets:
// clear it before every connect so no earlier attempt's code is reported.
class AttemptTlsClient : public WiFiClientSecure {
 public:
  void clear_last_error() { _lastError = 0; }
};

AttemptTlsClient g_client;
// setCACert / setCertificate / setPrivateKey keep the pointers and parse the text (up to
// its NUL) at every connect: the buffers live as long as the program.
FileBuffer g_ca;
FileBuffer g_cert;
FileBuffer g_key;

// Seconds (WiFiClientSecure's units); the core's defaults are 30 s and 120 s.
constexpr uint32_t kTcpTimeoutSeconds = awsiot::kEsp32Bounds.tcp_ms / 1000u;
constexpr uint32_t kHandshakeTimeoutSeconds = awsiot::kEsp32Bounds.tls_ms / 1000u;

void print_mbedtls(const char* what, int error) {
  char text[awsiot::kMbedtlsOwnTextBytes];
  mbedtls_strerror(error, text, sizeof text);
  LOGF("[tls] ERROR: %s: mbedTLS -0x%04X (%s)\n", what, static_cast<unsigned>(-error), text);
}

// Parses the CA, the certificate and the key once at boot, as WiFiClientSecure will at
// every connect, and checks that key and certificate belong together: a damaged file
// halts the board with its name here instead of failing every connect later.
bool check_identity() {
  mbedtls_x509_crt ca;
  mbedtls_x509_crt cert;
  mbedtls_pk_context key;
  mbedtls_x509_crt_init(&ca);
  mbedtls_x509_crt_init(&cert);
  mbedtls_pk_init(&key);
  bool ok = true;
  int rc = mbedtls_x509_crt_parse(&ca, g_ca.data(), g_ca.size() + 1);
  if (rc != 0) {
    print_mbedtls("/ca.pem is not a certificate mbedTLS can read; run `pio run -e esp32 -t uploadfs`", rc);
    ok = false;
  }
  rc = mbedtls_x509_crt_parse(&cert, g_cert.data(), g_cert.size() + 1);
  if (rc != 0) {
    print_mbedtls("/cert.pem is not a certificate mbedTLS can read; run `pio run -e esp32 -t uploadfs`", rc);
    ok = false;
  }
  rc = mbedtls_pk_parse_key(&key, g_key.data(), g_key.size() + 1, nullptr, 0);
  if (rc != 0) {
    print_mbedtls("/private.pem is not a key mbedTLS can read; let the plugin write data/, then "
                  "run `pio run -e esp32 -t uploadfs`", rc);
    ok = false;
  }
  if (ok) {
    rc = mbedtls_pk_check_pair(&cert.pk, &key);
    if (rc != 0) {
      print_mbedtls("/private.pem does not belong to /cert.pem: put the matching key in certs/, then "
                    "run `pio run -e esp32 -t uploadfs`", rc);
      ok = false;
    }
  }
  mbedtls_pk_free(&key);  // zeroises the key material
  mbedtls_x509_crt_free(&cert);
  mbedtls_x509_crt_free(&ca);
  return ok;
}

}  // namespace

awsiot::Platform platform() { return awsiot::Platform::kEsp32; }
const char* platform_name() { return "esp32"; }

void default_client_id(char* out, size_t out_size) {
  uint8_t mac[6];
  awsiot::mac_from_efuse(ESP.getEfuseMac(), mac);
  awsiot::mac_client_id("esp32", mac, out, out_size);
}

uint32_t random_u32(void*) { return esp_random(); }
uint32_t free_heap() { return ESP.getFreeHeap(); }
uint32_t max_free_block() { return ESP.getMaxAllocHeap(); }
void restart() {
  ESP.restart();
  for (;;) delay(100);
}

// mbedTLS in arduino-esp32 2.0.17 is built without MBEDTLS_HAVE_TIME_DATE: it never
// checks certificate dates (the plugin checks them on the PC).
bool tls_checks_dates() { return false; }
const awsiot::AttemptBounds& attempt_bounds() { return awsiot::kEsp32Bounds; }

bool resolve(const char* host, IPAddress* ip) { return WiFi.hostByName(host, *ip) == 1; }

bool tcp_reachable(const IPAddress& ip, uint16_t port) {
  WiFiClient tcp;
  const bool ok = tcp.connect(ip, port, static_cast<int32_t>(attempt_bounds().tcp_check_ms)) == 1;
  tcp.stop();
  return ok;
}

bool mount_filesystem() {
  if (!LittleFS.begin(false)) {  // formatOnFail = false: never erase the certificates
    LOGF("[fs] ERROR: LittleFS did not mount (no filesystem image on the board?): "
                  "run `pio run -t uploadfs`\n");
    return false;
  }
  return true;
}

bool load_identity(bool* transient) {
  *transient = false;
  bool missing = false;
  const bool ca = load_file("/ca.pem", awsiot::Expect::kPem, Presence::kRequired, &g_ca, &missing);
  const bool cert = load_file("/cert.pem", awsiot::Expect::kPem, Presence::kRequired, &g_cert, &missing);
  const bool key = load_file("/private.pem", awsiot::Expect::kPem, Presence::kRequired, &g_key, &missing);
  if (!ca || !cert || !key) {
    *transient = last_load_out_of_memory();
    return false;
  }
  if (strstr(g_key.c_str(), "ENCRYPTED") != nullptr) {
    LOGF("[fs] ERROR: /private.pem is encrypted; set AWS_IOT_KEY_PASSPHRASE so the plugin "
                  "writes it decrypted, then run `pio run -e esp32 -t uploadfs`\n");
    return false;
  }
  if (!check_identity()) return false;
  LOGF("[tls] /ca.pem, /cert.pem and /private.pem parsed; key and certificate match\n");
  g_client.setCACert(g_ca.c_str());
  g_client.setCertificate(g_cert.c_str());
  g_client.setPrivateKey(g_key.c_str());
  g_client.setTimeout(kTcpTimeoutSeconds);
  g_client.setHandshakeTimeout(kHandshakeTimeoutSeconds);
  return true;
}

Client& tls_client() { return g_client; }

void tls_prepare(const IPAddress&, uint16_t, time_t) {
  // mbedTLS sizes its buffers itself and does not check dates: nothing to set but a
  // clean slate.
  g_client.stop();
  g_client.clear_last_error();
}

void tls_last_error(TlsError* out) {
  out->meaningful = false;
  out->out_of_memory = false;
  out->text[0] = '\0';
  char text[awsiot::kMbedtlsOwnTextBytes];
  const int error = g_client.lastError(text, sizeof text);
  if (!awsiot::mbedtls_error_meaningful(error)) return;  // socket number, or -1 (TCP / timeout)
  out->meaningful = true;
  out->out_of_memory = error == -0x7F00;  // MBEDTLS_ERR_SSL_ALLOC_FAILED
  awsiot::describe_mbedtls_error(error, text, out->text, sizeof out->text);
}

void tls_attempt_done(bool) {}

}  // namespace device

#endif  // defined(ESP32)
