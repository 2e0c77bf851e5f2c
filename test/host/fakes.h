// Test doubles: a scripted random source.
#pragma once

#include <stddef.h>
#include <stdint.h>

// Returns `values` in turn, repeating the last one.
struct ScriptedRandom {
  const uint32_t* values;
  size_t count;
  size_t next;

  static uint32_t call(void* ctx) {
    ScriptedRandom* self = static_cast<ScriptedRandom*>(ctx);
    const uint32_t value = self->values[self->next < self->count ? self->next : self->count - 1];
    if (self->next < self->count) ++self->next;
    return value;
  }
};

// xorshift32: deterministic pseudo-random values for property-style tests.
struct XorShift {
  uint32_t state;
  static uint32_t call(void* ctx) {
    XorShift* self = static_cast<XorShift*>(ctx);
    uint32_t x = self->state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    self->state = x;
    return x;
  }
};
