#include "aws_iot_config.h"

#include "aws_iot_text.h"

#include <string.h>

namespace awsiot {

namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }

bool is_label_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) || c == '-';
}

char lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

// Host names: labels of 1..63 [A-Za-z0-9-], not starting or ending with '-'.
bool valid_host(const char* host, size_t length) {
  if (length == 0 || length > kMaxHostBytes) return false;
  size_t label = 0;
  for (size_t i = 0; i <= length; ++i) {
    const char c = (i < length) ? host[i] : '.';
    if (c == '.') {
      if (label == 0 || label > 63) return false;
      if (host[i - 1] == '-' || host[i - label] == '-') return false;
      label = 0;
    } else if (is_label_char(c)) {
      ++label;
    } else {
      return false;
    }
  }
  return true;
}

bool all_digits_and_dots(const char* host, size_t length) {
  for (size_t i = 0; i < length; ++i) {
    if (!is_digit(host[i]) && host[i] != '.') return false;
  }
  return true;
}

}  // namespace

EndpointError parse_endpoint(const char* text, Endpoint* out) {
  if (out == nullptr) return EndpointError::kEmpty;
  out->host[0] = '\0';
  out->port = 0;
  if (text == nullptr || text[0] == '\0') return EndpointError::kEmpty;
  if (strchr(text, '/') != nullptr) return EndpointError::kHasSchemeOrPath;

  const size_t total = strlen(text);
  const char* colon = strrchr(text, ':');
  size_t host_len = total;
  uint32_t port = kDefaultMqttPort;
  if (colon != nullptr) {
    host_len = static_cast<size_t>(colon - text);
    const char* digits = colon + 1;
    if (*digits == '\0') return EndpointError::kBadPort;
    port = 0;
    for (const char* p = digits; *p != '\0'; ++p) {
      if (!is_digit(*p)) return EndpointError::kBadPort;
      port = port * 10u + static_cast<uint32_t>(*p - '0');
      if (port > 65535u) return EndpointError::kBadPort;
    }
    if (port == 0) return EndpointError::kBadPort;
  }
  if (host_len > 0 && text[host_len - 1] == '.') --host_len;  // "example.com." is example.com
  if (!valid_host(text, host_len)) return EndpointError::kBadHost;
  if (all_digits_and_dots(text, host_len)) return EndpointError::kIpAddress;

  for (size_t i = 0; i < host_len; ++i) out->host[i] = lower(text[i]);
  out->host[host_len] = '\0';
  out->port = static_cast<uint16_t>(port);
  return EndpointError::kOk;
}

const char* endpoint_error_text(EndpointError error) {
  switch (error) {
    case EndpointError::kOk: return AWS_IOT_TEXT("ok");
    case EndpointError::kEmpty: return AWS_IOT_TEXT("AWS_IOT_ENDPOINT is empty");
    case EndpointError::kHasSchemeOrPath:
      return AWS_IOT_TEXT("AWS_IOT_ENDPOINT must be host or host:port, without scheme or path");
    case EndpointError::kBadPort: return AWS_IOT_TEXT("AWS_IOT_ENDPOINT port must be a number from 1 to 65535");
    case EndpointError::kBadHost: return AWS_IOT_TEXT("AWS_IOT_ENDPOINT host is not a valid host name");
    case EndpointError::kIpAddress:
      return AWS_IOT_TEXT("AWS_IOT_ENDPOINT is an IP address: TLS checks the name in the server certificate, "
             "use the host name");
  }
  return AWS_IOT_TEXT("unknown error");
}

SettingsError check_wifi(const char* ssid, const char* password) {
  const size_t ssid_len = (ssid == nullptr) ? 0 : strlen(ssid);
  if (ssid_len == 0) return SettingsError::kSsidEmpty;
  if (ssid_len > kMaxSsidBytes) return SettingsError::kSsidTooLong;
  const size_t pass_len = (password == nullptr) ? 0 : strlen(password);
  if (pass_len > kMaxWifiPasswordBytes) return SettingsError::kPasswordTooLong;
  if (pass_len > 0 && pass_len < 8) return SettingsError::kPasswordTooShort;
  return SettingsError::kOk;
}

const char* settings_error_text(SettingsError error) {
  switch (error) {
    case SettingsError::kOk: return AWS_IOT_TEXT("ok");
    case SettingsError::kSsidEmpty: return AWS_IOT_TEXT("WIFI_SSID is empty");
    case SettingsError::kSsidTooLong: return AWS_IOT_TEXT("WIFI_SSID is longer than 32 bytes");
    case SettingsError::kPasswordTooShort:
      return AWS_IOT_TEXT("WIFI_PASSWORD is shorter than 8 characters (WPA2 minimum; empty means an open network)");
    case SettingsError::kPasswordTooLong: return AWS_IOT_TEXT("WIFI_PASSWORD is longer than 64 characters");
  }
  return AWS_IOT_TEXT("unknown error");
}

}  // namespace awsiot
