#include "aws_iot_diagnosis.h"

#include "aws_iot_describe.h"
#include "aws_iot_text.h"

#include <stdio.h>

namespace awsiot {

AttemptFacts no_facts() {
  AttemptFacts facts;
  facts.resolved = false;
  facts.out_of_memory = false;
  facts.tls_up = false;
  facts.tls_error = false;
  facts.tcp_reachable = false;
  facts.tls_ms = 0;
  facts.tls_timeout_ms = 0;
  facts.closed_while_waiting = false;
  facts.connack_seen = false;
  facts.connack_code = 0;
  facts.mqtt_ms = 0;
  facts.mqtt_timeout_ms = 0;
  return facts;
}

FailedLayer diagnose(const AttemptFacts& facts, bool mqtt_ok) {
  if (mqtt_ok) return FailedLayer::kNone;
  if (!facts.resolved) return FailedLayer::kDns;
  if (facts.out_of_memory) return FailedLayer::kOutOfMemory;
  if (!facts.tls_up) {
    if (facts.tls_error) return FailedLayer::kTlsError;
    if (!facts.tcp_reachable) return FailedLayer::kTcp;
    // TCP works, TLS failed and no code came back: the server hung up on us, or said
    // nothing until the handshake timeout.
    if (facts.tls_timeout_ms > 0 && facts.tls_ms >= facts.tls_timeout_ms) return FailedLayer::kTlsTimeout;
    return FailedLayer::kTlsClosed;
  }
  if (facts.connack_seen) return FailedLayer::kMqttRefused;
  if (facts.closed_while_waiting) return FailedLayer::kMqttClosed;
  if (facts.mqtt_timeout_ms > 0 && facts.mqtt_ms >= facts.mqtt_timeout_ms) return FailedLayer::kMqttTimeout;
  return FailedLayer::kMqttClosed;
}

bool server_answered_tls(FailedLayer layer) {
  switch (layer) {
    case FailedLayer::kNone:
    case FailedLayer::kTlsError:
    case FailedLayer::kMqttRefused:
    case FailedLayer::kMqttClosed:
    case FailedLayer::kMqttTimeout:
      return true;
    default:
      return false;
  }
}

const char* failed_layer_name(FailedLayer layer) {
  switch (layer) {
    case FailedLayer::kNone: return AWS_IOT_TEXT("none");
    case FailedLayer::kDns: return AWS_IOT_TEXT("dns");
    case FailedLayer::kOutOfMemory: return AWS_IOT_TEXT("memory");
    case FailedLayer::kTcp: return AWS_IOT_TEXT("tcp");
    case FailedLayer::kTlsError: return AWS_IOT_TEXT("tls");
    case FailedLayer::kTlsClosed: return AWS_IOT_TEXT("tls");
    case FailedLayer::kTlsTimeout: return AWS_IOT_TEXT("tls");
    case FailedLayer::kMqttRefused: return AWS_IOT_TEXT("mqtt");
    case FailedLayer::kMqttClosed: return AWS_IOT_TEXT("mqtt");
    case FailedLayer::kMqttTimeout: return AWS_IOT_TEXT("mqtt");
  }
  return AWS_IOT_TEXT("unknown");
}

const char* failed_layer_text(FailedLayer layer) {
  switch (layer) {
    case FailedLayer::kNone: return AWS_IOT_TEXT("connected");
    case FailedLayer::kDns:
      return AWS_IOT_TEXT("the host name did not resolve (DNS): check AWS_IOT_ENDPOINT and the network's DNS");
    case FailedLayer::kOutOfMemory:
      return AWS_IOT_TEXT("not enough memory for the TLS buffers: the largest free block is too small");
    case FailedLayer::kTcp:
      return AWS_IOT_TEXT("no TCP connection to the endpoint: check the port (8883) and whether the network "
                          "blocks it");
    case FailedLayer::kTlsError:
      return AWS_IOT_TEXT("the TLS handshake failed");
    case FailedLayer::kTlsClosed:
      return AWS_IOT_TEXT("the server closed the connection during the TLS handshake: on AWS, a device "
                          "certificate that is not registered, not ACTIVE, or of another account or region");
    case FailedLayer::kTlsTimeout:
      return AWS_IOT_TEXT("the TLS handshake did not finish in time: a slow network, or a server that does "
                          "not speak TLS on this port");
    case FailedLayer::kMqttRefused:
      return AWS_IOT_TEXT("TLS was up but the server refused the MQTT CONNECT");
    case FailedLayer::kMqttClosed:
      return AWS_IOT_TEXT("TLS was up but the server closed the connection before CONNACK: AWS does this when "
                          "the policy does not allow iot:Connect for this client id");
    case FailedLayer::kMqttTimeout:
      return AWS_IOT_TEXT("TLS was up but no CONNACK came in time");
  }
  return AWS_IOT_TEXT("unknown failure");
}

const char* early_drop_text() {
  return AWS_IOT_TEXT("most likely the policy or the client id: AWS closes a session right after CONNACK "
                      "when the policy denies a SUBSCRIBE or "
                      "PUBLISH (check iot:Subscribe, iot:Receive, iot:Publish, iot:RetainPublish for the "
                      "topics in [boot] topics:), or when another device connects with the same client id");
}

void describe_failure(FailedLayer layer, const AttemptFacts& facts, const char* host, uint16_t port,
                      const char* client_id, const char* tls_text, char* out, size_t out_size) {
  if (out == nullptr || out_size == 0) return;
  char detail[300];
  detail[0] = '\0';
  switch (layer) {
    case FailedLayer::kDns:
      snprintf(detail, sizeof detail, " (%s)", host);
      break;
    case FailedLayer::kTcp:
      snprintf(detail, sizeof detail, " (%s:%u)", host, static_cast<unsigned>(port));
      break;
    case FailedLayer::kTlsTimeout:
      snprintf(detail, sizeof detail, " (%lu s)", static_cast<unsigned long>(facts.tls_ms / 1000u));
      break;
    case FailedLayer::kMqttRefused:
      snprintf(detail, sizeof detail, ": %u (%s)", static_cast<unsigned>(facts.connack_code),
               mqtt_state_text(facts.connack_code));
      break;
    case FailedLayer::kMqttClosed:
      snprintf(detail, sizeof detail, " %s", client_id);
      break;
    case FailedLayer::kMqttTimeout:
      snprintf(detail, sizeof detail, " (%lu s)", static_cast<unsigned long>(facts.mqtt_ms / 1000u));
      break;
    default:
      break;
  }
  // The TLS stack's words belong to a TLS failure (or its out-of-memory code) only.
  const bool tls = (layer == FailedLayer::kTlsError || layer == FailedLayer::kOutOfMemory) &&
                   tls_text != nullptr && tls_text[0] != '\0';
  snprintf(out, out_size, "%s: %s%s%s%s", failed_layer_name(layer), failed_layer_text(layer), detail,
           tls ? "; TLS: " : "", tls ? tls_text : "");
}

uint32_t worst_case_attempt_ms(const AttemptBounds& b) {
  const uint32_t after_tls_up = b.connect_write_ms + b.connack_ms;
  const uint32_t after = after_tls_up > b.tcp_check_ms ? after_tls_up : b.tcp_check_ms;
  return b.dns_ms + b.mfln_probe_ms + b.tcp_ms + b.tls_ms + after;
}

void ConnackWatch::reset() {
  count_ = 0;
  seen_ = false;
  code_ = 0;
}

void ConnackWatch::feed(uint8_t byte) {
  if (count_ >= sizeof bytes_) return;  // only the first packet after CONNECT matters
  bytes_[count_++] = byte;
  if (count_ == sizeof bytes_ && bytes_[0] == 0x20 && bytes_[1] == 0x02) {
    seen_ = true;
    code_ = bytes_[3];
  }
}

}  // namespace awsiot
