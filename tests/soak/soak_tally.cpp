#include "soak/soak_tally.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace vpcflow::soak {

std::string_view RouteName(Route route) {
  switch (route) {
    case Route::kPost:
      return "POST /";
    case Route::kGetDigest:
      return "GET /";
    case Route::kStatus:
      return "GET /status";
    case Route::kHealthz:
      return "GET /healthz";
    case Route::kReadyz:
      return "GET /readyz";
    case Route::kMetrics:
      return "GET /metrics";
  }
  return "?";
}

std::string Violation(const Answer& a) {
  const std::string route(RouteName(a.route));
  if (a.status == 0) {
    if (a.cut_by_kill) return "";
    return route + (a.timed_out ? ": no answer within the time limit" : ": no answer");
  }
  bool allowed = false;
  switch (a.route) {
    case Route::kPost:
      allowed = a.status == 202 || a.status == 409 || a.status == 503;
      break;
    case Route::kGetDigest:
      allowed =
          a.status == 200 || a.status == 204 || a.status == 404 || (a.status == 503 && a.s3_outage);
      break;
    case Route::kStatus:
      allowed = a.status == 200 || (a.status == 503 && a.s3_outage);
      break;
    case Route::kHealthz:
    case Route::kMetrics:
      allowed = a.status == 200;
      break;
    case Route::kReadyz:
      allowed = a.status == 200 || a.status == 503;
      break;
  }
  if (allowed) return "";
  return route + ": status " + std::to_string(a.status) + " is not allowed" +
         (a.s3_outage ? " (during the S3 outage)" : "");
}

double Percentile(std::vector<double>& values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  // Nearest rank: the smallest value with at least q of the values at or below it.
  const double rank = std::ceil(q * static_cast<double>(values.size()));
  const size_t index = rank < 1 ? 0 : static_cast<size_t>(rank) - 1;
  return values[std::min(index, values.size() - 1)];
}

std::string Tally::Record(const Answer& answer, double latency_ms, const std::string& what) {
  std::string violation = Violation(answer);
  std::lock_guard lock(mu_);
  ++requests_;
  ++counts_[{answer.route, answer.status}];
  latencies_ms_[answer.route].push_back(latency_ms);
  if (!violation.empty()) {
    ++violations_;
    if (examples_.size() < 20) examples_.push_back(violation + " (" + what + ")");
  }
  return violation;
}

void Tally::AddViolation(const std::string& what) {
  std::lock_guard lock(mu_);
  ++violations_;
  if (examples_.size() < 20) examples_.push_back(what);
}

int64_t Tally::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

int64_t Tally::violations() const {
  std::lock_guard lock(mu_);
  return violations_;
}

int64_t Tally::Count(Route route, int status) const {
  std::lock_guard lock(mu_);
  auto it = counts_.find({route, status});
  return it == counts_.end() ? 0 : it->second;
}

std::string Tally::Table() const {
  std::lock_guard lock(mu_);
  std::string out;
  char line[160];
  std::snprintf(line, sizeof(line), "%-14s %-10s %10s\n", "route", "status", "requests");
  out += line;
  for (const auto& [key, n] : counts_) {
    const std::string status = key.second == 0 ? "no answer" : std::to_string(key.second);
    std::snprintf(line, sizeof(line), "%-14s %-10s %10lld\n",
                  std::string(RouteName(key.first)).c_str(), status.c_str(),
                  static_cast<long long>(n));
    out += line;
  }
  std::snprintf(line, sizeof(line), "\n%-14s %10s %10s %10s %10s %10s  (latency, ms)\n", "route",
                "requests", "p50", "p90", "p99", "max");
  out += line;
  for (const auto& [route, values] : latencies_ms_) {
    std::vector<double> v = values;
    const double p50 = Percentile(v, 0.50), p90 = Percentile(v, 0.90), p99 = Percentile(v, 0.99),
                 max = Percentile(v, 1.0);
    std::snprintf(line, sizeof(line), "%-14s %10zu %10.1f %10.1f %10.1f %10.1f\n",
                  std::string(RouteName(route)).c_str(), v.size(), p50, p90, p99, max);
    out += line;
  }
  std::snprintf(line, sizeof(line), "\nrequests %lld, violations %lld\n",
                static_cast<long long>(requests_), static_cast<long long>(violations_));
  out += line;
  for (const std::string& e : examples_) out += "  violation: " + e + "\n";
  if (violations_ > static_cast<int64_t>(examples_.size())) {
    out += "  ... and " + std::to_string(violations_ - static_cast<int64_t>(examples_.size())) +
           " more\n";
  }
  return out;
}

}  // namespace vpcflow::soak
