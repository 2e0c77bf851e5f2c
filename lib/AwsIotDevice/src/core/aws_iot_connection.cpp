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
      sessions_(0),
      connected_at_(0),
      last_session_ms_(0),
      without_session_since_(0),
      oom_failures_(0),
      restart_reason_(RestartReason::kNone),
      started_(false),
      clock_started_(false) {
  set_timing(timing);
}

void Connection::set_timing(const Timing& timing) {
  timing_ = timing;
  if (timing_.min_connect_interval_ms < 1000u) timing_.min_connect_interval_ms = 1000u;
}

Timing board_timing(bool tls_checks_dates, uint32_t restart_without_session_ms) {
  Timing timing = kDefaultTiming;
  timing.wait_for_clock = tls_checks_dates;
  timing.restart_without_session_ms = restart_without_session_ms;
  return timing;
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

// WiFi just came up: wait for the clock where TLS checks dates, else connect. SNTP is
// started once either way (the ESP32 wants the time for its logs and payloads only).
Action Connection::wifi_is_up(uint32_t now) {
  enter(timing_.wait_for_clock ? State::kWaitingForClock : State::kConnecting, now);
  if (!clock_started_) {
    clock_started_ = true;
    return Action::kStartClock;
  }
  return Action::kNone;
}

Action Connection::step(uint32_t now, const Observed& observed) {
  if (!started_) {
    started_ = true;
    without_session_since_ = now;
    enter(State::kWifiConnecting, now);
    return Action::kWifiBegin;
  }
  if (restart_reason_ != RestartReason::kNone) return Action::kRestart;
  if (state_ != State::kConnected) {
    if (timing_.restart_after_oom_failures > 0 && oom_failures_ >= timing_.restart_after_oom_failures) {
      restart_reason_ = RestartReason::kOutOfMemory;
      return Action::kRestart;
    }
    if (timing_.restart_without_session_ms > 0 &&
        elapsed(now, without_session_since_, timing_.restart_without_session_ms)) {
      restart_reason_ = RestartReason::kNoSession;
      return Action::kRestart;
    }
  }
  switch (state_) {
    case State::kWifiConnecting:
      if (observed.wifi_up) {
        wifi_backoff_.reset();
        return wifi_is_up(now);
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

    case State::kConnected: {
      if (observed.mqtt_connected && observed.wifi_up) return Action::kNone;
      last_session_ms_ = static_cast<uint32_t>(now - connected_at_);
      without_session_since_ = now;
      // Only a session that stayed up proves the setup works: then start the delays
      // again from the beginning. A short one keeps the backoff growing.
      if (last_session_ms_ >= timing_.stable_session_ms) mqtt_backoff_.reset();
      // Even right after a success, wait before the next CONNECT.
      back_off(observed.wifi_up ? State::kConnecting : State::kWifiConnecting, mqtt_backoff_, now);
      if (!observed.wifi_up) return Action::kWifiLost;
      return last_session_ms_ < timing_.early_drop_ms ? Action::kDroppedAfterConnack
                                                     : Action::kConnectionLost;
    }

    case State::kBackoff:
      if (!elapsed(now, entered_at_, delay_ms_)) return Action::kNone;
      if (!observed.wifi_up) {
        enter(State::kWifiConnecting, now);
        return Action::kWifiBegin;
      }
      // WiFi is up (the core may have reconnected by itself): never drop it to begin again.
      if (retry_state_ == State::kWifiConnecting || retry_state_ == State::kWaitingForClock) {
        if (retry_state_ == State::kWifiConnecting) wifi_backoff_.reset();
        return wifi_is_up(now);
      }
      // The clock was valid before (or is not needed); a clock reset (rare) is caught by
      // BearSSL's date check and reported as such.
      enter(retry_state_, now);
      return Action::kNone;
  }
  return Action::kNone;
}

void Connection::connect_result(uint32_t now, ConnectOutcome outcome) {
  if (state_ != State::kConnecting) return;
  if (outcome == ConnectOutcome::kOutOfMemory) {
    ++oom_failures_;
  } else {
    oom_failures_ = 0;
  }
  if (outcome == ConnectOutcome::kConnected) {
    // No backoff reset here: see the header (policy drops right after CONNACK).
    ++sessions_;
    connected_at_ = now;
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
    case Action::kDroppedAfterConnack: return AWS_IOT_TEXT("dropped-after-connack");
    case Action::kRestart: return AWS_IOT_TEXT("restart");
  }
  return AWS_IOT_TEXT("unknown");
}

}  // namespace awsiot
