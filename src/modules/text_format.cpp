#include "modules/text_format.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>

#include "common/civil_time.hpp"
#include "vpcflow/window.hpp"

namespace vpcflow {

std::string FormatRfc3339Millis(int64_t unix_ms) {
  int64_t seconds = FloorTo(unix_ms, 1000) / 1000;
  int millis = static_cast<int>(unix_ms - seconds * 1000);
  CivilTime t = FromUnixSeconds(seconds);
  char buffer[40];
  int n = std::snprintf(buffer, sizeof(buffer), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", t.year,
                        t.month, t.day, t.hour, t.minute, t.second, millis);
  return std::string(buffer, static_cast<size_t>(n));
}

std::optional<int64_t> ParseRfc3339Millis(std::string_view text) {
  Result<int64_t> seconds = ParseRfc3339(text);
  if (!seconds.ok()) return std::nullopt;
  // ParseRfc3339 drops the fraction; it sits right after the seconds field "...T12:34:56".
  int64_t millis = 0;
  if (text.size() > 20 && text[19] == '.') {
    int64_t scale = 100;
    for (size_t i = 20; i < text.size() && text[i] >= '0' && text[i] <= '9' && scale > 0; ++i) {
      millis += (text[i] - '0') * scale;
      scale /= 10;
    }
  }
  return *seconds * 1000 + millis;
}

void AppendDouble(std::string& out, double value, std::string_view non_finite) {
  if (!std::isfinite(value)) {
    out += non_finite;
    return;
  }
  char buffer[32];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  if (ec == std::errc()) out.append(buffer, end);
}

}  // namespace vpcflow
