// MQTT client id and topics derived from the thing name, within AWS IoT's limits.
//
//   devices/<thing>/telemetry   periodic telemetry (device -> cloud)
//   devices/<thing>/status      "online" on connect, retained "offline" last will
//   devices/<thing>/commands    subscribed; commands (cloud -> device)
//
// and AWS IoT's Device Shadow topics, classic or named:
//   $aws/things/<thing>/shadow/update/delta
//   $aws/things/<thing>/shadow/name/<shadow>/update/delta
#pragma once

#include <stddef.h>

namespace awsiot {

constexpr size_t kMaxClientIdBytes = 128;  // AWS IoT: client id at most 128 bytes
constexpr size_t kMaxTopicBytes = 256;     // AWS IoT: topic at most 256 bytes (UTF-8)
constexpr unsigned kMaxTopicSlashes = 7;   // AWS IoT: at most 7 forward slashes
constexpr size_t kTopicBufferSize = kMaxTopicBytes + 1;
constexpr size_t kMaxShadowNameBytes = 64;  // AWS IoT: named shadows, 1..64 of [A-Za-z0-9:_-]

// AWS IoT: a shadow's state document is at most 8 KB.
constexpr size_t kMaxShadowDocumentBytes = 8192;
// PubSubClient holds a whole MQTT packet in one buffer: fixed header (up to 5 bytes),
// topic length (2), topic, packet id (2, QoS 1), payload.
constexpr size_t kMqttPacketOverhead = 5 + 2 + kMaxTopicBytes + 2;
constexpr size_t kShadowMqttBufferBytes = kMqttPacketOverhead + kMaxShadowDocumentBytes;

enum class TopicKind { kTelemetry, kStatus, kCommands };

enum class NameError {
  kOk,
  kEmpty,
  kTooLong,       // client id over 128 bytes
  kBadCharacter,  // AWS thing names: letters, digits, ':', '_', '-'
};

enum class TopicError {
  kOk,
  kBadThingName,
  kTooLong,         // over 256 bytes
  kTooManySlashes,  // over 7 slashes
  kBufferTooSmall,
  kBadShadowName,   // named shadows: 1..64 of [A-Za-z0-9:_-]
  kBadFilter,       // a '+' or '#' that is not a whole level, or '#' not last
};

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

// Checks a thing name used as client id and in topics: 1..128 bytes of [A-Za-z0-9:_-].
NameError check_thing_name(const char* thing_name);

// Writes the topic of `kind` for `thing_name` into out[0..out_size), NUL-terminated.
// On error `out` holds an empty string.
TopicError make_topic(char* out, size_t out_size, const char* thing_name, TopicKind kind);

// Checks any topic text against AWS IoT's limits (length, slashes, no wildcards in a
// topic that is published to, which is the case for every topic made here).
TopicError check_topic(const char* topic);

// Writes the shadow topic `which` of `thing_name`: the classic shadow when `shadow_name`
// is null or "", else the named shadow. On error `out` holds an empty string.
TopicError make_shadow_topic(char* out, size_t out_size, const char* thing_name,
                             ShadowTopic which, const char* shadow_name = nullptr);

// Checks a topic filter to subscribe to: the topic limits, and '+' / '#' only as whole
// levels, '#' only as the last one.
TopicError check_topic_filter(const char* filter);

// MQTT matching of a received topic against a subscribed filter ('+' one level, '#' the
// rest). A filter starting with a wildcard does not match a topic starting with '$'.
bool topic_matches(const char* filter, const char* topic);

const char* name_error_text(NameError error);
const char* topic_error_text(TopicError error);

}  // namespace awsiot
