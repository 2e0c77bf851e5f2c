#include <doctest/doctest.h>

#include <string.h>

#include <string>

#include "aws_iot_client_id.h"

using namespace awsiot;

namespace {

const uint8_t* bytes_of(const std::string& text) {
  return reinterpret_cast<const uint8_t*>(text.data());
}

std::string parsed(const std::string& file, NameError* error) {
  char out[kMaxClientIdBytes + 1];
  strcpy(out, "stale");
  *error = parse_thing_file(bytes_of(file), file.size(), out, sizeof out);
  return out;
}

ThingFile file_of(const std::string& text) { return ThingFile{true, bytes_of(text), text.size()}; }
const ThingFile kNoFile = {false, nullptr, 0};

}  // namespace

TEST_CASE("thing.txt: the name alone, or with one LF or CRLF") {
  NameError error;
  CHECK(parsed("kitchen-sensor-01", &error) == "kitchen-sensor-01");
  CHECK(error == NameError::kOk);
  CHECK(parsed("kitchen-sensor-01\n", &error) == "kitchen-sensor-01");
  CHECK(error == NameError::kOk);
  CHECK(parsed("kitchen-sensor-01\r\n", &error) == "kitchen-sensor-01");
  CHECK(error == NameError::kOk);
  CHECK(parsed("a:b_c-D9", &error) == "a:b_c-D9");
  CHECK(error == NameError::kOk);
}

TEST_CASE("thing.txt: anything else around the name is refused, not trimmed") {
  for (const char* bad : {"name\n\n", "name\r", "name\r\n\r\n", " name", "name ", "name\t",
                          "\xef\xbb\xbfname", "two\nlines", "caf\xc3\xa9", "a/b"}) {
    CAPTURE(bad);
    NameError error;
    CHECK(parsed(bad, &error).empty());
    CHECK(error == NameError::kBadCharacter);
  }
  NameError error;
  CHECK(parsed(std::string("na\0me", 5), &error).empty());
  CHECK(error == NameError::kBadCharacter);
}

TEST_CASE("thing.txt: empty, a lone line ending, and the 128-byte limit") {
  NameError error;
  for (const char* empty : {"", "\n", "\r\n"}) {
    CAPTURE(empty);
    CHECK(parsed(empty, &error).empty());
    CHECK(error == NameError::kEmpty);
  }
  CHECK(parse_thing_file(nullptr, 0, nullptr, 0) == NameError::kEmpty);
  const std::string longest(128, 'n');
  CHECK(parsed(longest, &error) == longest);
  CHECK(parsed(longest + "\r\n", &error) == longest);
  CHECK(error == NameError::kOk);
  CHECK(parsed(longest + "n", &error).empty());
  CHECK(error == NameError::kTooLong);
  // The board reads at most kMaxThingFileBytes + 1 bytes of a longer file.
  const std::string head(kMaxThingFileBytes + 1, 'n');
  CHECK(parsed(head, &error).empty());
  CHECK(error == NameError::kTooLong);
  CHECK(parsed(std::string(kMaxThingFileBytes - 1, 'n') + "\r\n", &error).empty());
  CHECK(error == NameError::kTooLong);
}

TEST_CASE("thing.txt: a small output buffer is refused") {
  char out[4];
  CHECK(parse_thing_file(bytes_of("abcd"), 4, out, sizeof out) == NameError::kTooLong);
  CHECK(out[0] == '\0');
  CHECK(parse_thing_file(bytes_of("abc"), 3, out, sizeof out) == NameError::kOk);
  CHECK(std::string(out) == "abc");
}

TEST_CASE("client id precedence: /thing.txt, then AWS_IOT_THING_NAME, then the MAC default") {
  char out[kMaxClientIdBytes + 1];
  ClientIdChoice choice = choose_client_id(file_of("from-file\n"), "compiled", "esp8266-1a2b3c",
                                           out, sizeof out);
  CHECK(choice.source == ClientIdSource::kThingFile);
  CHECK(choice.error == NameError::kOk);
  CHECK(std::string(out) == "from-file");

  choice = choose_client_id(kNoFile, "compiled", "esp8266-1a2b3c", out, sizeof out);
  CHECK(choice.source == ClientIdSource::kCompiled);
  CHECK(choice.error == NameError::kOk);
  CHECK(std::string(out) == "compiled");

  for (const char* unset : {static_cast<const char*>(nullptr), ""}) {
    choice = choose_client_id(kNoFile, unset, "esp8266-1a2b3c", out, sizeof out);
    CHECK(choice.source == ClientIdSource::kDeviceDefault);
    CHECK(choice.error == NameError::kOk);
    CHECK(std::string(out) == "esp8266-1a2b3c");
  }
}

TEST_CASE("client id: a present but invalid source is an error, never skipped") {
  char out[kMaxClientIdBytes + 1];
  // A broken /thing.txt must not fall back to the compiled name: that is another thing.
  ClientIdChoice choice = choose_client_id(file_of("bad name"), "compiled", "esp32-0", out,
                                           sizeof out);
  CHECK(choice.source == ClientIdSource::kThingFile);
  CHECK(choice.error == NameError::kBadCharacter);
  CHECK(out[0] == '\0');
  choice = choose_client_id(file_of(""), "compiled", "esp32-0", out, sizeof out);
  CHECK(choice.source == ClientIdSource::kThingFile);
  CHECK(choice.error == NameError::kEmpty);

  choice = choose_client_id(kNoFile, "has/slash", "esp32-0", out, sizeof out);
  CHECK(choice.source == ClientIdSource::kCompiled);
  CHECK(choice.error == NameError::kBadCharacter);
  CHECK(out[0] == '\0');
  choice = choose_client_id(kNoFile, std::string(129, 'c').c_str(), "esp32-0", out, sizeof out);
  CHECK(choice.error == NameError::kTooLong);
}

TEST_CASE("client id sources have words for the boot log") {
  CHECK(std::string(client_id_source_text(ClientIdSource::kThingFile)) == "/thing.txt");
  CHECK(std::string(client_id_source_text(ClientIdSource::kCompiled)) == "AWS_IOT_THING_NAME");
  CHECK(std::string(client_id_source_text(ClientIdSource::kDeviceDefault)).find("MAC") !=
        std::string::npos);
  CHECK(std::string(kThingFilePath) == "/thing.txt");
}
