#include "aws_iot_mqtt.h"

#include <stdio.h>

namespace awsiot {

IncomingSize check_incoming(uint32_t delivered, uint32_t streamed) {
  IncomingSize size;
  // Every payload byte goes through the Stream; the callback gets at most the buffer.
  size.total = streamed > delivered ? streamed : delivered;
  size.complete = streamed <= delivered;
  return size;
}

bool format_status(char* out, size_t out_size, bool online, uint32_t session, uint32_t boot_id,
                   int64_t since) {
  if (out == nullptr || out_size == 0) return false;
  const int n = snprintf(out, out_size, "{\"state\":\"%s\",\"session\":%lu,\"boot\":\"%08lx\",\"since\":%lld}",
                         online ? "online" : "offline", static_cast<unsigned long>(session),
                         static_cast<unsigned long>(boot_id), static_cast<long long>(since));
  if (n < 0 || static_cast<size_t>(n) >= out_size) {
    out[0] = '\0';
    return false;
  }
  return true;
}

}  // namespace awsiot
