#include "aws_iot_backoff.h"

namespace awsiot {

Backoff::Backoff(const BackoffConfig& config, RandomFn random, void* random_ctx)
    : config_(config), random_(random), random_ctx_(random_ctx), failures_(0) {
  if (config_.cap_ms < config_.floor_ms) config_.cap_ms = config_.floor_ms;
  if (config_.initial_ms == 0) config_.initial_ms = 1;
}

uint32_t Backoff::base_ms() const {
  uint32_t base = config_.initial_ms;
  // Double without overflowing: stop as soon as the cap is reached.
  for (uint32_t i = 0; i < failures_ && base < config_.cap_ms; ++i) {
    base = (base > config_.cap_ms / 2u) ? config_.cap_ms : base * 2u;
  }
  return base < config_.cap_ms ? base : config_.cap_ms;
}

uint32_t Backoff::next_delay_ms() {
  const uint32_t base = base_ms();
  const uint32_t half = base / 2u;
  const uint32_t span = base - half;  // jitter in [0, span]
  uint32_t jitter = 0;
  if (random_ != nullptr && span > 0) {
    const uint32_t r = random_(random_ctx_);
    jitter = (span == UINT32_MAX) ? r : r % (span + 1u);
  }
  uint32_t delay = half + jitter;
  if (delay < config_.floor_ms) delay = config_.floor_ms;
  if (failures_ < UINT32_MAX) ++failures_;
  return delay;
}

}  // namespace awsiot
