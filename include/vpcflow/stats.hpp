#pragma once
/// Stats: counters, gauges and timings. The default sends DogStatsD over UDP
/// (`name:value|c|#tag:v`, default localhost:8126) and keeps the same series for Prometheus
/// text on /metrics. Sending never blocks and never fails the caller. Thread-safe.

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "vpcflow/status.hpp"

namespace vpcflow {

/// A tag, e.g. {"status", "200"}.
using StatTag = std::pair<std::string_view, std::string_view>;

class Stats {
 public:
  virtual ~Stats() = default;
  virtual void Count(std::string_view name, int64_t delta,
                     std::initializer_list<StatTag> tags = {}) = 0;
  virtual void Gauge(std::string_view name, double value,
                     std::initializer_list<StatTag> tags = {}) = 0;
  /// A duration in milliseconds.
  virtual void Timing(std::string_view name, double ms,
                      std::initializer_list<StatTag> tags = {}) = 0;
  /// Prometheus text exposition of everything recorded. Optional: Unimplemented by default.
  [[nodiscard]] virtual Result<std::string> Prometheus() const {
    return UnimplementedError("this Stats has no Prometheus exposition");
  }
};
using StatsPtr = std::unique_ptr<Stats>;

struct StatsOptions {
  std::string address = "localhost:8126";    ///< STATSD_ADDRESS host:port; "" = no UDP
  std::string prefix = "vpcflow_digesterd";  ///< metric name prefix
  std::string tags{};                        ///< constant tags "k:v,k2:v2" (STATSD_TAGS)
};
/// DogStatsD over UDP + an in-process registry for Prometheus. The address is resolved once,
/// here; each call sends one datagram `<prefix>.<name>:<value>|c` (`|g` gauges, `|ms` timings)
/// followed by `|#k:v,...` (constant tags, then the call's) from a non-blocking socket; a
/// datagram that cannot be sent at once is dropped. An unresolvable or malformed address only
/// disables the UDP side: the reason goes to `*warning` when given (OK otherwise), never fatal.
///
/// Prometheus names are `<prefix>_<name>` with characters outside [a-zA-Z0-9_] as '_':
/// counters `..._total` (TYPE counter), gauges as is (TYPE gauge), timings in seconds as a
/// histogram `..._seconds` (a trailing "_ms" of the name dropped; buckets 1 ms .. 60 s, plus
/// _sum and _count). Constant tags and the call's tags become labels (values escaped).
StatsPtr NewDogStatsd(const StatsOptions& options, Status* warning = nullptr);

class StatsWrapper : public Stats {
 public:
  explicit StatsWrapper(Stats* target) : target_(target) {}
  void Count(std::string_view n, int64_t d, std::initializer_list<StatTag> t = {}) override {
    target_->Count(n, d, t);
  }
  void Gauge(std::string_view n, double v, std::initializer_list<StatTag> t = {}) override {
    target_->Gauge(n, v, t);
  }
  void Timing(std::string_view n, double ms, std::initializer_list<StatTag> t = {}) override {
    target_->Timing(n, ms, t);
  }
  Result<std::string> Prometheus() const override { return target_->Prometheus(); }
  Stats* target() const { return target_; }

 private:
  Stats* target_;
};

}  // namespace vpcflow
