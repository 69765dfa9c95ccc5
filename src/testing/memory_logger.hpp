#pragma once
/// MemoryLogger: captures events for assertions. Field values are kept as text (numbers in
/// decimal, booleans "true"/"false"). Thread-safe (one mutex).

#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "vpcflow/logger.hpp"

namespace vpcflow {

struct LoggedEvent {
  LogLevel level = LogLevel::kInfo;
  std::string event{};
  std::map<std::string, std::string> fields{};
  /// The field's text, or "" when absent.
  std::string Field(const std::string& key) const;
};

class MemoryLogger final : public Logger {
 public:
  explicit MemoryLogger(LogLevel min_level = LogLevel::kDebug) : min_level_(min_level) {}

  void Log(LogLevel level, std::string_view event,
           std::initializer_list<LogField> fields = {}) override;

  std::vector<LoggedEvent> events() const;
  /// The events named `event`, in order.
  std::vector<LoggedEvent> Events(std::string_view event) const;
  size_t Count(std::string_view event) const;
  void Clear();

 private:
  const LogLevel min_level_;
  mutable std::mutex mu_;
  std::vector<LoggedEvent> events_;
};

}  // namespace vpcflow
