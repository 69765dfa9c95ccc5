#pragma once
/// ProgressBar: the command-line tool's one-line progress report of a digest run (objects, MB,
/// percent, seconds). On a terminal the line is redrawn in place and appears once the run has
/// taken a second (unless forced); otherwise, only when forced, a line is printed at most every
/// two seconds and at the end. Not thread-safe: RunDigest serialises its progress calls.

#include <chrono>
#include <cstdio>

#include "vpcflow/digest.hpp"

namespace vpcflow {

class ProgressBar {
 public:
  /// `forced`: --progress was given. `terminal`: `out` is a terminal. `out` is not owned.
  ProgressBar(bool forced, bool terminal, std::FILE* out = stderr);

  /// Whether Report prints anything at all (forced, or on a terminal).
  bool enabled() const { return forced_ || terminal_; }

  /// Prints `p` when due (always when it is the last report: objects_done == objects_total).
  void Report(const DigestProgress& p);

  /// Ends an in-place line, so that later messages start on a line of their own.
  void Finish();

 private:
  using Clock = std::chrono::steady_clock;

  bool forced_;
  bool terminal_;
  std::FILE* out_;
  Clock::time_point t0_;
  double last_line_ = -1e9;
  bool drawn_ = false;
};

}  // namespace vpcflow
