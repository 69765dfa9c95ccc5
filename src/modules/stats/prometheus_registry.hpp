#pragma once
/// PrometheusRegistry: counters, gauges and timing histograms kept in memory and written as
/// Prometheus text exposition (version 0.0.4), with the naming rules of stats.hpp. Used by the
/// DogStatsD Stats and by testing/MemoryStats. Thread-safe (one mutex).

#include <array>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "vpcflow/stats.hpp"

namespace vpcflow {

/// Histogram bucket upper bounds, in seconds.
inline constexpr std::array<double, 14> kTimingBucketsSeconds = {
    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};

/// "k:v,k2:v2" -> {{"k","v"},{"k2","v2"}}; a tag without ':' gets an empty value; blanks skipped.
std::vector<std::pair<std::string, std::string>> ParseStatTags(std::string_view tags);

class PrometheusRegistry {
 public:
  /// `prefix` starts every name; `constant_labels` are added to every series.
  PrometheusRegistry(const std::string& prefix,
                     std::vector<std::pair<std::string, std::string>> constant_labels);

  void Count(std::string_view name, int64_t delta, std::initializer_list<StatTag> tags);
  void Gauge(std::string_view name, double value, std::initializer_list<StatTag> tags);
  void Timing(std::string_view name, double ms, std::initializer_list<StatTag> tags);

  /// Every family sorted by name, series sorted by labels.
  std::string Text() const;

 private:
  enum class Type { kCounter, kGauge, kHistogram };
  struct Series {
    double value = 0;  // counter total or gauge value; histogram sum (seconds)
    uint64_t count = 0;
    std::array<uint64_t, kTimingBucketsSeconds.size()> buckets{};  // not cumulative
  };
  struct Family {
    Type type = Type::kCounter;
    std::string help;
    std::map<std::string, Series> series;  // by label text "k=\"v\",..."
  };

  Series& Find(Type type, std::string_view name, std::string_view suffix,
               std::initializer_list<StatTag> tags);

  const std::string prefix_;       // sanitized, with '_'
  const std::string help_prefix_;  // as given, with '.': HELP shows the DogStatsD name
  const std::vector<std::pair<std::string, std::string>> constant_labels_;
  mutable std::mutex mu_;
  std::map<std::string, Family> families_;
};

}  // namespace vpcflow
