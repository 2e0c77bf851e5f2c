#include "aws_iot_runtime.h"

#include <stdio.h>

namespace awsiot {

void mac_from_efuse(uint64_t efuse, uint8_t mac[6]) {
  for (unsigned i = 0; i < 6; ++i) mac[i] = static_cast<uint8_t>(efuse >> (8u * i));
}

void mac_client_id(const char* prefix, const uint8_t mac[6], char* out, size_t out_size) {
  snprintf(out, out_size, "%s-%02x%02x%02x%02x%02x%02x", prefix, mac[0], mac[1], mac[2], mac[3],
           mac[4], mac[5]);
}

void wipe(void* data, size_t size) {
  volatile uint8_t* bytes = static_cast<volatile uint8_t*>(data);
  for (size_t i = 0; i < size; ++i) bytes[i] = 0;
}

}  // namespace awsiot
