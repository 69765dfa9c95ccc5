#include <cstdint>
#include <mutex>
#include <string>

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

// The length of the valid UTF-8 sequence at the start of `s` (RFC 3629: no overlongs, no
// surrogates, at most U+10FFFF), or 0 when it is not one.
size_t Utf8SequenceLength(std::string_view s) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  auto continuation = [&](size_t i) { return i < s.size() && (byte(i) & 0xC0) == 0x80; };
  unsigned char b0 = byte(0);
  if (b0 < 0x80) return 1;
  if (b0 >= 0xC2 && b0 <= 0xDF) return continuation(1) ? 2 : 0;
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    if (!continuation(1) || !continuation(2)) return 0;
    if (b0 == 0xE0 && byte(1) < 0xA0) return 0;   // overlong
    if (b0 == 0xED && byte(1) >= 0xA0) return 0;  // surrogate
    return 3;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    if (!continuation(1) || !continuation(2) || !continuation(3)) return 0;
    if (b0 == 0xF0 && byte(1) < 0x90) return 0;   // overlong
    if (b0 == 0xF4 && byte(1) >= 0x90) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

void AppendJsonString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  while (!s.empty()) {
    unsigned char c = static_cast<unsigned char>(s[0]);
    size_t length = Utf8SequenceLength(s);
    if (length == 0) {
      out += "\\ufffd";
      length = 1;
    } else if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\r') {
      out += "\\r";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7F) {
      out += "\\u00";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    } else {
      out.append(s.data(), length);
    }
    s.remove_prefix(length);
  }
  out += '"';
}

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
