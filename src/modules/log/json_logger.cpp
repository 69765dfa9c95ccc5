#include <cstdint>
#include <mutex>
#include <string>

#include "common/json_string.hpp"
#include "modules/text_format.hpp"
#include "vpcflow/logger.hpp"

namespace vpcflow {

std::string_view LogLevelName(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarn:
      return "warn";
    case LogLevel::kError:
      return "error";
  }
  return "info";
}

bool ParseLogLevel(std::string_view name, LogLevel* out) {
  std::string lower;
  for (char c : name) lower += static_cast<char>(c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c);
  LogLevel level;
  if (lower == "debug") {
    level = LogLevel::kDebug;
  } else if (lower == "info") {
    level = LogLevel::kInfo;
  } else if (lower == "warn" || lower == "warning") {
    level = LogLevel::kWarn;
  } else if (lower == "error") {
    level = LogLevel::kError;
  } else {
    return false;
  }
  *out = level;
  return true;
}

namespace {

class JsonLogger final : public Logger {
 public:
  JsonLogger(LogLevel min_level, std::FILE* stream, ClockPtr clock)
      : min_level_(min_level), stream_(stream), clock_(std::move(clock)) {}

  void Log(LogLevel level, std::string_view event,
           std::initializer_list<LogField> fields) override {
    if (level < min_level_) return;
    std::string line;
    line.reserve(256);
    line += R"({"time":")";
    line += FormatRfc3339Millis(clock_->NowUnixMillis());
    line += R"(","level":")";
    line += LogLevelName(level);
    line += R"(","event":)";
    AppendJsonString(line, event);
    for (const LogField& field : fields) {
      line += ',';
      AppendJsonString(line, field.key);
      line += ':';
      std::visit(
          [&](const auto& value) {
            using T = std::decay_t<decltype(value)>;
            if constexpr (std::is_same_v<T, std::string_view>) {
              AppendJsonString(line, value);
            } else if constexpr (std::is_same_v<T, bool>) {
              line += value ? "true" : "false";
            } else if constexpr (std::is_same_v<T, double>) {
              AppendDouble(line, value);
            } else {
              line += std::to_string(value);
            }
          },
          field.value);
    }
    line += "}\n";
    std::lock_guard lock(mu_);
    std::fwrite(line.data(), 1, line.size(), stream_);
    std::fflush(stream_);
  }

 private:
  const LogLevel min_level_;
  std::FILE* const stream_;
  const ClockPtr clock_;
  std::mutex mu_;
};

}  // namespace

LoggerPtr NewJsonLogger(LogLevel min_level, std::FILE* stream) {
  return NewJsonLogger(min_level, stream, SystemClock());
}

LoggerPtr NewJsonLogger(LogLevel min_level, std::FILE* stream, ClockPtr clock) {
  if (clock == nullptr) clock = SystemClock();
  return std::make_unique<JsonLogger>(min_level, stream != nullptr ? stream : stdout,
                                      std::move(clock));
}

}  // namespace vpcflow
