#pragma once
/// RunOnThreads: the one way the digest starts helpers for a piece of work.
///
/// RunOnThreads(n, fn) calls fn(0), ..., fn(n - 1) once each and returns when all have
/// returned: fn(0) on the caller's thread, the others on helper threads started and joined by
/// the call. A helper that cannot start (std::system_error: the system is out of threads or
/// memory) has its call made on the caller's thread after fn(0), so the work is slower, never
/// lost or failed. Work handed out from a shared queue (the readers, the listers, the sort's
/// tasks) then finds the queue empty and returns at once; work split into fixed parts runs each
/// part. An n below 1 is taken as 1. Exceptions of fn on a helper terminate, as any thread's.

#include <cstddef>
#include <system_error>
#include <thread>
#include <vector>

namespace vpcflow {

template <typename Fn>
void RunOnThreads(size_t n, Fn&& fn) {
  std::vector<std::jthread> helpers;  // joined when the call returns
  size_t started = 1;
  if (n > 1) {
    helpers.reserve(n - 1);  // no growth once a helper runs
    try {
      for (; started < n; ++started) helpers.emplace_back([&fn, started] { fn(started); });
    } catch (const std::system_error&) {
      // The rest run below, on the caller.
    }
  }
  fn(size_t{0});
  for (size_t i = started; i < n; ++i) fn(i);
}

}  // namespace vpcflow
