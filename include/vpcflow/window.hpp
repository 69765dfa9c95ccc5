#pragma once
/// The digest window and its id (DESIGN.md, "Window and id").
///
/// Times are Unix seconds (UTC). Pure functions, safe from any thread.

#include <cstdint>
#include <string>
#include <string_view>

#include "vpcflow/status.hpp"

namespace vpcflow {

/// The default longest window (DIGEST_MAX_WINDOW): 7 days.
inline constexpr int64_t kDefaultMaxWindowSeconds = int64_t{7} * 24 * 3600;

/// A digest window `[start, stop)` in Unix seconds, both multiples of 60.
struct Window {
  int64_t start = 0;
  int64_t stop = 0;
  friend bool operator==(const Window&, const Window&) = default;
};

/// Parses an RFC 3339 timestamp ("2019-01-01T00:00:00Z", "2019-01-01T01:30:00.25+01:30",
/// lower-case 't'/'z' and a space instead of 'T' accepted) into Unix seconds (fraction dropped).
/// Returns InvalidArgument naming the text when it is not RFC 3339 or out of the years 1970-9999
/// (checked in UTC). A leap second (":60") is refused, as the older Go service refused it.
Result<int64_t> ParseRfc3339(std::string_view text);

/// Formats Unix seconds as "YYYY-MM-DDTHH:MM:SSZ".
std::string FormatRfc3339(int64_t unix_seconds);

/// Builds a window from two RFC 3339 texts: both converted to UTC and truncated to the minute.
/// Returns InvalidArgument (with a message fit for an API client) when a time is missing (empty)
/// or unparsable, when start is not before stop after truncation, or when the window is longer
/// than `max_window_seconds` (0 or less: no limit). Messages: "missing start", "start: not an
/// RFC 3339 time: 'abc'", "start must be before stop", "window longer than 7 days (max 604800 s)".
Result<Window> MakeWindow(std::string_view start, std::string_view stop,
                          int64_t max_window_seconds = kDefaultMaxWindowSeconds);

/// Same checks for a window already in seconds (truncates both to the minute).
Result<Window> MakeWindow(int64_t start, int64_t stop,
                          int64_t max_window_seconds = kDefaultMaxWindowSeconds);

/// The default DIGEST_SETTLE: flow logs reach their bucket up to about 15 minutes after a
/// record's end, so a window is complete 20 minutes after its stop.
inline constexpr int64_t kDefaultSettleSeconds = int64_t{20} * 60;

/// The syntax of DIGEST_MAX_WINDOW: whole seconds ("604800") or a duration of h/m/s parts
/// ("168h", "1h30m", "90s"), positive and at most ten years. Returns InvalidArgument quoting
/// the text otherwise.
Result<int64_t> ParseDurationSeconds(std::string_view text);

/// The digest id: UUID version 5, namespace UUIDv5(nil, "digest"), name fmt(start) + fmt(stop)
/// with fmt = "YYYY-MM-DD HH:MM:SS +0000 UTC". Lower-case canonical text, e.g.
/// "9740a140-ba85-5600-8b93-7b46eec77617" for 2019-01-01T00:00Z .. 01:00Z.
std::string DigestId(const Window& window);

}  // namespace vpcflow
