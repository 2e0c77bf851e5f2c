// Which MQTT client id (= thing name) the device uses, and where it came from.
//
// One firmware serves a whole fleet, so the per-device name lives in the device's
// filesystem image: /thing.txt holds the thing name in bytes, optionally followed by one
// "\n" or "\r\n" (an editor's). Precedence:
//   1. /thing.txt on LittleFS (written by the plugin's prepare, one per device image);
//   2. the name compiled into the firmware (AWS_IOT_THING_NAME in secrets.h, or Settings);
//   3. the device's default, derived from its MAC / chip id.
// A file or a compiled name that is present but invalid is an error, never skipped: the
// device would otherwise connect as another thing than the one intended.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "aws_iot_topics.h"

namespace awsiot {

constexpr char kThingFilePath[] = "/thing.txt";
// The longest valid file: 128 bytes of name and "\r\n". Read one byte more to tell
// "too long" from "just fits".
constexpr size_t kMaxThingFileBytes = kMaxClientIdBytes + 2;

// The thing name held in a /thing.txt of `size` bytes, written NUL-terminated to `out`
// (at least kMaxClientIdBytes + 1 bytes). On error `out` holds an empty string.
NameError parse_thing_file(const uint8_t* bytes, size_t size, char* out, size_t out_size);

enum class ClientIdSource : uint8_t { kThingFile, kCompiled, kDeviceDefault };

// What the board found on its filesystem.
struct ThingFile {
  bool present;
  const uint8_t* bytes;  // the file's first bytes: read at most kMaxThingFileBytes + 1
  size_t size;           // how many were read
};

struct ClientIdChoice {
  ClientIdSource source;
  NameError error;  // kOk, or what is wrong with the chosen source
};

// Applies the precedence above. `compiled` may be null or "" (not set). The chosen name
// goes to `out` (empty on error).
ClientIdChoice choose_client_id(const ThingFile& file, const char* compiled,
                                const char* device_default, char* out, size_t out_size);

// "/thing.txt", "AWS_IOT_THING_NAME", "device default (MAC)": for the boot log.
const char* client_id_source_text(ClientIdSource source);

}  // namespace awsiot
