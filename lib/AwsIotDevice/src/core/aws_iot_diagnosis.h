// Which layer a failed connect attempt failed in, decided from what the glue OBSERVED,
// never from the absence of an error code.
//
// Why observation: ESP8266 core 3.1.2's handshake loop sends before it reads, so when
// the server sends its alert and resets, the alert is never read and BearSSL's error
// stays 0 (a handshake timeout also leaves 0); arduino-esp32 2.0.17 reports -1 for a
// TCP failure and for its handshake timeout alike; PubSubClient 2.8 leaves state()
// unchanged when the server closes after CONNECT. So the glue resolves the host itself,
// knows whether Client::connect() (TCP + TLS) returned 1, watches the bytes of the
// CONNACK go by, and only when TLS failed without a code, tries a plain TCP connect
// to tell "TCP refused" from "the server closed the connection during the handshake".
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace awsiot {

struct AttemptFacts {
  bool resolved;           // our own DNS lookup of the endpoint succeeded
  bool out_of_memory;      // the TLS stack could not allocate its buffers
  bool tls_up;             // Client::connect() returned 1: TCP and TLS handshake done
  bool tls_error;          // the TLS stack gave a meaningful error code (described apart)
  bool tcp_reachable;      // after a TLS failure without a code: a plain TCP connect worked
  uint32_t tls_ms;         // how long Client::connect() took
  uint32_t tls_timeout_ms;  // the TLS stack's handshake timeout
  bool closed_while_waiting;  // TLS up, then the server closed before a CONNACK arrived
  bool connack_seen;       // a complete CONNACK came in
  uint8_t connack_code;    // its return code (0 accepted)
  uint32_t mqtt_ms;        // from CONNECT sent to giving up
  uint32_t mqtt_timeout_ms;  // PubSubClient's socket timeout
};

// A blank record: nothing observed yet.
AttemptFacts no_facts();

enum class FailedLayer : uint8_t {
  kNone,           // the attempt succeeded
  kDns,            // the host name did not resolve
  kOutOfMemory,    // no heap for TLS
  kTcp,            // no TCP connection to host:port
  kTlsError,       // TLS failed with a code (alert, certificate error ...)
  kTlsClosed,      // TCP fine, the server closed during the handshake without an alert we saw
  kTlsTimeout,     // TCP fine, the handshake did not finish in time
  kMqttRefused,    // CONNACK with a non-zero code
  kMqttClosed,     // TLS up, closed before any CONNACK: AWS's answer to a denied iot:Connect
  kMqttTimeout,    // TLS up, no CONNACK within the socket timeout
};

// `mqtt_ok` is PubSubClient::connect()'s result.
FailedLayer diagnose(const AttemptFacts& facts, bool mqtt_ok);

// Words for the layer, with what to check on AWS. Never empty for a failure.
const char* failed_layer_text(FailedLayer layer);
const char* failed_layer_name(FailedLayer layer);  // short: "dns", "tcp", "tls" ...

// The ESP8266 keeps the small-fragment (MFLN) probe's answer only when the attempt
// showed that the server answered TLS at all; a probe that got no answer is repeated.
bool server_answered_tls(FailedLayer layer);

// Watches the bytes PubSubClient reads after CONNECT and recognises a CONNACK
// (0x20 0x02 flags code), so the code is known even where PubSubClient's state() is not.
class ConnackWatch {
 public:
  ConnackWatch() { reset(); }
  void reset();
  void feed(uint8_t byte);
  bool seen() const { return seen_; }
  uint8_t code() const { return code_; }

 private:
  uint8_t bytes_[4];
  uint8_t count_;
  bool seen_;
  uint8_t code_;
};

// Room for the TLS error line the glue formats (describe_bearssl_error, or the mbedTLS
// code with its text and hint). The host tests format every code and check that no text
// is cut at this size.
constexpr size_t kTlsTextBytes = 320;
// mbedTLS's own text (mbedtls_strerror, as WiFiClientSecure::lastError copies it).
constexpr size_t kMbedtlsOwnTextBytes = 100;

// The whole failure in one line (without the free heap and the retry delay), e.g.
// "tls: the server closed the connection during the TLS handshake: ..." or
// "mqtt: TLS was up but the server refused the MQTT CONNECT: 5 (refused: not authorized)".
// `host` at most 253 bytes, `client_id` at most 128, `tls_text` "" or at most
// kTlsTextBytes - 1 (shown for kTlsError and kOutOfMemory only): kFailureTextBytes holds
// the longest such line (tested).
constexpr size_t kFailureTextBytes = 512;
void describe_failure(FailedLayer layer, const AttemptFacts& facts, const char* host, uint16_t port,
                      const char* client_id, const char* tls_text, char* out, size_t out_size);

// How long one connect attempt can hold loop(), per board: every step's timeout as the
// pinned cores implement it. docs/device-client.md quotes these figures.
struct AttemptBounds {
  uint32_t dns_ms;         // our own lookup of the endpoint
  uint32_t mfln_probe_ms;  // ESP8266 only, until the server's answer is known
  uint32_t tcp_ms;         // TCP connect inside Client::connect()
  uint32_t tls_ms;         // the handshake
  uint32_t connect_write_ms;  // sending CONNECT over TLS
  uint32_t connack_ms;     // PubSubClient's socket timeout
  uint32_t tcp_check_ms;   // the plain TCP connect after a TLS failure without a code
};

// ESP8266 core 3.1.2: hostByName(name, ip, 5000); the probe's WiFiClient waits 5 s to
// connect and 5 s for the ServerHello; WiFiClientSecure resets its timeout to 15 s before
// TCP connect and handshake (not settable), and to 5 s after it; CONNACK 10 s.
constexpr AttemptBounds kEsp8266Bounds = {5000u, 10000u, 15000u, 15000u, 5000u, 10000u, 5000u};
// arduino-esp32 2.0.17: hostByName waits for lwIP's DNS (gives up after 14 s, the core
// waits 15 s); setTimeout(5) bounds TCP connect (default 30 s), setHandshakeTimeout(10)
// the handshake (default 120 s); CONNACK 10 s.
constexpr AttemptBounds kEsp32Bounds = {15000u, 0u, 5000u, 10000u, 5000u, 10000u, 5000u};

// The longest one attempt can take: the CONNACK wait and the TCP check never both happen.
uint32_t worst_case_attempt_ms(const AttemptBounds& bounds);

// A drop soon after CONNACK, in words (the likely causes on AWS).
const char* early_drop_text();

}  // namespace awsiot
