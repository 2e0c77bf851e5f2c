#include <doctest/doctest.h>

#include <string>

#include "aws_iot_config.h"

using namespace awsiot;

TEST_CASE("endpoint: host alone takes port 8883") {
  Endpoint ep;
  CHECK(parse_endpoint("abc123-ats.iot.eu-west-1.amazonaws.com", &ep) == EndpointError::kOk);
  CHECK(std::string(ep.host) == "abc123-ats.iot.eu-west-1.amazonaws.com");
  CHECK(ep.port == 8883);
}

TEST_CASE("endpoint: host:port for a local broker") {
  Endpoint ep;
  CHECK(parse_endpoint("broker.local:8884", &ep) == EndpointError::kOk);
  CHECK(std::string(ep.host) == "broker.local");
  CHECK(ep.port == 8884);
  CHECK(parse_endpoint("Broker.LOCAL.:1", &ep) == EndpointError::kOk);
  CHECK(std::string(ep.host) == "broker.local");
  CHECK(ep.port == 1);
  CHECK(parse_endpoint("localhost:65535", &ep) == EndpointError::kOk);
  CHECK(ep.port == 65535);
}

TEST_CASE("endpoint: port range and digits") {
  Endpoint ep;
  for (const char* bad : {"h:0", "h:65536", "h:99999999999", "h:", "h:88a3", "h:-1", "h: 8883",
                          "h:+8883"}) {
    CAPTURE(bad);
    CHECK(parse_endpoint(bad, &ep) == EndpointError::kBadPort);
    CHECK(ep.host[0] == '\0');
    CHECK(ep.port == 0);
  }
}

TEST_CASE("endpoint: empty, scheme, path, bad host, IP address") {
  Endpoint ep;
  CHECK(parse_endpoint("", &ep) == EndpointError::kEmpty);
  CHECK(parse_endpoint(nullptr, &ep) == EndpointError::kEmpty);
  CHECK(parse_endpoint("mqtts://x.example.com", &ep) == EndpointError::kHasSchemeOrPath);
  CHECK(parse_endpoint("x.example.com/mqtt", &ep) == EndpointError::kHasSchemeOrPath);
  CHECK(parse_endpoint(":8883", &ep) == EndpointError::kBadHost);
  CHECK(parse_endpoint("a..b", &ep) == EndpointError::kBadHost);
  CHECK(parse_endpoint("-a.b", &ep) == EndpointError::kBadHost);
  CHECK(parse_endpoint("a-.b", &ep) == EndpointError::kBadHost);
  CHECK(parse_endpoint(" a.b", &ep) == EndpointError::kBadHost);
  CHECK(parse_endpoint("a_b.com", &ep) == EndpointError::kBadHost);
  CHECK(parse_endpoint((std::string(63, 'a') + ".com").c_str(), &ep) == EndpointError::kOk);
  CHECK(parse_endpoint((std::string(64, 'a') + ".com").c_str(), &ep) == EndpointError::kBadHost);
  std::string long_host;
  while (long_host.size() < 254) long_host += "abcdefghi.";
  long_host.resize(254);
  if (long_host.back() == '.') long_host.back() = 'x';
  CHECK(parse_endpoint(long_host.c_str(), &ep) == EndpointError::kBadHost);
  CHECK(parse_endpoint("192.168.1.10", &ep) == EndpointError::kIpAddress);
  CHECK(parse_endpoint("192.168.1.10:8883", &ep) == EndpointError::kIpAddress);
  CHECK(parse_endpoint("[::1]:8883", &ep) == EndpointError::kBadHost);
  CHECK(std::string(endpoint_error_text(EndpointError::kIpAddress)).find("host name") !=
        std::string::npos);
}

TEST_CASE("WiFi settings") {
  CHECK(check_wifi("home", "password") == SettingsError::kOk);
  CHECK(check_wifi("open-cafe", "") == SettingsError::kOk);  // an open network
  CHECK(check_wifi("", "password") == SettingsError::kSsidEmpty);
  CHECK(check_wifi(std::string(32, 's').c_str(), "password") == SettingsError::kOk);
  CHECK(check_wifi(std::string(33, 's').c_str(), "password") == SettingsError::kSsidTooLong);
  CHECK(check_wifi("home", "1234567") == SettingsError::kPasswordTooShort);
  CHECK(check_wifi("home", std::string(64, 'f').c_str()) == SettingsError::kOk);
  CHECK(check_wifi("home", std::string(65, 'f').c_str()) == SettingsError::kPasswordTooLong);
}
