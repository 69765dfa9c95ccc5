#pragma once
/// MemoryStats: records every sample for assertions and serves the same Prometheus text as the
/// default (same registry, no UDP). Thread-safe (one mutex).

#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "modules/stats/prometheus_registry.hpp"
#include "vpcflow/stats.hpp"

namespace vpcflow {

struct StatSample {
  char type = 'c';  ///< 'c' count, 'g' gauge, 't' timing
  std::string name{};
  double value = 0;
  std::vector<std::pair<std::string, std::string>> tags{};
};

class MemoryStats final : public Stats {
 public:
  explicit MemoryStats(std::string prefix = "vpcflow_digesterd")
      : registry_(std::move(prefix), {}) {}

  void Count(std::string_view name, int64_t delta,
             std::initializer_list<StatTag> tags = {}) override;
  void Gauge(std::string_view name, double value,
             std::initializer_list<StatTag> tags = {}) override;
  void Timing(std::string_view name, double ms, std::initializer_list<StatTag> tags = {}) override;
  Result<std::string> Prometheus() const override { return registry_.Text(); }

  std::vector<StatSample> samples() const;
  /// The sum of the counts of `name` whose tags include every one of `tags`.
  int64_t CounterTotal(std::string_view name, std::initializer_list<StatTag> tags = {}) const;
  /// The last value of gauge `name`.
  std::optional<double> LastGauge(std::string_view name) const;
  /// How many timings of `name` were recorded.
  size_t TimingCount(std::string_view name) const;

 private:
  void Record(char type, std::string_view name, double value, std::initializer_list<StatTag> tags);

  PrometheusRegistry registry_;
  mutable std::mutex mu_;
  std::vector<StatSample> samples_;
};

}  // namespace vpcflow
