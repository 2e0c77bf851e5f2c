#include "aws_iot_clock.h"

#include <stdio.h>

namespace awsiot {

void format_utc(int64_t seconds, char* out, unsigned out_size) {
  if (out == nullptr || out_size == 0) return;
  int64_t days = seconds / 86400;
  int64_t rem = seconds % 86400;
  if (rem < 0) {
    rem += 86400;
    --days;
  }
  // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
  days += 719468;
  const int64_t era = (days >= 0 ? days : days - 146096) / 146097;
  const int64_t doe = days - era * 146097;
  const int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const int64_t mp = (5 * doy + 2) / 153;
  const int64_t day = doy - (153 * mp + 2) / 5 + 1;
  const int64_t month = mp < 10 ? mp + 3 : mp - 9;
  const int64_t year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  snprintf(out, out_size, "%04ld-%02ld-%02ld %02ld:%02ld:%02ld", static_cast<long>(year),
           static_cast<long>(month), static_cast<long>(day), static_cast<long>(rem / 3600),
           static_cast<long>((rem / 60) % 60), static_cast<long>(rem % 60));
}

}  // namespace awsiot
