// Is the wall clock good enough for certificate date checks?
#pragma once

#include <stdint.h>

namespace awsiot {

// 2024-01-01T00:00:00Z. A clock before this floor has not been set by SNTP (an unset
// ESP clock reads 1970, and BearSSL then fails with "certificate expired", error 54).
constexpr int64_t kDefaultClockFloor = 1704067200;

// Build-time floor: override with -D AWS_IOT_CLOCK_FLOOR=<unix seconds>.
#ifdef AWS_IOT_CLOCK_FLOOR
constexpr int64_t kClockFloor = AWS_IOT_CLOCK_FLOOR;
#else
constexpr int64_t kClockFloor = kDefaultClockFloor;
#endif

// `now` is time(nullptr) as a signed 64-bit count of seconds since 1970.
inline bool clock_valid(int64_t now, int64_t floor = kClockFloor) { return now >= floor; }

// Writes "YYYY-MM-DD hh:mm:ss" (UTC) for logs into out (at least 20 bytes); no libc
// time functions, so it behaves the same on the host and the boards.
void format_utc(int64_t seconds, char* out, unsigned out_size);

}  // namespace awsiot
