#include "aws_iot_filter.h"

#include <stddef.h>

namespace awsiot {

TopicError check_topic_filter(const char* filter) {
  if (filter == nullptr || filter[0] == '\0') return TopicError::kBadFilter;
  for (const char* p = filter; *p != '\0'; ++p) {
    const bool level_start = p == filter || p[-1] == '/';
    const bool level_end = p[1] == '\0' || p[1] == '/';
    if (*p == '+' && !(level_start && level_end)) return TopicError::kBadFilter;
    if (*p == '#' && !(level_start && p[1] == '\0')) return TopicError::kBadFilter;
  }
  return check_topic_limits(filter);
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

}  // namespace awsiot
