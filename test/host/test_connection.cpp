#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "aws_iot_connection.h"
#include "fakes.h"

using namespace awsiot;

namespace {

uint32_t lowest(void*) { return 0; }

const Observed kNothing = {false, false, false};
const Observed kWifiOnly = {true, false, false};
const Observed kReady = {true, true, false};
const Observed kUp = {true, true, true};

// Drives the machine to the first kConnect at `start`; returns the time of it.
uint32_t to_first_connect(Connection& c, uint32_t start) {
  REQUIRE(c.step(start, kNothing) == Action::kWifiBegin);
  REQUIRE(c.step(start + 10, kWifiOnly) == Action::kStartClock);
  REQUIRE(c.state() == State::kWaitingForClock);
  REQUIRE(c.step(start + 20, kReady) == Action::kNone);
  REQUIRE(c.state() == State::kConnecting);
  REQUIRE(c.step(start + 30, kReady) == Action::kConnect);
  return start + 30;
}

}  // namespace

TEST_CASE("happy path: WiFi, clock, connect, connected") {
  Connection c(kDefaultTiming, lowest, nullptr);
  const uint32_t t = to_first_connect(c, 1000);
  c.connect_result(t + 2000, true);
  CHECK(c.state() == State::kConnected);
  CHECK(c.step(t + 3000, kUp) == Action::kNone);
  CHECK(c.connect_attempts() == 1);
}

TEST_CASE("waits for a valid clock before any TLS handshake") {
  Connection c(kDefaultTiming, lowest, nullptr);
  CHECK(c.step(0, kNothing) == Action::kWifiBegin);
  CHECK(c.step(5, kWifiOnly) == Action::kStartClock);
  for (uint32_t t = 10; t < kDefaultTiming.clock_timeout_ms; t += 100) {
    CHECK(c.step(t, kWifiOnly) != Action::kConnect);
  }
  CHECK(c.step(5 + kDefaultTiming.clock_timeout_ms, kWifiOnly) == Action::kClockTimeout);
  CHECK(c.state() == State::kBackoff);
  CHECK(c.retry_state() == State::kWaitingForClock);
  const uint32_t back = 5 + kDefaultTiming.clock_timeout_ms + c.last_delay_ms();
  CHECK(c.step(back, kWifiOnly) == Action::kStartClock);  // SNTP restarted
  CHECK(c.step(back + 1, kReady) == Action::kNone);
  CHECK(c.step(back + 2, kReady) == Action::kConnect);
}

TEST_CASE("a failed connect backs off at least one second, then retries") {
  Connection c(kDefaultTiming, lowest, nullptr);
  const uint32_t t = to_first_connect(c, 0);
  c.connect_result(t + 1, false);  // failed fast (e.g. connection refused)
  CHECK(c.state() == State::kBackoff);
  CHECK(c.last_delay_ms() >= 1000);
  CHECK(c.step(t + 999, kReady) == Action::kNone);
  CHECK(c.backoff_remaining(t + 500) > 0);
  const uint32_t resume = t + 1 + c.last_delay_ms();
  CHECK(c.step(resume, kReady) == Action::kNone);
  CHECK(c.state() == State::kConnecting);
  CHECK(c.step(resume + 1, kReady) == Action::kConnect);
}

TEST_CASE("backoff grows with repeated failures; a CONNACK alone does not reset it") {
  Connection c(kDefaultTiming, lowest, nullptr);
  uint32_t t = to_first_connect(c, 0);
  std::vector<uint32_t> delays;
  for (int i = 0; i < 6; ++i) {
    c.connect_result(t, false);
    delays.push_back(c.last_delay_ms());
    t += c.last_delay_ms();
    REQUIRE(c.step(t, kReady) == Action::kNone);
    REQUIRE(c.step(t, kReady) == Action::kConnect);
  }
  CHECK(delays == std::vector<uint32_t>{1000, 2000, 4000, 8000, 16000, 32000});
  c.connect_result(t, true);
  CHECK(c.step(t + 100, kReady) == Action::kDroppedAfterConnack);  // dropped at once
  CHECK(c.last_delay_ms() == 60000);  // keeps growing: the 2-minute cap, lowest jitter
}

TEST_CASE("a session dropped right after CONNECT still waits a second before the next") {
  Connection c(kDefaultTiming, lowest, nullptr);
  const uint32_t t = to_first_connect(c, 0);
  c.connect_result(t, true);
  CHECK(c.step(t + 1, kReady) == Action::kDroppedAfterConnack);
  uint32_t now = t + 2;
  while (c.step(now, kReady) != Action::kConnect) {
    ++now;
    REQUIRE(now < t + 5000);
  }
  CHECK(now - t >= 1000);
}

TEST_CASE("a timing below one second between CONNECTs is raised to one second") {
  Timing fast = kDefaultTiming;
  fast.min_connect_interval_ms = 0;
  Connection c(fast, lowest, nullptr);
  const uint32_t t = to_first_connect(c, 0);
  // Even a glue that never reports the result gets at most one CONNECT per second.
  CHECK(c.step(t + 1, kReady) == Action::kNone);
  CHECK(c.step(t + 999, kReady) == Action::kNone);
  CHECK(c.step(t + 1000, kReady) == Action::kConnect);
}

TEST_CASE("WiFi timeout backs off and begins again; WiFi loss while connected is reported") {
  Connection c(kDefaultTiming, lowest, nullptr);
  CHECK(c.step(0, kNothing) == Action::kWifiBegin);
  CHECK(c.step(kDefaultTiming.wifi_timeout_ms - 1, kNothing) == Action::kNone);
  CHECK(c.step(kDefaultTiming.wifi_timeout_ms, kNothing) == Action::kWifiTimeout);
  CHECK(c.state() == State::kBackoff);
  const uint32_t again = kDefaultTiming.wifi_timeout_ms + c.last_delay_ms();
  CHECK(c.step(again, kNothing) == Action::kWifiBegin);

  Connection d(kDefaultTiming, lowest, nullptr);
  const uint32_t t = to_first_connect(d, 0);
  d.connect_result(t, true);
  CHECK(d.step(t + 10, {false, true, false}) == Action::kWifiLost);
  CHECK(d.retry_state() == State::kWifiConnecting);
  const uint32_t back = t + 10 + d.last_delay_ms();
  CHECK(d.step(back, kNothing) == Action::kWifiBegin);
  CHECK(d.step(back + 1, kWifiOnly) == Action::kNone);  // SNTP keeps running: no restart
  CHECK(d.state() == State::kWaitingForClock);
}

TEST_CASE("WiFi back by itself during a backoff is not dropped to begin again") {
  Connection c(kDefaultTiming, lowest, nullptr);
  CHECK(c.step(0, kNothing) == Action::kWifiBegin);
  CHECK(c.step(kDefaultTiming.wifi_timeout_ms, kNothing) == Action::kWifiTimeout);
  const uint32_t end = kDefaultTiming.wifi_timeout_ms + c.last_delay_ms();
  CHECK(c.step(end, kWifiOnly) == Action::kStartClock);  // no kWifiBegin
  CHECK(c.state() == State::kWaitingForClock);

  Connection d(kDefaultTiming, lowest, nullptr);
  const uint32_t t = to_first_connect(d, 0);
  d.connect_result(t, true);
  CHECK(d.step(t + 10, {false, true, false}) == Action::kWifiLost);
  const uint32_t back = t + 10 + d.last_delay_ms();
  CHECK(d.step(back, kReady) == Action::kNone);  // WiFi came back meanwhile
  CHECK(d.state() == State::kWaitingForClock);
  CHECK(d.step(back + 1, kReady) == Action::kNone);
  CHECK(d.step(back + 2, kReady) == Action::kConnect);
}

TEST_CASE("the first MQTT retry is already spread by jitter, within 1 to 2 s") {
  XorShift random{5};
  uint32_t lowest_seen = UINT32_MAX, highest_seen = 0;
  for (int run = 0; run < 200; ++run) {
    Connection c(kDefaultTiming, XorShift::call, &random);
    const uint32_t t = to_first_connect(c, 0);
    c.connect_result(t, false);
    const uint32_t d = c.last_delay_ms();
    CHECK(d >= 1000);
    CHECK(d <= 2000);
    lowest_seen = d < lowest_seen ? d : lowest_seen;
    highest_seen = d > highest_seen ? d : highest_seen;
  }
  CHECK(highest_seen - lowest_seen > 500);
}

TEST_CASE("timers work across the millis() wrap-around") {
  Connection c(kDefaultTiming, lowest, nullptr);
  const uint32_t start = 0xFFFFFF00u;  // 256 ms before the wrap
  const uint32_t t = to_first_connect(c, start);
  c.connect_result(t, false);
  // 1000 ms later is after the wrap: a signed or naive comparison would stall here
  CHECK(c.step(t + 999, kReady) == Action::kNone);
  CHECK(c.state() == State::kBackoff);
  CHECK(c.step(t + 1000, kReady) == Action::kNone);
  CHECK(c.state() == State::kConnecting);
  CHECK(c.step(t + 1001, kReady) == Action::kConnect);

  Connection w(kDefaultTiming, lowest, nullptr);
  CHECK(w.step(0xFFFFF000u, kNothing) == Action::kWifiBegin);
  CHECK(w.step(0xFFFFF000u + kDefaultTiming.wifi_timeout_ms - 1, kNothing) == Action::kNone);
  CHECK(w.step(0xFFFFF000u + kDefaultTiming.wifi_timeout_ms, kNothing) == Action::kWifiTimeout);
}

TEST_CASE("property: never two CONNECTs within one second, whatever happens") {
  XorShift random{2024};
  XorShift world{99};
  for (int run = 0; run < 50; ++run) {
    Connection c(kDefaultTiming, XorShift::call, &random);
    uint32_t now = 0xFFFF0000u + static_cast<uint32_t>(run) * 7919u;  // crosses the wrap
    bool have_last = false;
    uint32_t last_connect = 0;
    bool mqtt_up = false;
    for (int i = 0; i < 3000; ++i) {
      now += XorShift::call(&world) % 400u;
      const uint32_t r = XorShift::call(&world);
      Observed seen;
      seen.wifi_up = (r % 10u) != 0;
      seen.clock_valid = (r % 7u) != 0;
      seen.mqtt_connected = mqtt_up && (r % 13u) != 0;
      mqtt_up = seen.mqtt_connected;
      const Action a = c.step(now, seen);
      if (a == Action::kConnect) {
        if (have_last) CHECK(static_cast<uint32_t>(now - last_connect) >= 1000u);
        have_last = true;
        last_connect = now;
        now += XorShift::call(&world) % 3000u;  // the handshake takes time
        const bool ok = (XorShift::call(&world) % 3u) == 0;
        c.connect_result(now, ok);
        mqtt_up = ok;
      }
    }
    CHECK(have_last);
  }
}

namespace {

// Connects at once, stays up `session_ms`, is dropped; returns the next CONNECT's time.
uint32_t session_then_drop(Connection& c, uint32_t t, uint32_t session_ms, Action* report) {
  c.connect_result(t, true);
  REQUIRE(c.step(t + 1, kUp) == Action::kNone);
  *report = c.step(t + session_ms, kReady);
  uint32_t now = t + session_ms + c.last_delay_ms();
  REQUIRE(c.step(now, kReady) == Action::kNone);
  REQUIRE(c.step(now, kReady) == Action::kConnect);
  return now;
}

}  // namespace

TEST_CASE("policy drops right after CONNACK: backoff keeps growing, a handful of sessions a minute") {
  // AWS accepts CONNECT, sends CONNACK, then closes at the first denied SUBSCRIBE.
  Connection c(kDefaultTiming, lowest, nullptr);
  uint32_t t = to_first_connect(c, 0);
  const uint32_t start = t;
  std::vector<uint32_t> delays;
  int sessions_first_minute = 0;
  for (int i = 0; i < 8; ++i) {
    if (t - start < 60000) ++sessions_first_minute;
    Action report = Action::kNone;
    t = session_then_drop(c, t, 300, &report);
    CHECK(report == Action::kDroppedAfterConnack);
    delays.push_back(c.last_delay_ms());
  }
  CHECK(delays == std::vector<uint32_t>{1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000});
  CHECK(sessions_first_minute <= 7);
  CHECK(c.sessions() == 8);
  CHECK(c.last_session_ms() == 300);
}

TEST_CASE("a session that stayed up twice the keep-alive resets the backoff") {
  Connection c(kDefaultTiming, lowest, nullptr);
  uint32_t t = to_first_connect(c, 0);
  Action report = Action::kNone;
  for (int i = 0; i < 4; ++i) t = session_then_drop(c, t, 300, &report);
  CHECK(c.last_delay_ms() == 8000);
  // Up for a while, but less than 2 x keep-alive: an ordinary loss, the backoff still grows.
  t = session_then_drop(c, t, kDefaultTiming.stable_session_ms - 1, &report);
  CHECK(report == Action::kConnectionLost);
  CHECK(c.last_delay_ms() == 16000);
  t = session_then_drop(c, t, kDefaultTiming.stable_session_ms, &report);
  CHECK(report == Action::kConnectionLost);
  CHECK(c.last_delay_ms() == 1000);  // from the beginning again
}

TEST_CASE("the ESP32 does not wait for SNTP before TLS; the ESP8266 does") {
  Connection esp32(board_timing(false, 0), lowest, nullptr);
  CHECK(esp32.step(0, kNothing) == Action::kWifiBegin);
  CHECK(esp32.step(10, kWifiOnly) == Action::kStartClock);  // SNTP runs, for the timestamps
  CHECK(esp32.state() == State::kConnecting);
  CHECK(esp32.step(20, kWifiOnly) == Action::kConnect);  // clock still unset: connect anyway
  esp32.connect_result(30, false);
  const uint32_t back = 30 + esp32.last_delay_ms();
  CHECK(esp32.step(back, kWifiOnly) == Action::kNone);
  CHECK(esp32.step(back + 1, kWifiOnly) == Action::kConnect);

  Connection esp8266(board_timing(true, 0), lowest, nullptr);
  CHECK(esp8266.step(0, kNothing) == Action::kWifiBegin);
  CHECK(esp8266.step(10, kWifiOnly) == Action::kStartClock);
  CHECK(esp8266.state() == State::kWaitingForClock);
  CHECK(esp8266.step(20, kWifiOnly) == Action::kNone);
  // After a WiFi loss the ESP32 goes straight back to connecting too.
  Connection again(board_timing(false, 0), lowest, nullptr);
  const uint32_t t = 20;
  CHECK(again.step(0, kNothing) == Action::kWifiBegin);
  CHECK(again.step(10, kWifiOnly) == Action::kStartClock);
  CHECK(again.step(t, kWifiOnly) == Action::kConnect);
  again.connect_result(t + 1, true);
  CHECK(again.step(t + 2, {false, false, false}) == Action::kWifiLost);
  const uint32_t resume = t + 2 + again.last_delay_ms();
  CHECK(again.step(resume, kWifiOnly) == Action::kNone);
  CHECK(again.state() == State::kConnecting);
}

TEST_CASE("restart after the configured time without a session, never while connected") {
  const uint32_t limit = 600000;  // 10 minutes
  Connection c(board_timing(true, limit), lowest, nullptr);
  uint32_t t = to_first_connect(c, 0);
  bool restarted = false;
  while (t < 2 * limit) {
    c.connect_result(t, false);
    t += c.last_delay_ms();
    Action a = c.step(t, kReady);
    if (a == Action::kRestart) {
      restarted = true;
      break;
    }
    if (c.step(t, kReady) == Action::kRestart) {
      restarted = true;
      break;
    }
  }
  CHECK(restarted);
  CHECK(t >= limit);
  CHECK(t < limit + 130000);  // at most one capped backoff late
  CHECK(c.restart_reason() == RestartReason::kNoSession);
  CHECK(c.step(t + 1, kReady) == Action::kRestart);  // insists until the glue restarts

  Connection up(board_timing(true, limit), lowest, nullptr);
  t = to_first_connect(up, 0);
  up.connect_result(t, true);
  CHECK(up.step(t + 3 * limit, kUp) == Action::kNone);  // a long session never restarts
  // The clock starts again when the session ends.
  CHECK(up.step(t + 3 * limit + 1, kReady) == Action::kConnectionLost);
  CHECK(up.step(t + 3 * limit + limit - 10, kReady) != Action::kRestart);

  Connection never(board_timing(true, 0), lowest, nullptr);
  CHECK(never.step(0, kNothing) == Action::kWifiBegin);
  for (uint32_t m = 1; m < 100; ++m) CHECK(never.step(m * 3600000u, kNothing) != Action::kRestart);
}

TEST_CASE("restart after repeated out-of-memory connects; other failures break the streak") {
  Connection c(kDefaultTiming, lowest, nullptr);
  uint32_t t = to_first_connect(c, 0);
  auto retry = [&](ConnectOutcome outcome) {
    c.connect_result(t, outcome);
    t += c.last_delay_ms();
    Action a = c.step(t, kReady);
    if (a == Action::kRestart) return a;
    return c.step(t, kReady);
  };
  CHECK(retry(ConnectOutcome::kOutOfMemory) == Action::kConnect);
  CHECK(retry(ConnectOutcome::kOutOfMemory) == Action::kConnect);
  CHECK(retry(ConnectOutcome::kFailed) == Action::kConnect);  // streak broken
  CHECK(retry(ConnectOutcome::kOutOfMemory) == Action::kConnect);
  CHECK(retry(ConnectOutcome::kOutOfMemory) == Action::kConnect);
  CHECK(retry(ConnectOutcome::kOutOfMemory) == Action::kRestart);
  CHECK(c.restart_reason() == RestartReason::kOutOfMemory);
}

TEST_CASE("names for logs") {
  CHECK(std::string(state_name(State::kWaitingForClock)) == "waiting-for-clock");
  CHECK(std::string(action_name(Action::kConnect)) == "connect");
}
