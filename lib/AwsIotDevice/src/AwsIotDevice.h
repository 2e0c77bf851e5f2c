// AwsIotDevice: an ESP8266 / ESP32 as a thing of AWS IoT Core.
//
// One object owns WiFi, the clock (SNTP), the X.509 identity on LittleFS, mutual TLS and
// MQTT (PubSubClient). Your sketch keeps setup() and loop():
//
//   #include <AwsIotDevice.h>
//   AwsIotDevice device;
//   void setup() { Serial.begin(115200); device.begin(); }   // settings from secrets.h
//   void loop()  { device.loop(); }  // blocks only during a connect attempt (<= 60 s / 45 s)
//
// Settings: begin() takes WiFi, endpoint and thing name from secrets.h, which the plugin
// generates into the build folder from WIFI_SSID, WIFI_PASSWORD, AWS_IOT_ENDPOINT and the
// optional AWS_IOT_THING_NAME / NTP_SERVER. Only the compile unit that calls begin()
// (your sketch) reads secrets.h: Settings::fromSecrets() is defined at the end of this
// header. A sketch may also include its own secrets.h before this header. Or
// #define AWS_IOT_DEVICE_NO_SECRETS before including this header and call
// begin(settings) or begin(ssid, password, endpoint).
//
// Client id (= thing name): /thing.txt on LittleFS (one per device image), else
// Settings::thingName (AWS_IOT_THING_NAME), else esp8266-<chip id> / esp32-<MAC>.
// The serial log says which one it used.
//
// One AwsIotDevice per program: the board has one identity and one TLS client.
#pragma once

#include <Arduino.h>
#include <PubSubClient.h>
#if defined(ESP8266)
#include <ESP8266WiFi.h>
#elif defined(ESP32)
#include <WiFi.h>
#else
#error "AwsIotDevice supports the ESP8266 and the ESP32"
#endif

#include <stddef.h>
#include <stdint.h>

#include "core/aws_iot_config.h"
#include "core/aws_iot_connection.h"
#include "core/aws_iot_diagnosis.h"
#include "core/aws_iot_runtime.h"
#include "core/aws_iot_shadow.h"
#include "core/aws_iot_topics.h"

class AwsIotDevice {
 public:
  // Every string is copied by begin(): it only needs to live until begin() returns.
  struct Settings {
    const char* wifiSsid;
    const char* wifiPassword;  // "" for an open network
    const char* endpoint;       // "host" or "host:port" (port 8883 when absent)
    const char* thingName;      // used when /thing.txt is absent; null: the device default
    const char* ntpServer;      // null: "pool.ntp.org"
    uint16_t mqttBufferBytes;   // 0: room for an 8 KB Device Shadow document
    uint16_t keepAliveSeconds;  // 0: 60 (AWS allows 30..1200)

    // From secrets.h (defined at the end of this header, in the sketch's compile unit).
    static Settings fromSecrets();
  };

  // A message on a subscribed topic. `payload` is not NUL-terminated.
  typedef void (*MessageHandler)(const char* topic, const uint8_t* payload, size_t length);
  typedef void (*EventHandler)();

  static constexpr unsigned kMaxSubscriptions = 8;
  static constexpr size_t kFailureTextBytes = awsiot::kFailureTextBytes;

  // A topic built on demand (a value: use it at once or copy it).
  struct Topic {
    char text[awsiot::kTopicBufferSize];
    const char* c_str() const { return text; }
    bool valid() const { return text[0] != '\0'; }
  };

  AwsIotDevice();
  ~AwsIotDevice();
  AwsIotDevice(const AwsIotDevice&) = delete;
  AwsIotDevice& operator=(const AwsIotDevice&) = delete;

  // Checks the settings, reads /thing.txt and the identity files, prepares MQTT. Returns
  // false when a connection cannot succeed (the reason is logged and in lastFailure());
  // loop() then only repeats the reason every 30 s.
  bool begin();  // Settings::fromSecrets()
  bool begin(const Settings& settings);
  bool begin(const char* wifiSsid, const char* wifiPassword, const char* endpoint);

  // One step of WiFi -> clock -> TLS + MQTT -> connected, with backoff; then MQTT's own
  // loop (keep-alive, incoming messages). Call it from loop() as often as possible. A step
  // that connects blocks for that attempt: at most 60 s (ESP8266) / 45 s (ESP32).
  void loop();

  // QoS 0 (PubSubClient publishes at QoS 0 only). False when not connected or too large
  // for the buffer.
  bool publish(const char* topic, const char* payload, bool retained = false);
  bool publish(const char* topic, const uint8_t* payload, size_t length, bool retained = false);

  // QoS 1. May be called before the connection is up; every subscription is renewed on
  // each reconnect. '+' and '#' allowed; each message goes to every matching handler.
  bool subscribe(const char* topicFilter, MessageHandler handler);

  // Called from loop() once the session is up (subscriptions sent, "online" published),
  // and when it is lost.
  void onConnected(EventHandler handler) { on_connected_ = handler; }
  void onDisconnected(EventHandler handler) { on_disconnected_ = handler; }

  bool connected() const { return connected_; }
  awsiot::State state() const { return connection_.state(); }
  bool halted() const { return halt_reason_ != nullptr; }
  // "connected", "wifi-connecting", "waiting-for-clock", "backoff", ..., or "halted".
  const char* stateText() const;
  // The last failure in words ("" when none): configuration, files, WiFi, clock, TLS, MQTT.
  const char* lastFailure() const { return last_failure_; }

  // The thing name in use and where it came from ("/thing.txt", "AWS_IOT_THING_NAME",
  // "device default (MAC)"); valid after begin().
  const char* thingName() const { return client_id_; }
  const char* thingNameSource() const;

  // devices/<thing>/telemetry, .../status (retained "online"; "offline" as last will),
  // .../commands.
  const char* telemetryTopic() const { return topic_telemetry_; }
  const char* statusTopic() const { return topic_status_; }
  const char* commandsTopic() const { return topic_commands_; }
  // $aws/things/<thing>/shadow/[name/<shadowName>/]<which>; invalid (empty) on a bad name.
  Topic shadowTopic(awsiot::ShadowTopic which, const char* shadowName = nullptr) const;

  // Sessions opened since boot (the status payloads carry it), uptime that does not wrap
  // after 49.7 days, and the largest free heap block (fragmentation shows here first).
  uint32_t sessions() const { return connection_.sessions(); }
  uint64_t uptimeMs() { return uptime_.update(millis()); }
  uint32_t maxFreeBlock() const;

  // The MQTT client underneath, for what this class does not cover.
  PubSubClient& mqtt() { return mqtt_; }

 private:
  struct Subscription {
    char* filter;  // heap copy
    MessageHandler handler;
  };

  bool check_settings(const Settings& settings);
  bool choose_thing_name(const char* compiled);
  bool make_topics();
  void halt(const char* reason, awsiot::HaltKind kind);
  void perform(awsiot::Action action);
  void connect_mqtt();
  void report_connect_failure(const awsiot::AttemptFacts& facts, awsiot::FailedLayer layer,
                              const char* tls_text);
  void after_connect();
  void set_connected(bool connected);
  void dispatch(char* topic, uint8_t* payload, unsigned int length);
  void wifi_begin();
  void report_progress(bool wifi_up);

  PubSubClient mqtt_;
  awsiot::Connection connection_;
  awsiot::Uptime uptime_;
  awsiot::Endpoint endpoint_;  // PubSubClient keeps a pointer to the host
  char wifi_ssid_[awsiot::kMaxSsidBytes + 1];
  char wifi_password_[awsiot::kMaxWifiPasswordBytes + 1];
  char ntp_server_[64];  // SNTP keeps a pointer to the server name
  char client_id_[awsiot::kMaxClientIdBytes + 1];
  char topic_telemetry_[awsiot::kTopicBufferSize];
  char topic_status_[awsiot::kTopicBufferSize];
  char topic_commands_[awsiot::kTopicBufferSize];
  char last_failure_[kFailureTextBytes];
  // Words from the core live in flash on the ESP8266: copied to RAM for the caller.
  mutable char state_text_[24];
  mutable char source_text_[24];
  Subscription subscriptions_[kMaxSubscriptions];
  EventHandler on_connected_;
  EventHandler on_disconnected_;
  const char* halt_reason_;  // nullptr until halt(): halted()
  awsiot::HaltKind halt_kind_;
  uint32_t halted_at_;
  uint32_t halt_reminded_at_;
  uint32_t boot_id_;  // random per boot: tells this boot's status payloads from older ones
  uint16_t mqtt_buffer_bytes_;
  uint16_t keep_alive_seconds_;
  uint8_t client_id_source_;
  bool begun_;
  bool connected_;
  bool wifi_was_up_;
  bool wifi_begun_;
  bool clock_reported_;
};

// --- defaults from secrets.h, compiled in the sketch's unit only ----------------------
#ifndef AWS_IOT_DEVICE_NO_SECRETS
// A sketch may include its own "secrets.h" first (Arduino IDE: `prepare --secrets-out` into
// the sketch folder); otherwise the plugin's, from the build folder on the include path.
#ifndef WIFI_SSID
#if defined(__has_include)
#if !__has_include("secrets.h")
#define AWS_IOT_DEVICE_SECRETS_MISSING
#endif
#endif
#ifdef AWS_IOT_DEVICE_SECRETS_MISSING
#error "secrets.h not found: load the plugin (extra_scripts = pre:extra_scripts/aws_iot.py, or lib_deps on this repository), include your secrets.h before AwsIotDevice.h, or #define AWS_IOT_DEVICE_NO_SECRETS and call begin(settings)"
#else
#include "secrets.h"  // generated by the plugin into the build folder
#endif
#endif  // WIFI_SSID

#ifndef AWS_IOT_DEVICE_SECRETS_MISSING
inline AwsIotDevice::Settings AwsIotDevice::Settings::fromSecrets() {
  Settings settings = {};
  settings.wifiSsid = WIFI_SSID;
  settings.wifiPassword = WIFI_PASSWORD;
  settings.endpoint = AWS_IOT_ENDPOINT;
#ifdef AWS_IOT_THING_NAME
  settings.thingName = AWS_IOT_THING_NAME;
#endif
#ifdef NTP_SERVER
  settings.ntpServer = NTP_SERVER;
#endif
  return settings;
}

inline bool AwsIotDevice::begin() { return begin(Settings::fromSecrets()); }
#endif  // AWS_IOT_DEVICE_SECRETS_MISSING
#endif  // AWS_IOT_DEVICE_NO_SECRETS
