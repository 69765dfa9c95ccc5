#include "vpcflow/window.hpp"

#include <charconv>
#include <cstdio>

#include "common/civil_time.hpp"
#include "common/uuid.hpp"

namespace vpcflow {

namespace {

// The instants ParseRfc3339 and MakeWindow accept: years 1970-9999 in UTC.
constexpr int64_t kMinTime = 0;
const int64_t kMaxTime = DaysFromCivil(10000, 1, 1) * 86400 - 1;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Reads `n` digits at `pos`; false when any is not a digit or the text is too short.
bool ReadDigits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (!IsDigit(s[i])) return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

bool Is(std::string_view s, size_t pos, char c) { return pos < s.size() && s[pos] == c; }

// The caller's text as quoted in a message: bounded, control bytes replaced.
std::string Quote(std::string_view text) {
  constexpr size_t kMax = 64;
  std::string out = "'";
  for (size_t i = 0; i < text.size() && i < kMax; ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    out.push_back(c < 0x20 || c == 0x7f ? '?' : text[i]);
  }
  if (text.size() > kMax) out += "...";
  out += "'";
  return out;
}

Status NotRfc3339(std::string_view text, std::string_view why = {}) {
  std::string message = "not an RFC 3339 time: " + Quote(text);
  if (!why.empty()) {
    message += " (";
    message += why;
    message += ")";
  }
  return InvalidArgumentError(std::move(message));
}

std::string HumanDuration(int64_t seconds) {
  struct Unit {
    int64_t seconds;
    const char* name;
  };
  static constexpr Unit kUnits[] = {{86400, "day"}, {3600, "hour"}, {60, "minute"}, {1, "second"}};
  for (const Unit& unit : kUnits) {
    if (seconds % unit.seconds == 0) {
      const int64_t n = seconds / unit.seconds;
      return std::to_string(n) + " " + unit.name + (n == 1 ? "" : "s");
    }
  }
  return std::to_string(seconds) + " seconds";
}

std::string GoUtcText(int64_t unix_seconds) {
  const CivilTime t = FromUnixSeconds(unix_seconds);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02d %02d:%02d:%02d +0000 UTC", t.year, t.month, t.day,
                t.hour, t.minute, t.second);
  return buf;
}

}  // namespace

// Strict RFC 3339 section 5.6 "date-time". Leap seconds (":60") are refused, as Go's time.Parse
// (the older service) refuses them: a window boundary never needs one.
Result<int64_t> ParseRfc3339(std::string_view text) {
  CivilTime t;
  if (!ReadDigits(text, 0, 4, &t.year) || !Is(text, 4, '-') || !ReadDigits(text, 5, 2, &t.month) ||
      !Is(text, 7, '-') || !ReadDigits(text, 8, 2, &t.day) ||
      !(Is(text, 10, 'T') || Is(text, 10, 't') || Is(text, 10, ' ')) ||
      !ReadDigits(text, 11, 2, &t.hour) || !Is(text, 13, ':') ||
      !ReadDigits(text, 14, 2, &t.minute) || !Is(text, 16, ':') ||
      !ReadDigits(text, 17, 2, &t.second)) {
    return NotRfc3339(text);
  }
  size_t pos = 19;
  if (Is(text, pos, '.')) {
    const size_t digits_begin = ++pos;
    while (pos < text.size() && IsDigit(text[pos])) ++pos;
    if (pos == digits_begin) return NotRfc3339(text, "a '.' must be followed by digits");
  }
  int offset_seconds = 0;
  if (Is(text, pos, 'Z') || Is(text, pos, 'z')) {
    ++pos;
  } else if (Is(text, pos, '+') || Is(text, pos, '-')) {
    int oh = 0;
    int om = 0;
    if (!ReadDigits(text, pos + 1, 2, &oh) || !Is(text, pos + 3, ':') ||
        !ReadDigits(text, pos + 4, 2, &om)) {
      return NotRfc3339(text, "offset must be +HH:MM or -HH:MM");
    }
    if (oh > 23 || om > 59) return NotRfc3339(text, "offset out of range");
    offset_seconds = (oh * 3600 + om * 60) * (text[pos] == '-' ? -1 : 1);
    pos += 6;
  } else if (Is(text, pos, ' ')) {
    // The usual way a '+' offset gets lost: unencoded in a URL query, it decodes to a space.
    return NotRfc3339(text, "a '+' in a URL query must be written %2B");
  } else {
    return NotRfc3339(text, "missing time zone: end with Z or an offset like +01:00");
  }
  if (pos != text.size()) return NotRfc3339(text, "unexpected text after the time zone");

  if (t.month < 1 || t.month > 12) return NotRfc3339(text, "month out of range");
  if (!IsValidDate(t.year, t.month, t.day)) return NotRfc3339(text, "day out of range");
  if (t.hour > 23) return NotRfc3339(text, "hour out of range");
  if (t.minute > 59) return NotRfc3339(text, "minute out of range");
  if (t.second > 59) return NotRfc3339(text, "second out of range; leap seconds are not accepted");
  const int64_t utc = ToUnixSeconds(t) - offset_seconds;
  if (utc < kMinTime || utc > kMaxTime) return NotRfc3339(text, "outside the years 1970-9999");
  return utc;
}

std::string FormatRfc3339(int64_t unix_seconds) {
  const CivilTime t = FromUnixSeconds(unix_seconds);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02dZ", t.year, t.month, t.day, t.hour,
                t.minute, t.second);
  return buf;
}

Result<Window> MakeWindow(std::string_view start, std::string_view stop,
                          int64_t max_window_seconds) {
  if (start.empty()) return InvalidArgumentError("missing start");
  if (stop.empty()) return InvalidArgumentError("missing stop");
  Result<int64_t> start_s = ParseRfc3339(start);
  if (!start_s.ok()) return start_s.status().WithContext("start");
  Result<int64_t> stop_s = ParseRfc3339(stop);
  if (!stop_s.ok()) return stop_s.status().WithContext("stop");
  return MakeWindow(*start_s, *stop_s, max_window_seconds);
}

Result<Window> MakeWindow(int64_t start, int64_t stop, int64_t max_window_seconds) {
  if (start < kMinTime || start > kMaxTime) {
    return InvalidArgumentError("start: outside the years 1970-9999");
  }
  if (stop < kMinTime || stop > kMaxTime) {
    return InvalidArgumentError("stop: outside the years 1970-9999");
  }
  const Window w{.start = FloorTo(start, 60), .stop = FloorTo(stop, 60)};
  if (w.start >= w.stop) {
    if (start < stop) {
      return InvalidArgumentError("start must be before stop (both are truncated to the minute: " +
                                  FormatRfc3339(w.start) + ")");
    }
    return InvalidArgumentError("start must be before stop");
  }
  if (max_window_seconds > 0 && w.stop - w.start > max_window_seconds) {
    return InvalidArgumentError("window longer than " + HumanDuration(max_window_seconds) +
                                " (max " + std::to_string(max_window_seconds) + " s)");
  }
  return w;
}

std::string DigestId(const Window& window) {
  static const Uuid kNamespace = UuidV5(kNilUuid, "digest");
  return UuidToString(UuidV5(kNamespace, GoUtcText(window.start) + GoUtcText(window.stop)));
}

Result<int64_t> ParseDurationSeconds(std::string_view text) {
  constexpr int64_t kMax = 10LL * 366 * 24 * 3600;
  constexpr std::string_view kUnits = "hms";
  constexpr int64_t kUnitSeconds[] = {3600, 60, 1};
  const Status bad = InvalidArgumentError(
      "\"" + std::string(text) + "\" is not a duration (seconds, or h/m/s parts like \"168h\")");
  int64_t total = 0;
  for (std::string_view rest = text; !rest.empty();) {
    int64_t n = 0;
    auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), n);
    if (ec != std::errc() || n < 0 || n > kMax) return bad;
    rest.remove_prefix(static_cast<size_t>(ptr - rest.data()));
    const size_t unit = rest.empty() ? std::string_view::npos : kUnits.find(rest.front());
    if (unit != std::string_view::npos) {
      total += n * kUnitSeconds[unit];
      rest.remove_prefix(1);
    } else if (rest.empty() && total == 0 && ptr == text.data() + text.size()) {
      total = n;  // whole seconds
    } else {
      return bad;  // an unknown unit, or "1h30" (a part without its unit)
    }
    if (total > kMax) return bad;
  }
  if (total <= 0) return bad;
  return total;
}

}  // namespace vpcflow
