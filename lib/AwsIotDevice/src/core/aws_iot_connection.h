// The connection state machine: WiFi, clock, TLS + MQTT, connected, backoff, restart.
//
// It decides; the Arduino glue acts. Each loop() the glue passes in what it observes
// (WiFi up, clock valid, MQTT connected) and the current millis(), and performs the one
// Action returned. After an Action::kConnect it reports the outcome with
// connect_result(). Nothing here blocks or reads a clock itself.
//
// Staying connected for months:
// - The MQTT backoff is NOT reset by a CONNACK. AWS accepts CONNECT and then closes the
//   connection at the first SUBSCRIBE or PUBLISH its policy denies (and when another
//   device connects with the same client id): resetting at CONNACK would reconnect every
//   1-2 s forever. The backoff resets only when a session stayed up `stable_session_ms`
//   (twice the keep-alive), and a drop within `early_drop_ms` of CONNACK is reported as
//   such (Action::kDroppedAfterConnack).
// - After `restart_without_session_ms` without a session, or `restart_after_oom_failures`
//   connects in a row that failed for want of memory (a fragmented heap does not heal),
//   the machine asks for a restart (Action::kRestart).
#pragma once

#include <stdint.h>

#include "aws_iot_backoff.h"

namespace awsiot {

enum class State : uint8_t {
  kWifiConnecting,   // WiFi.begin() issued, waiting for an address
  kWaitingForClock,  // WiFi up, waiting for SNTP (only where TLS checks certificate dates)
  kConnecting,       // TLS + MQTT connect due (at most one CONNECT per second)
  kConnected,        // MQTT session up
  kBackoff,          // waiting before retrying the step that failed
};

enum class Action : uint8_t {
  kNone,
  kWifiBegin,       // start (or restart) joining the WiFi network
  kWifiTimeout,     // report: WiFi did not come up in time (then back off)
  kWifiLost,        // report: WiFi went down
  kStartClock,      // start SNTP (configTime)
  kClockTimeout,    // report: clock still invalid after the timeout (then back off)
  kConnect,         // TLS + MQTT connect now, then call connect_result()
  kConnectionLost,  // report: MQTT session dropped (then back off)
  kDroppedAfterConnack,  // report: closed within seconds of CONNACK: policy or duplicate client id
  kRestart,         // restart the board (see restart_reason())
};

// What a connect attempt came to, as far as the state machine cares.
enum class ConnectOutcome : uint8_t {
  kConnected,    // CONNACK 0: session up
  kFailed,       // any other failure
  kOutOfMemory,  // the TLS stack could not allocate its buffers
};

enum class RestartReason : uint8_t { kNone, kNoSession, kOutOfMemory };

struct Observed {
  bool wifi_up;
  bool clock_valid;
  bool mqtt_connected;
};

struct Timing {
  uint32_t wifi_timeout_ms;   // how long one WiFi join may take
  uint32_t clock_timeout_ms;  // how long to wait for SNTP before reporting and backing off
  uint32_t min_connect_interval_ms;  // AWS: one CONNECT per second per client id
  uint32_t stable_session_ms;  // a session up this long resets the backoff (2 x keep-alive)
  uint32_t early_drop_ms;      // a drop this soon after CONNACK is the policy / client id kind
  uint32_t restart_without_session_ms;  // restart after this long without a session; 0: never
  uint32_t restart_after_oom_failures;  // restart after this many OOM connects in a row; 0: never
  bool wait_for_clock;  // wait for SNTP before TLS (the ESP8266's BearSSL checks dates)
};

// Keep-alive 60 s (aws_iot_mqtt.h): a session is stable after 120 s. One hour without a
// session, or three out-of-memory connects in a row, restart the board.
constexpr Timing kDefaultTiming = {20000u, 30000u, 1000u, 120000u, 10000u, 3600000u, 3u, true};

// Per board: BearSSL (ESP8266) checks certificate dates against the clock, so TLS must
// wait for SNTP; mbedTLS in arduino-esp32 2.0.17 is built without MBEDTLS_HAVE_TIME_DATE
// and never checks dates, so the ESP32 connects without waiting (SNTP still runs, for
// the timestamps). `restart_without_session_ms` = 0 keeps the board from restarting.
Timing board_timing(bool tls_checks_dates, uint32_t restart_without_session_ms);

class Connection {
 public:
  Connection(const Timing& timing, RandomFn random, void* random_ctx);

  // Replaces the timing (e.g. stable_session_ms for another keep-alive); before the first step().
  void set_timing(const Timing& timing);
  // Advances the machine; returns what the glue must do now.
  Action step(uint32_t now, const Observed& observed);
  // The outcome of the kConnect just performed; `now` is millis() after it returned.
  void connect_result(uint32_t now, ConnectOutcome outcome);
  void connect_result(uint32_t now, bool ok) {
    connect_result(now, ok ? ConnectOutcome::kConnected : ConnectOutcome::kFailed);
  }

  State state() const { return state_; }
  // The state the backoff returns to.
  State retry_state() const { return retry_state_; }
  // Milliseconds left in kBackoff (0 in other states).
  uint32_t backoff_remaining(uint32_t now) const;
  // The last delay chosen, for logs.
  uint32_t last_delay_ms() const { return delay_ms_; }
  uint32_t connect_attempts() const { return connect_attempts_; }
  // Sessions opened (CONNACK 0) since boot; the status payloads carry it.
  uint32_t sessions() const { return sessions_; }
  // How long the last session lasted, for the drop report.
  uint32_t last_session_ms() const { return last_session_ms_; }
  RestartReason restart_reason() const { return restart_reason_; }

 private:
  void enter(State state, uint32_t now);
  void back_off(State retry, Backoff& backoff, uint32_t now);
  Action wifi_is_up(uint32_t now);

  Timing timing_;
  Backoff wifi_backoff_;
  Backoff mqtt_backoff_;
  State state_;
  State retry_state_;
  uint32_t entered_at_;
  uint32_t delay_ms_;
  uint32_t last_connect_at_;
  uint32_t connect_attempts_;
  uint32_t sessions_;
  uint32_t connected_at_;
  uint32_t last_session_ms_;
  uint32_t without_session_since_;
  uint32_t oom_failures_;
  RestartReason restart_reason_;
  bool started_;
  bool clock_started_;
};

const char* state_name(State state);
const char* action_name(Action action);

}  // namespace awsiot
