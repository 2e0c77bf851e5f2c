#include "aws_iot_shadow.h"

#include <string.h>

namespace awsiot {

namespace {

constexpr const char kShadowPrefix[] = "$aws/things/";
constexpr const char kShadowClassic[] = "/shadow";
constexpr const char kShadowNamed[] = "/shadow/name/";

// Plain literals (not AWS_IOT_TEXT): they are copied with strlen / memcpy.
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

// Shadow names take the thing names' characters, up to 64 of them.
bool valid_shadow_name(const char* name) {
  return check_thing_name(name) == NameError::kOk && strlen(name) <= kMaxShadowNameBytes;
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

}  // namespace awsiot
