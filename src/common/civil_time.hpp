#pragma once
/// Civil (proleptic Gregorian, UTC) date arithmetic on Unix seconds. Pure, thread-safe.

#include <cstdint>

namespace vpcflow {

struct CivilTime {
  int year = 1970;
  int month = 1;  ///< 1-12
  int day = 1;    ///< 1-31
  int hour = 0;
  int minute = 0;
  int second = 0;
};

/// Days since 1970-01-01 for a civil date (H. Hinnant's days_from_civil).
int64_t DaysFromCivil(int year, int month, int day);
/// Unix seconds of a civil time. Does not validate ranges.
int64_t ToUnixSeconds(const CivilTime& t);
/// The civil time of Unix seconds (negative allowed).
CivilTime FromUnixSeconds(int64_t unix_seconds);
/// True when (year, month, day) is a real date.
bool IsValidDate(int year, int month, int day);

/// Rounds down to a multiple of `step` seconds (floor for negatives too).
inline int64_t FloorTo(int64_t t, int64_t step) {
  int64_t r = t % step;
  return r < 0 ? t - r - step : t - r;
}

}  // namespace vpcflow
