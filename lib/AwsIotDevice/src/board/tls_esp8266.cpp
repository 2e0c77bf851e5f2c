// ESP8266 (Arduino core 3.1.2): BearSSL through WiFiClientSecure, DER files on LittleFS.
// The whole file compiles only when building for the ESP8266 (an empty unit elsewhere).
#if defined(ESP8266)

#include <Arduino.h>
#include <ESP8266WiFi.h>
#include <LittleFS.h>
#include <WiFiClientSecure.h>

#include <stdio.h>

#include <new>

#include "device_log.h"
#include "device_platform.h"
#include "fs_files.h"

namespace device {

namespace {

// The client keeps pointers to these: they live as long as the program.
BearSSL::WiFiClientSecure g_client;
BearSSL::X509List g_trust_anchors;
BearSSL::X509List g_client_chain;
BearSSL::PrivateKey g_private_key;

constexpr unsigned kMaxAnchors = 8;  // /ca.der, /ca_2.der ... /ca_8.der
constexpr uint16_t kProbeFragment = 1024;
awsiot::MflnMemory g_mfln;

// The key type of the CA that signed the device certificate (BR_KEYTYPE_RSA or _EC),
// which BearSSL wants for an EC client key; 0 when the certificate does not decode.
int signer_key_type(const uint8_t* der, size_t len) {
  br_x509_decoder_context* ctx = new (std::nothrow) br_x509_decoder_context;
  if (ctx == nullptr) return 0;
  br_x509_decoder_init(ctx, nullptr, nullptr, nullptr, nullptr);
  br_x509_decoder_push(ctx, der, len);
  const int type = br_x509_decoder_last_error(ctx) == 0 ? br_x509_decoder_get_signer_key_type(ctx) : 0;
  delete ctx;
  return type;
}

bool load_anchors() {
  FileBuffer file;
  bool missing = false;
  if (!load_file("/ca.der", awsiot::Expect::kDer, Presence::kRequired, &file, &missing)) return false;
  if (!g_trust_anchors.append(file.data(), file.size())) {
    LOGF("[tls] ERROR: /ca.der is not a certificate BearSSL can use; put the CA file in "
                  "certs/ and run `pio run -t uploadfs`\n");
    return false;
  }
  for (unsigned i = 2; i <= kMaxAnchors; ++i) {
    char path[16];
    snprintf(path, sizeof path, "/ca_%u.der", i);
    if (!load_file(path, awsiot::Expect::kDer, Presence::kOptional, &file, &missing)) {
      if (missing) break;  // the anchors end at the first missing file
      return false;
    }
    if (!g_trust_anchors.append(file.data(), file.size())) {
      LOGF("[tls] ERROR: %s is not a certificate BearSSL can use; run `pio run -t uploadfs`\n",
                    path);
      return false;
    }
  }
  LOGF("[tls] %u trust anchor(s) loaded\n", static_cast<unsigned>(g_trust_anchors.getCount()));
  return true;
}

}  // namespace

awsiot::Platform platform() { return awsiot::Platform::kEsp8266; }
const char* platform_name() { return "esp8266"; }

void default_client_id(char* out, size_t out_size) {
  snprintf(out, out_size, "esp8266-%06x", static_cast<unsigned>(ESP.getChipId()));
}

uint32_t random_u32(void*) { return ESP.random(); }
uint32_t free_heap() { return ESP.getFreeHeap(); }
uint32_t max_free_block() { return ESP.getMaxFreeBlockSize(); }
void restart() {
  ESP.restart();
  for (;;) delay(100);  // ESP.restart() returns and resets from the system task
}

bool tls_checks_dates() { return true; }  // BearSSL: an unset clock fails with error 54
const awsiot::AttemptBounds& attempt_bounds() { return awsiot::kEsp8266Bounds; }

bool resolve(const char* host, IPAddress* ip) {
  return WiFi.hostByName(host, *ip, attempt_bounds().dns_ms) == 1;
}

bool tcp_reachable(const IPAddress& ip, uint16_t port) {
  WiFiClient tcp;
  tcp.setTimeout(attempt_bounds().tcp_check_ms);
  const bool ok = tcp.connect(ip, port) == 1;
  tcp.stop();
  return ok;
}

bool mount_filesystem() {
  // The core formats a partition it cannot mount unless told not to: that would erase the
  // certificates after, say, an image built for another flash layout was uploaded.
  LittleFSConfig config;
  config.setAutoFormat(false);
  LittleFS.setConfig(config);
  if (!LittleFS.begin()) {
    LOGF("[fs] ERROR: LittleFS did not mount (no filesystem image on the board?): "
                  "run `pio run -t uploadfs`\n");
    return false;
  }
  return true;
}

namespace {

bool load_identity_files() {
  bool ok = load_anchors();

  FileBuffer cert;
  FileBuffer key;
  bool missing = false;
  const bool have_cert = load_file("/cert.der", awsiot::Expect::kDer, Presence::kRequired, &cert, &missing);
  const bool have_key = load_file("/private.der", awsiot::Expect::kDer, Presence::kRequired, &key, &missing);
  if (!have_cert || !have_key) return false;

  if (!g_client_chain.append(cert.data(), cert.size())) {
    LOGF("[tls] ERROR: /cert.der is not a certificate BearSSL can use; run `pio run -t uploadfs`\n");
    ok = false;
  }
  if (!g_private_key.parse(key.data(), key.size())) {
    LOGF("[tls] ERROR: /private.der is not a key BearSSL can read (encrypted, or an EC key "
                  "with explicit curve parameters?); let the plugin write it, then run "
                  "`pio run -t uploadfs`\n");
    ok = false;
  }
  if (!ok) return false;

  g_client.setTrustAnchors(&g_trust_anchors);
  if (g_private_key.isRSA()) {
    g_client.setClientRSACert(&g_client_chain, &g_private_key);
    LOGF("[tls] client certificate with an RSA key\n");
  } else if (g_private_key.isEC()) {
    int issuer = signer_key_type(cert.data(), cert.size());
    if (issuer == 0) issuer = BR_KEYTYPE_RSA;  // AWS's own device CA signs with RSA
    g_client.setClientECCert(&g_client_chain, &g_private_key, BR_KEYTYPE_KEYX | BR_KEYTYPE_SIGN,
                             static_cast<unsigned>(issuer));
    LOGF("[tls] client certificate with an EC key (issuer key %s)\n",
                  issuer == BR_KEYTYPE_EC ? "EC" : "RSA");
  } else {
    LOGF("[tls] ERROR: /private.der is neither RSA nor EC\n");
    return false;
  }
  return true;
}

}  // namespace

bool load_identity(bool* transient) {
  const bool ok = load_identity_files();
  *transient = !ok && last_load_out_of_memory();
  return ok;
}

Client& tls_client() { return g_client; }

void tls_prepare(const IPAddress& ip, uint16_t port, time_t now) {
  g_client.stop();  // frees the previous attempt's engine, so no stale error is reported
  if (g_mfln.should_probe()) {
    // Does the server accept small TLS fragments? (AWS IoT Core does not.) Asked again
    // after a "no" until an attempt shows the server answers TLS at all.
    g_mfln.record_probe(BearSSL::WiFiClientSecure::probeMaxFragmentLength(ip, port, kProbeFragment),
                        kProbeFragment);
  }
  const awsiot::TlsBuffers buffers = awsiot::choose_tls_buffers(max_free_block(), g_mfln.fragment());
  g_client.setBufferSizes(buffers.recv, buffers.xmit);  // only before connect()
  g_client.setX509Time(now);
  const uint32_t need = awsiot::tls_heap_needed(buffers);
  LOGF("[tls] buffers %u/%u (server %s small fragments), needs ~%u of largest free block %u\n",
                buffers.recv, buffers.xmit,
                g_mfln.fragment() > 0 ? "accepts" : g_mfln.known() ? "does not accept" : "may not accept",
                static_cast<unsigned>(need), static_cast<unsigned>(max_free_block()));
  if (need > max_free_block()) {
    LOGF("[tls] WARNING: the handshake may run out of memory\n");
  }
}

void tls_last_error(TlsError* out) {
  out->meaningful = false;
  out->out_of_memory = false;
  out->text[0] = '\0';
  char core_text[96];
  const int returned = g_client.getLastSSLError(core_text, sizeof core_text);
  const int error = awsiot::bearssl_error_from_core(returned, core_text);
  if (error == 0) return;  // core 3.1.2 leaves 0 when the server reset after its alert
  out->meaningful = true;
  out->out_of_memory = error == -1000;
  awsiot::describe_bearssl_error(error, out->text, sizeof out->text);
}

void tls_attempt_done(bool server_answered_tls) { g_mfln.record_attempt(server_answered_tls); }

}  // namespace device

#endif  // defined(ESP8266)
