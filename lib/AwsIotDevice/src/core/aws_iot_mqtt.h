// MQTT session settings and payloads: persistent session, buffer for Device Shadow
// documents, status payloads that say which session they belong to, and the check for
// messages larger than the buffer.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "aws_iot_shadow.h"

namespace awsiot {

struct MqttSettings {
  uint16_t keep_alive_s;      // AWS allows 30..1200
  uint16_t socket_timeout_s;  // PubSubClient: CONNACK wait and every byte of a packet
  uint16_t buffer_bytes;      // largest packet PubSubClient keeps (topic + payload + header)
  bool clean_session;         // false: AWS keeps subscriptions and QoS 1 messages (1 h default)
};

// The defaults. The buffer holds a whole Device Shadow document with its topic
// (kShadowMqttBufferBytes); larger messages are acknowledged and reported, not delivered.
// Persistent session: QoS 1 commands sent while the board is off arrive when it is back.
constexpr MqttSettings kMqttSettings = {60u, 10u, static_cast<uint16_t>(kShadowMqttBufferBytes), false};

// Buffer bytes PubSubClient 2.8 needs to publish: the fixed header it reserves (5), the
// topic's length field (2), the topic and the payload (publish() sends QoS 0: no packet id).
constexpr size_t publish_packet_bytes(size_t topic_bytes, size_t payload_bytes) {
  return 5u + 2u + topic_bytes + payload_bytes;
}

// A session is stable (and resets the reconnect backoff) after two keep-alive periods.
constexpr uint32_t stable_session_ms(uint16_t keep_alive_s) { return 2u * 1000u * keep_alive_s; }

// What PubSubClient handed to the callback compared with the payload bytes that went by.
// PubSubClient 2.8 cuts a packet larger than its buffer to the buffer and, only when a
// Stream is attached (setStream), still calls back and sends the PUBACK; without a Stream
// it drops the packet silently and never acknowledges it. The glue attaches a Stream that
// only counts bytes: `streamed` is the real payload size.
struct IncomingSize {
  bool complete;   // the callback got the whole payload
  uint32_t total;  // the real payload size
};
IncomingSize check_incoming(uint32_t delivered, uint32_t streamed);

// Retained status payloads, e.g. {"state":"online","session":3,"boot":"1a2b3c4d","since":1740820367}.
// AWS may deliver an old session's will ("offline") after the new "online": the session
// number (per boot), the boot id (random per boot) and the connect time tell them apart.
// The will carries the number of the session it is registered with.
constexpr size_t kStatusPayloadBytes = 96;
// Writes the payload; returns false (and writes "") when `out_size` is too small.
bool format_status(char* out, size_t out_size, bool online, uint32_t session, uint32_t boot_id,
                   int64_t since);

}  // namespace awsiot
