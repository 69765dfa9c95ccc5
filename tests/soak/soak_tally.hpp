#pragma once
/// The bookkeeping of `make soak` (tests/soak/soak_main.cpp): which answers each route may give
/// while the service is killed and its S3 gateway restarted, and the tally of every request
/// (counts by route and status, latencies, violations) printed as the summary table. Pure; the
/// Tally is thread-safe (the 200 client threads record into one).

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace vpcflow::soak {

/// The routes the soak's clients call.
enum class Route { kPost, kGetDigest, kStatus, kHealthz, kReadyz, kMetrics };

/// "POST /", "GET /", "GET /status", ...
std::string_view RouteName(Route route);

/// One finished request as the rules judge it.
struct Answer {
  Route route = Route::kPost;
  int status = 0;            ///< the HTTP status; 0 when no answer came (refused, reset, timeout)
  bool timed_out = false;    ///< no answer within the request's time limit
  bool cut_by_kill = false;  ///< the service was down or killed at some time during the request
  bool s3_outage = false;    ///< the S3 gateway was down (or just back) during the request
};

/// Whether `answer` is allowed (empty) or why not. Rules:
/// - no answer: only for a request the kill cut (a time-out too); never otherwise;
/// - POST /: 202, 409, 503 (a full queue or a store not ready);
/// - GET /: 200, 204, 404; GET /status: 200; during an S3 outage also 503 (dependency down);
/// - /healthz and /metrics: 200; /readyz: 200 or 503 (that is its purpose);
/// - anything else (401, 400, 500, ...) never.
std::string Violation(const Answer& answer);

/// The `q` quantile (0..1) of `values` by the nearest-rank method; 0 for none. Sorts `values`.
double Percentile(std::vector<double>& values, double q);

/// Every request's route, status and latency, and the violations found (the first 20 kept as
/// examples, all counted). Thread-safe.
class Tally {
 public:
  /// Records one request; returns its violation ("" when allowed).
  std::string Record(const Answer& answer, double latency_ms, const std::string& what);
  /// A violation that is not a request's (a digest that differs, a marker left, RSS too high).
  void AddViolation(const std::string& what);

  int64_t requests() const;
  int64_t violations() const;
  /// How many answers of `route` had `status` (0 = no answer).
  int64_t Count(Route route, int status) const;

  /// The table: one line per route and status with counts, then latency percentiles per route
  /// (p50, p90, p99, max in ms), then the violations (up to 20 examples).
  std::string Table() const;

 private:
  mutable std::mutex mu_;
  std::map<std::pair<Route, int>, int64_t> counts_;
  std::map<Route, std::vector<double>> latencies_ms_;
  int64_t requests_ = 0;
  int64_t violations_ = 0;
  std::vector<std::string> examples_;
};

}  // namespace vpcflow::soak
