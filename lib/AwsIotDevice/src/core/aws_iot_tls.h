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

}  // namespace awsiot
