#include "aws_iot_topics.h"

#include "aws_iot_text.h"

#include <string.h>

namespace awsiot {

namespace {

bool is_thing_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
         c == ':' || c == '_' || c == '-';
}

const char* suffix_of(TopicKind kind) {
  switch (kind) {
    // Plain literals, not AWS_IOT_TEXT: they are copied with strlen / memcpy, which must
    // not read the ESP8266's flash byte by byte.
    case TopicKind::kTelemetry: return "/telemetry";
    case TopicKind::kStatus: return "/status";
    case TopicKind::kCommands: return "/commands";
  }
  return "/unknown";
}

constexpr const char kPrefix[] = "devices/";

}  // namespace

NameError check_thing_name(const char* thing_name) {
  if (thing_name == nullptr || thing_name[0] == '\0') return NameError::kEmpty;
  size_t length = 0;
  for (const char* p = thing_name; *p != '\0'; ++p) {
    if (!is_thing_name_char(*p)) return NameError::kBadCharacter;
    if (++length > kMaxClientIdBytes) return NameError::kTooLong;
  }
  return NameError::kOk;
}

TopicError check_topic_limits(const char* text) {
  size_t length = 0;
  unsigned slashes = 0;
  for (const char* p = text; *p != '\0'; ++p) {
    if (*p == '/') ++slashes;
    ++length;
  }
  if (length > kMaxTopicBytes) return TopicError::kTooLong;
  if (slashes > kMaxTopicSlashes) return TopicError::kTooManySlashes;
  return TopicError::kOk;
}

TopicError check_topic(const char* topic) {
  if (topic == nullptr || topic[0] == '\0') return TopicError::kBadThingName;
  if (strpbrk(topic, "+#") != nullptr) return TopicError::kBadThingName;  // wildcards: filters only
  return check_topic_limits(topic);
}

TopicError make_topic(char* out, size_t out_size, const char* thing_name, TopicKind kind) {
  if (out != nullptr && out_size > 0) out[0] = '\0';
  if (check_thing_name(thing_name) != NameError::kOk) return TopicError::kBadThingName;
  const char* suffix = suffix_of(kind);
  const size_t prefix_len = sizeof(kPrefix) - 1;
  const size_t name_len = strlen(thing_name);
  const size_t suffix_len = strlen(suffix);
  const size_t total = prefix_len + name_len + suffix_len;
  if (total > kMaxTopicBytes) return TopicError::kTooLong;
  if (out == nullptr || out_size < total + 1) return TopicError::kBufferTooSmall;
  memcpy(out, kPrefix, prefix_len);
  memcpy(out + prefix_len, thing_name, name_len);
  memcpy(out + prefix_len + name_len, suffix, suffix_len + 1);
  const TopicError checked = check_topic(out);
  if (checked != TopicError::kOk) out[0] = '\0';
  return checked;
}

const char* name_error_text(NameError error) {
  switch (error) {
    case NameError::kOk: return AWS_IOT_TEXT("ok");
    case NameError::kEmpty: return AWS_IOT_TEXT("thing name is empty");
    case NameError::kTooLong: return AWS_IOT_TEXT("thing name is longer than 128 bytes (AWS IoT client id limit)");
    case NameError::kBadCharacter:
      return AWS_IOT_TEXT("thing name may only hold letters, digits, ':', '_' and '-'");
  }
  return AWS_IOT_TEXT("unknown error");
}

const char* topic_error_text(TopicError error) {
  switch (error) {
    case TopicError::kOk: return AWS_IOT_TEXT("ok");
    case TopicError::kBadThingName: return AWS_IOT_TEXT("invalid thing name or topic");
    case TopicError::kTooLong: return AWS_IOT_TEXT("topic longer than 256 bytes (AWS IoT limit)");
    case TopicError::kTooManySlashes: return AWS_IOT_TEXT("topic has more than 7 slashes (AWS IoT limit)");
    case TopicError::kBufferTooSmall: return AWS_IOT_TEXT("topic buffer too small");
    case TopicError::kBadShadowName:
      return AWS_IOT_TEXT("shadow name must be 1 to 64 letters, digits, ':', '_' or '-'");
    case TopicError::kBadFilter:
      return AWS_IOT_TEXT("topic filter is empty, or has a '+' or '#' that is not a whole level "
                          "('#' only last)");
  }
  return AWS_IOT_TEXT("unknown error");
}

}  // namespace awsiot
