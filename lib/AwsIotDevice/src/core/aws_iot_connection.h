// The connection state machine: WiFi, clock, TLS + MQTT, connected, backoff.
//
// It decides; the Arduino glue acts. Each loop() the glue passes in what it observes
// (WiFi up, clock valid, MQTT connected) and the current millis(), and performs the one
// Action returned. After an Action::kConnect it reports the outcome with
// connect_result(). Nothing here blocks or reads a clock itself.
#pragma once

#include <stdint.h>

#include "aws_iot_backoff.h"

namespace awsiot {

enum class State : uint8_t {
  kWifiConnecting,   // WiFi.begin() issued, waiting for an address
  kWaitingForClock,  // WiFi up, waiting for SNTP to set the clock (TLS checks dates)
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
};

struct Observed {
  bool wifi_up;
  bool clock_valid;
  bool mqtt_connected;
};

struct Timing {
  uint32_t wifi_timeout_ms;   // how long one WiFi join may take
  uint32_t clock_timeout_ms;  // how long to wait for SNTP before reporting and backing off
  uint32_t min_connect_interval_ms;  // AWS: one CONNECT per second per client id
};

constexpr Timing kDefaultTiming = {20000u, 30000u, 1000u};

class Connection {
 public:
  Connection(const Timing& timing, RandomFn random, void* random_ctx);

  // Advances the machine; returns what the glue must do now.
  Action step(uint32_t now, const Observed& observed);
  // The outcome of the kConnect just performed; `now` is millis() after it returned.
  void connect_result(uint32_t now, bool ok);

  State state() const { return state_; }
  // The state the backoff returns to.
  State retry_state() const { return retry_state_; }
  // Milliseconds left in kBackoff (0 in other states).
  uint32_t backoff_remaining(uint32_t now) const;
  // The last delay chosen, for logs.
  uint32_t last_delay_ms() const { return delay_ms_; }
  uint32_t connect_attempts() const { return connect_attempts_; }

 private:
  void enter(State state, uint32_t now);
  void back_off(State retry, Backoff& backoff, uint32_t now);

  Timing timing_;
  Backoff wifi_backoff_;
  Backoff mqtt_backoff_;
  State state_;
  State retry_state_;
  uint32_t entered_at_;
  uint32_t delay_ms_;
  uint32_t last_connect_at_;
  uint32_t connect_attempts_;
  bool started_;
  bool clock_started_;
};

const char* state_name(State state);
const char* action_name(Action action);

}  // namespace awsiot
