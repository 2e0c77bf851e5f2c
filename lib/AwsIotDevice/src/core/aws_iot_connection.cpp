#include "aws_iot_connection.h"

#include "aws_iot_text.h"

namespace awsiot {

Connection::Connection(const Timing& timing, RandomFn random, void* random_ctx)
    : timing_(timing),
      wifi_backoff_(kWifiBackoff, random, random_ctx),
      mqtt_backoff_(kMqttBackoff, random, random_ctx),
      state_(State::kWifiConnecting),
      retry_state_(State::kWifiConnecting),
      entered_at_(0),
      delay_ms_(0),
      last_connect_at_(0),
      connect_attempts_(0),
      started_(false),
      clock_started_(false) {
  if (timing_.min_connect_interval_ms < 1000u) timing_.min_connect_interval_ms = 1000u;
}

void Connection::enter(State state, uint32_t now) {
  state_ = state;
  entered_at_ = now;
}

void Connection::back_off(State retry, Backoff& backoff, uint32_t now) {
  retry_state_ = retry;
  delay_ms_ = backoff.next_delay_ms();
  enter(State::kBackoff, now);
}

uint32_t Connection::backoff_remaining(uint32_t now) const {
  if (state_ != State::kBackoff) return 0;
  const uint32_t waited = static_cast<uint32_t>(now - entered_at_);
  return waited >= delay_ms_ ? 0 : delay_ms_ - waited;
}

Action Connection::step(uint32_t now, const Observed& observed) {
  if (!started_) {
    started_ = true;
    enter(State::kWifiConnecting, now);
    return Action::kWifiBegin;
  }
  switch (state_) {
    case State::kWifiConnecting:
      if (observed.wifi_up) {
        wifi_backoff_.reset();
        enter(State::kWaitingForClock, now);
        if (!clock_started_) {
          clock_started_ = true;
          return Action::kStartClock;
        }
        return Action::kNone;
      }
      if (elapsed(now, entered_at_, timing_.wifi_timeout_ms)) {
        back_off(State::kWifiConnecting, wifi_backoff_, now);
        return Action::kWifiTimeout;
      }
      return Action::kNone;

    case State::kWaitingForClock:
      if (!observed.wifi_up) {
        enter(State::kWifiConnecting, now);
        return Action::kWifiLost;
      }
      if (observed.clock_valid) {
        enter(State::kConnecting, now);
        return Action::kNone;
      }
      if (elapsed(now, entered_at_, timing_.clock_timeout_ms)) {
        clock_started_ = false;  // restart SNTP after the backoff
        back_off(State::kWaitingForClock, wifi_backoff_, now);
        return Action::kClockTimeout;
      }
      return Action::kNone;

    case State::kConnecting:
      if (!observed.wifi_up) {
        enter(State::kWifiConnecting, now);
        return Action::kWifiLost;
      }
      // AWS IoT throttles CONNECTs for one client id to one per second.
      if (connect_attempts_ > 0 &&
          !elapsed(now, last_connect_at_, timing_.min_connect_interval_ms)) {
        return Action::kNone;
      }
      last_connect_at_ = now;
      ++connect_attempts_;
      return Action::kConnect;

    case State::kConnected:
      if (!observed.mqtt_connected || !observed.wifi_up) {
        // Even right after a success, wait before the next CONNECT.
        back_off(observed.wifi_up ? State::kConnecting : State::kWifiConnecting, mqtt_backoff_,
                 now);
        return observed.wifi_up ? Action::kConnectionLost : Action::kWifiLost;
      }
      return Action::kNone;

    case State::kBackoff:
      if (!elapsed(now, entered_at_, delay_ms_)) return Action::kNone;
      if (!observed.wifi_up) {
        enter(State::kWifiConnecting, now);
        return Action::kWifiBegin;
      }
      // WiFi is up (the core may have reconnected by itself): never drop it to begin again.
      if (retry_state_ == State::kWifiConnecting || retry_state_ == State::kWaitingForClock) {
        if (retry_state_ == State::kWifiConnecting) wifi_backoff_.reset();
        enter(State::kWaitingForClock, now);
        if (!clock_started_) {
          clock_started_ = true;
          return Action::kStartClock;
        }
        return Action::kNone;
      }
      // Clock was valid before; a reset clock (rare) is caught by the TLS date check.
      enter(retry_state_, now);
      return Action::kNone;
  }
  return Action::kNone;
}

void Connection::connect_result(uint32_t now, bool ok) {
  if (state_ != State::kConnecting) return;
  if (ok) {
    mqtt_backoff_.reset();
    enter(State::kConnected, now);
    return;
  }
  back_off(State::kConnecting, mqtt_backoff_, now);
  // The backoff counts from the CONNECT, never less than a second after it.
  entered_at_ = now;
}

const char* state_name(State state) {
  switch (state) {
    case State::kWifiConnecting: return AWS_IOT_TEXT("wifi-connecting");
    case State::kWaitingForClock: return AWS_IOT_TEXT("waiting-for-clock");
    case State::kConnecting: return AWS_IOT_TEXT("connecting");
    case State::kConnected: return AWS_IOT_TEXT("connected");
    case State::kBackoff: return AWS_IOT_TEXT("backoff");
  }
  return AWS_IOT_TEXT("unknown");
}

const char* action_name(Action action) {
  switch (action) {
    case Action::kNone: return AWS_IOT_TEXT("none");
    case Action::kWifiBegin: return AWS_IOT_TEXT("wifi-begin");
    case Action::kWifiTimeout: return AWS_IOT_TEXT("wifi-timeout");
    case Action::kWifiLost: return AWS_IOT_TEXT("wifi-lost");
    case Action::kStartClock: return AWS_IOT_TEXT("start-clock");
    case Action::kClockTimeout: return AWS_IOT_TEXT("clock-timeout");
    case Action::kConnect: return AWS_IOT_TEXT("connect");
    case Action::kConnectionLost: return AWS_IOT_TEXT("connection-lost");
  }
  return AWS_IOT_TEXT("unknown");
}

}  // namespace awsiot
