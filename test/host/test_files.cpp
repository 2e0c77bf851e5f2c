#include <doctest/doctest.h>

#include <string.h>

#include <vector>

#include "aws_iot_files.h"

using namespace awsiot;

namespace {

// A DER SEQUENCE with `content` bytes of content, its length in the shortest form.
std::vector<uint8_t> der_sequence(size_t content) {
  std::vector<uint8_t> out;
  out.push_back(0x30);
  if (content < 0x80) {
    out.push_back(static_cast<uint8_t>(content));
  } else if (content <= 0xFF) {
    out.push_back(0x81);
    out.push_back(static_cast<uint8_t>(content));
  } else if (content <= 0xFFFF) {
    out.push_back(0x82);
    out.push_back(static_cast<uint8_t>(content >> 8));
    out.push_back(static_cast<uint8_t>(content));
  } else {
    out.push_back(0x83);
    out.push_back(static_cast<uint8_t>(content >> 16));
    out.push_back(static_cast<uint8_t>(content >> 8));
    out.push_back(static_cast<uint8_t>(content));
  }
  out.insert(out.end(), content, 0x02);
  return out;
}

FileFormat detect(const std::vector<uint8_t>& file) {
  // the glue reads only the first bytes: 16 here
  const size_t head = file.size() < 16 ? file.size() : 16;
  return detect_format(file.data(), head, file.size());
}

FileFormat detect_text(const char* text) {
  return detect_format(reinterpret_cast<const uint8_t*>(text), strlen(text), strlen(text));
}

}  // namespace

TEST_CASE("DER with a one-byte length") {
  for (size_t n : {0u, 1u, 3u, 127u}) {
    CAPTURE(n);
    const std::vector<uint8_t> file = der_sequence(n);
    CHECK(der_declared_length(file.data(), file.size()) == n + 2);
    CHECK(detect(file) == FileFormat::kDer);
  }
}

TEST_CASE("DER with two- and three-byte lengths (typical certificates and keys)") {
  for (size_t n : {128u, 255u, 256u, 1190u, 1217u, 65535u, 70000u}) {
    CAPTURE(n);
    const std::vector<uint8_t> file = der_sequence(n);
    const size_t header = n < 0x80 ? 2 : n <= 0xFF ? 3 : n <= 0xFFFF ? 4 : 5;
    CHECK(der_declared_length(file.data(), file.size()) == header + n);
    CHECK(detect(file) == FileFormat::kDer);
  }
}

TEST_CASE("a trailing newline or a second certificate makes DER unusable for BearSSL") {
  std::vector<uint8_t> file = der_sequence(1190);
  file.push_back('\n');
  CHECK(detect(file) == FileFormat::kDerTrailingData);
  std::vector<uint8_t> two = der_sequence(300);
  const std::vector<uint8_t> second = der_sequence(300);
  two.insert(two.end(), second.begin(), second.end());
  CHECK(detect(two) == FileFormat::kDerTrailingData);
  std::vector<uint8_t> small = der_sequence(3);
  small.push_back('\n');
  CHECK(detect(small) == FileFormat::kDerTrailingData);
  CHECK_FALSE(format_usable(FileFormat::kDerTrailingData, Expect::kDer));
}

TEST_CASE("truncated DER") {
  std::vector<uint8_t> file = der_sequence(1190);
  file.resize(1000);
  CHECK(detect(file) == FileFormat::kDerTruncated);
  const uint8_t header_only[] = {0x30, 0x82, 0x04};
  CHECK(detect_format(header_only, sizeof header_only, sizeof header_only) == FileFormat::kUnknown);
}

TEST_CASE("not DER: indefinite length, wrong first byte, too many length bytes") {
  const uint8_t indefinite[] = {0x30, 0x80, 0x00, 0x00};
  CHECK(detect_format(indefinite, 4, 4) == FileFormat::kUnknown);
  const uint8_t five_bytes[] = {0x30, 0x85, 0, 0, 0, 0, 1, 0};
  CHECK(detect_format(five_bytes, 8, 8) == FileFormat::kUnknown);
  const uint8_t integer[] = {0x02, 0x01, 0x00};
  CHECK(detect_format(integer, 3, 3) == FileFormat::kUnknown);
  const uint8_t lone[] = {0x30};
  CHECK(detect_format(lone, 1, 1) == FileFormat::kUnknown);
}

TEST_CASE("PEM, with or without a BOM or leading blank lines") {
  CHECK(detect_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n") ==
        FileFormat::kPem);
  CHECK(detect_text("\xEF\xBB\xBF-----BEGIN PRIVATE KEY-----\n") == FileFormat::kPem);
  CHECK(detect_text("\r\n\n-----BEGIN EC PRIVATE KEY-----\n") == FileFormat::kPem);
  CHECK(detect_text("-----BEGIN") == FileFormat::kUnknown);
  CHECK(detect_text("hello world, not a certificate") == FileFormat::kUnknown);
  CHECK(format_usable(FileFormat::kPem, Expect::kPem));
  CHECK_FALSE(format_usable(FileFormat::kPem, Expect::kDer));
  CHECK_FALSE(format_usable(FileFormat::kDer, Expect::kPem));
}

TEST_CASE("empty and missing files") {
  CHECK(detect_format(nullptr, 0, 0) == FileFormat::kEmpty);
  CHECK_FALSE(format_usable(FileFormat::kEmpty, Expect::kDer));
  CHECK_FALSE(format_usable(FileFormat::kMissing, Expect::kPem));
  CHECK(strstr(format_advice(FileFormat::kMissing, Expect::kDer), "pio run -t uploadfs") != nullptr);
  CHECK(strstr(format_advice(FileFormat::kEmpty, Expect::kDer), "uploadfs") != nullptr);
  CHECK(strstr(format_advice(FileFormat::kPem, Expect::kDer), "DER") != nullptr);
  CHECK(strstr(format_advice(FileFormat::kDer, Expect::kPem), "PEM") != nullptr);
  CHECK(strcmp(format_name(FileFormat::kDerTrailingData), "DER with trailing bytes") == 0);
}
