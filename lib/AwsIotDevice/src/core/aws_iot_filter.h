// Topic filters to subscribe to, and MQTT's matching of a received topic against them.
#pragma once

#include "aws_iot_topics.h"

namespace awsiot {

// Checks a topic filter: the topic limits (256 bytes, 7 slashes), and '+' / '#' only as
// whole levels, '#' only as the last one.
TopicError check_topic_filter(const char* filter);

// MQTT 3.1.1 matching of a received topic against a subscribed filter ('+' one level,
// '#' the rest). A filter starting with a wildcard does not match a topic starting with '$'.
bool topic_matches(const char* filter, const char* topic);

}  // namespace awsiot
