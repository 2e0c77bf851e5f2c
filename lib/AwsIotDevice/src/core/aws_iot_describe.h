// Numeric codes from the boards' libraries, in words.
//
// The returned texts are AWS_IOT_TEXT constants (in flash on the ESP8266): hand them to
// a *printf "%s", never read them byte by byte on the board.
//
// The codes are passed in as plain integers so that this file needs no Arduino, BearSSL
// or PubSubClient header; the values are those of the pinned versions (ESP8266 core
// 3.1.2 with BearSSL, arduino-esp32 2.0.17, PubSubClient 2.8).
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace awsiot {

// A TLS alert number (RFC 5246 section 7.2), e.g. 48 -> "unknown CA".
const char* tls_alert_text(int alert);

// What an alert usually means when talking to AWS IoT Core, or nullptr when nothing to add.
const char* tls_alert_hint(int alert, bool received);

// A BearSSL error code as WiFiClientSecure::getLastSSLError() returns it.
//   0..255:   BearSSL's own error (BR_ERR_*, X.509 errors are 32..63);
//   256..511: fatal alert (code - 256) RECEIVED from the server;
//   512..767: fatal alert (code - 512) SENT by us;
//   -1000:    the core could not allocate the TLS buffers.
// The core's own text for a received alert is misleading (alert 48 "unknown CA" comes out
// as an "Invalid date/time" message), hence this decoder.
struct SslErrorInfo {
  enum class Kind { kNone, kLocal, kAlertReceived, kAlertSent, kOutOfMemory };
  Kind kind;
  int code;          // BearSSL code or alert number
  const char* text;  // words
  const char* hint;  // what to check, or nullptr
};
SslErrorInfo decode_bearssl_error(int error);

// WiFiClientSecure::getLastSSLError() in ESP8266 core 3.1.2 clears the alert bits before it
// returns (alert 48 received comes back as 48, the code of an X.509 "bad time"), and
// keeps them only as a prefix of its text ("SSL received fatal alert - " or "SSL sent
// fatal alert - "). This rebuilds BearSSL's code from both; `core_text` may be null.
int bearssl_error_from_core(int returned, const char* core_text);

// Writes one line, e.g. "TLS alert 48 (unknown CA) received from the server: ...".
void describe_bearssl_error(int error, char* out, size_t out_size);

// A negative mbedTLS error code (arduino-esp32 2.x WiFiClientSecure::lastError()), what it
// usually means with AWS IoT; nullptr when there is nothing to add to mbedTLS's own text.
const char* mbedtls_error_hint(int error);

// Is lastError()'s value an mbedTLS error worth printing? arduino-esp32 2.0.17 stores the
// positive socket number there after a successful handshake (and keeps it across stop()
// and DNS failures), and -1 for both a TCP failure and its own handshake timeout: values
// >= -1 say nothing about TLS, the attempt's observed facts do.
inline bool mbedtls_error_meaningful(int error) { return error < -1; }

// "mbedTLS -0x2700 (<mbedTLS's own text>): <hint>"; `own_text` may be null or empty.
void describe_mbedtls_error(int error, const char* own_text, char* out, size_t out_size);

// PubSubClient::state(), e.g. -2 -> "connect failed (network or TLS)".
const char* mqtt_state_text(int state);

// WiFi.status(): the ESP8266 core and arduino-esp32 differ at 6 and 7.
enum class Platform { kEsp8266, kEsp32 };
const char* wifi_status_text(int status, Platform platform);

}  // namespace awsiot
