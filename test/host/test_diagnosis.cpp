#include <doctest/doctest.h>

#include <stdio.h>
#include <string.h>

#include <string>

#include "aws_iot_describe.h"
#include "aws_iot_diagnosis.h"

using namespace awsiot;

namespace {

AttemptFacts resolved_facts() {
  AttemptFacts f = no_facts();
  f.resolved = true;
  f.tls_timeout_ms = 15000;
  f.mqtt_timeout_ms = 10000;
  return f;
}

AttemptFacts tls_up_facts() {
  AttemptFacts f = resolved_facts();
  f.tls_up = true;
  f.tcp_reachable = true;
  return f;
}

bool contains(const char* text, const char* part) { return strstr(text, part) != nullptr; }

}  // namespace

TEST_CASE("a host that did not resolve is DNS, whatever else") {
  AttemptFacts f = no_facts();
  CHECK(diagnose(f, false) == FailedLayer::kDns);
  CHECK(diagnose(f, true) == FailedLayer::kNone);
}

TEST_CASE("no TCP connection: TLS failed without a code and a plain TCP connect failed too") {
  AttemptFacts f = resolved_facts();
  CHECK(diagnose(f, false) == FailedLayer::kTcp);
}

TEST_CASE("a rejected certificate is never called DNS or TCP, with or without an alert code") {
  // ESP8266 core 3.1.2: the server sends alert 48 and resets; the alert is never read.
  AttemptFacts f = resolved_facts();
  f.tcp_reachable = true;
  f.tls_ms = 300;
  CHECK(diagnose(f, false) == FailedLayer::kTlsClosed);
  CHECK(contains(failed_layer_text(FailedLayer::kTlsClosed),
                 "closed the connection during the TLS handshake"));
  // When the alert was read, the code is described by the TLS stack's words.
  f.tls_error = true;
  CHECK(diagnose(f, false) == FailedLayer::kTlsError);
  f.tcp_reachable = false;  // even if the TCP check failed afterwards
  CHECK(diagnose(f, false) == FailedLayer::kTlsError);
}

TEST_CASE("a handshake that ran into the timeout is a timeout, not a close") {
  AttemptFacts f = resolved_facts();
  f.tcp_reachable = true;
  f.tls_ms = 15000;
  CHECK(diagnose(f, false) == FailedLayer::kTlsTimeout);
  f.tls_ms = 14999;
  CHECK(diagnose(f, false) == FailedLayer::kTlsClosed);
}

TEST_CASE("out of memory is reported as such") {
  AttemptFacts f = resolved_facts();
  f.out_of_memory = true;
  CHECK(diagnose(f, false) == FailedLayer::kOutOfMemory);
}

TEST_CASE("TLS up, closed before CONNACK: the policy / iot:Connect hint") {
  AttemptFacts f = tls_up_facts();
  f.mqtt_ms = 120;
  CHECK(diagnose(f, false) == FailedLayer::kMqttClosed);
  CHECK(contains(failed_layer_text(FailedLayer::kMqttClosed), "iot:Connect"));
  f.mqtt_ms = 10000;  // the server stayed silent the whole socket timeout
  CHECK(diagnose(f, false) == FailedLayer::kMqttTimeout);
}

TEST_CASE("a CONNACK with a code is a refusal, with the code") {
  AttemptFacts f = tls_up_facts();
  f.connack_seen = true;
  f.connack_code = 5;
  CHECK(diagnose(f, false) == FailedLayer::kMqttRefused);
  CHECK(std::string(mqtt_state_text(f.connack_code)) == "refused: not authorized");
}

TEST_CASE("which failures show the server answers TLS (MFLN probe memory)") {
  CHECK(server_answered_tls(FailedLayer::kNone));
  CHECK(server_answered_tls(FailedLayer::kTlsError));
  CHECK(server_answered_tls(FailedLayer::kMqttClosed));
  CHECK_FALSE(server_answered_tls(FailedLayer::kDns));
  CHECK_FALSE(server_answered_tls(FailedLayer::kTcp));
  CHECK_FALSE(server_answered_tls(FailedLayer::kTlsClosed));
  CHECK_FALSE(server_answered_tls(FailedLayer::kTlsTimeout));
  CHECK_FALSE(server_answered_tls(FailedLayer::kOutOfMemory));
}

TEST_CASE("every layer has a name and words") {
  for (int i = 0; i <= static_cast<int>(FailedLayer::kMqttTimeout); ++i) {
    const FailedLayer layer = static_cast<FailedLayer>(i);
    CHECK(strlen(failed_layer_text(layer)) > 5);
    CHECK(std::string(failed_layer_name(layer)) != "unknown");
  }
  CHECK(contains(early_drop_text(), "same client id"));
  CHECK(contains(early_drop_text(), "policy"));
}

TEST_CASE("ConnackWatch recognises the CONNACK and its code") {
  ConnackWatch w;
  const uint8_t refused[] = {0x20, 0x02, 0x00, 0x05, 0x30, 0x00};
  for (uint8_t b : refused) w.feed(b);
  CHECK(w.seen());
  CHECK(w.code() == 5);
  w.reset();
  CHECK_FALSE(w.seen());
  w.feed(0x20);
  w.feed(0x02);
  w.feed(0x00);
  CHECK_FALSE(w.seen());  // cut off before the code
  w.reset();
  const uint8_t publish[] = {0x30, 0x02, 0x00, 0x00};
  for (uint8_t b : publish) w.feed(b);
  CHECK_FALSE(w.seen());
}

TEST_CASE("no TLS text is cut: every BearSSL code fits the buffer the glue uses") {
  char big[2048];
  char sized[kTlsTextBytes];
  for (int code = -1000; code < 1024; ++code) {
    if (code < 0 && code != -1000) continue;
    describe_bearssl_error(code, big, sizeof big);
    describe_bearssl_error(code, sized, sizeof sized);
    INFO("code " << code << ": " << big);
    CHECK(strlen(big) < kTlsTextBytes);
    CHECK(std::string(sized) == std::string(big));
  }
  // The longest hint that was once cut mid-sentence in a 200-byte buffer.
  describe_bearssl_error(256 + 48, sized, sizeof sized);
  CHECK(contains(sized, "belongs to this key"));
}

TEST_CASE("no TLS text is cut: every mbedTLS code with the longest own text fits") {
  std::string own(kMbedtlsOwnTextBytes - 1, 'x');  // lastError() copies at most this much
  char big[2048];
  for (int high = 0; high <= 0x7F80; high += 0x80) {
    for (int low = 0; low <= 0x7F; ++low) {
      const int code = -(high | low);
      if (!mbedtls_error_meaningful(code)) continue;
      describe_mbedtls_error(code, own.c_str(), big, sizeof big);
      INFO("code " << code);
      REQUIRE(strlen(big) < kTlsTextBytes);
    }
  }
}

TEST_CASE("ESP32 lastError: the socket number and the generic -1 say nothing about TLS") {
  CHECK_FALSE(mbedtls_error_meaningful(54));  // a socket number after a good handshake
  CHECK_FALSE(mbedtls_error_meaningful(0));
  CHECK_FALSE(mbedtls_error_meaningful(-1));  // TCP failure or handshake timeout
  CHECK(mbedtls_error_meaningful(-0x7780));
  char out[kTlsTextBytes];
  describe_mbedtls_error(-0x2700, "X509 - Certificate verification failed", out, sizeof out);
  CHECK(std::string(out).rfind("mbedTLS -0x2700 (X509 - Certificate verification failed): the server "
                               "certificate did not verify", 0) == 0);
  describe_mbedtls_error(-0x2700, "", out, sizeof out);
  CHECK(std::string(out).rfind("mbedTLS -0x2700: ", 0) == 0);
}

TEST_CASE("the documented worst case of one connect attempt per board") {
  // docs/device-client.md quotes these: change both together.
  CHECK(worst_case_attempt_ms(kEsp8266Bounds) == 60000u);
  CHECK(worst_case_attempt_ms(kEsp32Bounds) == 45000u);
  // The ESP32's TCP and handshake timeouts are set, not left at 30 s and 120 s.
  CHECK(kEsp32Bounds.tcp_ms < 30000u);
  CHECK(kEsp32Bounds.tls_ms < 120000u);
  AttemptBounds b = {1, 2, 3, 4, 5, 6, 100};
  CHECK(worst_case_attempt_ms(b) == 1 + 2 + 3 + 4 + 100);
}

TEST_CASE("the failure line names layer, detail and TLS words, and is never cut") {
  AttemptFacts f = tls_up_facts();
  f.connack_seen = true;
  f.connack_code = 5;
  char out[kFailureTextBytes];
  describe_failure(FailedLayer::kMqttRefused, f, "h", 8883, "id", "", out, sizeof out);
  CHECK(std::string(out) == "mqtt: TLS was up but the server refused the MQTT CONNECT: 5 (refused: not authorized)");
  describe_failure(FailedLayer::kMqttClosed, f, "h", 8883, "kitchen-1", "", out, sizeof out);
  CHECK(std::string(out).find("iot:Connect for this client id kitchen-1") != std::string::npos);
  describe_failure(FailedLayer::kTcp, f, "a.example", 8883, "id", "", out, sizeof out);
  CHECK(std::string(out).find("(a.example:8883)") != std::string::npos);
  describe_failure(FailedLayer::kTlsError, f, "h", 8883, "id", "TLS alert 48 (unknown CA) received", out, sizeof out);
  CHECK(std::string(out) == "tls: the TLS handshake failed; TLS: TLS alert 48 (unknown CA) received");

  // Longest inputs: a 253-byte host, a 128-byte client id, the longest TLS text.
  const std::string host(253, 'h');
  const std::string id(128, 'c');
  std::string longest_tls;
  char tls[2048];
  for (int code = -1000; code < 1024; ++code) {
    describe_bearssl_error(code, tls, sizeof tls);
    if (strlen(tls) > longest_tls.size()) longest_tls = tls;
  }
  REQUIRE(longest_tls.size() < kTlsTextBytes);
  f.tls_ms = UINT32_MAX;
  f.mqtt_ms = UINT32_MAX;
  f.connack_code = 255;
  char big[4096];
  for (int i = 1; i <= static_cast<int>(FailedLayer::kMqttTimeout); ++i) {
    const FailedLayer layer = static_cast<FailedLayer>(i);
    describe_failure(layer, f, host.c_str(), 65535, id.c_str(), longest_tls.c_str(), big, sizeof big);
    INFO(big);
    CHECK(strlen(big) < kFailureTextBytes);
  }
}

TEST_CASE("a close seen while waiting for CONNACK is the policy close, even when it took long") {
  AttemptFacts f = tls_up_facts();
  f.closed_while_waiting = true;
  f.mqtt_ms = 10000;
  CHECK(diagnose(f, false) == FailedLayer::kMqttClosed);
  f.connack_seen = true;  // a refusal with a code wins
  f.connack_code = 2;
  CHECK(diagnose(f, false) == FailedLayer::kMqttRefused);
}

TEST_CASE("the early-drop line fits the failure text buffer") {
  char big[2048];
  snprintf(big, sizeof big, "the server closed the session %lu ms after CONNACK: %s",
           static_cast<unsigned long>(UINT32_MAX), early_drop_text());
  CHECK(strlen(big) < kFailureTextBytes);
}
