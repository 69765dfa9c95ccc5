// Service: composes the modules, the job runner and the HTTP server, and runs the lifecycle
// (start-up checks, signals, graceful shutdown).
#include "vpcflow/service.hpp"

#include <pthread.h>
#include <signal.h>

#include <condition_variable>
#include <filesystem>
#include <future>
#include <mutex>
#include <thread>

#include "api/auth.hpp"
#include "api/handlers.hpp"
#include "api/router.hpp"
#include "api/server.hpp"
#include "digest/spill.hpp"
#include "modules/queuer/nats_queuer.hpp"
#include "modules/queuer/worker_pool.hpp"
#include "nats/kv_job_state_store.hpp"
#include "service/job_runner.hpp"
#include "service/job_tracker.hpp"
#include "service/marker_keeper.hpp"
#include "service/s3_stores.hpp"
#include "service/sharded_job.hpp"
#include "service/tracking_queuer.hpp"

namespace vpcflow {
namespace {

// Extra time, after the grace period, for cancelled jobs to answer their requests.
constexpr int64_t kCancelledAnswerMs = 5000;

// The tokens of `file` (variable `variable`); a problem line when it cannot be used.
std::vector<std::string> ReadTokens(const std::string& file, const char* variable,
                                    std::vector<std::string>* problems) {
  if (file.empty()) return {};
  Result<std::vector<std::string>> tokens = ReadTokenFile(file);
  if (tokens.ok()) return std::move(tokens).value();
  problems->push_back(std::string(variable) + ": " + tokens.status().message());
  return {};
}

std::string DirOr(const std::string& dir, const std::string& data_dir, const char* sub) {
  return dir.empty() ? (std::filesystem::path(data_dir) / sub).string() : dir;
}

// Creates `dir` (and parents); a problem line when it cannot.
bool MakeDir(const std::string& dir, const char* variable, std::vector<std::string>* problems) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (!ec) return true;
  problems->push_back(std::string(variable) + ": cannot create \"" + dir + "\": " + ec.message());
  return false;
}

}  // namespace

class ServiceImpl {
 public:
  explicit ServiceImpl(Config config) : config_(std::move(config)) {}

  Status Start();
  void Shutdown();
  Status Run(bool handle_signals);
  int port() const { return server_ ? server_->port() : 0; }

  // Shutdown() stops every thread (server, keeper, queuer, pool) before anything is destroyed.
  // Then members go in reverse order of declaration: the server, runner and tracker (below)
  // first, the queuer before the pool it submits to, and the modules everything uses last.
  Config config_;
  ClockPtr clock_;
  LoggerPtr logger_;
  StatsPtr stats_;
  HttpClientPtr http_client_;
  ObjectSourcePtr source_;
  StoragePtr storage_;
  MarkerPtr marker_;
  // The NATS queue's connection and the shared job state (before queuer_, which uses them).
  std::unique_ptr<NatsConnection> nats_;
  std::unique_ptr<KvBucket> jobs_kv_;
  JobStateStorePtr job_states_;
  // The sharded jobs of the NATS queue: their task queue (shared with queuer_), ledgers and
  // coordinator (set in Start(), before the queuer's consumers start).
  std::unique_ptr<WorkQueue> tasks_;
  std::unique_ptr<KvBucket> shards_kv_;
  std::unique_ptr<LedgerStore> ledger_;
  std::unique_ptr<TaskPublisher> publisher_;
  std::unique_ptr<ShardedJobs> sharded_;
  std::unique_ptr<WorkerPool> pool_;  // before queuer_: the default queuer submits to it
  QueuerPtr queuer_;

 private:
  enum class State { kNew, kRunning, kStopping, kStopped };

  std::vector<std::string> CreateDefaults();
  Status OpenNats();
  Status Ready();

  JobTracker tracker_;
  // What the API and the keeper queue goes through it, so tracker_ holds it (after tracker_ and
  // queuer_, which it uses).
  std::unique_ptr<TrackingQueuer> tracked_queuer_;
  std::string spill_dir_;
  std::unique_ptr<JobRunner> runner_;
  std::unique_ptr<MarkerKeeper> keeper_;
  bool default_queuer_ = false;  // queuer_ is the pool's own (it runs jobs in pool_ itself)
  Authenticator auth_;
  ApiContext api_;
  std::unique_ptr<Router> router_;
  std::unique_ptr<HttpServer> server_;
  std::atomic<bool> draining_{false};

  std::mutex mu_;
  std::condition_variable state_changed_;
  State state_ = State::kNew;
};

std::vector<std::string> ServiceImpl::CreateDefaults() {
  const Config& c = config_;
  std::vector<std::string> problems;
  if (!clock_) clock_ = SystemClock();
  if (!logger_) logger_ = NewJsonLogger(c.log_level);
  if (!stats_) {
    stats_ = NewDogStatsd(
        {.address = c.statsd_address, .prefix = "vpcflow_digesterd", .tags = c.statsd_tags});
  }
  const S3StoresWanted s3_wanted{.source = !source_ && !c.flowlogs_bucket.bucket.empty(),
                                 .storage = !storage_ && !c.digest_bucket.bucket.empty(),
                                 .marker = !marker_ && !c.progress_bucket.bucket.empty()};
  if (s3_wanted.source || s3_wanted.storage || s3_wanted.marker) {
    if (!http_client_) http_client_ = NewCurlHttpClient({.ca_file = c.ca_file});
    // Not owned: http_client_ is declared before the stores, so it outlives them.
    std::shared_ptr<HttpClient> http(std::shared_ptr<void>(), http_client_.get());
    S3Stores s3 = NewS3Stores(c, s3_wanted, std::move(http), clock_, &problems);
    if (s3.source) source_ = std::move(s3.source);
    if (s3.storage) storage_ = std::move(s3.storage);
    if (s3.marker) marker_ = std::move(s3.marker);
    for (const std::string& warning : s3.warnings) {
      logger_->Log(LogLevel::kWarn, "startup-warning", {{"reason", warning}});
    }
  }
  // Jobs spill their aggregation here when it reaches DIGEST_MEMORY_LIMIT (each in a private
  // directory of its own, removed when the job ends).
  spill_dir_ = DirOr(c.spill_dir, c.data_dir, "spill");
  if (MakeDir(spill_dir_, "DIGEST_SPILL_DIR", &problems)) {
    // What a process killed while spilling left (the next spill would remove it too).
    if (const size_t stale = SweepStaleSpillDirs(spill_dir_); stale > 0) {
      logger_->Log(LogLevel::kInfo, "stale-spill-removed", {{"directories", uint64_t{stale}}});
    }
  }
  if (!source_ && c.flowlogs_bucket.bucket.empty()) {
    const std::string dir = DirOr(c.flowlogs_dir, c.data_dir, "flowlogs");
    if (MakeDir(dir, "VPC_FLOW_LOGS_DIR", &problems)) {
      Result<ObjectSourcePtr> source =
          NewLocalDirSource(dir, {.follow_links = c.flowlogs_follow_links});
      if (source.ok()) {
        source_ = std::move(source).value();
      } else {
        problems.push_back("VPC_FLOW_LOGS_DIR: " + source.status().message());
      }
    }
  }
  if (!storage_ && c.digest_bucket.bucket.empty()) {
    Result<StoragePtr> storage = NewFileStorage(DirOr(c.digest_dir, c.data_dir, "digests"));
    if (storage.ok()) {
      storage_ = std::move(storage).value();
    } else {
      problems.push_back("DIGEST_STORAGE_DIR: " + storage.status().message());
    }
  }
  if (!marker_ && c.progress_bucket.bucket.empty()) {
    Result<MarkerPtr> marker =
        NewFileMarker(DirOr(c.progress_dir, c.data_dir, "progress"), MarkerOptionsFor(c, clock_));
    if (marker.ok()) {
      marker_ = std::move(marker).value();
    } else {
      problems.push_back("DIGEST_PROGRESS_DIR: " + marker.status().message());
    }
  }
  // Every job of the process runs in this one pool, whoever delivers it.
  pool_ = std::make_unique<WorkerPool>(
      WorkerPoolOptions{.workers = c.workers, .capacity = c.queue_capacity, .stats = stats_.get()});
  if (!queuer_ && !c.queue_url.empty()) {
    if (Status st = OpenNats(); !st.ok()) problems.push_back("DIGEST_QUEUE_URL: " + st.message());
  }
  if (!queuer_) {
    if (c.stream_endpoint.empty()) {
      queuer_ = NewWorkerPoolQueuer(pool_.get());
      default_queuer_ = true;
    } else {
      if (!http_client_) http_client_ = NewCurlHttpClient({.ca_file = c.ca_file});
      queuer_ = NewHttpQueuer(
          {.endpoint = c.stream_endpoint, .topic = c.stream_topic, .bearer_token = c.stream_token},
          http_client_.get());
    }
  }
  auth_ = Authenticator(ReadTokens(c.api_tokens_file, "DIGEST_API_TOKENS_FILE", &problems),
                        ReadTokens(c.worker_tokens_file, "DIGEST_WORKER_TOKENS_FILE", &problems));
  return problems;
}

// The NATS queue: the connection, the work queue (consumers in the worker roles) and the job
// state in a key-value bucket every process shares.
Status ServiceImpl::OpenNats() {
  const Config& c = config_;
  VPCFLOW_ASSIGN_OR_RETURN(NatsOptions options,
                           NatsOptionsFromUrls(c.queue_url, c.nats_creds, c.nats_token));
  VPCFLOW_ASSIGN_OR_RETURN(nats_, NatsConnection::Connect(options));
  VPCFLOW_ASSIGN_OR_RETURN(jobs_kv_, KvBucket::Open(nats_.get(), {.bucket = "vpcflow_jobs"}));
  job_states_ = NewKvJobStateStore(jobs_kv_.get());
  NatsQueuerOptions q;
  q.queue.ack_wait_ms = c.nats_ack_wait_ms;
  q.queue.max_deliver = c.nats_max_deliver;
  q.consumers = c.role == ServiceRole::kApi ? 0 : c.workers;
  q.max_window_seconds = c.max_window_seconds;
  q.logger = logger_.get();
  q.task_handler = [this](std::string_view subject, std::string_view data, uint64_t delivered,
                          const std::stop_token& stop) {
    return sharded_->RunTask(subject, data, delivered, stop);
  };
  q.pool = pool_.get();  // shard and merge tasks within the one bound, DIGEST_WORKERS
  VPCFLOW_ASSIGN_OR_RETURN(tasks_, WorkQueue::Open(nats_.get(), q.queue));
  // A ledger nobody touched for a long while is of a job nobody works on (sharded_job.hpp).
  VPCFLOW_ASSIGN_OR_RETURN(
      shards_kv_, KvBucket::Open(nats_.get(), {.bucket = "vpcflow_shards",
                                               .ttl_ms = ShardLedgerTtlMs(c.nats_ack_wait_ms,
                                                                          c.nats_max_deliver)}));
  ledger_ = NewKvLedgerStore(shards_kv_.get());
  publisher_ = NewWorkQueuePublisher(tasks_.get());
  queuer_ = NewNatsQueuer(nats_.get(), tasks_.get(), std::move(q));
  return OkStatus();
}

Status ServiceImpl::Ready() {
  if (draining_) return UnavailableError("shutting down");
  // The local answers first: a full queue is 503 without a round trip to the stores (each
  // Ready of an S3 store is a HEAD of its bucket).
  if (const WorkerPoolLoad load = pool_->Load(); load.full()) {
    return UnavailableError("the job queue is full (" + std::to_string(load.running) +
                            " jobs running, " + std::to_string(load.waiting) + " waiting)");
  }
  if (nats_) {
    if (Status st = nats_->Ready(); !st.ok()) return st;
  }
  if (Status st = storage_->Ready(); !st.ok())
    return st.WithContext("storage " + storage_->Describe());
  if (Status st = marker_->Ready(); !st.ok())
    return st.WithContext("marker " + marker_->Describe());
  return OkStatus();
}

Status ServiceImpl::Start() {
  std::lock_guard lock(mu_);
  if (state_ != State::kNew) return FailedPreconditionError("the service was already started");
  std::vector<std::string> problems = CreateDefaults();
  if (!problems.empty()) {
    std::string message = "cannot start:";
    for (const std::string& p : problems) message += "\n  " + p;
    logger_->Log(LogLevel::kError, "startup-failed", {{"reason", message}});
    if (queuer_) (void)queuer_->Shutdown(0);
    if (pool_) (void)pool_->Shutdown(0);
    return InvalidArgumentError(std::move(message));
  }

  if (job_states_) tracker_.SetStore(job_states_.get());
  tracked_queuer_ = std::make_unique<TrackingQueuer>(queuer_.get(), &tracker_);
  JobRunnerDeps runner_deps{.source = source_.get(),
                            .storage = storage_.get(),
                            .marker = marker_.get(),
                            .logger = logger_.get(),
                            .stats = stats_.get(),
                            .clock = clock_.get(),
                            .tracker = &tracker_,
                            .scan = config_.scan,
                            .digest_threads = config_.digest_threads,
                            .memory_limit = config_.memory_limit,
                            .spill_dir = spill_dir_,
                            .settle_seconds = config_.settle_seconds};
  if (config_.shard_target_bytes > 0) {
    runner_deps.shards.target_text_bytes = config_.shard_target_bytes;
    runner_deps.in_memory_text_bytes = config_.shard_target_bytes;
  }
  if (ledger_) {
    // On NATS a large job is split into shard tasks for every worker (sharded_job.hpp).
    runner_deps.hand_off = [this](const Job& job, const JobPlan& plan, bool provisional) {
      return sharded_->HandOff(job, plan, provisional);
    };
  }
  runner_ = std::make_unique<JobRunner>(runner_deps);
  if (ledger_) {
    sharded_ = std::make_unique<ShardedJobs>(
        ShardedJobDeps{.runner = runner_.get(),
                       .states = tracker_.store(),
                       .ledger = ledger_.get(),
                       .publisher = publisher_.get(),
                       .max_deliver = config_.nats_max_deliver,
                       .marker_refresh_ms = MarkerOptionsFor(config_, clock_).heartbeat_ms,
                       .max_window_seconds = config_.max_window_seconds});
  }
  pool_->SetHandler(
      [this](const Job& job, const std::stop_token& stop) { return runner_->Run(job, stop); });
  if (!default_queuer_) {
    // A queuer that delivers jobs itself (a user's consumer of a broker) runs them in the pool
    // too, waiting for each: the pool's bound holds for every job of the process.
    queuer_->SetHandler([this](const Job& job, const std::stop_token&) {
      auto result = std::make_shared<std::promise<Status>>();
      std::future<Status> done = result->get_future();
      Status submitted = pool_->Submit(job, [result](const Status& st) { result->set_value(st); });
      if (IsAlreadyExists(submitted)) return OkStatus();  // delivered again: it runs here
      VPCFLOW_RETURN_IF_ERROR(submitted);
      return done.get();
    });
  }
  api_ = ApiContext{
      .storage = storage_.get(),
      .marker = marker_.get(),
      .queuer = tracked_queuer_.get(),
      .logger = logger_.get(),
      .stats = stats_.get(),
      .job_states = tracker_.store(),
      .pool = pool_.get(),
      .ready = [this] { return Ready(); },
      .max_window_seconds = config_.max_window_seconds,
      .clock = clock_.get(),
      .settle_seconds = config_.settle_seconds,
      .routes = config_.role == ServiceRole::kWorker ? ApiRoutes::kProbesOnly : ApiRoutes::kAll};
  router_ = std::make_unique<Router>(logger_.get());
  AddApiRoutes(*router_, &api_);
  server_ =
      std::make_unique<HttpServer>(ServerOptions{.address = config_.listen_address,
                                                 .port = config_.port,
                                                 .threads = config_.http_threads,
                                                 .request_timeout_ms = config_.request_timeout_ms,
                                                 .max_header_bytes = config_.max_header_bytes,
                                                 .max_body_bytes = config_.max_body_bytes,
                                                 .tls_cert_file = config_.tls_cert_file,
                                                 .tls_key_file = config_.tls_key_file,
                                                 .auth = &auth_},
                                   router_.get(), logger_.get(), stats_.get(), clock_.get());
  if (Status st = server_->Start(); !st.ok()) {
    logger_->Log(LogLevel::kError, "startup-failed", {{"reason", st.message()}});
    (void)queuer_->Shutdown(0);
    (void)pool_->Shutdown(0);
    return st;
  }
  if (!auth_.api_protected()) {
    logger_->Log(LogLevel::kWarn, "startup-warning",
                 {{"reason",
                   "DIGEST_API_TOKENS_FILE is not set: the API is open to anyone "
                   "who reaches the port"}});
  }
  logger_->Log(LogLevel::kInfo, "startup",
               {{"version", Version()},
                {"address", config_.listen_address},
                {"port", server_->port()},
                {"source", source_->Describe()},
                {"storage", storage_->Describe()},
                {"marker", marker_->Describe()},
                {"queuer", queuer_->Describe()},
                {"role", config_.role == ServiceRole::kAll
                             ? "all"
                             : (config_.role == ServiceRole::kApi ? "api" : "worker")},
                {"workers", config_.workers},
                {"queue_capacity", static_cast<int64_t>(config_.queue_capacity)},
                {"tls", !config_.tls_cert_file.empty()},
                {"api_auth", auth_.api_protected()},
                {"worker_auth", auth_.worker_protected()},
                {"progress_timeout_ms", config_.progress_timeout_ms},
                {"heartbeat_ms", MarkerOptionsFor(config_, clock_).heartbeat_ms}});
  // Heartbeats for the jobs this process holds, and at once the jobs a dead holder left.
  keeper_ = std::make_unique<MarkerKeeper>(
      MarkerKeeperDeps{.marker = marker_.get(),
                       .storage = storage_.get(),
                       .queuer = tracked_queuer_.get(),
                       .tracker = &tracker_,
                       .logger = logger_.get(),
                       .stats = stats_.get(),
                       .interval_ms = MarkerOptionsFor(config_, clock_).heartbeat_ms});
  keeper_->Start();
  state_ = State::kRunning;
  return OkStatus();
}

void ServiceImpl::Shutdown() {
  {
    std::unique_lock lock(mu_);
    if (state_ == State::kNew) state_ = State::kStopped;
    if (state_ != State::kRunning) {
      state_changed_.wait(lock, [this] { return state_ == State::kStopped; });
      return;
    }
    state_ = State::kStopping;
  }
  const int64_t t0 = clock_->MonotonicMillis();
  const int64_t grace_ms = config_.shutdown_grace_ms;
  logger_->Log(LogLevel::kInfo, "shutdown-start", {{"grace_ms", grace_ms}});
  draining_ = true;
  keeper_->StopRecovering();  // running jobs keep their heartbeats until they end
  server_->StopAccepting();
  // Jobs the bus delivered share the pool, its grace and its cancellation with queued ones;
  // those still waiting answer their requests 503 (the bus delivers them again later).
  std::vector<Job> handed_back = queuer_->Shutdown(grace_ms);
  const int64_t pool_grace_ms = grace_ms - (clock_->MonotonicMillis() - t0);
  for (Job& job : pool_->Shutdown(std::max<int64_t>(0, pool_grace_ms))) {
    handed_back.push_back(std::move(job));
  }
  for (const Job& job : handed_back) {
    // Its marker stays: the next instance on these stores takes it over (MarkerKeeper).
    tracker_.Forget(job.id);
    logger_->Log(LogLevel::kInfo, "job-handed-back", {{"id", job.id}});
  }
  server_->WaitIdle(kCancelledAnswerMs);
  keeper_->Stop();
  server_->Stop();
  logger_->Log(LogLevel::kInfo, "shutdown",
               {{"duration_ms", clock_->MonotonicMillis() - t0},
                {"handed_back", static_cast<int64_t>(handed_back.size())}});
  std::lock_guard lock(mu_);
  state_ = State::kStopped;
  state_changed_.notify_all();
}

Status ServiceImpl::Run(bool handle_signals) {
  sigset_t signals;
  sigset_t old_mask;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  // Blocked before any thread starts, so every thread inherits the mask and only the
  // sigwait thread below ever sees these signals.
  if (handle_signals) pthread_sigmask(SIG_BLOCK, &signals, &old_mask);
  Status st = Start();
  std::atomic<bool> done{false};
  std::thread waiter;
  if (st.ok() && handle_signals) {
    waiter = std::thread([this, &signals, &done] {
      int sig = 0;
      sigwait(&signals, &sig);
      if (done) return;
      logger_->Log(LogLevel::kInfo, "signal", {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
      Shutdown();
    });
  }
  if (st.ok()) {
    std::unique_lock lock(mu_);
    state_changed_.wait(lock, [this] { return state_ == State::kStopped; });
  }
  if (waiter.joinable()) {
    done = true;
    // Wakes sigwait when no signal came: SIGTERM is blocked in every thread, so it cannot end
    // the process; only the waiter's sigwait takes it.
    // NOLINTNEXTLINE(bugprone-bad-signal-to-kill-thread)
    pthread_kill(waiter.native_handle(), SIGTERM);
    waiter.join();
  }
  if (handle_signals) {
    // Consume signals still pending (a second Ctrl-C) so unblocking does not kill us.
    const timespec zero{0, 0};
    while (sigtimedwait(&signals, nullptr, &zero) > 0) {
    }
    pthread_sigmask(SIG_SETMASK, &old_mask, nullptr);
  }
  return st;
}

Service::Service(Config config) : impl_(std::make_unique<ServiceImpl>(std::move(config))) {}
Service::~Service() { Shutdown(); }

void Service::SetObjectSource(ObjectSourcePtr source) { impl_->source_ = std::move(source); }
void Service::SetStorage(StoragePtr storage) { impl_->storage_ = std::move(storage); }
void Service::SetMarker(MarkerPtr marker) { impl_->marker_ = std::move(marker); }
void Service::SetQueuer(QueuerPtr queuer) { impl_->queuer_ = std::move(queuer); }
void Service::SetHttpClient(HttpClientPtr client) { impl_->http_client_ = std::move(client); }
void Service::SetLogger(LoggerPtr logger) { impl_->logger_ = std::move(logger); }
void Service::SetStats(StatsPtr stats) { impl_->stats_ = std::move(stats); }
void Service::SetClock(ClockPtr clock) { impl_->clock_ = std::move(clock); }

Status Service::Run(bool handle_signals) { return impl_->Run(handle_signals); }
Status Service::Start() { return impl_->Start(); }
void Service::Shutdown() { impl_->Shutdown(); }
int Service::port() const { return impl_->port(); }

}  // namespace vpcflow
