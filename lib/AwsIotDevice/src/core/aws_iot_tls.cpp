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

}  // namespace awsiot
