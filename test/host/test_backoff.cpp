#include <doctest/doctest.h>

#include "aws_iot_backoff.h"
#include "fakes.h"

using awsiot::Backoff;
using awsiot::BackoffConfig;

namespace {
uint32_t always_zero(void*) { return 0; }
uint32_t always_max(void*) { return UINT32_MAX; }
}  // namespace

TEST_CASE("backoff doubles from the initial delay up to the cap, then stays there") {
  Backoff backoff(BackoffConfig{1000, 120000, 1000}, always_max, nullptr);
  const uint32_t expected[] = {1000, 2000, 4000, 8000, 16000, 32000, 64000, 120000, 120000};
  for (uint32_t want : expected) {
    CHECK(backoff.base_ms() == want);
    backoff.next_delay_ms();
  }
}

TEST_CASE("an initial delay above the cap is capped") {
  Backoff backoff(BackoffConfig{5000, 3000, 1000}, always_max, nullptr);
  CHECK(backoff.base_ms() == 3000);
  CHECK(backoff.next_delay_ms() <= 3000);
}

TEST_CASE("backoff never overflows after many failures") {
  Backoff backoff(BackoffConfig{3000, 0xF0000000u, 1000}, always_max, nullptr);
  uint32_t last = 0;
  for (int i = 0; i < 10000; ++i) {
    const uint32_t d = backoff.next_delay_ms();
    CHECK(d <= 0xF0000000u);
    CHECK(d >= 1000u);
    last = d;
  }
  CHECK(backoff.base_ms() == 0xF0000000u);
  CHECK(last >= 0x78000000u);
}

TEST_CASE("jitter stays within [base/2, base]") {
  SUBCASE("lowest random value gives half the base") {
    Backoff backoff(BackoffConfig{8000, 60000, 1000}, always_zero, nullptr);
    CHECK(backoff.next_delay_ms() == 4000);
    CHECK(backoff.next_delay_ms() == 8000);
    CHECK(backoff.next_delay_ms() == 16000);
    CHECK(backoff.next_delay_ms() == 30000);  // cap 60000 / 2
  }
  SUBCASE("random equal to the span gives the full base") {
    const uint32_t values[] = {4000};
    ScriptedRandom random{values, 1, 0};
    Backoff backoff(BackoffConfig{8000, 60000, 1000}, ScriptedRandom::call, &random);
    CHECK(backoff.next_delay_ms() == 8000);
  }
  SUBCASE("random past the span wraps inside it") {
    const uint32_t values[] = {4001};
    ScriptedRandom random{values, 1, 0};
    Backoff backoff(BackoffConfig{8000, 60000, 1000}, ScriptedRandom::call, &random);
    CHECK(backoff.next_delay_ms() == 4000);
  }
  SUBCASE("many pseudo-random draws stay in bounds and do vary") {
    XorShift random{12345};
    uint32_t lowest = UINT32_MAX, highest = 0;
    for (int round = 0; round < 200; ++round) {
      Backoff backoff(BackoffConfig{1000, 120000, 1000}, XorShift::call, &random);
      for (int i = 0; i < 12; ++i) {
        const uint32_t base = backoff.base_ms();
        const uint32_t d = backoff.next_delay_ms();
        CHECK(d >= base / 2);
        CHECK(d <= base);
        CHECK(d >= 1000u);
        CHECK(d <= 120000u);
        if (i == 4) {  // base 16000
          lowest = d < lowest ? d : lowest;
          highest = d > highest ? d : highest;
        }
      }
    }
    CHECK(highest - lowest > 4000);  // jitter really spreads retries
  }
}

TEST_CASE("the floor keeps every delay at or above one second") {
  Backoff backoff(BackoffConfig{100, 400, 1000}, always_zero, nullptr);
  for (int i = 0; i < 20; ++i) CHECK(backoff.next_delay_ms() == 1000);
  Backoff tiny(BackoffConfig{0, 0, 1000}, always_max, nullptr);
  CHECK(tiny.next_delay_ms() == 1000);
}

TEST_CASE("the MQTT preset respects AWS's one CONNECT per second even at its first retry") {
  XorShift random{7};
  for (int round = 0; round < 100; ++round) {
    Backoff backoff(awsiot::kMqttBackoff, XorShift::call, &random);
    CHECK(backoff.next_delay_ms() >= 1000u);
  }
}

TEST_CASE("reset starts again from the initial delay") {
  Backoff backoff(BackoffConfig{1000, 60000, 1000}, always_max, nullptr);
  for (int i = 0; i < 5; ++i) backoff.next_delay_ms();
  CHECK(backoff.failures() == 5);
  CHECK(backoff.base_ms() == 32000);
  backoff.reset();
  CHECK(backoff.failures() == 0);
  CHECK(backoff.next_delay_ms() == 1000);
}

TEST_CASE("without a random source the delay is the lower bound") {
  Backoff backoff(BackoffConfig{4000, 60000, 1000}, nullptr, nullptr);
  CHECK(backoff.next_delay_ms() == 2000);
}

TEST_CASE("elapsed() is correct across the 32-bit millis() wrap-around") {
  using awsiot::elapsed;
  CHECK(elapsed(1000, 0, 1000));
  CHECK_FALSE(elapsed(999, 0, 1000));
  // since 16 ms before the wrap, now 5 ms after it: 21 ms
  CHECK(elapsed(5u, 0xFFFFFFF0u, 21));
  CHECK_FALSE(elapsed(5u, 0xFFFFFFF0u, 22));
  CHECK(elapsed(999u, 0xFFFFFC18u, 1999));  // 1000 before the wrap, 999 after
  CHECK_FALSE(elapsed(998u, 0xFFFFFC18u, 1999));
  // A naive signed or "now >= since + interval" comparison fails here:
  const uint32_t since = 0xFFFFFF00u;
  const uint32_t now = 0x00000010u;
  CHECK(elapsed(now, since, 0x100));
  // "now >= since + interval" is wrong when only since + interval wraps:
  CHECK_FALSE(elapsed(0xFFFFFF80u, 0xFFFFFF00u, 0x200));
  CHECK(elapsed(0x00000100u, 0xFFFFFF00u, 0x200));
}
