#pragma once
/// NoNewThreads: while one exists, no thread can be started in the process (std::thread and
/// std::jthread throw std::system_error, as when the system is out of threads or memory), so a
/// test can check the fallback of code that starts helpers. It asks for an impossible default
/// stack (64 TiB) with glibc's pthread_setattr_default_np, and gives the previous default back
/// when destroyed. Threads already running are not affected. One at a time; not thread-safe.

#include <pthread.h>

#include <cstddef>

namespace vpcflow {

class NoNewThreads {
 public:
  NoNewThreads() {
    saved_ = pthread_getattr_default_np(&previous_) == 0;
    pthread_attr_t impossible;
    pthread_attr_init(&impossible);
    pthread_attr_setstacksize(&impossible, size_t{1} << 46);
    active_ = pthread_setattr_default_np(&impossible) == 0;
    pthread_attr_destroy(&impossible);
  }
  ~NoNewThreads() {
    if (saved_) {
      pthread_setattr_default_np(&previous_);
      pthread_attr_destroy(&previous_);
    }
  }
  NoNewThreads(const NoNewThreads&) = delete;
  NoNewThreads& operator=(const NoNewThreads&) = delete;

  /// False when the default could not be changed (the test should then be skipped).
  bool active() const { return active_ && saved_; }

 private:
  pthread_attr_t previous_{};
  bool saved_ = false;
  bool active_ = false;
};

}  // namespace vpcflow
