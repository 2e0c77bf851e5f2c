// TLS buffer sizes for BearSSL on the ESP8266, chosen from the heap before connect().
//
// WiFiClientSecure::setBufferSizes(recv, xmit) clamps each to 512..16384 and adds
// BearSSL's record overhead (325 bytes in, 85 out). A server that does not negotiate
// the Maximum Fragment Length extension (AWS IoT Core does not) may send records of
// 16384 bytes, so the receive buffer must then be 16384; with MFLN it may be small.
#pragma once

#include <stdint.h>

namespace awsiot {

struct TlsBuffers {
  uint16_t recv;
  uint16_t xmit;
};

constexpr uint32_t kTlsInOverhead = 325;
constexpr uint32_t kTlsOutOverhead = 85;
// Handshake contexts (client context, X.509 validator) besides the I/O buffers, rounded up.
constexpr uint32_t kTlsContextBytes = 7000;

// `mfln` is the fragment length the server accepted (512, 1024, 2048 or 4096), 0 when it
// accepted none. `max_block` is the largest free heap block.
TlsBuffers choose_tls_buffers(uint32_t max_block, uint16_t mfln);

// Heap the handshake needs with these buffers (approximate, for the log and a warning).
uint32_t tls_heap_needed(TlsBuffers buffers);

// What the board knows about the server's small-fragment (MFLN) support. The probe
// (WiFiClientSecure::probeMaxFragmentLength) returns false both when the server declines
// and when nothing answered (no WiFi route, DNS, TCP). A "no" is kept only once an
// attempt showed the server answers TLS; after a probe that got no answer the next
// attempt probes again instead of spending the whole boot on 16 KB buffers.
class MflnMemory {
 public:
  MflnMemory() : state_(State::kUnknown), length_(0) {}
  bool should_probe() const { return state_ == State::kUnknown; }
  void record_probe(bool accepted, uint16_t length);
  // After the attempt that followed a probe: did the server answer TLS?
  void record_attempt(bool server_answered_tls);
  // The fragment length to use: 0 = none (full-size records).
  uint16_t fragment() const { return state_ == State::kAccepted ? length_ : 0; }
  bool known() const { return state_ == State::kAccepted || state_ == State::kDeclined; }

 private:
  enum class State : uint8_t { kUnknown, kAccepted, kUnconfirmedNo, kDeclined };
  State state_;
  uint16_t length_;
};

}  // namespace awsiot
