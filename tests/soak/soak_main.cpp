// vpcflow-soak: the soak test of issue 12 ("Proof"), run by `make soak` (scripts/soak.sh starts
// the Ceph RGW and runs this program against it; see README.md and docs/DESIGN.md).
//
// For SOAK_SECONDS (600) it runs vpcflow-digesterd with its three stores on the RGW, API tokens on
// and two workers, under 200 clients (POSTs of new and repeated windows, GETs of digests, status
// polls, health and metrics), kills the service with SIGKILL every SOAK_KILL_EVERY seconds and
// starts it again on the same stores and port, and restarts the RGW gateway once. Then it waits
// for every accepted job, checks each stored digest against vpcflow-digest's over the same
// corpus, that no marker or temporary object is left, that the service's RSS stayed under
// SOAK_RSS_LIMIT_MB, prints the summary table, and exits 1 on any violation (2 on a usage error,
// 130 when interrupted).
//
// Written in C++ rather than Python: it reuses the project's HTTP client (libcurl, a pool of
// connections), the S3 client (to list what is left in the buckets: SigV4 in Python's standard
// library would be another implementation of it), the RGW helpers and the process harness of the
// end-to-end tests.

#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/json/parse.hpp>
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "s3/s3_client.hpp"
#include "service_harness.hpp"
#include "soak/soak_tally.hpp"
#include "testing/rgw_env.hpp"
#include "testing/s3_rgw.hpp"
#include "testing/service_corpus.hpp"
#include "vpcflow/window.hpp"

namespace vpcflow::soak {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using Clock = std::chrono::steady_clock;

std::atomic<bool> g_interrupted{false};
void OnSignal(int) { g_interrupted = true; }

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now().time_since_epoch())
      .count();
}
int64_t UnixMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void Say(const std::string& text) {
  static std::mutex mu;
  std::lock_guard lock(mu);
  std::cout << "soak: " << text << std::endl;
}

// ---------------------------------------------------------------------------------------------
// Options (environment)

struct Options {
  int64_t seconds = 600;
  int64_t clients = 200;
  int64_t kill_every_s = 120;
  int64_t rss_limit_mb = 400;
  int64_t drain_s = 300;
  int64_t request_timeout_ms = 30000;
  int64_t gateway_down_s = 5;
  int64_t think_ms = 20;
  int64_t corpus_mb = 60;
  int64_t queue_capacity = 16;
  std::string work;
  std::string rgw_dir;
};

bool EnvInt(const char* name, int64_t min, int64_t max, int64_t* out) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return true;
  char* end = nullptr;
  errno = 0;
  const long long n = std::strtoll(v, &end, 10);
  if (errno != 0 || *end != '\0' || n < min || n > max) {
    std::cerr << "soak: " << name << "=\"" << v << "\" is not a number in [" << min << ", " << max
              << "]\n";
    return false;
  }
  *out = n;
  return true;
}

std::optional<Options> ReadOptions() {
  Options o;
  bool ok = EnvInt("SOAK_SECONDS", 10, 24 * 3600, &o.seconds);
  // Kills every 2 minutes; a short run kills three times as often, so it kills twice too.
  o.kill_every_s = std::min<int64_t>(120, std::max<int64_t>(5, o.seconds / 3));
  ok = EnvInt("SOAK_KILL_EVERY", 5, 3600, &o.kill_every_s) && ok;
  ok = EnvInt("SOAK_CLIENTS", 1, 1000, &o.clients) && ok;
  ok = EnvInt("SOAK_RSS_LIMIT_MB", 16, 1 << 20, &o.rss_limit_mb) && ok;
  ok = EnvInt("SOAK_DRAIN_SECONDS", 10, 3600, &o.drain_s) && ok;
  ok = EnvInt("SOAK_REQUEST_TIMEOUT_MS", 1000, 600000, &o.request_timeout_ms) && ok;
  ok = EnvInt("SOAK_GATEWAY_DOWN_SECONDS", 0, 600, &o.gateway_down_s) && ok;
  ok = EnvInt("SOAK_THINK_MS", 0, 60000, &o.think_ms) && ok;
  ok = EnvInt("SOAK_CORPUS_MB", 1, 100000, &o.corpus_mb) && ok;
  ok = EnvInt("SOAK_QUEUE_CAPACITY", 1, 1000000, &o.queue_capacity) && ok;
  const char* work = std::getenv("SOAK_WORK");
  const char* rgw = std::getenv("SOAK_RGW_DIR");
  if (work == nullptr || *work == '\0' || rgw == nullptr || *rgw == '\0') {
    std::cerr << "soak: SOAK_WORK and SOAK_RGW_DIR must name the work directory and the RGW's "
                 "(scripts/soak.sh sets them)\n";
    ok = false;
  } else {
    o.work = work;
    o.rgw_dir = rgw;
  }
  if (!ok) return std::nullopt;
  return o;
}

// ---------------------------------------------------------------------------------------------
// The corpus and the windows asked for

constexpr char kSoakDayStart[] = "2024-03-01T00:00:00Z";
constexpr char kSoakDayStop[] = "2024-03-02T00:00:00Z";

// Windows inside the corpus's day: starts every 5 minutes, lengths 5 minutes to 2 hours, in a
// fixed random order (the clients ask for them in this order: "new" windows).
std::vector<Window> WindowPool() {
  const int64_t begin = *ParseRfc3339(kSoakDayStart);
  const int64_t end = *ParseRfc3339(kSoakDayStop);
  std::vector<Window> pool;
  for (int64_t length : {5, 10, 15, 30, 60, 120}) {
    for (int64_t start = begin; start + length * 60 <= end; start += 300) {
      pool.push_back({start, start + length * 60});
    }
  }
  std::mt19937_64 rng(12);
  std::shuffle(pool.begin(), pool.end(), rng);
  return pool;
}

std::string Query(const Window& w) {
  return "?start=" + FormatRfc3339(w.start) + "&stop=" + FormatRfc3339(w.stop);
}

// ---------------------------------------------------------------------------------------------
// Listening sockets: nothing of ours may listen on anything but 127.0.0.1.

std::set<std::string> SocketInodes(pid_t pid) {
  std::set<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec)) {
    std::error_code ec2;
    const std::string target = fs::read_symlink(e.path(), ec2).string();
    if (!ec2 && target.starts_with("socket:[")) out.insert(target.substr(8, target.size() - 9));
  }
  return out;
}

// The local addresses (hex, as in /proc/net/tcp*) of the listening TCP sockets of `pid` that are
// not loopback 127.0.0.1 (IPv4 0100007F) or ::1.
std::vector<std::string> NonLoopbackListeners(pid_t pid) {
  const std::set<std::string> inodes = SocketInodes(pid);
  std::vector<std::string> out;
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::istringstream fields(line);
      std::string sl, local, remote, state, queues, timer, retr, uid, timeout, inode;
      fields >> sl >> local >> remote >> state >> queues >> timer >> retr >> uid >> timeout >>
          inode;
      if (state != "0A" || !inodes.contains(inode)) continue;  // 0A: LISTEN
      const std::string address = local.substr(0, local.find(':'));
      if (address != "0100007F" && address != "00000000000000000000000001000000") {
        out.push_back(std::string(table) + " " + local);
      }
    }
  }
  return out;
}

// A loopback port nobody listens on, below the ephemeral range (as scripts/rgw.sh picks its
// ports): the service keeps it across restarts, and no outgoing connection may take it while the
// service is down.
int FixedServicePort() {
  std::mt19937 rng(std::random_device{}());
  for (int attempt = 0; attempt < 100; ++attempt) {
    const int port = 20000 + static_cast<int>(rng() % 12000);
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(static_cast<uint16_t>(port));
    const bool free = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
    ::close(fd);
    if (free) return port;
  }
  return 0;
}

struct JobFailure {
  std::string id;
  int64_t unix_ms = 0;  // when it failed (the service's log line, or its failure record)
  std::string message;
};

// ---------------------------------------------------------------------------------------------
// The service: started, killed and started again on the same stores and port.

class ServiceRunner {
 public:
  ServiceRunner(std::map<std::string, std::string> env, std::string work)
      : env_(std::move(env)), work_(std::move(work)) {}

  // Starts an instance and waits for its start-up line (60 s). Empty on success, else why not.
  std::string Start() {
    Result<std::unique_ptr<Process>> p = Process::Start({VPCFLOW_DIGESTERD_BIN}, env_);
    if (!p.ok()) return p.status().ToString();
    std::optional<json::object> startup = (*p)->WaitForEvent("startup", {}, 60000);
    std::unique_ptr<Process> proc = std::move(p).value();
    if (!startup) {
      const std::string output = proc->output();
      SaveLog(*proc);
      return "vpcflow-digesterd did not start within 60 s:\n" + output;
    }
    {
      std::lock_guard lock(mu_);
      proc_ = std::move(proc);
      pid_ = proc_->pid();
    }
    // For scripts/soak.sh, should this program die without stopping it.
    std::ofstream(work_ + "/service.pid") << pid_ << "\n";
    up_ = true;
    return "";
  }

  // Sends `signal` (SIGKILL, SIGTERM) and waits for the end, at most `timeout_ms`: the exit code,
  // nullopt when it did not end. The instance's log goes to the work directory.
  std::optional<int> Stop(int signal, int64_t timeout_ms = 60000) {
    std::unique_ptr<Process> proc;
    {
      std::lock_guard lock(mu_);
      proc = std::move(proc_);
      pid_ = 0;
    }
    up_ = false;
    ++generation_;
    if (!proc) return std::nullopt;
    proc->Signal(signal);
    std::optional<int> code = proc->Wait(timeout_ms);
    SaveLog(*proc);
    return code;
  }

  pid_t pid() {
    std::lock_guard lock(mu_);
    return pid_;
  }
  bool up() const { return up_; }
  int generation() const { return generation_; }
  int instances() const { return instances_; }
  // The jobs that failed, from the logs of the instances that ended.
  std::vector<JobFailure> JobFailures() {
    std::lock_guard lock(mu_);
    return job_failures_;
  }
  int64_t Events(const std::string& event) {
    std::lock_guard lock(mu_);
    return events_[event];
  }

 private:
  void SaveLog(Process& proc) {
    std::error_code ec;
    fs::remove(work_ + "/service.pid", ec);
    const std::string path = work_ + "/service-" + std::to_string(++instances_) + ".log";
    std::ofstream(path) << proc.output();
    std::lock_guard lock(mu_);
    for (const char* event : {"job-recovered", "job-failed", "job-done", "job-cancelled",
                              "job-taken-over", "dependency-failure", "accept-failed"}) {
      events_[event] += static_cast<int64_t>(proc.Events(event).size());
    }
    for (const json::object& e : proc.Events("job-failed")) {
      JobFailure f;
      if (const json::value* id = e.if_contains("id"); id && id->is_string())
        f.id = id->as_string();
      if (const json::value* r = e.if_contains("reason"); r && r->is_string()) {
        f.message = r->as_string();
      }
      if (const json::value* t = e.if_contains("time"); t && t->is_string()) {
        if (Result<int64_t> s = ParseRfc3339(std::string(t->as_string())); s.ok()) {
          f.unix_ms = *s * 1000;
        }
      }
      job_failures_.push_back(std::move(f));
    }
  }

  const std::map<std::string, std::string> env_;
  const std::string work_;
  std::mutex mu_;
  std::unique_ptr<Process> proc_;
  pid_t pid_ = 0;
  std::atomic<bool> up_{false};
  std::atomic<int> generation_{0};
  std::atomic<int> instances_{0};
  std::map<std::string, int64_t> events_;
  std::vector<JobFailure> job_failures_;
};

// ---------------------------------------------------------------------------------------------
// The load

class Load {
 public:
  Load(const Options& o, std::vector<Window> pool, ServiceRunner& service, std::string base_url,
       std::string token)
      : o_(o),
        pool_(std::move(pool)),
        service_(service),
        base_url_(std::move(base_url)),
        token_(std::move(token)),
        accepted_(pool_.size(), false) {}

  Tally& tally() { return tally_; }

  // The S3 gateway goes down (`down`) or is back (`!down`), now.
  void GatewayEvent(bool down) {
    if (down) {
      gateway_down_ms_ = NowMs();
      gateway_down_unix_ms_ = UnixMs();
    } else {
      gateway_up_ms_ = NowMs();
      gateway_up_unix_ms_ = UnixMs();
    }
  }

  void Run(int64_t until_ms) {
    started_ms_ = NowMs();
    std::vector<std::jthread> clients;
    for (int64_t i = 0; i < o_.clients; ++i) {
      clients.emplace_back([this, i, until_ms] { Client(static_cast<int>(i), until_ms); });
    }
  }

  // The windows whose POST was accepted (202), by pool index.
  std::vector<size_t> Accepted() {
    std::lock_guard lock(mu_);
    return accepted_list_;
  }
  const std::vector<Window>& pool() const { return pool_; }
  std::vector<JobFailure> Failures() {
    std::lock_guard lock(mu_);
    return failures_;
  }
  int64_t retried() const { return retried_; }
  int64_t gateway_down_unix_ms() const { return gateway_down_unix_ms_; }
  int64_t gateway_up_unix_ms() const { return gateway_up_unix_ms_; }

  // One request, recorded in the tally. Null when it got no answer.
  std::optional<HttpResponse> Call(Route route, const std::string& method,
                                   const std::string& path) {
    const int generation = service_.generation();
    const bool up_before = service_.up();
    const int64_t t0 = NowMs();
    Result<HttpResponse> r = http_->Send({.method = method,
                                          .url = base_url_ + path,
                                          .headers = {{"Authorization", "Bearer " + token_}},
                                          .timeout_ms = o_.request_timeout_ms});
    const int64_t t1 = NowMs();
    Answer a;
    a.route = route;
    a.status = r.ok() ? r->status : 0;
    a.timed_out = !r.ok() && r.status().code() == StatusCode::kDeadlineExceeded;
    a.cut_by_kill = !up_before || !service_.up() || generation != service_.generation();
    // The outage and some time after it: answers started during it may still be on their way.
    const int64_t down = gateway_down_ms_, up = gateway_up_ms_;
    a.s3_outage = down != 0 && t1 >= down && (up == 0 || t0 <= up + kOutageGraceMs);
    const std::string violation =
        tally_.Record(a, static_cast<double>(t1 - t0),
                      method + " " + path + " -> " +
                          (r.ok() ? std::to_string(r->status) + " " + r->body.substr(0, 200)
                                  : r.status().ToString()));
    if (!violation.empty() && ++logged_violations_ <= 5) Say("violation: " + violation);
    if (!r.ok()) {
      // A client backs off before trying again (while the service restarts).
      std::this_thread::sleep_for(std::chrono::milliseconds(kBackOffMs));
      return std::nullopt;
    }
    return std::move(r).value();
  }

  // POSTs window `index`; records it when accepted. Returns the status (0: no answer).
  int Post(size_t index) {
    std::optional<HttpResponse> r = Call(Route::kPost, "POST", "/" + Query(pool_[index]));
    if (!r) return 0;
    if (r->status == 202) {
      std::lock_guard lock(mu_);
      if (!accepted_[index]) {
        accepted_[index] = true;
        accepted_list_.push_back(index);
      }
    }
    return r->status;
  }

  // GET /status of window `index`: its state ("" without an answer). A failed job is recorded
  // and POSTed again, as a client would.
  std::string Status(size_t index) {
    std::optional<HttpResponse> r = Call(Route::kStatus, "GET", "/status" + Query(pool_[index]));
    if (!r || r->status != 200) return "";
    boost::system::error_code ec;
    json::value v = json::parse(r->body, ec);
    const json::object* o = ec ? nullptr : v.if_object();
    const json::value* state = o ? o->if_contains("state") : nullptr;
    if (state == nullptr || !state->is_string()) {
      tally_.AddViolation("GET /status: not a status: " + r->body.substr(0, 200));
      return "";
    }
    const std::string s(state->as_string());
    static const std::set<std::string> kStates = {"queued", "running", "done", "failed", "unknown"};
    if (!kStates.contains(s)) tally_.AddViolation("GET /status: unknown state " + s);
    if (s == "failed") {
      JobFailure f;
      f.id = DigestId(pool_[index]);
      const json::value* error = o->if_contains("error");
      if (error != nullptr && error->is_object()) {
        if (const json::value* m = error->as_object().if_contains("message"); m && m->is_string()) {
          f.message = m->as_string();
        }
        if (const json::value* t = error->as_object().if_contains("time"); t && t->is_string()) {
          Result<int64_t> seconds = ParseRfc3339(std::string(t->as_string()));
          if (seconds.ok()) f.unix_ms = *seconds * 1000;
        }
      }
      {
        std::lock_guard lock(mu_);
        if (failure_ids_.insert(f.id + "@" + std::to_string(f.unix_ms)).second) {
          failures_.push_back(f);
        }
      }
      ++retried_;
      Post(index);
    }
    return s;
  }

 private:
  static constexpr int64_t kOutageGraceMs = 15000;
  static constexpr int64_t kBackOffMs = 500;

  size_t RandomAccepted(std::mt19937_64& rng, bool* found) {
    std::lock_guard lock(mu_);
    *found = !accepted_list_.empty();
    if (!*found) return 0;
    return accepted_list_[std::uniform_int_distribution<size_t>(0, accepted_list_.size() - 1)(rng)];
  }

  void Client(int index, int64_t until_ms) {
    std::mt19937_64 rng(static_cast<uint64_t>(index) * 7919 + 1);
    std::uniform_int_distribution<int> dice(0, 99);
    while (!g_interrupted && NowMs() < until_ms) {
      const int d = dice(rng);
      bool found = false;
      if (d < 15) {
        // A new window: the next one of the pool that nobody has had accepted (many clients
        // race for the same one: one 202, the others 409).
        const size_t next = next_new_;
        // Paced so the pool lasts the whole run: new jobs keep coming until the end.
        const double elapsed = static_cast<double>(NowMs() - started_ms_) / 1000.0;
        const double due =
            static_cast<double>(pool_.size()) * elapsed / static_cast<double>(o_.seconds);
        if (next < pool_.size() && static_cast<double>(next) < due) {
          const int status = Post(next);
          size_t expected = next;
          if (status == 202 || status == 409) next_new_.compare_exchange_strong(expected, next + 1);
        }
      } else if (d < 30) {
        const size_t i = RandomAccepted(rng, &found);
        if (found) Post(i);  // a repeated window: 409, or 202 again after a failure
      } else if (d < 60) {
        // A digest: accepted ones (200 or 204) and others of the pool (404 mostly).
        const size_t i = d < 50 ? RandomAccepted(rng, &found)
                                : std::uniform_int_distribution<size_t>(0, pool_.size() - 1)(rng);
        if (d >= 50 || found) {
          std::optional<HttpResponse> r = Call(Route::kGetDigest, "GET", "/" + Query(pool_[i]));
          if (r && r->status == 200 && !r->body.starts_with("\x1f\x8b")) {
            tally_.AddViolation("GET /" + Query(pool_[i]) + ": 200 with a body that is not gzip");
          }
        }
      } else if (d < 90) {
        const size_t i = RandomAccepted(rng, &found);
        if (found) Status(i);
      } else if (d < 94) {
        Call(Route::kHealthz, "GET", "/healthz");
      } else if (d < 97) {
        Call(Route::kReadyz, "GET", "/readyz");
      } else {
        Call(Route::kMetrics, "GET", "/metrics");
      }
      if (o_.think_ms > 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(
            std::uniform_int_distribution<int64_t>(0, 2 * o_.think_ms)(rng)));
      }
    }
  }

  const Options& o_;
  const std::vector<Window> pool_;
  ServiceRunner& service_;
  const std::string base_url_;
  const std::string token_;
  HttpClientPtr http_ = NewCurlHttpClient();
  Tally tally_;
  std::atomic<size_t> next_new_{0};
  std::atomic<int64_t> started_ms_{0};
  std::atomic<int64_t> gateway_down_ms_{0}, gateway_up_ms_{0};
  std::atomic<int64_t> gateway_down_unix_ms_{0}, gateway_up_unix_ms_{0};
  std::atomic<int64_t> retried_{0};
  std::atomic<int> logged_violations_{0};
  std::mutex mu_;
  std::vector<bool> accepted_;
  std::vector<size_t> accepted_list_;
  std::vector<JobFailure> failures_;
  std::set<std::string> failure_ids_;
};

// ---------------------------------------------------------------------------------------------
// RSS of the service, sampled every second

class RssSampler {
 public:
  explicit RssSampler(ServiceRunner& service) : service_(service) {
    thread_ = std::jthread([this](std::stop_token stop) {
      std::mutex mu;
      std::condition_variable_any cv;
      std::unique_lock lock(mu);
      do {
        Sample();
      } while (!cv.wait_for(lock, stop, std::chrono::seconds(1),
                            [&stop] { return stop.stop_requested(); }));
    });
  }
  void Stop() {
    thread_.request_stop();
    if (thread_.joinable()) thread_.join();
  }
  int64_t peak_kb() const { return peak_kb_; }
  int64_t samples() const { return samples_; }

 private:
  void Sample() {
    const pid_t pid = service_.pid();
    if (pid == 0) return;
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string key;
    int64_t kb = 0;
    while (in >> key) {
      if (key == "VmRSS:") {
        in >> kb;
        break;
      }
      in.ignore(1 << 20, '\n');
    }
    if (kb <= 0) return;
    ++samples_;
    peak_kb_ = std::max<int64_t>(peak_kb_, kb);
  }

  ServiceRunner& service_;
  std::atomic<int64_t> peak_kb_{0};
  std::atomic<int64_t> samples_{0};
  std::jthread thread_;
};

// ---------------------------------------------------------------------------------------------

// Every key of `bucket` (all pages).
Result<std::vector<std::string>> KeysOf(S3Client& s3, const std::string& bucket) {
  std::vector<std::string> keys;
  ListRequest request;
  do {
    VPCFLOW_ASSIGN_OR_RETURN(ListPage page, s3.ListObjectsV2(bucket, request));
    for (const ObjectInfo& o : page.objects) keys.push_back(o.key);
    request.continuation_token = page.next_token;
  } while (!request.continuation_token.empty());
  return keys;
}

// Waits `ms` unless interrupted; false when interrupted.
bool Pause(int64_t ms) {
  const int64_t until = NowMs() + ms;
  while (!g_interrupted && NowMs() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min<int64_t>(100, until - NowMs())));
  }
  return !g_interrupted;
}

int RunScript(const std::string& command, const std::string& rgw_dir) {
  auto [code, out] = RunToCompletion({VPCFLOW_RGW_SCRIPT, command, rgw_dir}, {}, 120000);
  if (code != 0) Say("rgw.sh " + command + " failed (" + std::to_string(code) + "): " + out);
  return code;
}

int Main() {
  std::optional<Options> opt = ReadOptions();
  if (!opt) return 2;
  const Options o = *opt;
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  // 200 clients' connections, the S3 client's, the CLI's pipes.
  rlimit nofile{};
  if (getrlimit(RLIMIT_NOFILE, &nofile) == 0) {
    nofile.rlim_cur = nofile.rlim_max;
    setrlimit(RLIMIT_NOFILE, &nofile);
  }

  Result<RgwEnv> rgw = LoadRgwEnvFile(o.rgw_dir + "/env");
  if (!rgw.ok()) {
    std::cerr << "soak: " << rgw.status().ToString() << "\n";
    return 2;
  }
  std::shared_ptr<S3Client> s3 = NewRgwClient(*rgw);
  const std::string corpus = o.work + "/corpus";
  fs::remove_all(corpus);
  Say("generating " + std::to_string(o.corpus_mb) + " MB of flow logs for " + kSoakDayStart +
      " .. " + kSoakDayStop);
  {
    auto [code, out] = RunToCompletion(
        {VPCFLOW_DIGEST_BIN, "generate", "--out", corpus, "--start", kSoakDayStart, "--stop",
         kSoakDayStop, "--size-mb", std::to_string(o.corpus_mb), "--seed", "11"},
        {}, 600000);
    if (code != 0) {
      std::cerr << "soak: generate failed: " << out << "\n";
      return 1;
    }
  }
  const std::string logs_bucket = UniqueBucketName("soak-logs");
  const std::string digests_bucket = UniqueBucketName("soak-digests");
  const std::string progress_bucket = UniqueBucketName("soak-progress");
  for (const std::string& b : {logs_bucket, digests_bucket, progress_bucket}) {
    if (Status st = s3->CreateBucket(b); !st.ok()) {
      std::cerr << "soak: " << st.ToString() << "\n";
      return 1;
    }
  }
  if (Status st = UploadDirectory(*s3, logs_bucket, corpus); !st.ok()) {
    std::cerr << "soak: upload: " << st.ToString() << "\n";
    return 1;
  }

  // A bearer token (random, never printed), in a file only we read.
  std::string token;
  {
    std::random_device rd;
    const char* hex = "0123456789abcdef";
    for (int i = 0; i < 40; ++i) token += hex[rd() % 16];
  }
  const std::string tokens_file = o.work + "/api-tokens";
  {
    std::ofstream(tokens_file) << "# soak\n" << token << "\n";
    fs::permissions(tokens_file, fs::perms::owner_read | fs::perms::owner_write);
  }
  const int port = FixedServicePort();
  if (port == 0) {
    std::cerr << "soak: no free loopback port\n";
    return 1;
  }
  const std::string data_dir = o.work + "/data";
  fs::create_directories(data_dir);
  const std::map<std::string, std::string> env = {
      {"LISTEN_ADDRESS", "127.0.0.1"},
      {"PORT", std::to_string(port)},
      {"STATSD_ADDRESS", ""},
      {"LOG_LEVEL", "info"},
      {"DATA_DIR", data_dir},
      {"VPC_FLOW_LOGS_BUCKET", logs_bucket},
      {"VPC_FLOW_LOGS_BUCKET_REGION", rgw->region},
      {"DIGEST_STORAGE_BUCKET", digests_bucket},
      {"DIGEST_STORAGE_BUCKET_REGION", rgw->region},
      {"DIGEST_PROGRESS_BUCKET", progress_bucket},
      {"DIGEST_PROGRESS_BUCKET_REGION", rgw->region},
      {"AWS_ACCESS_KEY_ID", rgw->access_key},
      {"AWS_SECRET_ACCESS_KEY", rgw->secret_key},
      {"AWS_ENDPOINT_URL", rgw->endpoint},
      {"DIGEST_API_TOKENS_FILE", tokens_file},
      {"DIGEST_WORKERS", "2"},
      {"DIGEST_THREADS", "1"},
      {"DIGEST_QUEUE_CAPACITY", std::to_string(o.queue_capacity)}};
  ServiceRunner service(env, o.work);
  const std::string base_url = "http://127.0.0.1:" + std::to_string(port);
  Load load(o, WindowPool(), service, base_url, token);
  Tally& tally = load.tally();

  auto check_listeners = [&] {
    std::vector<pid_t> pids = {service.pid()};
    for (const char* d : {"mon", "osd", "rgw"}) {
      std::ifstream in(o.rgw_dir + "/" + d + ".pid");
      pid_t pid = 0;
      if (in >> pid) pids.push_back(pid);
    }
    for (pid_t pid : pids) {
      for (const std::string& l : NonLoopbackListeners(pid)) {
        tally.AddViolation("pid " + std::to_string(pid) + " listens beyond 127.0.0.1: " + l);
      }
    }
  };

  if (std::string why = service.Start(); !why.empty()) {
    std::cerr << "soak: " << why << "\n";
    return 1;
  }
  check_listeners();
  RssSampler rss(service);
  Say("service on " + base_url + " (stores on " + rgw->endpoint + "), " +
      std::to_string(o.clients) + " clients for " + std::to_string(o.seconds) +
      " s, SIGKILL every " + std::to_string(o.kill_every_s) + " s, RSS limit " +
      std::to_string(o.rss_limit_mb) + " MB");

  // The timeline: kills every kill_every_s, the gateway restart half-way between the first two.
  const int64_t t0 = NowMs();
  const int64_t until = t0 + o.seconds * 1000;
  int kills = 0;
  bool gateway_restarted = false;
  bool fatal = false;
  {
    std::jthread load_thread([&] { load.Run(until); });
    const int64_t gateway_at = t0 + o.kill_every_s * 1500;
    for (int64_t next_kill = t0 + o.kill_every_s * 1000; !g_interrupted && !fatal;) {
      const bool gateway_next = !gateway_restarted && gateway_at < next_kill && gateway_at < until;
      const int64_t at = gateway_next ? gateway_at : next_kill;
      if (at >= until - 2000) break;
      if (!Pause(at - NowMs())) break;
      if (gateway_next) {
        Say("restarting the S3 gateway");
        load.GatewayEvent(true);
        if (RunScript("stop-gateway", o.rgw_dir) != 0) fatal = true;
        Pause(o.gateway_down_s * 1000);
        if (RunScript("start-gateway", o.rgw_dir) != 0) fatal = true;
        load.GatewayEvent(false);
        gateway_restarted = true;
        Say("the S3 gateway is back");
        continue;
      }
      service.Stop(SIGKILL);
      ++kills;
      Say("killed the service (SIGKILL #" + std::to_string(kills) + "); starting it again");
      if (std::string why = service.Start(); !why.empty()) {
        tally.AddViolation("restart after SIGKILL failed: " + why.substr(0, 2000));
        fatal = true;
      } else {
        check_listeners();
      }
      next_kill += o.kill_every_s * 1000;
    }
    if (fatal) g_interrupted = true;
  }  // joins the clients
  Say("load stopped after " + std::to_string((NowMs() - t0) / 1000) + " s; " +
      std::to_string(tally.requests()) + " requests");

  // Drain: every accepted job ends (done; a failed one is POSTed again) within the deadline.
  const std::vector<Window>& pool = load.pool();
  std::set<size_t> pending;
  const int64_t drain_t0 = NowMs();
  if (!g_interrupted && service.up()) {
    for (size_t i : load.Accepted()) pending.insert(i);
    const int64_t deadline = NowMs() + o.drain_s * 1000;
    // A job "unknown" (no digest, no live marker) for longer than the recovery takes is lost.
    std::map<size_t, int64_t> unknown_since;
    constexpr int64_t kLostAfterMs = 60000;
    while (!pending.empty() && !g_interrupted && NowMs() < deadline) {
      for (auto it = pending.begin(); it != pending.end();) {
        const std::string state = load.Status(*it);
        if (state != "unknown") unknown_since.erase(*it);
        if (state == "done") {
          it = pending.erase(it);
        } else if (state == "unknown" &&
                   NowMs() - unknown_since.try_emplace(*it, NowMs()).first->second > kLostAfterMs) {
          tally.AddViolation("accepted job " + DigestId(pool[*it]) + " " + Query(pool[*it]) +
                             " is lost: no digest and no marker for 60 s");
          it = pending.erase(it);
        } else {
          it = std::next(it);
        }
      }
      if (!pending.empty()) Pause(500);
    }
    for (size_t i : pending) {
      tally.AddViolation("accepted job " + DigestId(pool[i]) + " " + Query(pool[i]) +
                         " did not end within " + std::to_string(o.drain_s) + " s");
    }
  }
  const int64_t drain_ms = NowMs() - drain_t0;

  // Every accepted digest equals the CLI's over the same corpus (two at a time).
  std::vector<size_t> accepted = load.Accepted();
  std::atomic<size_t> next{0};
  std::atomic<int64_t> checked{0};
  if (!g_interrupted && service.up()) {
    Say("checking " + std::to_string(accepted.size()) + " digests against vpcflow-digest");
    HttpClientPtr http = NewCurlHttpClient();
    std::vector<std::jthread> checkers;
    for (int t = 0; t < 2; ++t) {
      checkers.emplace_back([&] {
        for (size_t k = next++; k < accepted.size() && !g_interrupted; k = next++) {
          const Window& w = pool[accepted[k]];
          Result<HttpResponse> got = http->Send({.method = "GET",
                                                 .url = base_url + "/" + Query(w),
                                                 .headers = {{"Authorization", "Bearer " + token}},
                                                 .timeout_ms = 60000});
          if (!got.ok() || got->status != 200) {
            tally.AddViolation("accepted digest " + Query(w) + " is not there: " +
                               (got.ok() ? std::to_string(got->status) : got.status().ToString()));
            continue;
          }
          auto [code, expected] = RunToCompletion({VPCFLOW_DIGEST_BIN, "--source", corpus,
                                                   "--start", FormatRfc3339(w.start), "--stop",
                                                   FormatRfc3339(w.stop), "--threads", "1"});
          if (code != 0) {
            tally.AddViolation("vpcflow-digest failed for " + Query(w));
          } else if (Gunzip(got->body) != expected) {
            tally.AddViolation("digest " + DigestId(w) + " " + Query(w) +
                               " differs from the CLI's");
          }
          ++checked;
        }
      });
    }
  }

  // SIGTERM: a clean exit; then nothing may be left in the stores.
  std::optional<int> exit_code = service.Stop(SIGTERM);
  rss.Stop();
  if (!g_interrupted && exit_code != 0) {
    tally.AddViolation("SIGTERM: the service exited with " +
                       (exit_code ? std::to_string(*exit_code) : std::string("no exit in 60 s")));
  }
  int64_t stored = 0;
  if (!g_interrupted) {
    std::set<std::string> accepted_ids;
    for (size_t i : accepted) accepted_ids.insert(DigestId(pool[i]));
    Result<std::vector<std::string>> digests = KeysOf(*s3, digests_bucket);
    Result<std::vector<std::string>> progress = KeysOf(*s3, progress_bucket);
    if (!digests.ok() || !progress.ok()) {
      tally.AddViolation("listing the stores failed: " + digests.status().ToString() + " " +
                         progress.status().ToString());
    } else {
      std::set<std::string> keys(digests->begin(), digests->end());
      for (const std::string& id : accepted_ids) {
        for (const char* suffix : {".log.gz", ".manifest.json"}) {
          if (!keys.contains(id + suffix))
            tally.AddViolation("missing in the digest store: " + id + suffix);
        }
      }
      for (const std::string& key : keys) {
        const bool digest = key.size() == 36 + 7 && key.ends_with(".log.gz");
        const bool manifest = key.size() == 36 + 14 && key.ends_with(".manifest.json");
        if (digest) ++stored;
        if (!digest && !manifest) tally.AddViolation("left in the digest store: " + key);
      }
      for (const std::string& key : *progress)
        tally.AddViolation("left in the progress store: " + key);
    }
    std::error_code ec;
    for (const auto& e : fs::recursive_directory_iterator(data_dir, ec)) {
      if (e.is_regular_file()) tally.AddViolation("left in DATA_DIR: " + e.path().string());
    }
  }
  const int64_t rss_peak_mb = (rss.peak_kb() + 1023) / 1024;
  if (rss_peak_mb > o.rss_limit_mb) {
    tally.AddViolation("RSS peak " + std::to_string(rss_peak_mb) + " MB is above the limit of " +
                       std::to_string(o.rss_limit_mb) + " MB");
  }
  // Job failures are allowed only while the S3 gateway was away (and shortly after).
  int64_t failures_in_outage = 0;
  const std::vector<JobFailure> job_failures = service.JobFailures();
  for (const JobFailure& f : job_failures) {
    const int64_t down = load.gateway_down_unix_ms(), up = load.gateway_up_unix_ms();
    if (down != 0 && f.unix_ms >= down - 5000 && f.unix_ms <= (up == 0 ? INT64_MAX : up + 60000)) {
      ++failures_in_outage;
    } else {
      tally.AddViolation("job " + f.id +
                         " failed outside the S3 outage: " + f.message.substr(0, 300));
    }
  }
  if (!g_interrupted && o.seconds >= o.kill_every_s * 2 && kills < 1) {
    tally.AddViolation("the service was never killed");
  }
  if (!g_interrupted && !gateway_restarted && o.kill_every_s * 1500 < o.seconds * 1000 - 2000) {
    tally.AddViolation("the S3 gateway was not restarted");
  }

  std::cout << "\n===== vpcflow-digesterd soak: " << o.seconds << " s, " << o.clients
            << " clients =====\n"
            << tally.Table() << "\n";
  std::printf("windows accepted (202)   %zu (of %zu asked for at least once)\n", accepted.size(),
              pool.size());
  std::printf("digests checked vs CLI   %lld of %zu; stored %lld\n",
              static_cast<long long>(checked.load()), accepted.size(),
              static_cast<long long>(stored));
  std::printf("SIGKILLs                 %d (instances %d); jobs recovered %lld, done %lld\n", kills,
              service.instances(), static_cast<long long>(service.Events("job-recovered")),
              static_cast<long long>(service.Events("job-done")));
  std::printf(
      "job failures (logs)      %zu (%lld during the S3 outage); seen failed and POSTed "
      "again %lld\n",
      job_failures.size(), static_cast<long long>(failures_in_outage),
      static_cast<long long>(load.retried()));
  std::printf("S3 gateway restarts      %d (down %lld s)\n", gateway_restarted ? 1 : 0,
              static_cast<long long>(o.gateway_down_s));
  std::printf("drain after the load     %.1f s\n", static_cast<double>(drain_ms) / 1000.0);
  std::printf("RSS peak                 %lld MB (limit %lld MB, %lld samples)\n",
              static_cast<long long>(rss_peak_mb), static_cast<long long>(o.rss_limit_mb),
              static_cast<long long>(rss.samples()));
  std::printf("service logs             %s/service-*.log\n", o.work.c_str());
  if (g_interrupted && !fatal) {
    std::printf("RESULT: interrupted\n");
    return 130;
  }
  std::printf("RESULT: %s (%lld violations)\n", tally.violations() == 0 ? "PASS" : "FAIL",
              static_cast<long long>(tally.violations()));
  return tally.violations() == 0 ? 0 : 1;
}

}  // namespace
}  // namespace vpcflow::soak

int main() { return vpcflow::soak::Main(); }
