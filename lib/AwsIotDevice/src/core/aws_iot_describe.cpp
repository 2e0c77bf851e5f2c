#include "aws_iot_describe.h"

#include "aws_iot_text.h"

#include <stdio.h>
#include <string.h>

namespace awsiot {

const char* tls_alert_text(int alert) {
  switch (alert) {
    case 0: return AWS_IOT_TEXT("close notify");
    case 10: return AWS_IOT_TEXT("unexpected message");
    case 20: return AWS_IOT_TEXT("bad record MAC");
    case 22: return AWS_IOT_TEXT("record overflow");
    case 30: return AWS_IOT_TEXT("decompression failure");
    case 40: return AWS_IOT_TEXT("handshake failure");
    case 42: return AWS_IOT_TEXT("bad certificate");
    case 43: return AWS_IOT_TEXT("unsupported certificate");
    case 44: return AWS_IOT_TEXT("certificate revoked");
    case 45: return AWS_IOT_TEXT("certificate expired");
    case 46: return AWS_IOT_TEXT("certificate unknown");
    case 47: return AWS_IOT_TEXT("illegal parameter");
    case 48: return AWS_IOT_TEXT("unknown CA");
    case 49: return AWS_IOT_TEXT("access denied");
    case 50: return AWS_IOT_TEXT("decode error");
    case 51: return AWS_IOT_TEXT("decrypt error");
    case 70: return AWS_IOT_TEXT("protocol version");
    case 71: return AWS_IOT_TEXT("insufficient security");
    case 80: return AWS_IOT_TEXT("internal error");
    case 90: return AWS_IOT_TEXT("user canceled");
    case 100: return AWS_IOT_TEXT("no renegotiation");
    case 110: return AWS_IOT_TEXT("unsupported extension");
    case 112: return AWS_IOT_TEXT("unrecognized name");
    case 116: return AWS_IOT_TEXT("certificate required");
    case 120: return AWS_IOT_TEXT("no application protocol");
  }
  return AWS_IOT_TEXT("unknown alert");
}

const char* tls_alert_hint(int alert, bool received) {
  if (!received) {
    switch (alert) {
      case 48: case 42: case 46:
        return AWS_IOT_TEXT("we rejected the server's certificate: check ca.der / ca.pem (Amazon Root CA 1 and 3)");
      default: return nullptr;
    }
  }
  switch (alert) {
    case 48:
      return AWS_IOT_TEXT("the server does not know the CA of our device certificate: register the certificate "
             "(or its CA) in AWS IoT and make sure it is the certificate that belongs to this key");
    case 42:
    case 46:
      return AWS_IOT_TEXT("the server rejected our device certificate: is it ACTIVE in AWS IoT and for this "
             "account and region?");
    case 45: return AWS_IOT_TEXT("our device certificate has expired");
    case 44: return AWS_IOT_TEXT("our device certificate was revoked");
    case 40:
      return AWS_IOT_TEXT("no common cipher suite or key type, or the certificate was refused: check the key "
             "type and the endpoint");
    case 51:
      return AWS_IOT_TEXT("our signature did not verify: private key and certificate do not belong together");
    case 112: return AWS_IOT_TEXT("the server does not know the host name we sent (SNI): check AWS_IOT_ENDPOINT");
    case 116: return AWS_IOT_TEXT("the server wants a client certificate and we sent none");
    default: return nullptr;
  }
}

namespace {

const char* bearssl_local_text(int code) {
  switch (code) {
    case 0: return AWS_IOT_TEXT("no error");
    case 1: return AWS_IOT_TEXT("bad parameter");
    case 2: return AWS_IOT_TEXT("bad state");
    case 3: return AWS_IOT_TEXT("unsupported protocol version");
    case 4: return AWS_IOT_TEXT("record version mismatch");
    case 5: return AWS_IOT_TEXT("invalid record length");
    case 6: return AWS_IOT_TEXT("record too large (TLS buffers too small?)");
    case 7: return AWS_IOT_TEXT("bad record MAC or padding");
    case 8: return AWS_IOT_TEXT("no random source");
    case 9: return AWS_IOT_TEXT("unknown record type");
    case 10: return AWS_IOT_TEXT("unexpected message");
    case 12: return AWS_IOT_TEXT("bad ChangeCipherSpec");
    case 13: return AWS_IOT_TEXT("bad alert message");
    case 14: return AWS_IOT_TEXT("handshake message decoding failed");
    case 15: return AWS_IOT_TEXT("oversized session id");
    case 16: return AWS_IOT_TEXT("server chose a cipher suite we did not offer");
    case 17: return AWS_IOT_TEXT("server chose an unsupported compression");
    case 18: return AWS_IOT_TEXT("bad maximum fragment length");
    case 19: return AWS_IOT_TEXT("secure renegotiation failed");
    case 20: return AWS_IOT_TEXT("unexpected extension");
    case 21: return AWS_IOT_TEXT("bad server name");
    case 22: return AWS_IOT_TEXT("bad ServerHelloDone");
    case 23: return AWS_IOT_TEXT("limit exceeded");
    case 24: return AWS_IOT_TEXT("bad Finished message");
    case 25: return AWS_IOT_TEXT("session resumption mismatch");
    case 26: return AWS_IOT_TEXT("unsupported algorithm");
    case 27: return AWS_IOT_TEXT("bad signature");
    case 28: return AWS_IOT_TEXT("wrong key usage");
    case 29: return AWS_IOT_TEXT("server requested a client certificate and we have none");
    case 31: return AWS_IOT_TEXT("I/O error (connection closed or timed out)");
    case 32: return AWS_IOT_TEXT("X.509 ok");
    case 33: return AWS_IOT_TEXT("X.509 invalid value");
    case 34: return AWS_IOT_TEXT("X.509 truncated certificate");
    case 35: return AWS_IOT_TEXT("X.509 empty chain");
    case 36: return AWS_IOT_TEXT("X.509 inner element truncated");
    case 37: return AWS_IOT_TEXT("X.509 bad tag class");
    case 38: return AWS_IOT_TEXT("X.509 bad tag value");
    case 39: return AWS_IOT_TEXT("X.509 indefinite length");
    case 40: return AWS_IOT_TEXT("X.509 extra element");
    case 41: return AWS_IOT_TEXT("X.509 unexpected element");
    case 42: return AWS_IOT_TEXT("X.509 not constructed");
    case 43: return AWS_IOT_TEXT("X.509 not primitive");
    case 44: return AWS_IOT_TEXT("X.509 partial byte");
    case 45: return AWS_IOT_TEXT("X.509 bad boolean");
    case 46: return AWS_IOT_TEXT("X.509 value overflow");
    case 47: return AWS_IOT_TEXT("X.509 bad distinguished name");
    case 48: return AWS_IOT_TEXT("X.509 bad time");
    case 49: return AWS_IOT_TEXT("X.509 unsupported feature");
    case 50: return AWS_IOT_TEXT("X.509 limit exceeded");
    case 51: return AWS_IOT_TEXT("X.509 wrong key type");
    case 52: return AWS_IOT_TEXT("X.509 bad signature");
    case 53: return AWS_IOT_TEXT("X.509 time unknown (clock not set)");
    case 54: return AWS_IOT_TEXT("X.509 certificate expired or not yet valid");
    case 55: return AWS_IOT_TEXT("X.509 issuer/subject name mismatch");
    case 56: return AWS_IOT_TEXT("X.509 server name mismatch");
    case 57: return AWS_IOT_TEXT("X.509 unknown critical extension");
    case 58: return AWS_IOT_TEXT("X.509 issuer is not a CA");
    case 59: return AWS_IOT_TEXT("X.509 forbidden key usage");
    case 60: return AWS_IOT_TEXT("X.509 public key too weak");
    case 62: return AWS_IOT_TEXT("X.509 server certificate not trusted");
  }
  return AWS_IOT_TEXT("unknown BearSSL error");
}

const char* bearssl_local_hint(int code) {
  switch (code) {
    case 6: return AWS_IOT_TEXT("use larger TLS buffers or a server that honours small fragments");
    case 31: return AWS_IOT_TEXT("the server closed the connection; check the port and the endpoint");
    case 53:
    case 54: return AWS_IOT_TEXT("is the clock set (SNTP) and are the certificates within their dates?");
    case 56: return AWS_IOT_TEXT("AWS_IOT_ENDPOINT must be the host name in the server certificate");
    case 62:
      return AWS_IOT_TEXT("ca.der does not anchor the server's chain: the ATS endpoint needs Amazon Root CA 1 "
             "(RSA) and CA 3 (ECC)");
    default: return nullptr;
  }
}

}  // namespace

SslErrorInfo decode_bearssl_error(int error) {
  SslErrorInfo info;
  info.code = error;
  info.hint = nullptr;
  if (error == 0) {
    info.kind = SslErrorInfo::Kind::kNone;
    info.text = "no error";
  } else if (error == -1000) {
    info.kind = SslErrorInfo::Kind::kOutOfMemory;
    info.text = "out of memory for the TLS buffers";
    info.hint = "free heap or use smaller TLS buffers";
  } else if (error >= 256 && error < 512) {
    info.kind = SslErrorInfo::Kind::kAlertReceived;
    info.code = error - 256;
    info.text = tls_alert_text(info.code);
    info.hint = tls_alert_hint(info.code, true);
  } else if (error >= 512 && error < 768) {
    info.kind = SslErrorInfo::Kind::kAlertSent;
    info.code = error - 512;
    info.text = tls_alert_text(info.code);
    info.hint = tls_alert_hint(info.code, false);
  } else {
    info.kind = SslErrorInfo::Kind::kLocal;
    info.text = bearssl_local_text(error);
    info.hint = bearssl_local_hint(error);
  }
  return info;
}

int bearssl_error_from_core(int returned, const char* core_text) {
  static const char kReceived[] = "SSL received fatal alert - ";
  static const char kSent[] = "SSL sent fatal alert - ";
  if (returned <= 0 || returned >= 256 || core_text == nullptr) return returned;
  if (strncmp(core_text, kReceived, sizeof(kReceived) - 1) == 0) return 256 + returned;
  if (strncmp(core_text, kSent, sizeof(kSent) - 1) == 0) return 512 + returned;
  return returned;
}

void describe_bearssl_error(int error, char* out, size_t out_size) {
  if (out == nullptr || out_size == 0) return;
  const SslErrorInfo info = decode_bearssl_error(error);
  // Never read the texts byte by byte: on the ESP8266 they are in flash.
  const char* sep = info.hint != nullptr ? ": " : "";
  const char* hint = info.hint != nullptr ? info.hint : "";
  switch (info.kind) {
    case SslErrorInfo::Kind::kAlertReceived:
      snprintf(out, out_size, "TLS alert %d (%s) received from the server%s%s", info.code, info.text,
               sep, hint);
      break;
    case SslErrorInfo::Kind::kAlertSent:
      snprintf(out, out_size, "TLS alert %d (%s) sent by us%s%s", info.code, info.text, sep,
               hint);
      break;
    default:
      snprintf(out, out_size, "BearSSL error %d (%s)%s%s", error, info.text, sep, hint);
      break;
  }
}

const char* mbedtls_error_hint(int error) {
  if (error >= 0) return nullptr;
  // mbedTLS adds a high-level code (bits 7..15) and a low-level one (bits 0..6).
  const int magnitude = -error;
  const int high = -(magnitude & 0xFF80);
  const int low = -(magnitude & 0x7F);
  switch (high) {
    case -0x2700:  // MBEDTLS_ERR_X509_CERT_VERIFY_FAILED
      return AWS_IOT_TEXT("the server certificate did not verify: check ca.pem (Amazon Root CA 1 and 3) and "
             "that AWS_IOT_ENDPOINT is the name in the server certificate");
    case -0x7780:  // MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE
      return AWS_IOT_TEXT("the server sent a fatal alert: usually it rejected our certificate (not registered, "
             "not ACTIVE, or of another account or region)");
    case -0x7280:  // MBEDTLS_ERR_SSL_CONN_EOF
    case -0x7880:  // MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY
      return AWS_IOT_TEXT("the server closed the connection during the handshake: is the certificate ACTIVE "
             "and the port 8883?");
    case -0x3D00:  // MBEDTLS_ERR_PK_KEY_INVALID_FORMAT
    case -0x3D80:  // MBEDTLS_ERR_PK_KEY_INVALID_VERSION
      return AWS_IOT_TEXT("private.pem could not be parsed: let the plugin write data/, then "
             "`pio run -e esp32 -t uploadfs`");
    case -0x3C00:  // MBEDTLS_ERR_PK_PASSWORD_REQUIRED
      return AWS_IOT_TEXT("private.pem is encrypted: set AWS_IOT_KEY_PASSPHRASE so the plugin writes it "
             "decrypted");
    case -0x2180:  // MBEDTLS_ERR_X509_INVALID_FORMAT
    case -0x2780:  // MBEDTLS_ERR_X509_CERT_UNKNOWN_FORMAT
      return AWS_IOT_TEXT("a certificate in ca.pem or cert.pem could not be parsed");
    case -0x6800:  // MBEDTLS_ERR_SSL_TIMEOUT
      return AWS_IOT_TEXT("the handshake timed out: is the endpoint reachable on this port?");
    default: break;
  }
  switch (low) {
    case -0x0050:  // MBEDTLS_ERR_NET_CONN_RESET
      return AWS_IOT_TEXT("the server reset the connection: is the certificate ACTIVE and the port 8883?");
    case -0x0052:  // MBEDTLS_ERR_NET_UNKNOWN_HOST
      return AWS_IOT_TEXT("the host name did not resolve: check AWS_IOT_ENDPOINT and DNS");
    default: break;
  }
  return nullptr;
}

void describe_mbedtls_error(int error, const char* own_text, char* out, size_t out_size) {
  if (out == nullptr || out_size == 0) return;
  const char* hint = mbedtls_error_hint(error);
  const bool have_text = own_text != nullptr && own_text[0] != '\0';
  snprintf(out, out_size, "mbedTLS -0x%04X%s%s%s%s%s", static_cast<unsigned>(-error), have_text ? " (" : "",
           have_text ? own_text : "", have_text ? ")" : "", hint != nullptr ? ": " : "",
           hint != nullptr ? hint : "");
}

const char* mqtt_state_text(int state) {
  switch (state) {
    case -4: return AWS_IOT_TEXT("connection timeout (no CONNACK in time)");
    case -3: return AWS_IOT_TEXT("connection lost");
    case -2: return AWS_IOT_TEXT("connect failed (network or TLS)");
    case -1: return AWS_IOT_TEXT("disconnected");
    case 0: return AWS_IOT_TEXT("connected");
    case 1: return AWS_IOT_TEXT("refused: bad protocol version");
    case 2: return AWS_IOT_TEXT("refused: client id rejected");
    case 3: return AWS_IOT_TEXT("refused: server unavailable");
    case 4: return AWS_IOT_TEXT("refused: bad user name or password");
    case 5: return AWS_IOT_TEXT("refused: not authorized");
  }
  return AWS_IOT_TEXT("unknown MQTT state");
}

const char* wifi_status_text(int status, Platform platform) {
  switch (status) {
    case 255: return AWS_IOT_TEXT("no WiFi hardware");
    case 0: return AWS_IOT_TEXT("idle");
    case 1: return AWS_IOT_TEXT("SSID not found");
    case 2: return AWS_IOT_TEXT("scan completed");
    case 3: return AWS_IOT_TEXT("connected");
    case 4: return AWS_IOT_TEXT("connect failed");
    case 5: return AWS_IOT_TEXT("connection lost");
    case 6:
      return platform == Platform::kEsp8266 ? AWS_IOT_TEXT("wrong password")
                                            : AWS_IOT_TEXT("disconnected");
    case 7:
      return platform == Platform::kEsp8266 ? AWS_IOT_TEXT("disconnected")
                                            : AWS_IOT_TEXT("unknown WiFi status");
  }
  return AWS_IOT_TEXT("unknown WiFi status");
}

}  // namespace awsiot
