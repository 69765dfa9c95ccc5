#pragma once
/// Queuer: hands digest jobs to workers. The API queues; the worker side runs a JobHandler.
///
/// Built-ins: NewInProcessQueuer (a bounded pool in this process, the default) and
/// NewHttpQueuer (POSTs the job JSON to an event bus, which calls back `POST /{topic}/{event}`).
/// Implementations must be thread-safe.

#include <cstdint>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>
#include <vector>

#include "vpcflow/status.hpp"
#include "vpcflow/window.hpp"

namespace vpcflow {

class HttpClient;

/// One digest job.
struct Job {
  std::string id{};  ///< DigestId(window)
  Window window{};
  friend bool operator==(const Job&, const Job&) = default;
};

/// The job JSON of the event bus: {"id":"...","start":"RFC 3339","stop":"RFC 3339"}.
std::string JobToJson(const Job& job);
/// Parses and validates job JSON: start/stop must make a valid window (MakeWindow, with
/// `max_window_seconds`) and id, when present, must equal DigestId(window). Returns
/// InvalidArgument saying what is wrong.
Result<Job> JobFromJson(std::string_view json, int64_t max_window_seconds);

/// Runs one job to completion. `stop` is requested at shutdown (the handler should give up
/// quickly and return Cancelled). Called on a worker thread.
using JobHandler = std::function<Status(const Job& job, std::stop_token stop)>;

class Queuer {
 public:
  virtual ~Queuer() = default;
  Queuer() = default;
  Queuer(const Queuer&) = delete;
  Queuer& operator=(const Queuer&) = delete;

  /// Sets the handler jobs are run with (before the first Queue). Queuers that deliver
  /// elsewhere (HTTP) ignore it.
  virtual void SetHandler(JobHandler handler) = 0;
  /// Queues a job. Returns ResourceExhausted when the queue is full, Unavailable when the bus
  /// cannot be reached (after retries), FailedPrecondition after Shutdown.
  [[nodiscard]] virtual Status Queue(const Job& job) = 0;
  /// Stops taking jobs, requests stop on running ones after `grace_ms`, waits for them, and
  /// returns the jobs that were queued but never started (the caller clears their markers).
  virtual std::vector<Job> Shutdown(int64_t grace_ms) = 0;
  virtual std::string Describe() const = 0;
};
using QueuerPtr = std::unique_ptr<Queuer>;

/// `workers` threads (at least 1) taking jobs from a queue of at most `capacity` (at least 1)
/// waiting jobs; a full queue makes Queue return ResourceExhausted. Queue returns
/// FailedPrecondition when no handler is set. Each handler call gets its worker thread's
/// stop_token. Shutdown hands back the waiting jobs at once, gives running ones `grace_ms` to
/// finish, then requests stop and joins the workers (a handler that ignores its stop_token
/// delays Shutdown). An exception escaping the handler is swallowed. A job queued while the
/// same job (same id) waits or runs is not run twice.
QueuerPtr NewInProcessQueuer(int workers, size_t capacity = 1024);

struct HttpQueuerOptions {
  std::string endpoint{};         ///< STREAM_APPLIANCE_ENDPOINT
  std::string topic = "digests";  ///< STREAM_APPLIANCE_TOPIC, used when endpoint has no path
  int64_t timeout_ms = 5000;      ///< per attempt
  int max_attempts = 4;           ///< retries on 429/5xx (retry.hpp) and connection errors
  int64_t backoff_ms = 100;       ///< first retry delay, doubled each time, capped at 2 s
  /// STREAM_APPLIANCE_TOKEN: sent as "Authorization: Bearer <token>" when set (a secret: never
  /// in a message).
  std::string bearer_token{};
};
/// The longest delay between two attempts.
inline constexpr int64_t kHttpQueuerMaxBackoffMs = 2000;
/// The URL jobs are posted to: the endpoint itself when it has a path (other than "/"), else
/// `<endpoint>/<topic>/digest` ("http://bus:8080" -> "http://bus:8080/digests/digest").
std::string HttpQueuerUrl(const HttpQueuerOptions& options);
/// The delay before retry `retry` (1 = the first retry): backoff_ms * 2^(retry-1), at most
/// kHttpQueuerMaxBackoffMs.
int64_t HttpQueuerBackoffMs(const HttpQueuerOptions& options, int retry);
/// POSTs JobToJson (content-type application/json) to HttpQueuerUrl through `client` (not
/// owned, must outlive the queuer). Any 2xx is OK. 429/500/502/503/504 and the client's Unavailable
/// and DeadlineExceeded are retried up to `max_attempts` in all, with HttpQueuerBackoffMs delays,
/// then Queue returns Unavailable naming the URL and the last error (never a body). 400, 413,
/// 415 and 422 return InvalidArgument at once; any other status FailedPrecondition. Shutdown
/// interrupts a retry delay (that Queue returns FailedPrecondition), waits for Queue calls in
/// flight and hands back nothing (no job is held here).
QueuerPtr NewHttpQueuer(HttpQueuerOptions options, HttpClient* client);

/// Forwards every call to `target` (not owned).
class QueuerWrapper : public Queuer {
 public:
  explicit QueuerWrapper(Queuer* target) : target_(target) {}
  void SetHandler(JobHandler handler) override { target_->SetHandler(std::move(handler)); }
  Status Queue(const Job& job) override { return target_->Queue(job); }
  std::vector<Job> Shutdown(int64_t grace_ms) override { return target_->Shutdown(grace_ms); }
  std::string Describe() const override { return target_->Describe(); }
  Queuer* target() const { return target_; }

 private:
  Queuer* target_;
};

}  // namespace vpcflow
