#include "aws_iot_client_id.h"

#include "aws_iot_text.h"

#include <string.h>

namespace awsiot {

namespace {

NameError copy_checked(const char* name, char* out, size_t out_size) {
  const NameError error = check_thing_name(name);
  if (error != NameError::kOk) return error;
  const size_t length = strlen(name);
  if (out == nullptr || out_size < length + 1) return NameError::kTooLong;
  memcpy(out, name, length + 1);
  return NameError::kOk;
}

}  // namespace

NameError parse_thing_file(const uint8_t* bytes, size_t size, char* out, size_t out_size) {
  if (out != nullptr && out_size > 0) out[0] = '\0';
  if (bytes == nullptr) size = 0;
  // One line ending is tolerated: the plugin writes none, an editor adds one.
  if (size >= 2 && bytes[size - 2] == '\r' && bytes[size - 1] == '\n') {
    size -= 2;
  } else if (size >= 1 && bytes[size - 1] == '\n') {
    size -= 1;
  }
  if (size == 0) return NameError::kEmpty;
  if (size > kMaxClientIdBytes) return NameError::kTooLong;
  char name[kMaxClientIdBytes + 1];
  memcpy(name, bytes, size);
  name[size] = '\0';
  if (strlen(name) != size) return NameError::kBadCharacter;  // a NUL inside
  return copy_checked(name, out, out_size);
}

ClientIdChoice choose_client_id(const ThingFile& file, const char* compiled,
                                const char* device_default, char* out, size_t out_size) {
  if (out != nullptr && out_size > 0) out[0] = '\0';
  ClientIdChoice choice;
  if (file.present) {
    choice.source = ClientIdSource::kThingFile;
    choice.error = parse_thing_file(file.bytes, file.size, out, out_size);
  } else if (compiled != nullptr && compiled[0] != '\0') {
    choice.source = ClientIdSource::kCompiled;
    choice.error = copy_checked(compiled, out, out_size);
  } else {
    choice.source = ClientIdSource::kDeviceDefault;
    choice.error = copy_checked(device_default, out, out_size);
  }
  if (choice.error != NameError::kOk && out != nullptr && out_size > 0) out[0] = '\0';
  return choice;
}

const char* client_id_source_text(ClientIdSource source) {
  switch (source) {
    case ClientIdSource::kThingFile: return AWS_IOT_TEXT("/thing.txt");
    case ClientIdSource::kCompiled: return AWS_IOT_TEXT("AWS_IOT_THING_NAME");
    case ClientIdSource::kDeviceDefault: return AWS_IOT_TEXT("device default (MAC)");
  }
  return AWS_IOT_TEXT("unknown");
}

}  // namespace awsiot
