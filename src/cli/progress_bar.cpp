#include "cli/progress_bar.hpp"

#include <cinttypes>

namespace vpcflow {
namespace {

// On a terminal, a short run shows no bar at all.
constexpr double kTerminalAfterSeconds = 1.0;
// Off a terminal, lines are at least this far apart (a log, not an animation).
constexpr double kLineIntervalSeconds = 2.0;
constexpr int kWidth = 24;

}  // namespace

ProgressBar::ProgressBar(bool forced, bool terminal, std::FILE* out)
    : forced_(forced), terminal_(terminal), out_(out), t0_(Clock::now()) {}

void ProgressBar::Report(const DigestProgress& p) {
  const double elapsed = std::chrono::duration<double>(Clock::now() - t0_).count();
  const bool final = p.objects_done == p.objects_total;
  if (!enabled()) return;
  if (!forced_ && elapsed < kTerminalAfterSeconds) return;
  if (!terminal_ && !final && elapsed - last_line_ < kLineIntervalSeconds) return;
  last_line_ = elapsed;
  const double fraction =
      p.bytes_total > 0 ? static_cast<double>(p.bytes_done) / static_cast<double>(p.bytes_total)
      : p.objects_total > 0
          ? static_cast<double>(p.objects_done) / static_cast<double>(p.objects_total)
          : 1.0;
  char bar[kWidth + 1];
  const int filled = static_cast<int>(fraction * kWidth);
  for (int i = 0; i < kWidth; ++i) bar[i] = i < filled ? '#' : '-';
  bar[kWidth] = '\0';
  std::fprintf(out_, "%s[%s] %3d%%  %" PRIu64 "/%" PRIu64 " objects  %.1f/%.1f MB  %.1f s%s",
               terminal_ ? "\r" : "", bar, static_cast<int>(fraction * 100), p.objects_done,
               p.objects_total, static_cast<double>(p.bytes_done) / 1e6,
               static_cast<double>(p.bytes_total) / 1e6, elapsed, terminal_ ? "" : "\n");
  drawn_ = true;
  if (terminal_ && final) Finish();
}

void ProgressBar::Finish() {
  if (terminal_ && drawn_) std::fputc('\n', out_);
  drawn_ = false;
}

}  // namespace vpcflow
