#include "testing/memory_stats.hpp"

#include <algorithm>

namespace vpcflow {

void MemoryStats::Count(std::string_view name, int64_t delta, std::initializer_list<StatTag> tags) {
  registry_.Count(name, delta, tags);
  Record('c', name, static_cast<double>(delta), tags);
}

void MemoryStats::Gauge(std::string_view name, double value, std::initializer_list<StatTag> tags) {
  registry_.Gauge(name, value, tags);
  Record('g', name, value, tags);
}

void MemoryStats::Timing(std::string_view name, double ms, std::initializer_list<StatTag> tags) {
  registry_.Timing(name, ms, tags);
  Record('t', name, ms, tags);
}

void MemoryStats::Record(char type, std::string_view name, double value,
                         std::initializer_list<StatTag> tags) {
  StatSample sample{.type = type, .name = std::string(name), .value = value};
  for (const auto& [key, tag_value] : tags) sample.tags.emplace_back(key, tag_value);
  std::lock_guard lock(mu_);
  samples_.push_back(std::move(sample));
}

std::vector<StatSample> MemoryStats::samples() const {
  std::lock_guard lock(mu_);
  return samples_;
}

int64_t MemoryStats::CounterTotal(std::string_view name,
                                  std::initializer_list<StatTag> tags) const {
  std::lock_guard lock(mu_);
  double total = 0;
  for (const StatSample& sample : samples_) {
    if (sample.type != 'c' || sample.name != name) continue;
    bool matches = std::all_of(tags.begin(), tags.end(), [&](const StatTag& tag) {
      return std::find(sample.tags.begin(), sample.tags.end(),
                       std::pair<std::string, std::string>(tag.first, tag.second)) !=
             sample.tags.end();
    });
    if (matches) total += sample.value;
  }
  return static_cast<int64_t>(total);
}

std::optional<double> MemoryStats::LastGauge(std::string_view name) const {
  std::lock_guard lock(mu_);
  for (auto it = samples_.rbegin(); it != samples_.rend(); ++it) {
    if (it->type == 'g' && it->name == name) return it->value;
  }
  return std::nullopt;
}

size_t MemoryStats::TimingCount(std::string_view name) const {
  std::lock_guard lock(mu_);
  return static_cast<size_t>(std::count_if(samples_.begin(), samples_.end(), [&](const auto& s) {
    return s.type == 't' && s.name == name;
  }));
}

}  // namespace vpcflow
