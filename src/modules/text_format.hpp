#pragma once
/// Text formats shared by the modules: RFC 3339 times with milliseconds (markers, logs) and
/// shortest round-trip doubles (logs, stats). Pure, thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace vpcflow {

/// "YYYY-MM-DDTHH:MM:SS.mmmZ" (UTC) of Unix milliseconds.
std::string FormatRfc3339Millis(int64_t unix_ms);

/// Unix milliseconds of an RFC 3339 time (any offset, any fraction: digits past the third are
/// dropped), or nullopt when `text` is not RFC 3339.
std::optional<int64_t> ParseRfc3339Millis(std::string_view text);

/// Appends the shortest text that reads back as `value` ("1", "0.25", "1e+300"). Non-finite
/// values append `non_finite` instead.
void AppendDouble(std::string& out, double value, std::string_view non_finite = "null");

}  // namespace vpcflow
