#include <doctest/doctest.h>

#include <string>

#include "aws_iot_clock.h"
#include "aws_iot_describe.h"

using namespace awsiot;

TEST_CASE("clock validity against the build-time floor") {
  CHECK_FALSE(clock_valid(0));            // unset clock: 1970
  CHECK_FALSE(clock_valid(8 * 3600));     // 1970 plus a time zone offset
  CHECK_FALSE(clock_valid(1704067199));   // 2023-12-31 23:59:59
  CHECK(clock_valid(1704067200));         // 2024-01-01 00:00:00
  CHECK(clock_valid(1893456000));         // 2030
  CHECK(clock_valid(4102444800LL));       // 2100: 64-bit, past 2038
  CHECK_FALSE(clock_valid(-1));
  CHECK_FALSE(clock_valid(1800000000, 1900000000));
}

TEST_CASE("UTC formatting for logs") {
  char out[32];
  format_utc(0, out, sizeof out);
  CHECK(std::string(out) == "1970-01-01 00:00:00");
  format_utc(1704067200, out, sizeof out);
  CHECK(std::string(out) == "2024-01-01 00:00:00");
  format_utc(1709251199, out, sizeof out);  // leap day
  CHECK(std::string(out) == "2024-02-29 23:59:59");
  format_utc(4102444800LL, out, sizeof out);
  CHECK(std::string(out) == "2100-01-01 00:00:00");
}

TEST_CASE("received alerts are decoded from BearSSL's 256 + alert") {
  SslErrorInfo info = decode_bearssl_error(256 + 48);
  CHECK(info.kind == SslErrorInfo::Kind::kAlertReceived);
  CHECK(info.code == 48);
  CHECK(std::string(info.text) == "unknown CA");
  CHECK(std::string(info.hint).find("register") != std::string::npos);

  CHECK(std::string(decode_bearssl_error(256 + 42).text) == "bad certificate");
  CHECK(std::string(decode_bearssl_error(256 + 46).text) == "certificate unknown");
  CHECK(std::string(decode_bearssl_error(256 + 40).text) == "handshake failure");
  CHECK(std::string(decode_bearssl_error(256 + 51).text) == "decrypt error");
  CHECK(std::string(decode_bearssl_error(256 + 45).text) == "certificate expired");
  CHECK(std::string(decode_bearssl_error(256 + 0).text) == "close notify");
  CHECK(decode_bearssl_error(511).kind == SslErrorInfo::Kind::kAlertReceived);
  CHECK(std::string(decode_bearssl_error(511).text) == "unknown alert");
}

TEST_CASE("sent alerts are decoded from BearSSL's 512 + alert") {
  SslErrorInfo info = decode_bearssl_error(512 + 48);
  CHECK(info.kind == SslErrorInfo::Kind::kAlertSent);
  CHECK(info.code == 48);
  CHECK(std::string(info.text) == "unknown CA");
  CHECK(std::string(info.hint).find("ca.der") != std::string::npos);
  CHECK(decode_bearssl_error(512).kind == SslErrorInfo::Kind::kAlertSent);
  CHECK(decode_bearssl_error(767).kind == SslErrorInfo::Kind::kAlertSent);
}

TEST_CASE("BearSSL's own errors: 48 is an X.509 bad time, not an alert") {
  SslErrorInfo info = decode_bearssl_error(48);
  CHECK(info.kind == SslErrorInfo::Kind::kLocal);
  CHECK(std::string(info.text) == "X.509 bad time");
  CHECK(std::string(decode_bearssl_error(54).text).find("expired") != std::string::npos);
  CHECK(std::string(decode_bearssl_error(54).hint).find("clock") != std::string::npos);
  CHECK(std::string(decode_bearssl_error(62).text).find("not trusted") != std::string::npos);
  CHECK(std::string(decode_bearssl_error(56).text).find("server name") != std::string::npos);
  CHECK(decode_bearssl_error(0).kind == SslErrorInfo::Kind::kNone);
  CHECK(decode_bearssl_error(-1000).kind == SslErrorInfo::Kind::kOutOfMemory);
  CHECK(std::string(decode_bearssl_error(200).text) == "unknown BearSSL error");
}

TEST_CASE("one-line descriptions") {
  char line[200];
  describe_bearssl_error(256 + 48, line, sizeof line);
  CHECK(std::string(line).rfind("TLS alert 48 (unknown CA) received from the server: ", 0) == 0);
  describe_bearssl_error(512 + 42, line, sizeof line);
  CHECK(std::string(line).rfind("TLS alert 42 (bad certificate) sent by us", 0) == 0);
  describe_bearssl_error(54, line, sizeof line);
  CHECK(std::string(line).rfind("BearSSL error 54 (X.509 certificate expired", 0) == 0);
  describe_bearssl_error(2, line, sizeof line);
  CHECK(std::string(line) == "BearSSL error 2 (bad state)");
  char tiny[8];
  describe_bearssl_error(256 + 48, tiny, sizeof tiny);
  CHECK(std::string(tiny) == "TLS ale");
}

TEST_CASE("PubSubClient states in words") {
  CHECK(std::string(mqtt_state_text(-4)).find("timeout") != std::string::npos);
  CHECK(std::string(mqtt_state_text(-3)) == "connection lost");
  CHECK(std::string(mqtt_state_text(-2)).find("connect failed") != std::string::npos);
  CHECK(std::string(mqtt_state_text(-1)) == "disconnected");
  CHECK(std::string(mqtt_state_text(0)) == "connected");
  CHECK(std::string(mqtt_state_text(2)).find("client id") != std::string::npos);
  CHECK(std::string(mqtt_state_text(5)).find("not authorized") != std::string::npos);
  CHECK(std::string(mqtt_state_text(42)) == "unknown MQTT state");
}

TEST_CASE("WiFi status in words differs between the cores at 6 and 7") {
  CHECK(std::string(wifi_status_text(1, Platform::kEsp8266)) == "SSID not found");
  CHECK(std::string(wifi_status_text(3, Platform::kEsp32)) == "connected");
  CHECK(std::string(wifi_status_text(6, Platform::kEsp8266)) == "wrong password");
  CHECK(std::string(wifi_status_text(6, Platform::kEsp32)) == "disconnected");
  CHECK(std::string(wifi_status_text(7, Platform::kEsp8266)) == "disconnected");
  CHECK(std::string(wifi_status_text(255, Platform::kEsp32)) == "no WiFi hardware");
  CHECK(std::string(wifi_status_text(99, Platform::kEsp32)) == "unknown WiFi status");
}

TEST_CASE("the core's masked getLastSSLError() code is rebuilt from its text") {
  CHECK(bearssl_error_from_core(48, "SSL received fatal alert - Invalid date/time representation.") ==
        256 + 48);
  CHECK(bearssl_error_from_core(42, "SSL sent fatal alert - Not a CA, or path length constraint "
                                    "violation.") == 512 + 42);
  CHECK(bearssl_error_from_core(48, "Invalid date/time representation.") == 48);
  CHECK(bearssl_error_from_core(48, nullptr) == 48);
  CHECK(bearssl_error_from_core(0, "OK") == 0);
  CHECK(bearssl_error_from_core(-1000, "Unable to allocate memory") == -1000);
  char line[200];
  describe_bearssl_error(bearssl_error_from_core(48, "SSL received fatal alert - Invalid date/time"),
                         line, sizeof line);
  CHECK(std::string(line).find("unknown CA") != std::string::npos);
  CHECK(std::string(line).find("date") == std::string::npos);
}

TEST_CASE("mbedTLS codes, high and low level combined") {
  CHECK(std::string(mbedtls_error_hint(-0x2700)).find("ca.pem") != std::string::npos);
  CHECK(std::string(mbedtls_error_hint(-0x7780)).find("alert") != std::string::npos);
  CHECK(std::string(mbedtls_error_hint(-0x3C00)).find("AWS_IOT_KEY_PASSPHRASE") != std::string::npos);
  CHECK(std::string(mbedtls_error_hint(-(0x2180 + 0x62))).find("parsed") != std::string::npos);
  CHECK(std::string(mbedtls_error_hint(-0x0052)).find("resolve") != std::string::npos);
  CHECK(mbedtls_error_hint(-1) == nullptr);
  CHECK(mbedtls_error_hint(0) == nullptr);
}

TEST_CASE("no hint is nullptr, and the line then has no trailing separator") {
  CHECK(decode_bearssl_error(2).hint == nullptr);
  CHECK(decode_bearssl_error(256 + 10).hint == nullptr);
  CHECK(tls_alert_hint(70, true) == nullptr);
  char line[100];
  describe_bearssl_error(256 + 10, line, sizeof line);
  CHECK(std::string(line) == "TLS alert 10 (unexpected message) received from the server");
}
