// MQTT client id and topics derived from the thing name, within AWS IoT's limits.
//
//   devices/<thing>/telemetry   periodic telemetry (device -> cloud)
//   devices/<thing>/status      "online" on connect, retained "offline" last will
//   devices/<thing>/commands    subscribed; commands (cloud -> device)
#pragma once

#include <stddef.h>

namespace awsiot {

constexpr size_t kMaxClientIdBytes = 128;  // AWS IoT: client id at most 128 bytes
constexpr size_t kMaxTopicBytes = 256;     // AWS IoT: topic at most 256 bytes (UTF-8)
constexpr unsigned kMaxTopicSlashes = 7;   // AWS IoT: at most 7 forward slashes
constexpr size_t kTopicBufferSize = kMaxTopicBytes + 1;

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
  kBadShadowName,   // named shadows: 1..64 of [A-Za-z0-9:_-] (aws_iot_shadow.h)
  kBadFilter,       // a '+' or '#' that is not a whole level, or '#' not last
};

// Checks a thing name used as client id and in topics: 1..128 bytes of [A-Za-z0-9:_-].
NameError check_thing_name(const char* thing_name);

// Writes the topic of `kind` for `thing_name` into out[0..out_size), NUL-terminated.
// On error `out` holds an empty string.
TopicError make_topic(char* out, size_t out_size, const char* thing_name, TopicKind kind);

// Checks any topic text against AWS IoT's limits (length, slashes, no wildcards in a
// topic that is published to, which is the case for every topic made here).
TopicError check_topic(const char* topic);
// AWS IoT's limits for a topic or a filter: kTooLong, kTooManySlashes or kOk.
TopicError check_topic_limits(const char* text);

const char* name_error_text(NameError error);
const char* topic_error_text(TopicError error);

}  // namespace awsiot
