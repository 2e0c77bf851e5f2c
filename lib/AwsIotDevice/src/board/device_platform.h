// What the AwsIotDevice class needs from the board, implemented once per platform:
// tls_esp8266.cpp (BearSSL, DER files) and tls_esp32.cpp (mbedTLS, PEM files).
// Each compiles only on its own board (the whole file is inside #if defined(...)).
#pragma once

#include <Client.h>
#include <IPAddress.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "../core/aws_iot_core.h"

namespace device {

awsiot::Platform platform();
const char* platform_name();

// "esp8266-1a2b3c" / "esp32-246f28aabbcc" (the MAC in its usual order): the client id
// when AWS_IOT_THING_NAME is unset.
void default_client_id(char* out, size_t out_size);

uint32_t random_u32(void* ctx);  // hardware random source, awsiot::RandomFn
uint32_t free_heap();
uint32_t max_free_block();
[[noreturn]] void restart();

// Does this board's TLS check certificate dates (then it must wait for SNTP)?
bool tls_checks_dates();
// How long one attempt's steps may take on this board (docs/device-client.md).
const awsiot::AttemptBounds& attempt_bounds();

// Our own lookup of the endpoint, bounded by attempt_bounds().dns_ms, so a DNS failure is
// known as such (the TLS client resolves again and finds the name in lwIP's cache).
bool resolve(const char* host, IPAddress* ip);
// After a TLS failure without an error code: does a plain TCP connect to ip:port work?
bool tcp_reachable(const IPAddress& ip, uint16_t port);

// Loads the identity files from LittleFS (mounted before: mount_filesystem() in
// fs_files.h) into long-lived TLS objects; the ESP32 also parses them with mbedTLS once
// and checks that key and certificate belong together. Prints every problem with the file
// name and the command that fixes it. Returns false when a connection could not succeed:
// the caller must not try; *transient tells an allocation failure (worth a restart) from
// a file problem.
bool load_identity(bool* transient);

// The TLS client the MQTT client runs over (lives as long as the program).
Client& tls_client();

// Before each connect: forget the previous attempt's TLS state (and error), size the
// buffers, give the TLS stack the current time. `ip` is the endpoint's resolved address.
void tls_prepare(const IPAddress& ip, uint16_t port, time_t now);

// After a failed connect that tls_prepare began: what the TLS stack says. `text` is "" when it gave no code
// that means something (see awsiot::mbedtls_error_meaningful); then the observed facts
// tell the layer.
struct TlsError {
  bool meaningful;
  bool out_of_memory;
  char text[awsiot::kTlsTextBytes];
};
void tls_last_error(TlsError* out);

// After each attempt: did the server answer TLS? (The ESP8266 re-probes MFLN otherwise.)
void tls_attempt_done(bool server_answered_tls);

}  // namespace device
