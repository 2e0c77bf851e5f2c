#include <doctest/doctest.h>

#include <string.h>

#include <string>

#include "aws_iot_topics.h"

using namespace awsiot;

TEST_CASE("topics are derived from the thing name") {
  char topic[kTopicBufferSize];
  CHECK(make_topic(topic, sizeof topic, "kitchen-sensor_01", TopicKind::kTelemetry) == TopicError::kOk);
  CHECK(std::string(topic) == "devices/kitchen-sensor_01/telemetry");
  CHECK(make_topic(topic, sizeof topic, "a:b", TopicKind::kStatus) == TopicError::kOk);
  CHECK(std::string(topic) == "devices/a:b/status");
  CHECK(make_topic(topic, sizeof topic, "x", TopicKind::kCommands) == TopicError::kOk);
  CHECK(std::string(topic) == "devices/x/commands");
}

TEST_CASE("thing names: 1 to 128 bytes of AWS's characters") {
  CHECK(check_thing_name("esp8266-01") == NameError::kOk);
  CHECK(check_thing_name("") == NameError::kEmpty);
  CHECK(check_thing_name(nullptr) == NameError::kEmpty);
  CHECK(check_thing_name(std::string(128, 'a').c_str()) == NameError::kOk);
  CHECK(check_thing_name(std::string(129, 'a').c_str()) == NameError::kTooLong);
  CHECK(check_thing_name(std::string(5000, 'a').c_str()) == NameError::kTooLong);
  for (const char* bad : {"a/b", "a b", "a+b", "a#b", "caf\xc3\xa9", "a.b", "$aws"}) {
    CAPTURE(bad);
    CHECK(check_thing_name(bad) == NameError::kBadCharacter);
  }
}

TEST_CASE("a bad thing name yields no topic") {
  char topic[kTopicBufferSize];
  strcpy(topic, "stale");
  CHECK(make_topic(topic, sizeof topic, "a/b/c/d/e/f/g/h", TopicKind::kTelemetry) ==
        TopicError::kBadThingName);
  CHECK(topic[0] == '\0');
  CHECK(make_topic(topic, sizeof topic, "", TopicKind::kTelemetry) == TopicError::kBadThingName);
}

TEST_CASE("the longest thing name fits the topic limits, a small buffer is refused") {
  const std::string name(128, 'n');
  char topic[kTopicBufferSize];
  CHECK(make_topic(topic, sizeof topic, name.c_str(), TopicKind::kTelemetry) == TopicError::kOk);
  CHECK(strlen(topic) == 8 + 128 + 10);
  char small[20];
  CHECK(make_topic(small, sizeof small, "abcdefghij", TopicKind::kTelemetry) ==
        TopicError::kBufferTooSmall);
  CHECK(small[0] == '\0');
  // exactly enough: "devices/ab/status" is 17 bytes + NUL
  char exact[18];
  CHECK(make_topic(exact, sizeof exact, "ab", TopicKind::kStatus) == TopicError::kOk);
  char one_short[17];
  CHECK(make_topic(one_short, sizeof one_short, "ab", TopicKind::kStatus) ==
        TopicError::kBufferTooSmall);
}

TEST_CASE("check_topic enforces 256 bytes and 7 slashes") {
  CHECK(check_topic(std::string(256, 't').c_str()) == TopicError::kOk);
  CHECK(check_topic(std::string(257, 't').c_str()) == TopicError::kTooLong);
  CHECK(check_topic("a/b/c/d/e/f/g/h") == TopicError::kOk);  // 7 slashes
  CHECK(check_topic("a/b/c/d/e/f/g/h/i") == TopicError::kTooManySlashes);
  CHECK(check_topic("a/+/c") == TopicError::kBadThingName);
  CHECK(check_topic("a/#") == TopicError::kBadThingName);
  CHECK(check_topic("") == TopicError::kBadThingName);
}

TEST_CASE("errors have words") {
  CHECK(std::string(name_error_text(NameError::kTooLong)).find("128") != std::string::npos);
  CHECK(std::string(topic_error_text(TopicError::kTooManySlashes)).find("7") != std::string::npos);
}
