// Checks of the settings compiled in from secrets.h, before anything connects.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace awsiot {

constexpr uint16_t kDefaultMqttPort = 8883;
constexpr size_t kMaxHostBytes = 253;
constexpr size_t kMaxSsidBytes = 32;
constexpr size_t kMaxWifiPasswordBytes = 64;

struct Endpoint {
  char host[kMaxHostBytes + 1];
  uint16_t port;
};

enum class EndpointError {
  kOk,
  kEmpty,
  kHasSchemeOrPath,  // "mqtts://..." or ".../path"
  kBadPort,          // not 1..65535 or not digits
  kBadHost,          // empty label, bad character, label over 63, host over 253
  kIpAddress,        // BearSSL checks only DNS names: connect by host name
};

// Parses "host" or "host:port" (port 8883 when absent). Surrounding spaces are an error,
// a trailing dot is dropped, the host is lower-cased. On error `out` is cleared.
EndpointError parse_endpoint(const char* text, Endpoint* out);
const char* endpoint_error_text(EndpointError error);

enum class SettingsError {
  kOk,
  kSsidEmpty,
  kSsidTooLong,          // over 32 bytes
  kPasswordTooShort,     // WPA2 needs 8..63 characters (or 64 hex digits); empty = open network
  kPasswordTooLong,
};

SettingsError check_wifi(const char* ssid, const char* password);
const char* settings_error_text(SettingsError error);

}  // namespace awsiot
