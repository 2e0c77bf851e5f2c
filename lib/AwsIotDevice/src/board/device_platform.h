// What the AwsIotDevice class needs from the board, implemented once per platform:
// tls_esp8266.cpp (BearSSL, DER files) and tls_esp32.cpp (mbedTLS, PEM files).
// Each compiles only on its own board (the whole file is inside #if defined(...)).
#pragma once

#include <Client.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "../core/aws_iot_core.h"

namespace device {

awsiot::Platform platform();
const char* platform_name();

// "esp8266-1a2b3c" / "esp32-a1b2c3d4e5f6": the client id when AWS_IOT_THING_NAME is unset.
void default_client_id(char* out, size_t out_size);

uint32_t random_u32(void* ctx);  // hardware random source, awsiot::RandomFn
uint32_t free_heap();
uint32_t max_free_block();

// Loads the identity files from LittleFS (mounted before: mount_filesystem() in
// fs_files.h) into long-lived TLS objects. Prints every problem with the file name and the command that fixes it.
// Returns false when a connection could not succeed: the caller must not try.
bool load_identity();

// The TLS client the MQTT client runs over (lives as long as the program).
Client& tls_client();

// Before each connect: forget the previous attempt's TLS state, size the buffers,
// give the TLS stack the current time. `host` is the endpoint's host name.
void tls_prepare(const char* host, uint16_t port, time_t now);

// After a failed connect: the TLS error in words, or "" when the TLS layer saw none.
void tls_last_error(char* out, size_t out_size);

}  // namespace device
