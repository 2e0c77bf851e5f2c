// A Client between PubSubClient and the TLS client that records what one connect attempt
// showed: whether Client::connect() (TCP + TLS) succeeded, how long it took, and the
// CONNACK as its bytes go by. awsiot::diagnose() names the failed layer from these facts.
#pragma once

#include <Arduino.h>
#include <Client.h>

#include "../core/aws_iot_core.h"

namespace device {

class AttemptClient : public Client {
 public:
  explicit AttemptClient(Client& tls) : tls_(tls), facts_(awsiot::no_facts()), sent_connect_at_(0), watching_(false) {}
  AttemptClient(const AttemptClient&) = delete;
  AttemptClient& operator=(const AttemptClient&) = delete;

  // Before PubSubClient::connect(): forget the previous attempt.
  void begin_attempt(bool resolved, uint32_t tls_timeout_ms, uint32_t mqtt_timeout_ms) {
    facts_ = awsiot::no_facts();
    facts_.resolved = resolved;
    facts_.tls_timeout_ms = tls_timeout_ms;
    facts_.mqtt_timeout_ms = mqtt_timeout_ms;
    watch_.reset();
    watching_ = false;
  }
  // After PubSubClient::connect() returned.
  awsiot::AttemptFacts& finish_attempt() {
    if (watching_) facts_.mqtt_ms = millis() - sent_connect_at_;
    facts_.connack_seen = watch_.seen();
    facts_.connack_code = watch_.code();
    watching_ = false;
    return facts_;
  }

  int connect(IPAddress ip, uint16_t port) override { return observe(tls_.connect(ip, port)); }
  int connect(const char* host, uint16_t port) override {
    const uint32_t started = millis();
    const int result = tls_.connect(host, port);
    facts_.tls_ms = millis() - started;
    return observe(result);
  }
  size_t write(uint8_t b) override { return tls_.write(b); }
  size_t write(const uint8_t* buf, size_t size) override { return tls_.write(buf, size); }
  int available() override {
    const int n = tls_.available();
    if (n > 0 || !watching_ || facts_.connack_seen) return n;
    // Waiting for CONNACK and nothing to read: has the server hung up? (AWS closes the
    // connection here when the policy does not allow iot:Connect.) PubSubClient 2.8 would
    // otherwise poll until its socket timeout; reporting one byte lets its read fail at
    // once (read() gives -1, PubSubClient stops the client and returns false).
    if (!tls_.connected()) {
      facts_.closed_while_waiting = true;
      return 1;
    }
    return 0;
  }
  int read() override {
    const int c = tls_.read();
    if (watching_ && c >= 0) {
      watch_.feed(static_cast<uint8_t>(c));
      facts_.connack_seen = watch_.seen();
    }
    return c;
  }
  int read(uint8_t* buf, size_t size) override {
    const int n = tls_.read(buf, size);
    if (watching_) {
      for (int i = 0; i < n; ++i) watch_.feed(buf[i]);
      facts_.connack_seen = watch_.seen();
    }
    return n;
  }
  int peek() override { return tls_.peek(); }
  void flush() override { tls_.flush(); }
  void stop() override { tls_.stop(); }
  uint8_t connected() override { return tls_.connected(); }
  operator bool() override { return static_cast<bool>(tls_); }

 private:
  int observe(int result) {
    facts_.tls_up = result == 1;
    if (facts_.tls_up) {
      // PubSubClient sends CONNECT right away; the CONNACK wait starts now.
      sent_connect_at_ = millis();
      watching_ = true;
    }
    return result;
  }

  Client& tls_;
  awsiot::AttemptFacts facts_;
  awsiot::ConnackWatch watch_;
  uint32_t sent_connect_at_;
  bool watching_;
};

// PubSubClient 2.8 drops a packet larger than its buffer without a callback and without
// PUBACK, unless a Stream is attached: then it calls back with the payload cut to the
// buffer and acknowledges it, and every payload byte goes through the Stream. This
// Stream only counts them, so the callback can tell a cut message and its real size.
class PayloadCounter : public Stream {
 public:
  PayloadCounter() : count_(0) {}
  size_t write(uint8_t) override {
    ++count_;
    return 1;
  }
  int available() override { return 0; }
  int read() override { return -1; }
  int peek() override { return -1; }
  void flush() override {}
  // The bytes counted since the last call.
  uint32_t take() {
    const uint32_t n = count_;
    count_ = 0;
    return n;
  }

 private:
  uint32_t count_;
};

}  // namespace device
