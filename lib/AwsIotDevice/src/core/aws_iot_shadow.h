// AWS IoT's Device Shadow topics, classic or named, and the MQTT buffer a shadow needs:
//   $aws/things/<thing>/shadow/update/delta
//   $aws/things/<thing>/shadow/name/<shadow>/update/delta
#pragma once

#include <stddef.h>

#include "aws_iot_topics.h"

namespace awsiot {

constexpr size_t kMaxShadowNameBytes = 64;  // AWS IoT: named shadows, 1..64 of [A-Za-z0-9:_-]

// AWS IoT: a shadow's state document is at most 8 KB.
constexpr size_t kMaxShadowDocumentBytes = 8192;
// PubSubClient holds a whole MQTT packet in one buffer: fixed header (up to 5 bytes),
// topic length (2), topic, packet id (2, QoS 1), payload.
constexpr size_t kMqttPacketOverhead = 5 + 2 + kMaxTopicBytes + 2;
constexpr size_t kShadowMqttBufferBytes = kMqttPacketOverhead + kMaxShadowDocumentBytes;

// The Device Shadow's topics (AWS IoT Developer Guide, "Device Shadow MQTT topics").
enum class ShadowTopic {
  kGet,              // publish "" to ask for the document
  kGetAccepted,      // ... the document arrives here
  kGetRejected,
  kUpdate,           // publish {"state":{"reported":{...}}}
  kUpdateAccepted,
  kUpdateRejected,
  kUpdateDelta,      // desired differs from reported: what to change
  kUpdateDocuments,  // previous and current document after every update
  kDelete,
  kDeleteAccepted,
  kDeleteRejected,
};

// Writes the shadow topic `which` of `thing_name`: the classic shadow when `shadow_name`
// is null or "", else the named shadow. On error `out` holds an empty string.
TopicError make_shadow_topic(char* out, size_t out_size, const char* thing_name,
                             ShadowTopic which, const char* shadow_name = nullptr);

}  // namespace awsiot
