#include "testing/memory_logger.hpp"

#include "modules/text_format.hpp"

namespace vpcflow {

std::string LoggedEvent::Field(const std::string& key) const {
  auto it = fields.find(key);
  return it == fields.end() ? "" : it->second;
}

void MemoryLogger::Log(LogLevel level, std::string_view event,
                       std::initializer_list<LogField> fields) {
  if (level < min_level_) return;
  LoggedEvent logged{.level = level, .event = std::string(event)};
  for (const LogField& field : fields) {
    std::string text;
    std::visit(
        [&](const auto& value) {
          using T = std::decay_t<decltype(value)>;
          if constexpr (std::is_same_v<T, std::string_view>) {
            text = value;
          } else if constexpr (std::is_same_v<T, bool>) {
            text = value ? "true" : "false";
          } else if constexpr (std::is_same_v<T, double>) {
            AppendDouble(text, value);
          } else {
            text = std::to_string(value);
          }
        },
        field.value);
    logged.fields[std::string(field.key)] = std::move(text);
  }
  std::lock_guard lock(mu_);
  events_.push_back(std::move(logged));
}

std::vector<LoggedEvent> MemoryLogger::events() const {
  std::lock_guard lock(mu_);
  return events_;
}

std::vector<LoggedEvent> MemoryLogger::Events(std::string_view event) const {
  std::lock_guard lock(mu_);
  std::vector<LoggedEvent> out;
  for (const LoggedEvent& logged : events_) {
    if (logged.event == event) out.push_back(logged);
  }
  return out;
}

size_t MemoryLogger::Count(std::string_view event) const { return Events(event).size(); }

void MemoryLogger::Clear() {
  std::lock_guard lock(mu_);
  events_.clear();
}

}  // namespace vpcflow
