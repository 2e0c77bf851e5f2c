#include "fs_files.h"

#include <Arduino.h>
#include <FS.h>
#include <LittleFS.h>

#include <new>

#include "device_log.h"

namespace device {

namespace {
bool g_load_out_of_memory = false;

// Opens `path`; false when it is missing (`*missing` set, nothing logged: the caller knows
// whether that matters) or cannot be opened (logged).
bool open_file(const char* path, File* file, bool* missing) {
  *missing = !LittleFS.exists(path);
  if (*missing) return false;
  *file = LittleFS.open(path, "r");
  if (!*file) {
    LOGF("[fs] ERROR: %s could not be opened; run `pio run -t uploadfs`\n", path);
    return false;
  }
  return true;
}

// Reads the first `size` bytes of an open file into `out`, closes it; logs why on failure.
bool read_open_file(File& file, const char* path, size_t size, FileBuffer* out) {
  if (!out->allocate(size)) {
    g_load_out_of_memory = true;  // the caller may retry after a restart, as for the identity
    LOGF("[fs] ERROR: %s: out of memory for %u bytes (free heap %u)\n", path,
         static_cast<unsigned>(size), static_cast<unsigned>(ESP.getFreeHeap()));
    file.close();
    return false;
  }
  const size_t got = size > 0 ? file.read(out->writable(), size) : 0;
  file.close();
  if (got != size) {
    LOGF("[fs] ERROR: %s: read %u of %u bytes; run `pio run -t uploadfs`\n", path,
         static_cast<unsigned>(got), static_cast<unsigned>(size));
    out->release();
    return false;
  }
  return true;
}
}  // namespace

bool last_load_out_of_memory() { return g_load_out_of_memory; }

void FileBuffer::release() {
  // Key material must not linger in freed heap for the next allocation to find.
  if (data_ != nullptr) awsiot::wipe(data_, size_ + 1);
  delete[] data_;
  data_ = nullptr;
  size_ = 0;
}

bool FileBuffer::allocate(size_t size) {
  release();
  data_ = new (std::nothrow) uint8_t[size + 1];
  if (data_ == nullptr) return false;
  data_[size] = 0;
  size_ = size;
  return true;
}

bool load_file(const char* path, awsiot::Expect expect, Presence presence, FileBuffer* out,
               bool* missing) {
  out->release();
  File file;
  if (!open_file(path, &file, missing)) {
    if (*missing && presence == Presence::kRequired) {
      LOGF("[fs] ERROR: %s %s\n", path, awsiot::format_advice(awsiot::FileFormat::kMissing, expect));
    }
    return false;
  }
  const size_t size = file.size();
  if (size > kMaxIdentityFileBytes) {
    LOGF("[fs] ERROR: %s has %u bytes, more than a certificate or key (%u): "
                  "run `pio run -t uploadfs`\n",
                  path, static_cast<unsigned>(size), static_cast<unsigned>(kMaxIdentityFileBytes));
    file.close();
    return false;
  }
  if (!read_open_file(file, path, size, out)) return false;
  const awsiot::FileFormat format = awsiot::detect_format(out->data(), size, size);
  if (!awsiot::format_usable(format, expect)) {
    LOGF("[fs] ERROR: %s (%s, %u bytes) %s\n", path, awsiot::format_name(format),
                  static_cast<unsigned>(size), awsiot::format_advice(format, expect));
    out->release();
    return false;
  }
  if (expect == awsiot::Expect::kPem && strlen(out->c_str()) != size) {
    // mbedTLS parses PEM up to the first NUL: a NUL inside would cut it short.
    LOGF("[fs] ERROR: %s holds a NUL byte; let the plugin write data/, then run "
                  "`pio run -t uploadfs`\n", path);
    out->release();
    return false;
  }
  LOGF("[fs] %s: %s, %u bytes\n", path, awsiot::format_name(format),
                static_cast<unsigned>(size));
  return true;
}

bool read_small_file(const char* path, size_t max_bytes, FileBuffer* out, bool* missing) {
  out->release();
  File file;
  if (!open_file(path, &file, missing)) return false;
  const size_t size = file.size() < max_bytes ? file.size() : max_bytes;
  return read_open_file(file, path, size, out);
}

}  // namespace device
