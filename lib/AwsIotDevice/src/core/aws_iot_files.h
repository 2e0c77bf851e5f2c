// What a certificate or key file on the board's filesystem holds, judged by its bytes.
//
// The ESP8266 core's BearSSL::X509List / PrivateKey take a buffer as DER only when its
// first byte is 0x30 (SEQUENCE) and the outer length covers the buffer exactly: one
// DER object, no trailing newline, nothing concatenated. ESP32's WiFiClientSecure takes
// NUL-terminated PEM text only.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace awsiot {

enum class FileFormat {
  kMissing,          // no such file (decided by the caller)
  kEmpty,            // zero bytes
  kDer,              // exactly one DER SEQUENCE, outer length == file length
  kDerTrailingData,  // a DER SEQUENCE followed by extra bytes (e.g. a newline, a 2nd cert)
  kDerTruncated,     // a DER SEQUENCE header claiming more bytes than the file has
  kPem,              // starts with "-----BEGIN " (after optional UTF-8 BOM / whitespace)
  kUnknown,          // anything else
};

// Classifies the first bytes of a file. `head` holds min(file_size, head_len) bytes from
// the start of the file; at least 6 bytes of it decide DER, at least 16 PEM.
FileFormat detect_format(const uint8_t* head, size_t head_len, size_t file_size);

// For a DER header: the total length (header + content) it declares; 0 when the bytes
// do not start a definite-length SEQUENCE that fits in size_t.
size_t der_declared_length(const uint8_t* head, size_t head_len);

enum class Expect { kDer, kPem };

// True when `format` is what the board's TLS stack can use for `expected`.
inline bool format_usable(FileFormat format, Expect expected) {
  return expected == Expect::kDer ? format == FileFormat::kDer : format == FileFormat::kPem;
}

const char* format_name(FileFormat format);

// One sentence for a file that is not usable: what is wrong and what to run.
const char* format_advice(FileFormat format, Expect expected);

}  // namespace awsiot
