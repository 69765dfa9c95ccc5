#pragma once
/// Helpers for the end-to-end tests of vpcflow-digesterd: run a program with its stdout
/// captured line by line, wait for lines and for exit with deadlines (no sleeps), talk HTTP;
/// the example window, the corpus and the start-up shared by the service tests.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "testing/flow_log_builder.hpp"
#include "vpcflow/byte_sink.hpp"
#include "vpcflow/http_client.hpp"
#include "vpcflow/status.hpp"

extern char** environ;

namespace vpcflow {

/// A child process with stdout captured (stderr inherited, or captured too). Killed when
/// destroyed.
class Process {
 public:
  /// Starts `argv[0]` with the current environment plus `env` (which wins).
  static Result<std::unique_ptr<Process>> Start(const std::vector<std::string>& argv,
                                                const std::map<std::string, std::string>& env,
                                                bool capture_stderr = false) {
    std::map<std::string, std::string> all;
    for (char** e = environ; *e != nullptr; ++e) {
      std::string_view entry(*e);
      size_t eq = entry.find('=');
      if (eq != std::string_view::npos)
        all[std::string(entry.substr(0, eq))] = entry.substr(eq + 1);
    }
    for (const auto& [k, v] : env) all[k] = v;
    std::vector<std::string> env_strings;
    for (const auto& [k, v] : all) env_strings.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (std::string& s : env_strings) envp.push_back(s.data());
    envp.push_back(nullptr);
    std::vector<std::string> args = argv;
    std::vector<char*> argp;
    for (std::string& s : args) argp.push_back(s.data());
    argp.push_back(nullptr);

    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) return InternalError("pipe failed");
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
    if (capture_stderr) posix_spawn_file_actions_adddup2(&actions, fds[1], STDERR_FILENO);
    // The child starts with default signal handling and an empty mask whatever the test does.
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attr, &none);
    posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
    pid_t pid = 0;
    int rc = ::posix_spawn(&pid, argp[0], &actions, &attr, argp.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    ::close(fds[1]);
    if (rc != 0) {
      ::close(fds[0]);
      return InternalError("cannot start " + argv[0] + ": " + std::strerror(rc));
    }
    return std::unique_ptr<Process>(new Process(pid, fds[0]));
  }

  ~Process() {
    if (!exit_code_) {
      ::kill(pid_, SIGKILL);
      Reap();
    }
    if (reader_.joinable()) reader_.join();
    ::close(fd_);
  }

  /// Waits for a complete stdout line for which `pred` holds; returns it, or nullopt after
  /// `timeout_ms` or when stdout closed first.
  std::optional<std::string> WaitForLine(const std::function<bool(const std::string&)>& pred,
                                         int64_t timeout_ms = 30000) {
    std::unique_lock lock(mu_);
    size_t seen = 0;
    std::optional<std::string> found;
    cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] {
      for (; seen < lines_.size(); ++seen) {
        if (pred(lines_[seen])) {
          found = lines_[seen];
          return true;
        }
      }
      return eof_;
    });
    return found;
  }

  /// Waits for the JSON log line with "event":`event` (and every field of `fields`, compared
  /// as text) and returns it parsed.
  std::optional<boost::json::object> WaitForEvent(
      const std::string& event, const std::map<std::string, std::string>& fields = {},
      int64_t timeout_ms = 30000) {
    std::optional<std::string> line =
        WaitForLine([&](const std::string& l) { return Matches(l, event, fields); }, timeout_ms);
    if (!line) return std::nullopt;
    return boost::json::parse(*line).as_object();
  }

  /// Every parsed log line with "event":`event`.
  std::vector<boost::json::object> Events(const std::string& event) {
    std::vector<boost::json::object> out;
    for (const std::string& line : lines()) {
      if (Matches(line, event, {})) out.push_back(boost::json::parse(line).as_object());
    }
    return out;
  }

  std::vector<std::string> lines() {
    std::lock_guard lock(mu_);
    return lines_;
  }
  /// Everything written to stdout so far.
  std::string output() {
    std::lock_guard lock(mu_);
    return output_;
  }

  void Signal(int sig) { ::kill(pid_, sig); }

  /// Waits for exit at most `timeout_ms`: the exit code, 128 + signal when killed by one, or
  /// nullopt on timeout. Waits for stdout to close, then reaps.
  std::optional<int> Wait(int64_t timeout_ms = 30000) {
    if (exit_code_) return exit_code_;
    {
      std::unique_lock lock(mu_);
      if (!cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return eof_; })) {
        return std::nullopt;
      }
    }
    Reap();
    return exit_code_;
  }

  pid_t pid() const { return pid_; }

 private:
  Process(pid_t pid, int fd) : pid_(pid), fd_(fd) {
    reader_ = std::thread([this] { ReadLoop(); });
  }

  static bool Matches(const std::string& line, const std::string& event,
                      const std::map<std::string, std::string>& fields) {
    if (line.find("\"event\":\"" + event + "\"") == std::string::npos) return false;
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(line, ec);
    if (ec || !v.is_object()) return false;
    for (const auto& [k, want] : fields) {
      const boost::json::value* got = v.as_object().if_contains(k);
      if (got == nullptr) return false;
      const std::string text =
          got->is_string() ? std::string(got->as_string()) : boost::json::serialize(*got);
      if (text != want) return false;
    }
    return true;
  }

  void ReadLoop() {
    char buf[65536];
    std::string partial;
    for (;;) {
      ssize_t n = ::read(fd_, buf, sizeof(buf));
      if (n < 0 && errno == EINTR) continue;
      std::lock_guard lock(mu_);
      if (n <= 0) {
        if (!partial.empty()) lines_.push_back(partial);
        eof_ = true;
        cv_.notify_all();
        return;
      }
      output_.append(buf, static_cast<size_t>(n));
      partial.append(buf, static_cast<size_t>(n));
      size_t nl;
      while ((nl = partial.find('\n')) != std::string::npos) {
        lines_.push_back(partial.substr(0, nl));
        partial.erase(0, nl + 1);
      }
      cv_.notify_all();
    }
  }

  void Reap() {
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  pid_t pid_;
  int fd_;
  std::thread reader_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> lines_;
  std::string output_;
  bool eof_ = false;
  std::optional<int> exit_code_;
};

/// Runs a program to completion with `env` added to the environment; returns its exit code and
/// stdout.
inline std::pair<int, std::string> RunToCompletion(
    const std::vector<std::string>& argv, const std::map<std::string, std::string>& env = {},
    int64_t timeout_ms = 120000) {
  Result<std::unique_ptr<Process>> p = Process::Start(argv, env);
  if (!p.ok()) return {-1, p.status().ToString()};
  std::optional<int> code = (*p)->Wait(timeout_ms);
  return {code.value_or(-1), (*p)->output()};
}

/// DESIGN.md's example window, its query string, and the id it has.
inline constexpr char kStart[] = "2019-01-01T00:00:00Z";
inline constexpr char kStop[] = "2019-01-01T01:00:00Z";
inline constexpr char kDesignId[] = "9740a140-ba85-5600-8b93-7b46eec77617";
inline const std::string kQuery = std::string("?start=") + kStart + "&stop=" + kStop;

/// The corpus of the service tests, made by `digest_bin generate` in `dir`: two hours around the
/// example window (2018-12-31T23:50Z to 02:00Z), 3 MB, seed 7. Returns the exit code and output.
inline std::pair<int, std::string> GenerateServiceCorpus(const std::string& digest_bin,
                                                         const std::string& dir) {
  return RunToCompletion({digest_bin, "generate", "--out", dir, "--start", "2018-12-31T23:50:00Z",
                          "--stop", "2019-01-01T02:00:00Z", "--size-mb", "3", "--seed", "7",
                          "--threads", "2"});
}

/// Writes one big flow-log object (`megabytes` MiB of text, one line repeated: highly
/// compressible) stamped 2019-01-01T00:10Z under `root` (a source directory): it keeps a job
/// whose window touches 00:10 busy for a while (about a second per 100 MiB and thread).
inline Status WriteBusyFlowLog(const std::string& root, int megabytes) {
  const std::string dir = root + "/AWSLogs/123456789012/vpcflowlogs/us-east-1/2019/01/01";
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return InternalError("cannot create " + dir);
  VPCFLOW_ASSIGN_OR_RETURN(
      ByteSinkPtr file,
      NewFileSink(dir +
                  "/123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20190101T0010Z_big.log.gz"));
  ByteSinkPtr gz = NewGzipSink(std::move(file));
  VPCFLOW_RETURN_IF_ERROR(gz->Append(FlowLogBuilder().Text()));  // the header line
  const std::string line =
      "2 123456789012 eni-0a1b2c3d 10.0.0.1 10.0.0.2 443 49152 6 1 100 1546300800 "
      "1546300860 ACCEPT OK\n";
  std::string block;
  while (block.size() < (1 << 20)) block += line;
  for (int i = 0; i < megabytes; ++i) VPCFLOW_RETURN_IF_ERROR(gz->Append(block));
  return gz->Close();
}

/// Starts vpcflow-digesterd (`binary`) on 127.0.0.1 with a free port, no StatsD, 2 digest threads,
/// plus `env` (which wins), and waits for its "startup" line, whose port goes to `*port`. Null
/// (with a test failure) when it does not start.
inline std::unique_ptr<Process> StartDigesterd(const std::string& binary,
                                               const std::map<std::string, std::string>& env,
                                               int* port) {
  std::map<std::string, std::string> all = {{"LISTEN_ADDRESS", "127.0.0.1"},
                                            {"PORT", "0"},
                                            {"STATSD_ADDRESS", ""},
                                            {"DIGEST_THREADS", "2"}};
  for (const auto& [k, v] : env) all[k] = v;
  Result<std::unique_ptr<Process>> p = Process::Start({binary}, all);
  EXPECT_TRUE(p.ok()) << p.status().ToString();
  if (!p.ok()) return nullptr;
  std::optional<boost::json::object> startup = (*p)->WaitForEvent("startup");
  EXPECT_TRUE(startup.has_value()) << "no startup line; output:\n" << (*p)->output();
  if (startup) *port = static_cast<int>(startup->at("port").to_number<int64_t>());
  return std::move(p).value();
}

/// The names in `dir` that end with `suffix` (markers, temporary files left behind).
inline std::vector<std::string> NamesIn(const std::filesystem::path& dir, std::string_view suffix) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename();
    if (name.ends_with(suffix)) out.push_back(name);
  }
  return out;
}

/// A port on 127.0.0.1 that was free a moment ago (for a service that must know its own URL
/// before it starts).
inline int FreeLocalPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

}  // namespace vpcflow
