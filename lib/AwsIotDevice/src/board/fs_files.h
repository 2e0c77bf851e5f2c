// Reading the identity files from LittleFS, with boot diagnostics.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "../core/aws_iot_files.h"
#include "../core/aws_iot_runtime.h"

namespace device {

// A whole file in a heap buffer, NUL-terminated (PEM text can be handed on as a C string).
// The buffer is wiped before it is freed: it may hold a private key.
class FileBuffer {
 public:
  FileBuffer() : data_(nullptr), size_(0) {}
  ~FileBuffer() { release(); }
  FileBuffer(const FileBuffer&) = delete;
  FileBuffer& operator=(const FileBuffer&) = delete;

  const uint8_t* data() const { return data_; }
  const char* c_str() const { return reinterpret_cast<const char*>(data_); }
  size_t size() const { return size_; }
  void release();
  bool allocate(size_t size);
  uint8_t* writable() { return data_; }

 private:
  uint8_t* data_;
  size_t size_;
};

constexpr size_t kMaxIdentityFileBytes = 16384;

enum class Presence { kRequired, kOptional };

// Mounts LittleFS without ever formatting it; prints the fix when that fails. Call it
// before the other functions here. Per platform, in tls_esp8266.cpp / tls_esp32.cpp.
bool mount_filesystem();

// Reads `path` and checks its format against `expect`. Prints "[fs] <path>: <format>,
// <n> bytes" or "[fs] ERROR: <path> <what is wrong and what to run>".
// For an optional file that does not exist it prints nothing and returns false with
// *missing set to true.
bool load_file(const char* path, awsiot::Expect expect, Presence presence, FileBuffer* out,
               bool* missing);

// Did a load_file() fail for want of memory (not a file problem)?
bool last_load_out_of_memory();

// Reads at most `max_bytes` of a small optional file (e.g. /thing.txt). A missing file sets
// *missing and prints nothing; an unreadable one prints "[fs] ERROR: ..." and returns false.
bool read_small_file(const char* path, size_t max_bytes, FileBuffer* out, bool* missing);

}  // namespace device
