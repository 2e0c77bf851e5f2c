// AwsIotDevice on the board: wires the portable core's decisions (settings checks, client
// id, topics, connection state machine, error words) to WiFi, SNTP, LittleFS, the
// per-board TLS glue (tls_esp8266.cpp / tls_esp32.cpp) and PubSubClient.
//
// Each loop() does at most one step of the state machine. One step blocks for long: the
// connect attempt (DNS, TLS, MQTT CONNECT), up to 60 s on the ESP8266 and 45 s on the
// ESP32 in the worst case (awsiot::AttemptBounds, docs/device-client.md); PubSubClient's
// CONNACK wait busy-polls the TLS client, which yields on both cores, so the watchdog is
// fed. A message larger than a TLS record is also read within one loop().
#if defined(ESP8266) || defined(ESP32)

#define AWS_IOT_DEVICE_NO_SECRETS  // the library itself never reads secrets.h
#include "../AwsIotDevice.h"

#include <Arduino.h>
#if defined(ESP8266)
#include <ESP8266WiFi.h>
#else
#include <WiFi.h>
#endif
#include <time.h>

#include <new>

#include "../core/aws_iot_core.h"
#include "attempt_client.h"
#include "device_log.h"
#include "device_platform.h"
#include "fs_files.h"

// DEVICE_FORMAT(out, size, "format", ...): snprintf with the format in flash on the ESP8266.
#if defined(ESP8266)
#define DEVICE_FORMAT(out, size, format, ...) snprintf_P((out), (size), PSTR(format), ##__VA_ARGS__)
#else
#define DEVICE_FORMAT(out, size, format, ...) snprintf((out), (size), format, ##__VA_ARGS__)
#endif

namespace {

// Restart after this long without an MQTT session (0: never).
#ifndef AWS_IOT_RESTART_WITHOUT_SESSION_S
#define AWS_IOT_RESTART_WITHOUT_SESSION_S 3600
#endif

// One AwsIotDevice per program (one identity, one TLS client): these board objects live
// here rather than in the public header, which must not bring namespace device into the
// sketch (where `AwsIotDevice device;` is the usual name).
device::AttemptClient g_attempt(device::tls_client());  // observes each connect attempt
device::PayloadCounter g_payload_counter;  // real size of messages larger than the buffer

constexpr uint32_t kHaltReminderMs = 30000;
constexpr awsiot::MqttSettings kMqtt = awsiot::kMqttSettings;
constexpr char kDefaultNtpServer[] = "pool.ntp.org";
constexpr char kSecondNtpServer[] = "time.google.com";
constexpr size_t kMaxPrintedPayload = 200;

int64_t now_seconds() { return static_cast<int64_t>(time(nullptr)); }

void print_utc(const char* prefix) {
  char when[24];
  awsiot::format_utc(now_seconds(), when, sizeof when);
  LOGF("%s%s UTC\n", prefix, when);
}

const char* wifi_words(int status) { return awsiot::wifi_status_text(status, device::platform()); }

// A failure text without its first word ("WiFi", "MQTT"): the log line's tag says it already.
// Logging from last_failure_ itself keeps a second 500-byte buffer off the small ESP8266 stack.
const char* without_subject(const char* failure) {
  const char* space = strchr(failure, ' ');
  return space != nullptr ? space + 1 : failure;
}

// Copies `text` into `out` when it fits; false otherwise (the caller reports the setting).
bool copy_setting(char* out, size_t out_size, const char* text) {
  const size_t length = text == nullptr ? 0 : strlen(text);
  if (length + 1 > out_size) return false;
  if (length > 0) memcpy(out, text, length);
  out[length] = '\0';
  return true;
}

}  // namespace

AwsIotDevice::AwsIotDevice()
    : connection_(awsiot::board_timing(device::tls_checks_dates(), AWS_IOT_RESTART_WITHOUT_SESSION_S * 1000UL),
                  device::random_u32, nullptr),
      on_connected_(nullptr),
      on_disconnected_(nullptr),
      halt_reason_(nullptr),
      halt_kind_(awsiot::HaltKind::kConfiguration),
      halted_at_(0),
      halt_reminded_at_(0),
      boot_id_(0),
      mqtt_buffer_bytes_(kMqtt.buffer_bytes),
      keep_alive_seconds_(kMqtt.keep_alive_s),
      client_id_source_(0),
      begun_(false),
      connected_(false),
      wifi_was_up_(false),
      wifi_begun_(false),
      clock_reported_(false) {
  endpoint_.host[0] = '\0';
  endpoint_.port = 0;
  wifi_ssid_[0] = wifi_password_[0] = ntp_server_[0] = '\0';
  client_id_[0] = '\0';
  topic_telemetry_[0] = topic_status_[0] = topic_commands_[0] = '\0';
  last_failure_[0] = state_text_[0] = source_text_[0] = '\0';
  for (Subscription& subscription : subscriptions_) {
    subscription.filter = nullptr;
    subscription.handler = nullptr;
  }
}

AwsIotDevice::~AwsIotDevice() {
  for (Subscription& subscription : subscriptions_) delete[] subscription.filter;
}

// --- begin ----------------------------------------------------------------------------

bool AwsIotDevice::begin(const char* wifiSsid, const char* wifiPassword, const char* endpoint) {
  Settings settings = {};
  settings.wifiSsid = wifiSsid;
  settings.wifiPassword = wifiPassword;
  settings.endpoint = endpoint;
  return begin(settings);
}

bool AwsIotDevice::begin(const Settings& settings) {
  if (begun_) {
    LOGF("[boot] AwsIotDevice::begin() called twice; the first call's settings stay\n");
    return !halted();
  }
  begun_ = true;
  LOGF("\n[boot] aws-iot device on %s, free heap %lu\n", device::platform_name(),
       static_cast<unsigned long>(device::free_heap()));
  WiFi.persistent(false);  // do not write the credentials to flash at every begin()
  WiFi.mode(WIFI_STA);
  WiFi.setAutoReconnect(true);
  boot_id_ = device::random_u32(nullptr);

  if (!check_settings(settings)) {
    halt("configuration error (see [config] above)", awsiot::HaltKind::kConfiguration);
    return false;
  }
  // The backoff resets only after a session outlived two keep-alive periods.
  awsiot::Timing timing =
      awsiot::board_timing(device::tls_checks_dates(), AWS_IOT_RESTART_WITHOUT_SESSION_S * 1000UL);
  timing.stable_session_ms = awsiot::stable_session_ms(keep_alive_seconds_);
  connection_.set_timing(timing);
  if (!device::mount_filesystem()) {
    halt("no filesystem (see [fs] above)", awsiot::HaltKind::kConfiguration);
    return false;
  }
  if (!choose_thing_name(settings.thingName) || !make_topics()) {
    if (device::last_load_out_of_memory()) {  // reading /thing.txt: a restart may have the memory
      halt("out of memory while reading the thing name", awsiot::HaltKind::kTransient);
    } else {
      halt("configuration error (see [config] above)", awsiot::HaltKind::kConfiguration);
    }
    return false;
  }
  LOGF("[boot] endpoint %s:%u, client id %s (from %s)\n", endpoint_.host, endpoint_.port,
       client_id_, thingNameSource());
  LOGF("[boot] topics: %s, %s, %s\n", topic_telemetry_, topic_status_, topic_commands_);
  bool transient = false;
  if (!device::load_identity(&transient)) {
    halt(transient ? "out of memory while loading the certificate and key"
                   : "certificate or key files missing or unusable (see [fs] / [tls] above)",
         transient ? awsiot::HaltKind::kTransient : awsiot::HaltKind::kConfiguration);
    return false;
  }
  mqtt_.setClient(g_attempt);
  // With a Stream attached PubSubClient 2.8 acknowledges and hands on (cut) a message
  // larger than its buffer instead of dropping it silently without PUBACK.
  mqtt_.setStream(g_payload_counter);
  mqtt_.setServer(endpoint_.host, endpoint_.port);  // by name: SNI and name check
  mqtt_.setCallback([this](char* topic, uint8_t* payload, unsigned int length) {
    dispatch(topic, payload, length);
  });
  mqtt_.setKeepAlive(keep_alive_seconds_);
  mqtt_.setSocketTimeout(kMqtt.socket_timeout_s);
  if (!mqtt_.setBufferSize(mqtt_buffer_bytes_)) {
    DEVICE_FORMAT(last_failure_, sizeof last_failure_, "no memory for the %u-byte MQTT buffer",
                  static_cast<unsigned>(mqtt_buffer_bytes_));
    LOGF("[mqtt] ERROR: %s\n", last_failure_);
    halt("no memory for the MQTT buffer", awsiot::HaltKind::kTransient);
    return false;
  }
  LOGF("[boot] ready, MQTT buffer %u bytes, free heap %lu\n",
       static_cast<unsigned>(mqtt_buffer_bytes_), static_cast<unsigned long>(device::free_heap()));
  return true;
}

bool AwsIotDevice::check_settings(const Settings& settings) {
  bool ok = true;
  const awsiot::EndpointError endpoint = awsiot::parse_endpoint(settings.endpoint, &endpoint_);
  if (endpoint != awsiot::EndpointError::kOk) {
    DEVICE_FORMAT(last_failure_, sizeof last_failure_, "%s",
                  awsiot::endpoint_error_text(endpoint));
    LOGF("[config] ERROR: %s; set it and build again\n", last_failure_);
    ok = false;
  }
  const awsiot::SettingsError wifi = awsiot::check_wifi(settings.wifiSsid, settings.wifiPassword);
  if (wifi != awsiot::SettingsError::kOk) {
    DEVICE_FORMAT(last_failure_, sizeof last_failure_, "%s", awsiot::settings_error_text(wifi));
    LOGF("[config] ERROR: %s; set it and build again\n", last_failure_);
    ok = false;
  }
  // check_wifi bounds both lengths, so the copies fit once it passed.
  ok = ok && copy_setting(wifi_ssid_, sizeof wifi_ssid_, settings.wifiSsid) &&
       copy_setting(wifi_password_, sizeof wifi_password_, settings.wifiPassword);
  const char* ntp = settings.ntpServer != nullptr && settings.ntpServer[0] != '\0'
                        ? settings.ntpServer
                        : kDefaultNtpServer;
  if (!copy_setting(ntp_server_, sizeof ntp_server_, ntp)) {
    DEVICE_FORMAT(last_failure_, sizeof last_failure_, "NTP_SERVER is longer than %u bytes",
                  static_cast<unsigned>(sizeof ntp_server_ - 1));
    LOGF("[config] ERROR: %s\n", last_failure_);
    ok = false;
  }
  if (settings.mqttBufferBytes != 0) mqtt_buffer_bytes_ = settings.mqttBufferBytes;
  if (settings.keepAliveSeconds != 0) keep_alive_seconds_ = settings.keepAliveSeconds;
  return ok;
}

bool AwsIotDevice::choose_thing_name(const char* compiled) {
  device::FileBuffer file;
  bool missing = false;
  const bool read = device::read_small_file(awsiot::kThingFilePath, awsiot::kMaxThingFileBytes + 1,
                                            &file, &missing);
  if (!read && !missing) return false;  // read_small_file printed why
  awsiot::ThingFile thing_file = {read, file.data(), file.size()};
  char device_default[awsiot::kMaxClientIdBytes + 1];
  device::default_client_id(device_default, sizeof device_default);
  const awsiot::ClientIdChoice choice =
      awsiot::choose_client_id(thing_file, compiled, device_default, client_id_, sizeof client_id_);
  client_id_source_ = static_cast<uint8_t>(choice.source);
  if (choice.error != awsiot::NameError::kOk) {
    if (choice.source == awsiot::ClientIdSource::kThingFile) {
      DEVICE_FORMAT(last_failure_, sizeof last_failure_, "%s: %s", awsiot::kThingFilePath,
                    awsiot::name_error_text(choice.error));
      LOGF("[config] ERROR: %s; write the thing name into data/thing.txt (the plugin does when "
           "AWS_IOT_THING_NAME is set) and run `pio run -t uploadfs`\n", last_failure_);
    } else {
      DEVICE_FORMAT(last_failure_, sizeof last_failure_, "%s: %s",
                    awsiot::client_id_source_text(choice.source),
                    awsiot::name_error_text(choice.error));
      LOGF("[config] ERROR: %s\n", last_failure_);
    }
    return false;
  }
  if (choice.source == awsiot::ClientIdSource::kDeviceDefault) {
    LOGF("[config] no /thing.txt and no AWS_IOT_THING_NAME: client id %s (the device default; "
         "the AWS policy must allow it)\n", client_id_);
  }
  return true;
}

bool AwsIotDevice::make_topics() {
  const awsiot::TopicError errors[] = {
      awsiot::make_topic(topic_telemetry_, sizeof topic_telemetry_, client_id_,
                         awsiot::TopicKind::kTelemetry),
      awsiot::make_topic(topic_status_, sizeof topic_status_, client_id_, awsiot::TopicKind::kStatus),
      awsiot::make_topic(topic_commands_, sizeof topic_commands_, client_id_,
                         awsiot::TopicKind::kCommands),
  };
  for (awsiot::TopicError error : errors) {
    if (error != awsiot::TopicError::kOk) {
      DEVICE_FORMAT(last_failure_, sizeof last_failure_, "topics: %s", awsiot::topic_error_text(error));
      LOGF("[config] ERROR: %s\n", last_failure_);
      return false;
    }
  }
  return true;
}

void AwsIotDevice::halt(const char* reason, awsiot::HaltKind kind) {
  halt_reason_ = reason;  // non-null from here on: halted()
  halt_kind_ = kind;
  halted_at_ = halt_reminded_at_ = millis();
  if (last_failure_[0] == '\0') copy_setting(last_failure_, sizeof last_failure_, reason);
  const uint32_t restart_ms = awsiot::halt_restart_after_ms(kind);
  if (restart_ms > 0) {
    LOGF("[halt] %s; not connecting, restarting in %lu s\n", reason,
         static_cast<unsigned long>(restart_ms / 1000));
  } else {
    LOGF("[halt] %s; not connecting (reminder every %u s)\n", reason,
         static_cast<unsigned>(kHaltReminderMs / 1000));
  }
}

uint32_t AwsIotDevice::maxFreeBlock() const { return device::max_free_block(); }

// --- accessors ------------------------------------------------------------------------

const char* AwsIotDevice::stateText() const {
  if (halted()) return "halted";
  if (!begun_) return "not-begun";
  DEVICE_FORMAT(state_text_, sizeof state_text_, "%s", awsiot::state_name(connection_.state()));
  return state_text_;
}

const char* AwsIotDevice::thingNameSource() const {
  DEVICE_FORMAT(source_text_, sizeof source_text_, "%s",
                awsiot::client_id_source_text(
                    static_cast<awsiot::ClientIdSource>(client_id_source_)));
  return source_text_;
}

AwsIotDevice::Topic AwsIotDevice::shadowTopic(awsiot::ShadowTopic which,
                                              const char* shadowName) const {
  Topic topic;
  if (awsiot::make_shadow_topic(topic.text, sizeof topic.text, client_id_, which, shadowName) !=
      awsiot::TopicError::kOk) {
    topic.text[0] = '\0';
  }
  return topic;
}

// --- publish / subscribe --------------------------------------------------------------

bool AwsIotDevice::publish(const char* topic, const char* payload, bool retained) {
  return publish(topic, reinterpret_cast<const uint8_t*>(payload),
                 payload == nullptr ? 0 : strlen(payload), retained);
}

bool AwsIotDevice::publish(const char* topic, const uint8_t* payload, size_t length,
                           bool retained) {
  if (!connected_) return false;
  const awsiot::TopicError error = awsiot::check_topic(topic);
  if (error != awsiot::TopicError::kOk) {
    LOGF("[mqtt] ERROR: publish to \"%s\": %s\n", topic == nullptr ? "" : topic,
         awsiot::topic_error_text(error));
    return false;
  }
  // Checked here too so that the log says why: PubSubClient only returns false.
  if (awsiot::publish_packet_bytes(strlen(topic), length) > mqtt_buffer_bytes_) {
    LOGF("[mqtt] ERROR: publish to %s: %u bytes do not fit the %u-byte MQTT buffer "
         "(Settings::mqttBufferBytes)\n",
         topic, static_cast<unsigned>(length), static_cast<unsigned>(mqtt_buffer_bytes_));
    return false;
  }
  if (mqtt_.publish(topic, payload, static_cast<unsigned int>(length), retained)) return true;
  LOGF("[mqtt] ERROR: publish to %s failed (state %d: %s)\n", topic, mqtt_.state(),
       awsiot::mqtt_state_text(mqtt_.state()));
  return false;
}

bool AwsIotDevice::subscribe(const char* topicFilter, MessageHandler handler) {
  const awsiot::TopicError error = awsiot::check_topic_filter(topicFilter);
  if (error != awsiot::TopicError::kOk || handler == nullptr) {
    LOGF("[mqtt] ERROR: subscribe to \"%s\": %s\n", topicFilter == nullptr ? "" : topicFilter,
         handler == nullptr ? "no handler" : awsiot::topic_error_text(error));
    return false;
  }
  Subscription* slot = nullptr;
  for (Subscription& subscription : subscriptions_) {
    if (subscription.filter == nullptr) {
      slot = &subscription;
      break;
    }
  }
  if (slot == nullptr) {
    LOGF("[mqtt] ERROR: subscribe to %s: already %u subscriptions\n", topicFilter,
         kMaxSubscriptions);
    return false;
  }
  const size_t length = strlen(topicFilter);
  slot->filter = new (std::nothrow) char[length + 1];
  if (slot->filter == nullptr) {
    LOGF("[mqtt] ERROR: subscribe to %s: out of memory\n", topicFilter);
    return false;
  }
  memcpy(slot->filter, topicFilter, length + 1);
  slot->handler = handler;
  if (!connected_) return true;  // sent on connect
  if (mqtt_.subscribe(slot->filter, 1)) {
    LOGF("[mqtt] subscribed to %s\n", slot->filter);
    return true;
  }
  LOGF("[mqtt] ERROR: subscribe to %s failed; renewed at the next connect\n", slot->filter);
  return false;
}

void AwsIotDevice::dispatch(char* topic, uint8_t* payload, unsigned int length) {
  const awsiot::IncomingSize size = awsiot::check_incoming(length, g_payload_counter.take());
  if (!size.complete) {
    // PubSubClient acknowledges it (QoS 1) after this returns; the payload here is cut.
    LOGF("[mqtt] WARNING: message on %s has %lu bytes, more than the %u-byte MQTT buffer: "
         "acknowledged and ignored (Settings::mqttBufferBytes for larger ones)\n",
         topic, static_cast<unsigned long>(size.total), static_cast<unsigned>(mqtt_buffer_bytes_));
    return;
  }
  bool handled = false;
  for (const Subscription& subscription : subscriptions_) {
    if (subscription.filter != nullptr && awsiot::topic_matches(subscription.filter, topic)) {
      subscription.handler(topic, payload, length);
      handled = true;
    }
  }
  if (handled) return;
  // Print at most 200 bytes, non-printable bytes as '.'.
  char text[kMaxPrintedPayload + 1];
  const size_t shown = length < kMaxPrintedPayload ? length : kMaxPrintedPayload;
  for (size_t i = 0; i < shown; ++i) {
    text[i] = (payload[i] >= 0x20 && payload[i] < 0x7F) ? static_cast<char>(payload[i]) : '.';
  }
  text[shown] = '\0';
  LOGF("[mqtt] no handler for %s (%u bytes): %s%s\n", topic, length, text,
       shown < length ? "..." : "");
}

// --- the connection -------------------------------------------------------------------

void AwsIotDevice::report_connect_failure(const awsiot::AttemptFacts& facts,
                                          awsiot::FailedLayer layer, const char* tls_text) {
  awsiot::describe_failure(layer, facts, endpoint_.host, endpoint_.port, client_id_, tls_text,
                           last_failure_, sizeof last_failure_);
  LOGF("[mqtt] connect failed (%s; free heap %lu, largest block %lu; retry in %lu ms)\n",
       last_failure_, static_cast<unsigned long>(device::free_heap()),
       static_cast<unsigned long>(device::max_free_block()),
       static_cast<unsigned long>(connection_.last_delay_ms()));
}

// One attempt: resolve, TLS, MQTT CONNECT; then name the layer that failed from what was
// observed (awsiot::diagnose), never from the absence of an error code.
void AwsIotDevice::connect_mqtt() {
  LOGF("[mqtt] connecting to %s:%u as %s (attempt %lu, %lu sessions so far, free heap %lu)\n",
       endpoint_.host, endpoint_.port, client_id_,
       static_cast<unsigned long>(connection_.connect_attempts()),
       static_cast<unsigned long>(connection_.sessions()), static_cast<unsigned long>(device::free_heap()));
  IPAddress ip;
  const bool resolved = device::resolve(endpoint_.host, &ip);
  const uint32_t started = millis();
  bool ok = false;
  g_attempt.begin_attempt(resolved, device::attempt_bounds().tls_ms, 1000u * kMqtt.socket_timeout_s);
  if (resolved) {
    device::tls_prepare(ip, endpoint_.port, static_cast<time_t>(now_seconds()));
    // Last will: retained "offline" with the number of the session it belongs to.
    char will[awsiot::kStatusPayloadBytes];
    awsiot::format_status(will, sizeof will, false, connection_.sessions() + 1, boot_id_, now_seconds());
    g_payload_counter.take();
    // Persistent session (clean session off): AWS keeps the subscriptions and the QoS 1
    // messages sent while the board is away.
    ok = mqtt_.connect(client_id_, nullptr, nullptr, topic_status_, 1, true, will, kMqtt.clean_session);
  }
  awsiot::AttemptFacts& facts = g_attempt.finish_attempt();
  device::TlsError tls;
  tls.meaningful = tls.out_of_memory = false;
  tls.text[0] = '\0';
  if (!ok && resolved && !facts.tls_up) {
    device::tls_last_error(&tls);
    facts.tls_error = tls.meaningful && !tls.out_of_memory;
    facts.out_of_memory = tls.out_of_memory;
    // No code: is the server there at all? Tells "no TCP" from "closed in the handshake".
    if (!tls.meaningful) facts.tcp_reachable = device::tcp_reachable(ip, endpoint_.port);
  }
  const awsiot::FailedLayer layer = awsiot::diagnose(facts, ok);
  device::tls_attempt_done(awsiot::server_answered_tls(layer));
  connection_.connect_result(millis(), ok ? awsiot::ConnectOutcome::kConnected
                                          : layer == awsiot::FailedLayer::kOutOfMemory
                                                ? awsiot::ConnectOutcome::kOutOfMemory
                                                : awsiot::ConnectOutcome::kFailed);
  if (!ok) {
    report_connect_failure(facts, layer, tls.text);
    return;
  }
  LOGF("[mqtt] connected in %lu ms (session %lu)\n", static_cast<unsigned long>(millis() - started),
       static_cast<unsigned long>(connection_.sessions()));
  after_connect();
}

void AwsIotDevice::after_connect() {
  // Harmless with a persistent session (AWS keeps them); needed the first time.
  for (const Subscription& subscription : subscriptions_) {
    if (subscription.filter == nullptr) continue;
    if (mqtt_.subscribe(subscription.filter, 1)) {
      LOGF("[mqtt] subscribed to %s\n", subscription.filter);
    } else {
      LOGF("[mqtt] ERROR: subscribe to %s failed\n", subscription.filter);
    }
  }
  char online[awsiot::kStatusPayloadBytes];
  awsiot::format_status(online, sizeof online, true, connection_.sessions(), boot_id_, now_seconds());
  if (!mqtt_.publish(topic_status_, online, true)) {
    LOGF("[mqtt] ERROR: publish to %s failed\n", topic_status_);
  }
  set_connected(true);
}

void AwsIotDevice::set_connected(bool now_connected) {
  if (now_connected == connected_) return;
  connected_ = now_connected;
  EventHandler handler = now_connected ? on_connected_ : on_disconnected_;
  if (handler != nullptr) handler();
}

void AwsIotDevice::wifi_begin() {
  LOGF("[wifi] connecting to \"%s\"\n", wifi_ssid_);
  if (wifi_begun_) WiFi.disconnect();  // drop a half-finished attempt before the next
  wifi_begun_ = true;
  WiFi.begin(wifi_ssid_, wifi_password_[0] != '\0' ? wifi_password_ : nullptr);
}

void AwsIotDevice::perform(awsiot::Action action) {
  switch (action) {
    case awsiot::Action::kNone:
      break;
    case awsiot::Action::kWifiBegin:
      wifi_begin();
      break;
    case awsiot::Action::kWifiTimeout:
      DEVICE_FORMAT(last_failure_, sizeof last_failure_, "WiFi not connected after %lu s: status %d (%s)",
                    static_cast<unsigned long>(awsiot::kDefaultTiming.wifi_timeout_ms / 1000),
                    static_cast<int>(WiFi.status()), wifi_words(WiFi.status()));
      LOGF("[wifi] %s; retry in %lu ms\n", without_subject(last_failure_),
           static_cast<unsigned long>(connection_.last_delay_ms()));
      break;
    case awsiot::Action::kWifiLost:
      DEVICE_FORMAT(last_failure_, sizeof last_failure_, "WiFi lost: status %d (%s)",
                    static_cast<int>(WiFi.status()), wifi_words(WiFi.status()));
      LOGF("[wifi] %s\n", without_subject(last_failure_));
      set_connected(false);  // after the failure text: onDisconnected may read it
      break;
    case awsiot::Action::kStartClock:
      LOGF("[time] waiting for SNTP (%s)\n", ntp_server_);
      configTime(0, 0, ntp_server_, kSecondNtpServer);
      break;
    case awsiot::Action::kClockTimeout:
      DEVICE_FORMAT(last_failure_, sizeof last_failure_,
                    "clock still not set after %lu s (UDP port 123 blocked? NTP_SERVER wrong?)",
                    static_cast<unsigned long>(awsiot::kDefaultTiming.clock_timeout_ms / 1000));
      LOGF("[time] %s; retry in %lu ms\n", last_failure_,
           static_cast<unsigned long>(connection_.last_delay_ms()));
      print_utc("[time] the clock reads ");
      break;
    case awsiot::Action::kConnect:
      connect_mqtt();
      break;
    case awsiot::Action::kConnectionLost:
      DEVICE_FORMAT(last_failure_, sizeof last_failure_, "MQTT connection lost after %lu s: state %d (%s)",
                    static_cast<unsigned long>(connection_.last_session_ms() / 1000), mqtt_.state(),
                    awsiot::mqtt_state_text(mqtt_.state()));
      LOGF("[mqtt] %s; free heap %lu; retry in %lu ms\n", without_subject(last_failure_),
           static_cast<unsigned long>(device::free_heap()),
           static_cast<unsigned long>(connection_.last_delay_ms()));
      set_connected(false);  // after the failure text: onDisconnected may read it
      break;
    case awsiot::Action::kDroppedAfterConnack:
      DEVICE_FORMAT(last_failure_, sizeof last_failure_, "the server closed the session %lu ms after CONNACK: %s",
                    static_cast<unsigned long>(connection_.last_session_ms()), awsiot::early_drop_text());
      LOGF("[mqtt] %s; retry in %lu ms (the delay keeps growing until a session lasts %lu s)\n",
           last_failure_, static_cast<unsigned long>(connection_.last_delay_ms()),
           static_cast<unsigned long>(awsiot::stable_session_ms(keep_alive_seconds_) / 1000));
      set_connected(false);  // after the failure text: onDisconnected may read it
      break;
    case awsiot::Action::kRestart:
      LOGF("[restart] %s; restarting\n",
           connection_.restart_reason() == awsiot::RestartReason::kOutOfMemory
               ? "out of memory for TLS in several attempts in a row (a fragmented heap does not heal)"
               : "no MQTT session for too long (AWS_IOT_RESTART_WITHOUT_SESSION_S)");
      Serial.flush();
      device::restart();
      break;
  }
}

void AwsIotDevice::report_progress(bool wifi_up) {
  if (wifi_up && !wifi_was_up_) {
    LOGF("[wifi] connected: IP %s, RSSI %d dBm\n", WiFi.localIP().toString().c_str(),
         static_cast<int>(WiFi.RSSI()));
  }
  wifi_was_up_ = wifi_up;
  // Reported when it happens: the ESP32 does not wait for it (see board_timing).
  const bool clock_valid = awsiot::clock_valid(now_seconds());
  if (clock_valid && !clock_reported_) print_utc("[time] clock set: ");
  clock_reported_ = clock_valid;
}

void AwsIotDevice::loop() {
  if (!begun_) return;
  const uint32_t now = millis();
  uptime_.update(now);
  if (halted()) {
    const uint32_t restart_ms = awsiot::halt_restart_after_ms(halt_kind_);
    if (restart_ms > 0 && awsiot::elapsed(now, halted_at_, restart_ms)) {
      LOGF("[restart] %s; restarting\n", halt_reason_);
      Serial.flush();
      device::restart();
    }
    if (awsiot::elapsed(now, halt_reminded_at_, kHaltReminderMs)) {
      halt_reminded_at_ = now;
      LOGF("[halt] %s\n", halt_reason_);
    }
    return;  // the sketch's own work goes on
  }

  awsiot::Observed observed;
  observed.wifi_up = WiFi.status() == WL_CONNECTED;
  observed.clock_valid = awsiot::clock_valid(now_seconds());
  observed.mqtt_connected = mqtt_.connected();
  perform(connection_.step(now, observed));
  report_progress(observed.wifi_up);

  if (connection_.state() == awsiot::State::kConnected) {
    mqtt_.loop();  // keep-alive, incoming messages (handlers run from here)
  }
  yield();
}

#endif  // defined(ESP8266) || defined(ESP32)
