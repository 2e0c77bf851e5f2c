#include "aws_iot_describe.h"

#include <stdio.h>
#include <string.h>

namespace awsiot {

const char* tls_alert_text(int alert) {
  switch (alert) {
    case 0: return "close notify";
    case 10: return "unexpected message";
    case 20: return "bad record MAC";
    case 22: return "record overflow";
    case 30: return "decompression failure";
    case 40: return "handshake failure";
    case 42: return "bad certificate";
    case 43: return "unsupported certificate";
    case 44: return "certificate revoked";
    case 45: return "certificate expired";
    case 46: return "certificate unknown";
    case 47: return "illegal parameter";
    case 48: return "unknown CA";
    case 49: return "access denied";
    case 50: return "decode error";
    case 51: return "decrypt error";
    case 70: return "protocol version";
    case 71: return "insufficient security";
    case 80: return "internal error";
    case 90: return "user canceled";
    case 100: return "no renegotiation";
    case 110: return "unsupported extension";
    case 112: return "unrecognized name";
    case 116: return "certificate required";
    case 120: return "no application protocol";
  }
  return "unknown alert";
}

const char* tls_alert_hint(int alert, bool received) {
  if (!received) {
    switch (alert) {
      case 48: case 42: case 46:
        return "we rejected the server's certificate: check ca.der / ca.pem (Amazon Root CA 1 and 3)";
      default: return "";
    }
  }
  switch (alert) {
    case 48:
      return "the server does not know the CA of our device certificate: register the certificate "
             "(or its CA) in AWS IoT and make sure it is the certificate that belongs to this key";
    case 42:
    case 46:
      return "the server rejected our device certificate: is it ACTIVE in AWS IoT and for this "
             "account and region?";
    case 45: return "our device certificate has expired";
    case 44: return "our device certificate was revoked";
    case 40:
      return "no common cipher suite or key type, or the certificate was refused: check the key "
             "type and the endpoint";
    case 51:
      return "our signature did not verify: private key and certificate do not belong together";
    case 112: return "the server does not know the host name we sent (SNI): check AWS_IOT_ENDPOINT";
    case 116: return "the server wants a client certificate and we sent none";
    default: return "";
  }
}

namespace {

const char* bearssl_local_text(int code) {
  switch (code) {
    case 0: return "no error";
    case 1: return "bad parameter";
    case 2: return "bad state";
    case 3: return "unsupported protocol version";
    case 4: return "record version mismatch";
    case 5: return "invalid record length";
    case 6: return "record too large (TLS buffers too small?)";
    case 7: return "bad record MAC or padding";
    case 8: return "no random source";
    case 9: return "unknown record type";
    case 10: return "unexpected message";
    case 12: return "bad ChangeCipherSpec";
    case 13: return "bad alert message";
    case 14: return "handshake message decoding failed";
    case 15: return "oversized session id";
    case 16: return "server chose a cipher suite we did not offer";
    case 17: return "server chose an unsupported compression";
    case 18: return "bad maximum fragment length";
    case 19: return "secure renegotiation failed";
    case 20: return "unexpected extension";
    case 21: return "bad server name";
    case 22: return "bad ServerHelloDone";
    case 23: return "limit exceeded";
    case 24: return "bad Finished message";
    case 25: return "session resumption mismatch";
    case 26: return "unsupported algorithm";
    case 27: return "bad signature";
    case 28: return "wrong key usage";
    case 29: return "server requested a client certificate and we have none";
    case 31: return "I/O error (connection closed or timed out)";
    case 32: return "X.509 ok";
    case 33: return "X.509 invalid value";
    case 34: return "X.509 truncated certificate";
    case 35: return "X.509 empty chain";
    case 36: return "X.509 inner element truncated";
    case 37: return "X.509 bad tag class";
    case 38: return "X.509 bad tag value";
    case 39: return "X.509 indefinite length";
    case 40: return "X.509 extra element";
    case 41: return "X.509 unexpected element";
    case 42: return "X.509 not constructed";
    case 43: return "X.509 not primitive";
    case 44: return "X.509 partial byte";
    case 45: return "X.509 bad boolean";
    case 46: return "X.509 value overflow";
    case 47: return "X.509 bad distinguished name";
    case 48: return "X.509 bad time";
    case 49: return "X.509 unsupported feature";
    case 50: return "X.509 limit exceeded";
    case 51: return "X.509 wrong key type";
    case 52: return "X.509 bad signature";
    case 53: return "X.509 time unknown (clock not set)";
    case 54: return "X.509 certificate expired or not yet valid";
    case 55: return "X.509 issuer/subject name mismatch";
    case 56: return "X.509 server name mismatch";
    case 57: return "X.509 unknown critical extension";
    case 58: return "X.509 issuer is not a CA";
    case 59: return "X.509 forbidden key usage";
    case 60: return "X.509 public key too weak";
    case 62: return "X.509 server certificate not trusted";
  }
  return "unknown BearSSL error";
}

const char* bearssl_local_hint(int code) {
  switch (code) {
    case 6: return "use larger TLS buffers or a server that honours small fragments";
    case 31: return "the server closed the connection; check the port and the endpoint";
    case 53:
    case 54: return "is the clock set (SNTP) and are the certificates within their dates?";
    case 56: return "AWS_IOT_ENDPOINT must be the host name in the server certificate";
    case 62:
      return "ca.der does not anchor the server's chain: the ATS endpoint needs Amazon Root CA 1 "
             "(RSA) and CA 3 (ECC)";
    default: return "";
  }
}

}  // namespace

SslErrorInfo decode_bearssl_error(int error) {
  SslErrorInfo info;
  info.code = error;
  info.hint = "";
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
  const char* sep = info.hint[0] != '\0' ? ": " : "";
  switch (info.kind) {
    case SslErrorInfo::Kind::kAlertReceived:
      snprintf(out, out_size, "TLS alert %d (%s) received from the server%s%s", info.code, info.text,
               sep, info.hint);
      break;
    case SslErrorInfo::Kind::kAlertSent:
      snprintf(out, out_size, "TLS alert %d (%s) sent by us%s%s", info.code, info.text, sep,
               info.hint);
      break;
    default:
      snprintf(out, out_size, "BearSSL error %d (%s)%s%s", error, info.text, sep, info.hint);
      break;
  }
}

const char* mbedtls_error_hint(int error) {
  if (error >= 0) return "";
  // mbedTLS adds a high-level code (bits 7..15) and a low-level one (bits 0..6).
  const int magnitude = -error;
  const int high = -(magnitude & 0xFF80);
  const int low = -(magnitude & 0x7F);
  switch (high) {
    case -0x2700:  // MBEDTLS_ERR_X509_CERT_VERIFY_FAILED
      return "the server certificate did not verify: check ca.pem (Amazon Root CA 1 and 3) and "
             "that AWS_IOT_ENDPOINT is the name in the server certificate";
    case -0x7780:  // MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE
      return "the server sent a fatal alert: usually it rejected our certificate (not registered, "
             "not ACTIVE, or of another account or region)";
    case -0x7280:  // MBEDTLS_ERR_SSL_CONN_EOF
    case -0x7880:  // MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY
      return "the server closed the connection during the handshake: is the certificate ACTIVE "
             "and the port 8883?";
    case -0x3D00:  // MBEDTLS_ERR_PK_KEY_INVALID_FORMAT
    case -0x3D80:  // MBEDTLS_ERR_PK_KEY_INVALID_VERSION
      return "private.pem could not be parsed: let the plugin write data/, then "
             "`pio run -e esp32 -t uploadfs`";
    case -0x3C00:  // MBEDTLS_ERR_PK_PASSWORD_REQUIRED
      return "private.pem is encrypted: set AWS_IOT_KEY_PASSPHRASE so the plugin writes it "
             "decrypted";
    case -0x2180:  // MBEDTLS_ERR_X509_INVALID_FORMAT
    case -0x2780:  // MBEDTLS_ERR_X509_CERT_UNKNOWN_FORMAT
      return "a certificate in ca.pem or cert.pem could not be parsed";
    case -0x6800:  // MBEDTLS_ERR_SSL_TIMEOUT
      return "the handshake timed out: is the endpoint reachable on this port?";
    default: break;
  }
  switch (low) {
    case -0x0050:  // MBEDTLS_ERR_NET_CONN_RESET
      return "the server reset the connection: is the certificate ACTIVE and the port 8883?";
    case -0x0052:  // MBEDTLS_ERR_NET_UNKNOWN_HOST
      return "the host name did not resolve: check AWS_IOT_ENDPOINT and DNS";
    default: break;
  }
  return "";
}

const char* mqtt_state_text(int state) {
  switch (state) {
    case -4: return "connection timeout (no CONNACK in time)";
    case -3: return "connection lost";
    case -2: return "connect failed (network or TLS)";
    case -1: return "disconnected";
    case 0: return "connected";
    case 1: return "refused: bad protocol version";
    case 2: return "refused: client id rejected";
    case 3: return "refused: server unavailable";
    case 4: return "refused: bad user name or password";
    case 5: return "refused: not authorized";
  }
  return "unknown MQTT state";
}

const char* wifi_status_text(int status, Platform platform) {
  switch (status) {
    case 255: return "no WiFi hardware";
    case 0: return "idle";
    case 1: return "SSID not found";
    case 2: return "scan completed";
    case 3: return "connected";
    case 4: return "connect failed";
    case 5: return "connection lost";
    case 6: return platform == Platform::kEsp8266 ? "wrong password" : "disconnected";
    case 7: return platform == Platform::kEsp8266 ? "disconnected" : "unknown WiFi status";
  }
  return "unknown WiFi status";
}

}  // namespace awsiot
