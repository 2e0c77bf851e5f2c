#include <doctest/doctest.h>

#include <string.h>

#include <string>

#include "aws_iot_filter.h"
#include "aws_iot_shadow.h"
#include "aws_iot_topics.h"

using namespace awsiot;

namespace {

std::string shadow(const char* thing, ShadowTopic which, const char* name = nullptr,
                   TopicError expect = TopicError::kOk) {
  char out[kTopicBufferSize];
  strcpy(out, "stale");
  CHECK(make_shadow_topic(out, sizeof out, thing, which, name) == expect);
  return out;
}

}  // namespace

TEST_CASE("classic shadow topics, as AWS names them") {
  CHECK(shadow("lamp", ShadowTopic::kGet) == "$aws/things/lamp/shadow/get");
  CHECK(shadow("lamp", ShadowTopic::kGetAccepted) == "$aws/things/lamp/shadow/get/accepted");
  CHECK(shadow("lamp", ShadowTopic::kGetRejected) == "$aws/things/lamp/shadow/get/rejected");
  CHECK(shadow("lamp", ShadowTopic::kUpdate) == "$aws/things/lamp/shadow/update");
  CHECK(shadow("lamp", ShadowTopic::kUpdateAccepted) == "$aws/things/lamp/shadow/update/accepted");
  CHECK(shadow("lamp", ShadowTopic::kUpdateRejected) == "$aws/things/lamp/shadow/update/rejected");
  CHECK(shadow("lamp", ShadowTopic::kUpdateDelta) == "$aws/things/lamp/shadow/update/delta");
  CHECK(shadow("lamp", ShadowTopic::kUpdateDocuments) ==
        "$aws/things/lamp/shadow/update/documents");
  CHECK(shadow("lamp", ShadowTopic::kDelete) == "$aws/things/lamp/shadow/delete");
  CHECK(shadow("lamp", ShadowTopic::kDeleteAccepted) == "$aws/things/lamp/shadow/delete/accepted");
  CHECK(shadow("lamp", ShadowTopic::kDeleteRejected) == "$aws/things/lamp/shadow/delete/rejected");
  CHECK(shadow("lamp", ShadowTopic::kUpdate, "") == "$aws/things/lamp/shadow/update");
}

TEST_CASE("named shadow topics") {
  CHECK(shadow("lamp", ShadowTopic::kUpdateDelta, "config") ==
        "$aws/things/lamp/shadow/name/config/update/delta");
  CHECK(shadow("lamp", ShadowTopic::kGet, "a:b_c-1") == "$aws/things/lamp/shadow/name/a:b_c-1/get");
}

TEST_CASE("the longest thing and shadow names still fit AWS's topic limits") {
  const std::string thing(128, 't');
  const std::string name(64, 's');
  const std::string topic = shadow(thing.c_str(), ShadowTopic::kUpdateDocuments, name.c_str());
  CHECK(topic.size() == 12 + 128 + 13 + 64 + 17);
  CHECK(topic.size() <= kMaxTopicBytes);
  CHECK(check_topic(topic.c_str()) == TopicError::kOk);
}

TEST_CASE("bad thing or shadow names, small buffers: no topic") {
  CHECK(shadow("a/b", ShadowTopic::kGet, nullptr, TopicError::kBadThingName).empty());
  CHECK(shadow("", ShadowTopic::kGet, nullptr, TopicError::kBadThingName).empty());
  CHECK(shadow("lamp", ShadowTopic::kGet, "a/b", TopicError::kBadShadowName).empty());
  CHECK(shadow("lamp", ShadowTopic::kGet, std::string(65, 's').c_str(),
               TopicError::kBadShadowName).empty());
  CHECK(shadow("lamp", ShadowTopic::kGet, "+", TopicError::kBadShadowName).empty());
  char exact[sizeof("$aws/things/lamp/shadow/get")];
  CHECK(make_shadow_topic(exact, sizeof exact, "lamp", ShadowTopic::kGet) == TopicError::kOk);
  char one_short[sizeof exact - 1];
  CHECK(make_shadow_topic(one_short, sizeof one_short, "lamp", ShadowTopic::kGet) ==
        TopicError::kBufferTooSmall);
  CHECK(one_short[0] == '\0');
  CHECK(std::string(topic_error_text(TopicError::kBadShadowName)).find("64") != std::string::npos);
}

TEST_CASE("the MQTT buffer holds an 8 KB shadow document with the longest topic") {
  CHECK(kShadowMqttBufferBytes >= kMaxShadowDocumentBytes + kMaxTopicBytes + 2 + 2 + 5);
  CHECK(kShadowMqttBufferBytes <= 65535);  // PubSubClient's setBufferSize takes a uint16_t
}

TEST_CASE("topic filters: wildcards only as whole levels") {
  for (const char* good : {"devices/x/commands", "devices/+/commands", "devices/#", "#", "+",
                           "+/+", "a//b", "$aws/things/lamp/shadow/update/delta", "a/+/#"}) {
    CAPTURE(good);
    CHECK(check_topic_filter(good) == TopicError::kOk);
  }
  for (const char* bad : {"", "a/b#", "a/#/b", "a+/b", "a/+b", "##", "a/++"}) {
    CAPTURE(bad);
    CHECK(check_topic_filter(bad) == TopicError::kBadFilter);
  }
  CHECK(check_topic_filter(nullptr) == TopicError::kBadFilter);
  CHECK(check_topic_filter("a/b/c/d/e/f/g/h/i") == TopicError::kTooManySlashes);
  CHECK(check_topic_filter(std::string(257, 'f').c_str()) == TopicError::kTooLong);
}

TEST_CASE("topic matching as MQTT 3.1.1 defines it") {
  CHECK(topic_matches("devices/x/commands", "devices/x/commands"));
  CHECK_FALSE(topic_matches("devices/x/commands", "devices/x/command"));
  CHECK_FALSE(topic_matches("devices/x/commands", "devices/x/commandsX"));
  CHECK_FALSE(topic_matches("devices/x", "devices/x/commands"));
  CHECK(topic_matches("devices/+/commands", "devices/x/commands"));
  CHECK(topic_matches("devices/+/commands", "devices//commands"));
  CHECK_FALSE(topic_matches("devices/+/commands", "devices/x/y/commands"));
  CHECK(topic_matches("devices/#", "devices/x/y/z"));
  CHECK(topic_matches("devices/#", "devices"));  // '#' includes the parent level
  CHECK(topic_matches("#", "anything/at/all"));
  CHECK(topic_matches("+/+", "a/b"));
  CHECK_FALSE(topic_matches("+/+", "a/b/c"));
  CHECK_FALSE(topic_matches("a/+", "a"));
  CHECK(topic_matches("a/+", "a/"));
  // Wildcards at the start do not match AWS's reserved "$" topics.
  CHECK_FALSE(topic_matches("#", "$aws/things/lamp/shadow/update/delta"));
  CHECK_FALSE(topic_matches("+/things/#", "$aws/things/lamp"));
  CHECK(topic_matches("$aws/things/+/shadow/#", "$aws/things/lamp/shadow/update/delta"));
  CHECK_FALSE(topic_matches(nullptr, "a"));
  CHECK_FALSE(topic_matches("a", nullptr));
}
