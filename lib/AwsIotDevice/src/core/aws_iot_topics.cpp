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
constexpr const char kShadowPrefix[] = "$aws/things/";
constexpr const char kShadowClassic[] = "/shadow";
constexpr const char kShadowNamed[] = "/shadow/name/";

const char* shadow_suffix_of(ShadowTopic which) {
  switch (which) {
    case ShadowTopic::kGet: return "/get";
    case ShadowTopic::kGetAccepted: return "/get/accepted";
    case ShadowTopic::kGetRejected: return "/get/rejected";
    case ShadowTopic::kUpdate: return "/update";
    case ShadowTopic::kUpdateAccepted: return "/update/accepted";
    case ShadowTopic::kUpdateRejected: return "/update/rejected";
    case ShadowTopic::kUpdateDelta: return "/update/delta";
    case ShadowTopic::kUpdateDocuments: return "/update/documents";
    case ShadowTopic::kDelete: return "/delete";
    case ShadowTopic::kDeleteAccepted: return "/delete/accepted";
    case ShadowTopic::kDeleteRejected: return "/delete/rejected";
  }
  return "/unknown";
}

bool valid_shadow_name(const char* name) {
  size_t length = 0;
  for (const char* p = name; *p != '\0'; ++p) {
    if (!is_thing_name_char(*p)) return false;
    if (++length > kMaxShadowNameBytes) return false;
  }
  return length > 0;
}

// Appends `text` at out[*used]; false when it does not fit with its NUL.
bool append(char* out, size_t out_size, size_t* used, const char* text) {
  const size_t length = strlen(text);
  if (*used + length + 1 > out_size) return false;
  memcpy(out + *used, text, length + 1);
  *used += length;
  return true;
}

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

TopicError check_topic(const char* topic) {
  if (topic == nullptr || topic[0] == '\0') return TopicError::kBadThingName;
  size_t length = 0;
  unsigned slashes = 0;
  for (const char* p = topic; *p != '\0'; ++p) {
    if (*p == '+' || *p == '#') return TopicError::kBadThingName;
    if (*p == '/') ++slashes;
    ++length;
  }
  if (length > kMaxTopicBytes) return TopicError::kTooLong;
  if (slashes > kMaxTopicSlashes) return TopicError::kTooManySlashes;
  return TopicError::kOk;
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

TopicError make_shadow_topic(char* out, size_t out_size, const char* thing_name,
                             ShadowTopic which, const char* shadow_name) {
  if (out != nullptr && out_size > 0) out[0] = '\0';
  if (check_thing_name(thing_name) != NameError::kOk) return TopicError::kBadThingName;
  const bool named = shadow_name != nullptr && shadow_name[0] != '\0';
  if (named && !valid_shadow_name(shadow_name)) return TopicError::kBadShadowName;
  // The longest (128-byte thing, 64-byte shadow, /update/documents) is 234 bytes: within
  // AWS's 256, so a buffer of kTopicBufferSize always suffices.
  char topic[kTopicBufferSize];
  size_t used = 0;
  topic[0] = '\0';
  bool fits = append(topic, sizeof topic, &used, kShadowPrefix) &&
              append(topic, sizeof topic, &used, thing_name);
  if (named) {
    fits = fits && append(topic, sizeof topic, &used, kShadowNamed) &&
           append(topic, sizeof topic, &used, shadow_name);
  } else {
    fits = fits && append(topic, sizeof topic, &used, kShadowClassic);
  }
  fits = fits && append(topic, sizeof topic, &used, shadow_suffix_of(which));
  if (!fits) return TopicError::kTooLong;
  const TopicError checked = check_topic(topic);
  if (checked != TopicError::kOk) return checked;
  if (out == nullptr || out_size < used + 1) return TopicError::kBufferTooSmall;
  memcpy(out, topic, used + 1);
  return TopicError::kOk;
}

TopicError check_topic_filter(const char* filter) {
  if (filter == nullptr || filter[0] == '\0') return TopicError::kBadFilter;
  size_t length = 0;
  unsigned slashes = 0;
  for (const char* p = filter; *p != '\0'; ++p) {
    const bool level_start = p == filter || p[-1] == '/';
    const bool level_end = p[1] == '\0' || p[1] == '/';
    if (*p == '+' && !(level_start && level_end)) return TopicError::kBadFilter;
    if (*p == '#' && !(level_start && p[1] == '\0')) return TopicError::kBadFilter;
    if (*p == '/') ++slashes;
    ++length;
  }
  if (length > kMaxTopicBytes) return TopicError::kTooLong;
  if (slashes > kMaxTopicSlashes) return TopicError::kTooManySlashes;
  return TopicError::kOk;
}

bool topic_matches(const char* filter, const char* topic) {
  if (filter == nullptr || topic == nullptr) return false;
  // MQTT 3.1.1 section 4.7.2: wildcards at the start never match "$..." topics.
  if (topic[0] == '$' && (filter[0] == '+' || filter[0] == '#')) return false;
  const char* f = filter;
  const char* t = topic;
  while (*f != '\0') {
    if (*f == '#') return true;  // the rest of the topic, including its parent level
    if (*f == '+') {
      while (*t != '\0' && *t != '/') ++t;  // one whole level, possibly empty
      ++f;
    } else {
      if (*f != *t) return false;
      ++f;
      ++t;
    }
    // "a/#" also matches "a": the filter's "/#" after the end of the topic.
    if (*t == '\0' && f[0] == '/' && f[1] == '#' && f[2] == '\0') return true;
  }
  return *t == '\0';
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
