#include "aws_iot_tls.h"

namespace awsiot {

uint32_t tls_heap_needed(TlsBuffers buffers) {
  return buffers.recv + kTlsInOverhead + buffers.xmit + kTlsOutOverhead + kTlsContextBytes;
}

TlsBuffers choose_tls_buffers(uint32_t max_block, uint16_t mfln) {
  TlsBuffers buffers;
  if (mfln == 512 || mfln == 1024 || mfln == 2048 || mfln == 4096) {
    buffers.recv = mfln;
    buffers.xmit = mfln < 1024 ? mfln : 1024;
    return buffers;
  }
  // No MFLN: full-size receive records. A larger send buffer means fewer records per
  // MQTT message, but only when the heap has room for it.
  buffers.recv = 16384;
  buffers.xmit = 1024;
  if (tls_heap_needed(buffers) > max_block) buffers.xmit = 512;
  return buffers;
}

void MflnMemory::record_probe(bool accepted, uint16_t length) {
  if (accepted) {
    state_ = State::kAccepted;
    length_ = length;
  } else {
    state_ = State::kUnconfirmedNo;
  }
}

void MflnMemory::record_attempt(bool server_answered_tls) {
  if (state_ != State::kUnconfirmedNo) return;
  state_ = server_answered_tls ? State::kDeclined : State::kUnknown;
}

}  // namespace awsiot
