#include <doctest/doctest.h>

#include <string.h>

#include <string>

#include "aws_iot_connection.h"
#include "aws_iot_runtime.h"
#include "aws_iot_mqtt.h"
#include "aws_iot_shadow.h"

using namespace awsiot;

TEST_CASE("persistent session, keep-alive and a buffer for Device Shadow documents") {
  CHECK_FALSE(kMqttSettings.clean_session);  // QoS 1 commands survive reconnects and power cycles
  CHECK(kMqttSettings.buffer_bytes == kShadowMqttBufferBytes);
  CHECK(kMqttSettings.buffer_bytes >= 8192 + 256);
  CHECK(kMqttSettings.keep_alive_s >= 30);
  CHECK(kMqttSettings.keep_alive_s <= 1200);
  CHECK(stable_session_ms(kMqttSettings.keep_alive_s) == 120000u);
  // The state machine resets its backoff only after a session this long.
  CHECK(kDefaultTiming.stable_session_ms == stable_session_ms(kMqttSettings.keep_alive_s));
}

TEST_CASE("a publish fits the buffer by its real topic, as PubSubClient 2.8 counts it") {
  // PubSubClient: bufferSize < MQTT_MAX_HEADER_SIZE (5) + 2 + strlen(topic) + plength -> refused.
  CHECK(awsiot::publish_packet_bytes(30, 475) == 512);
  CHECK(awsiot::publish_packet_bytes(30, 476) > 512);
  // A shadow document of the maximum size fits the default buffer with the longest topic.
  CHECK(awsiot::publish_packet_bytes(awsiot::kMaxTopicBytes, awsiot::kMaxShadowDocumentBytes) <=
        awsiot::kMqttSettings.buffer_bytes);
}

TEST_CASE("a message larger than the buffer is recognised with its real size") {
  IncomingSize s = check_incoming(120, 120);
  CHECK(s.complete);
  CHECK(s.total == 120);
  s = check_incoming(0, 0);  // an empty payload is complete
  CHECK(s.complete);
  s = check_incoming(9100, 102400);  // 100 KB command cut to the buffer
  CHECK_FALSE(s.complete);
  CHECK(s.total == 102400);
}

TEST_CASE("status payloads say which session and boot they belong to") {
  char out[kStatusPayloadBytes];
  REQUIRE(format_status(out, sizeof out, true, 3, 0x1a2b3c4du, 1740820367));
  CHECK(std::string(out) == "{\"state\":\"online\",\"session\":3,\"boot\":\"1a2b3c4d\",\"since\":1740820367}");
  REQUIRE(format_status(out, sizeof out, false, 3, 0x1a2b3c4du, 0));
  CHECK(std::string(out) == "{\"state\":\"offline\",\"session\":3,\"boot\":\"1a2b3c4d\",\"since\":0}");
  // The longest payload fits the constant.
  CHECK(format_status(out, sizeof out, false, UINT32_MAX, UINT32_MAX, INT64_MIN));
  char small[20];
  CHECK_FALSE(format_status(small, sizeof small, true, 1, 1, 1));
  CHECK(small[0] == '\0');
}

TEST_CASE("uptime keeps counting past the 49.7-day wrap of millis()") {
  Uptime up;
  CHECK(up.update(1000) == 1000u);
  CHECK(up.update(0xFFFFFF00u) == 0xFFFFFF00u);
  CHECK(up.update(0x10u) == 0x100000010ull);
  CHECK(up.update(0x20u) == 0x100000020ull);
  CHECK(up.update(0x05u) == 0x200000005ull);
}

TEST_CASE("the ESP32 client id has the MAC in its usual byte order") {
  uint8_t mac[6];
  mac_from_efuse(0x0000CCBBAA286F24ull, mac);  // MAC 24:6F:28:AA:BB:CC
  const uint8_t want[6] = {0x24, 0x6F, 0x28, 0xAA, 0xBB, 0xCC};
  CHECK(memcmp(mac, want, 6) == 0);
  char id[32];
  mac_client_id("esp32", mac, id, sizeof id);
  CHECK(std::string(id) == "esp32-246f28aabbcc");
}

TEST_CASE("wipe zeroes every byte") {
  uint8_t key[64];
  memset(key, 0xA5, sizeof key);
  wipe(key, sizeof key);
  for (uint8_t b : key) CHECK(b == 0);
}

TEST_CASE("only configuration halts wait for the user; others restart") {
  CHECK(halt_restart_after_ms(HaltKind::kConfiguration) == 0u);
  CHECK(halt_restart_after_ms(HaltKind::kTransient) > 0u);
}
