#include "common/subprocess.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>

#include "common/errno_status.hpp"

extern char** environ;

namespace vpcflow {
namespace {

constexpr size_t kMaxErrBytes = 4096;

class Pipe {
 public:
  ~Pipe() {
    Close(0);
    Close(1);
  }
  bool Open() { return pipe2(fd_, O_CLOEXEC) == 0; }
  int fd(int end) const { return fd_[end]; }
  void Close(int end) {
    if (fd_[end] >= 0) ::close(fd_[end]);
    fd_[end] = -1;
  }

 private:
  int fd_[2] = {-1, -1};
};

// Blocks SIGPIPE for this thread while alive; a SIGPIPE raised meanwhile (a write to a pipe
// whose reader exited) is consumed before the old mask comes back.
class SigpipeBlock {
 public:
  SigpipeBlock() {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe_, &old_);
  }
  ~SigpipeBlock() {
    const timespec zero = {0, 0};
    while (sigtimedwait(&pipe_, nullptr, &zero) > 0) {
    }
    pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }

 private:
  sigset_t pipe_;
  sigset_t old_;
};

}  // namespace

Result<ProgramResult> RunProgram(const std::vector<std::string>& argv, std::string_view input,
                                 const ProgramLimits& limits) {
  if (argv.empty()) return InvalidArgumentError("no program to run");
  Pipe in, out, err;
  if (!in.Open() || !out.Open() || !err.Open()) return ErrnoStatus("pipe", errno);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, in.fd(0), 0);
  posix_spawn_file_actions_adddup2(&actions, out.fd(1), 1);
  posix_spawn_file_actions_adddup2(&actions, err.fd(1), 2);
  // The child starts with no signal blocked and SIGPIPE at its default, whatever this thread has.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none, pipe_only;
  sigemptyset(&none);
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &pipe_only);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);

  // The program sees only what it needs to run and find fonts: never the credentials and
  // tokens the service's environment holds.
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string_view var(*e);
    if (var.starts_with("PATH=") || var.starts_with("HOME=") || var.starts_with("TMPDIR=") ||
        var.starts_with("LANG=") || var.starts_with("LC_")) {
      env.emplace_back(var);
    }
  }
  std::vector<char*> envp;
  envp.reserve(env.size() + 1);
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int spawned = posix_spawnp(&pid, args[0], &actions, &attr, args.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (spawned != 0) {
    return NotFoundError("cannot run " + argv[0] + ": " + std::string(strerror(spawned)));
  }
  in.Close(0);
  out.Close(1);
  err.Close(1);
  fcntl(in.fd(1), F_SETFL, O_NONBLOCK);

  SigpipeBlock block;
  ProgramResult result;
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(limits.timeout_ms);
  size_t written = 0;
  if (input.empty()) in.Close(1);
  Status failure;
  char buf[65536];
  while (out.fd(0) >= 0 || err.fd(0) >= 0) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) {
      failure = DeadlineExceededError(argv[0] + " ran longer than " +
                                      std::to_string(limits.timeout_ms) + " ms");
      break;
    }
    pollfd fds[3] = {{out.fd(0), POLLIN, 0}, {err.fd(0), POLLIN, 0}, {in.fd(1), POLLOUT, 0}};
    if (poll(fds, 3, static_cast<int>(std::min<int64_t>(left, 1000))) < 0) {
      if (errno == EINTR) continue;
      failure = ErrnoStatus("poll", errno);
      break;
    }
    if (fds[2].revents != 0) {
      const ssize_t n = ::write(in.fd(1), input.data() + written, input.size() - written);
      if (n > 0) written += static_cast<size_t>(n);
      if ((n < 0 && errno != EAGAIN && errno != EINTR) || written == input.size()) in.Close(1);
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].revents == 0) continue;
      Pipe& pipe = i == 0 ? out : err;
      const ssize_t n = ::read(pipe.fd(0), buf, sizeof(buf));
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      if (n <= 0) {
        pipe.Close(0);
        continue;
      }
      std::string& text = i == 0 ? result.out : result.err;
      const size_t room = i == 0 ? limits.max_output_bytes : kMaxErrBytes;
      if (i == 0 && text.size() + static_cast<size_t>(n) > room) {
        failure = ResourceExhaustedError(argv[0] + " wrote more than " +
                                         std::to_string(limits.max_output_bytes) + " bytes");
        break;
      }
      text.append(buf, std::min(static_cast<size_t>(n), room - std::min(room, text.size())));
    }
    if (!failure.ok()) break;
  }
  in.Close(1);
  int status = 0;
  // The program closed its output: it should exit now; still held to the deadline.
  while (failure.ok()) {
    const pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid || (done < 0 && errno != EINTR)) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      failure = DeadlineExceededError(argv[0] + " ran longer than " +
                                      std::to_string(limits.timeout_ms) + " ms");
      break;
    }
    const timespec pause = {0, 2L * 1000 * 1000};
    nanosleep(&pause, nullptr);
  }
  if (!failure.ok()) {
    kill(pid, SIGKILL);
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    return failure;
  }
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

}  // namespace vpcflow
