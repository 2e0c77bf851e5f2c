#include "aws_iot_files.h"

#include "aws_iot_text.h"

#include <string.h>

namespace awsiot {

size_t der_declared_length(const uint8_t* head, size_t head_len) {
  if (head == nullptr || head_len < 2 || head[0] != 0x30) return 0;
  const uint8_t first = head[1];
  if (first < 0x80) return 2u + first;  // short form: one length byte
  const size_t count = first & 0x7Fu;   // long form: `count` length bytes follow
  // As the ESP8266 core's looks_like_DER(): no check of the shortest form.
  if (count == 0 || count > sizeof(size_t) || count > 4 || head_len < 2 + count) return 0;
  size_t content = 0;
  for (size_t i = 0; i < count; ++i) content = (content << 8) | head[2 + i];
  const size_t header = 2 + count;
  if (content > static_cast<size_t>(-1) - header) return 0;
  return header + content;
}

FileFormat detect_format(const uint8_t* head, size_t head_len, size_t file_size) {
  if (file_size == 0) return FileFormat::kEmpty;
  if (head == nullptr || head_len == 0) return FileFormat::kUnknown;
  if (head[0] == 0x30) {
    const size_t declared = der_declared_length(head, head_len);
    if (declared == 0) return FileFormat::kUnknown;
    if (declared == file_size) return FileFormat::kDer;
    return declared < file_size ? FileFormat::kDerTrailingData : FileFormat::kDerTruncated;
  }
  size_t i = 0;
  if (head_len >= 3 && head[0] == 0xEF && head[1] == 0xBB && head[2] == 0xBF) i = 3;
  while (i < head_len && (head[i] == ' ' || head[i] == '\t' || head[i] == '\r' || head[i] == '\n')) {
    ++i;
  }
  static const char kBegin[] = "-----BEGIN ";
  const size_t begin_len = sizeof(kBegin) - 1;
  if (head_len - i >= begin_len && memcmp(head + i, kBegin, begin_len) == 0) return FileFormat::kPem;
  return FileFormat::kUnknown;
}

const char* format_name(FileFormat format) {
  switch (format) {
    case FileFormat::kMissing: return AWS_IOT_TEXT("missing");
    case FileFormat::kEmpty: return AWS_IOT_TEXT("empty");
    case FileFormat::kDer: return AWS_IOT_TEXT("DER");
    case FileFormat::kDerTrailingData: return AWS_IOT_TEXT("DER with trailing bytes");
    case FileFormat::kDerTruncated: return AWS_IOT_TEXT("truncated DER");
    case FileFormat::kPem: return AWS_IOT_TEXT("PEM");
    case FileFormat::kUnknown: return AWS_IOT_TEXT("unknown format");
  }
  return AWS_IOT_TEXT("unknown format");
}

const char* format_advice(FileFormat format, Expect expected) {
  switch (format) {
    case FileFormat::kMissing:
      return AWS_IOT_TEXT("not in the filesystem image: put the files in certs/ and run `pio run -t uploadfs`");
    case FileFormat::kEmpty:
      return AWS_IOT_TEXT("is empty: check certs/, then run `pio run -t uploadfs`");
    case FileFormat::kDerTrailingData:
      return AWS_IOT_TEXT("has bytes after its DER object (BearSSL rejects it): let the plugin write data/, "
             "then run `pio run -t uploadfs`");
    case FileFormat::kDerTruncated:
      return AWS_IOT_TEXT("is cut short: run `pio run -t uploadfs` again");
    case FileFormat::kPem:
      return expected == Expect::kDer
                 ? AWS_IOT_TEXT("is PEM but this board needs DER (image built for esp32?): run "
                                "`pio run -e esp8266 -t uploadfs`")
                 : AWS_IOT_TEXT("ok");
    case FileFormat::kDer:
      return expected == Expect::kPem
                 ? AWS_IOT_TEXT("is DER but this board needs PEM (image built for esp8266?): run "
                                "`pio run -e esp32 -t uploadfs`")
                 : AWS_IOT_TEXT("ok");
    case FileFormat::kUnknown:
      return AWS_IOT_TEXT("is neither DER nor PEM: let the plugin write data/, then run `pio run -t uploadfs`");
  }
  return AWS_IOT_TEXT("unknown format");
}

}  // namespace awsiot
