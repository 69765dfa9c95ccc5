#pragma once
/// Logger: structured events, one per call. The default writes one JSON object per line to
/// stdout: {"time":"RFC 3339 ms","level":"info","event":"digest-done", ...fields}.
/// Events named in DESIGN.md: invalid-input, conflict, not-found, dependency-failure
/// {dependency, reason}, unknown-failure; plus request, job-start, job-done, job-failed,
/// startup, shutdown. Never pass secrets as fields. Thread-safe.

#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <variant>

#include "vpcflow/clock.hpp"

namespace vpcflow {

enum class LogLevel { kDebug = 0, kInfo, kWarn, kError };
/// "debug" | "info" | "warn" | "error".
std::string_view LogLevelName(LogLevel level);
/// Parses a level name (case-insensitive; "warning" = "warn"); false when unknown.
bool ParseLogLevel(std::string_view name, LogLevel* out);

/// One field: a key and a string, integer, double or bool value.
struct LogField {
  std::string_view key;
  std::variant<std::string_view, int64_t, double, bool> value;
  LogField(std::string_view k, std::string_view v) : key(k), value(v) {}
  LogField(std::string_view k, const std::string& v) : key(k), value(std::string_view(v)) {}
  LogField(std::string_view k, const char* v) : key(k), value(std::string_view(v)) {}
  LogField(std::string_view k, int64_t v) : key(k), value(v) {}
  LogField(std::string_view k, int v) : key(k), value(static_cast<int64_t>(v)) {}
  LogField(std::string_view k, uint64_t v) : key(k), value(static_cast<int64_t>(v)) {}
  LogField(std::string_view k, double v) : key(k), value(v) {}
  LogField(std::string_view k, bool v) : key(k), value(v) {}
};

class Logger {
 public:
  virtual ~Logger() = default;
  /// Records an event at `level` (dropped when below the logger's level).
  virtual void Log(LogLevel level, std::string_view event,
                   std::initializer_list<LogField> fields = {}) = 0;
};
using LoggerPtr = std::unique_ptr<Logger>;

/// JSON lines to `stream` (not owned; stdout by default), at `min_level` and above. Strings are
/// JSON-escaped (invalid UTF-8 becomes U+FFFD), non-finite doubles are written as null. Each
/// line is built first and written with one fwrite + fflush under a mutex, so lines never
/// interleave. "time" is UTC with milliseconds ("2019-01-01T00:00:00.000Z") from `clock`.
LoggerPtr NewJsonLogger(LogLevel min_level = LogLevel::kInfo, std::FILE* stream = stdout);
LoggerPtr NewJsonLogger(LogLevel min_level, std::FILE* stream, ClockPtr clock);

class LoggerWrapper : public Logger {
 public:
  explicit LoggerWrapper(Logger* target) : target_(target) {}
  void Log(LogLevel level, std::string_view event,
           std::initializer_list<LogField> fields = {}) override {
    target_->Log(level, event, fields);
  }
  Logger* target() const { return target_; }

 private:
  Logger* target_;
};

}  // namespace vpcflow
