#include "vpcflow/service.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <thread>

#include "digest/spill.hpp"
#include "service/marker_keeper.hpp"
#include "testing/fake_clock.hpp"
#include "testing/files.hpp"
#include "testing/gate.hpp"
#include "testing/gated_source.hpp"
#include "testing/matchers.hpp"
#include "testing/memory_logger.hpp"
#include "testing/memory_marker.hpp"
#include "testing/memory_queuer.hpp"
#include "testing/memory_stats.hpp"
#include "testing/memory_storage.hpp"
#include "testing/scratch_dir.hpp"
#include "testing/service_corpus.hpp"
#include "testing/test_http_server.hpp"

namespace vpcflow {
namespace {

using ::testing::HasSubstr;

const std::string kQuery = std::string("?start=") + kCorpusStart + "&stop=" + kCorpusStop;
const std::string kId = DigestId(kCorpusWindow);

// The hour starting `hour` hours after the corpus window's start, as a job.
Job HourJob(int hour) {
  Window window{.start = kCorpusWindow.start + int64_t{hour} * 3600,
                .stop = kCorpusWindow.stop + int64_t{hour} * 3600};
  return Job{.id = DigestId(window), .window = window};
}

// A source whose listing of the root ("AWSLogs/": once per job, first thing) waits at `gate`:
// how many are inside at once is how many jobs run at once.
class ListGate : public ObjectSourceWrapper {
 public:
  explicit ListGate(ObjectSourcePtr owned)
      : ObjectSourceWrapper(owned.get()), owned_(std::move(owned)) {}
  Result<ListPage> List(const ListRequest& request) override {
    if (request.prefix == "AWSLogs/") gate.Enter();
    return ObjectSourceWrapper::List(request);
  }
  Gate gate;

 private:
  ObjectSourcePtr owned_;
};

// A storage that counts its readiness checks (on S3 each is a HEAD of the bucket).
class ReadyCountingStorage : public StorageWrapper {
 public:
  ReadyCountingStorage(StoragePtr owned, std::atomic<int>* readies)
      : StorageWrapper(owned.get()), owned_(std::move(owned)), readies_(readies) {}
  Status Ready() override {
    ++*readies_;
    return StorageWrapper::Ready();
  }

 private:
  StoragePtr owned_;
  std::atomic<int>* readies_;
};

// A storage whose digests are read slowly: every Read waits at `gate`.
class SlowReadStorage : public StorageWrapper {
 public:
  explicit SlowReadStorage(StoragePtr owned)
      : StorageWrapper(owned.get()), owned_(std::move(owned)) {}
  Result<StoredDigest> Get(std::string_view id) override {
    VPCFLOW_ASSIGN_OR_RETURN(StoredDigest stored, StorageWrapper::Get(id));
    stored.reader = std::make_unique<Reader>(&gate, std::move(stored.reader));
    return stored;
  }
  Gate gate;

 private:
  class Reader : public ObjectReader {
   public:
    Reader(Gate* gate, ObjectReaderPtr inner) : gate_(gate), inner_(std::move(inner)) {}
    Result<size_t> Read(std::span<char> buffer) override {
      gate_->Enter();
      return inner_->Read(buffer);
    }

   private:
    Gate* gate_;
    ObjectReaderPtr inner_;
  };

  StoragePtr owned_;
};

class ServiceTest : public ::testing::Test {
 protected:
  ServiceTest() {
    config_.listen_address = "127.0.0.1";
    config_.port = 0;
    config_.data_dir = scratch_.path();
    config_.statsd_address = "";
    config_.shutdown_grace_ms = 0;
  }

  // Builds the service with memory modules (the file defaults otherwise; the corpus as the
  // source); with `clock`, its clock and markers judged by it, on `store` (null: a store of
  // their own); `wrap` (when given) decorates the memory storage.
  void Make(ObjectSourcePtr source = nullptr, std::shared_ptr<FakeClock> clock = nullptr,
            std::shared_ptr<MemoryMarkerStore> store = nullptr,
            std::function<StoragePtr(StoragePtr)> wrap = nullptr) {
    if (!source) {
      auto memory = std::make_unique<MemoryObjectSource>();
      PutCorpus(*memory);
      source = std::move(memory);
    }
    MakeWithSourceFromConfig(std::move(clock), std::move(store), std::move(wrap));
    service_->SetObjectSource(std::move(source));
  }

  // Make() but the source is the one the configuration names.
  void MakeWithSourceFromConfig(std::shared_ptr<FakeClock> clock = nullptr,
                                std::shared_ptr<MemoryMarkerStore> store = nullptr,
                                std::function<StoragePtr(StoragePtr)> wrap = nullptr) {
    service_ = std::make_unique<Service>(config_);
    if (clock) service_->SetClock(clock);
    auto storage = std::make_unique<MemoryStorage>();
    storage_ = storage.get();
    service_->SetStorage(wrap ? wrap(std::move(storage)) : std::move(storage));
    auto marker = std::make_unique<MemoryMarker>(MarkerOptionsFor(config_, clock), store);
    marker_ = marker.get();
    service_->SetMarker(std::move(marker));
    auto logger = std::make_unique<MemoryLogger>();
    logger_ = logger.get();
    service_->SetLogger(std::move(logger));
    service_->SetStats(std::make_unique<MemoryStats>());
  }

  // Make() over the corpus behind a gate: a job reading it runs until the gate is released.
  GatedSource* MakeGated(std::shared_ptr<FakeClock> clock,
                         std::shared_ptr<MemoryMarkerStore> store) {
    auto memory = std::make_unique<MemoryObjectSource>();
    PutCorpus(*memory);
    auto gated = std::make_unique<GatedSource>(std::move(memory));
    GatedSource* gate = gated.get();
    Make(std::move(gated), std::move(clock), std::move(store));
    return gate;
  }

  Result<HttpResponse> Send(std::string method, const std::string& path, std::string body = "") {
    return client_->Send({.method = std::move(method),
                          .url = "http://127.0.0.1:" + std::to_string(service_->port()) + path,
                          .body = std::move(body),
                          .timeout_ms = 10000});
  }

  Result<HttpResponse> PollGet(const std::string& path) {
    return GetUntilNotInProgress(
        *client_, "http://127.0.0.1:" + std::to_string(service_->port()) + path, 10000);
  }

  // Waits for `done` at most 10 s.
  template <typename Pred>
  static bool WaitFor(Pred done) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!done()) {
      if (std::chrono::steady_clock::now() > deadline) return false;
      std::this_thread::yield();
    }
    return true;
  }

  // A week after the corpus window: it and the windows of the next day are settled.
  static constexpr int64_t kSettledMs = (kCorpusWindow.stop + 7 * 86400) * 1000;

  ScratchDir scratch_;
  Config config_;
  std::unique_ptr<Service> service_;
  std::unique_ptr<Service> service2_;
  MemoryStorage* storage_ = nullptr;
  MemoryMarker* marker_ = nullptr;
  MemoryLogger* logger_ = nullptr;
  HttpClientPtr client_ = NewCurlHttpClient();
};

// A worker killed while spilling left its spill directory (its owner file no longer locked):
// the next start removes it; one without an owner file is not ours and stays.
TEST_F(ServiceTest, StartRemovesTheSpillDirectoryOfAKilledProcess) {
  const std::string dead = scratch_.Sub("spill/vpcflow-spill-dead");
  const std::string other = scratch_.Sub("spill/vpcflow-spill-other");
  std::filesystem::create_directories(dead);
  std::filesystem::create_directories(other);
  WriteFile(dead + "/" + std::string(kSpillOwnerFile), "");
  WriteFile(dead + "/0.run", "rows");
  Make();
  ASSERT_OK(service_->Start());
  EXPECT_FALSE(std::filesystem::exists(dead));
  EXPECT_TRUE(std::filesystem::is_directory(other));
}

TEST_F(ServiceTest, PostThenGetServesTheDigest) {
  Make();
  ASSERT_OK(service_->Start());
  ASSERT_GT(service_->port(), 0);
  Result<HttpResponse> post = Send("POST", "/" + kQuery);
  ASSERT_OK(post.status());
  EXPECT_EQ(post->status, 202);
  Result<HttpResponse> get = PollGet("/" + kQuery);
  ASSERT_OK(get.status());
  ASSERT_EQ(get->status, 200);
  EXPECT_EQ(get->body, storage_->Digest(kId).value_or("<none>"));
  Result<HttpResponse> status = Send("GET", "/status" + kQuery);
  ASSERT_OK(status.status());
  EXPECT_THAT(status->body, HasSubstr(R"("state":"done")"));
  Result<HttpResponse> again = Send("POST", "/" + kQuery);
  ASSERT_OK(again.status());
  EXPECT_EQ(again->status, 409);
  service_->Shutdown();
  EXPECT_EQ(logger_->Count("startup"), 1u);
  EXPECT_EQ(logger_->Count("shutdown"), 1u);
  service_->Shutdown();  // idempotent
}

TEST_F(ServiceTest, RunsOnTheEmbeddedDefaultsUnderDataDir) {
  service_ = std::make_unique<Service>(config_);
  auto logger = std::make_unique<MemoryLogger>();
  logger_ = logger.get();
  service_->SetLogger(std::move(logger));
  ASSERT_OK(service_->Start());
  std::vector<LoggedEvent> startup = logger_->Events("startup");
  ASSERT_EQ(startup.size(), 1u);
  EXPECT_THAT(startup[0].Field("storage"), HasSubstr(scratch_.Sub("digests")));
  EXPECT_THAT(startup[0].Field("marker"), HasSubstr(scratch_.Sub("progress")));
  EXPECT_THAT(startup[0].Field("source"), HasSubstr(scratch_.Sub("flowlogs")));
  Result<HttpResponse> ready = Send("GET", "/readyz");
  ASSERT_OK(ready.status());
  EXPECT_EQ(ready->status, 200);
}

TEST_F(ServiceTest, StartTwiceIsRefused) {
  Make();
  ASSERT_OK(service_->Start());
  EXPECT_THAT(service_->Start(), StatusIs(StatusCode::kFailedPrecondition));
}

TEST_F(ServiceTest, AnUnreachableBucketIsAStartUpProblemNamingItsVariable) {
  config_.digest_bucket.bucket = "digests";
  config_.aws_access_key_id = "AKIDEXAMPLE";
  config_.aws_secret_access_key = "s3cr3t-never-shown";
  config_.aws_endpoint_url = "http://127.0.0.1:" + std::to_string(RefusedLocalPort());
  service_ = std::make_unique<Service>(config_);
  service_->SetLogger(std::make_unique<MemoryLogger>());
  EXPECT_THAT(service_->Start(),
              StatusIs(StatusCode::kInvalidArgument,
                       ::testing::AllOf(HasSubstr("DIGEST_STORAGE_BUCKET"), HasSubstr("digests"),
                                        ::testing::Not(HasSubstr("s3cr3t")))));
}

TEST_F(ServiceTest, ABucketWithoutCredentialsIsAStartUpProblem) {
  ScratchDir empty;
  config_.flowlogs_bucket.bucket = "logs";
  config_.aws_credentials_file = empty.Sub("no-such-credentials");
  config_.aws_endpoint_url = "http://127.0.0.1:" + std::to_string(RefusedLocalPort());
  service_ = std::make_unique<Service>(config_);
  service_->SetLogger(std::make_unique<MemoryLogger>());
  EXPECT_THAT(service_->Start(), StatusIs(StatusCode::kInvalidArgument,
                                          ::testing::AllOf(HasSubstr("VPC_FLOW_LOGS_BUCKET"),
                                                           HasSubstr("credentials"))));
  Make();  // a program that sets its own source: the bucket is its business
  EXPECT_OK(service_->Start());
}

TEST_F(ServiceTest, AnUncreatableDirectoryIsReported) {
  config_.progress_dir = "/proc/vpcflow-cannot-create-this";
  service_ = std::make_unique<Service>(config_);
  service_->SetLogger(std::make_unique<MemoryLogger>());
  EXPECT_THAT(service_->Start(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("DIGEST_PROGRESS_DIR")));
}

TEST_F(ServiceTest, APortInUseIsUnavailable) {
  Make();
  ASSERT_OK(service_->Start());
  config_.port = service_->port();
  Service second(config_);
  second.SetLogger(std::make_unique<MemoryLogger>());
  second.SetStats(std::make_unique<MemoryStats>());
  EXPECT_THAT(second.Start(), StatusIs(StatusCode::kUnavailable));
}

// Must-fix 5 of issue 12: an object that could not be read fails the job (a failure record a
// new POST retries), it never yields a "done" digest that silently lacks the object.
TEST_F(ServiceTest, AnObjectThatCannotBeReadFailsTheJob) {
  auto memory = std::make_unique<MemoryObjectSource>();
  PutCorpus(*memory);
  const std::string unreadable = CorpusKey(5, "ef567890");
  memory->FailObject(unreadable, PermissionDeniedError("open /logs/x: Permission denied"));
  Make(std::move(memory));
  ASSERT_OK(service_->Start());
  ASSERT_EQ(Send("POST", "/" + kQuery)->status, 202);
  std::string status;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    Result<HttpResponse> answer = Send("GET", "/status" + kQuery);
    ASSERT_OK(answer.status());
    status = answer->body;
    if (status.find(R"("state":"failed")") != std::string::npos ||
        status.find(R"("state":"done")") != std::string::npos) {
      break;
    }
  }
  EXPECT_THAT(status, HasSubstr(R"("state":"failed")"));
  EXPECT_THAT(status, HasSubstr("PERMISSION_DENIED"));
  EXPECT_THAT(status, HasSubstr(unreadable));
  EXPECT_FALSE(storage_->Digest(kId).has_value());
  EXPECT_EQ(Send("GET", "/" + kQuery)->status, 404);
  EXPECT_EQ(logger_->Count("job-done"), 0u);
}

TEST_F(ServiceTest, WorkerRouteJobsShareTheBoundedPool) {
  config_.workers = 2;
  config_.queue_capacity = 1;
  auto memory = std::make_unique<MemoryObjectSource>();
  PutCorpus(*memory);
  auto gated = std::make_unique<ListGate>(std::move(memory));
  Gate* gate = &gated->gate;
  std::atomic<int> readies{0};
  Make(std::move(gated), nullptr, nullptr, [&readies](StoragePtr storage) -> StoragePtr {
    return std::make_unique<ReadyCountingStorage>(std::move(storage), &readies);
  });
  ASSERT_OK(service_->Start());
  constexpr int kPosts = 6;  // more than 2 workers + 1 waiting
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Result<HttpResponse>> answers;
  std::vector<std::thread> posts;
  for (int i = 0; i < kPosts; ++i) {
    posts.emplace_back([&, i] {
      Result<HttpResponse> r = Send("POST", "/digests/digest", JobToJson(HourJob(i)));
      std::lock_guard lock(mu);
      answers.push_back(std::move(r));
      cv.notify_all();
    });
  }
  {
    // Those beyond the pool are answered at once, while the others wait for their jobs.
    std::unique_lock lock(mu);
    ASSERT_TRUE(
        cv.wait_for(lock, std::chrono::seconds(10), [&] { return answers.size() >= kPosts - 3; }));
    for (const Result<HttpResponse>& r : answers) {
      ASSERT_OK(r.status());
      EXPECT_EQ(r->status, 503);
      EXPECT_EQ(r->Header("retry-after"), "5");
    }
  }
  ASSERT_TRUE(gate->WaitInside(2));
  // The queue is full: /readyz says so, and a POST / is refused before anything is marked,
  // both without asking the stores (a HEAD of each bucket on S3).
  const int readies_before = readies.load();
  Result<HttpResponse> ready = Send("GET", "/readyz");
  ASSERT_OK(ready.status());
  EXPECT_EQ(ready->status, 503);
  EXPECT_THAT(ready->body, HasSubstr("queue is full"));
  const Job later = HourJob(10);
  Result<HttpResponse> post = Send("POST", "/?start=" + FormatRfc3339(later.window.start) +
                                               "&stop=" + FormatRfc3339(later.window.stop));
  ASSERT_OK(post.status());
  EXPECT_EQ(post->status, 503);
  EXPECT_EQ(post->Header("retry-after"), "5");
  EXPECT_EQ(marker_->State(later.id)->state, MarkState::kAbsent);
  EXPECT_EQ(readies.load(), readies_before);
  gate->Open();
  for (std::thread& t : posts) t.join();
  int done = 0;
  for (const Result<HttpResponse>& r : answers) done += r.ok() && r->status == 204 ? 1 : 0;
  EXPECT_EQ(done, 3);
  EXPECT_EQ(gate->max_inside(), 2);  // never more jobs at once than DIGEST_WORKERS
  Result<HttpResponse> metrics = Send("GET", "/metrics");
  ASSERT_OK(metrics.status());
  EXPECT_THAT(metrics->body, HasSubstr("vpcflow_digesterd_worker_pool_saturation"));
}

TEST_F(ServiceTest, SlowDigestDownloadsDoNotStallHealthz) {
  config_.http_threads = 2;
  SlowReadStorage* slow = nullptr;
  Make(nullptr, nullptr, nullptr, [&slow](StoragePtr inner) {
    auto wrapped = std::make_unique<SlowReadStorage>(std::move(inner));
    slow = wrapped.get();
    return wrapped;
  });
  const std::string digest(100000, 'd');
  Result<StorageUploadPtr> upload = storage_->Begin(kId);
  ASSERT_OK(upload.status());
  ASSERT_OK((*upload)->body().Append(digest));
  ASSERT_OK((*upload)->Commit("{}"));
  ASSERT_OK(service_->Start());
  // Two downloads from a store that does not answer: as many as the I/O threads.
  auto a = std::async(std::launch::async, [this] { return Send("GET", "/" + kQuery); });
  auto b = std::async(std::launch::async, [this] { return Send("GET", "/" + kQuery); });
  ASSERT_TRUE(slow->gate.WaitInside(2));
  Result<HttpResponse> health = Send("GET", "/healthz");
  ASSERT_OK(health.status());
  EXPECT_EQ(health->status, 200);
  slow->gate.Open();
  for (auto* download : {&a, &b}) {
    Result<HttpResponse> r = download->get();
    ASSERT_OK(r.status());
    EXPECT_TRUE(r->body == digest);
  }
}

TEST_F(ServiceTest, TokenFilesThatCannotBeUsedAreStartUpProblems) {
  ScratchDir dir;
  std::ofstream(dir.Sub("empty")) << "# no token yet\n";
  config_.api_tokens_file = dir.Sub("empty");
  config_.worker_tokens_file = dir.Sub("missing");
  Make();
  Status st = service_->Start();
  EXPECT_THAT(st, StatusIs(StatusCode::kInvalidArgument,
                           ::testing::AllOf(HasSubstr("DIGEST_API_TOKENS_FILE"),
                                            HasSubstr("DIGEST_WORKER_TOKENS_FILE"))));
}

TEST_F(ServiceTest, WithoutTokensItWarnsThatTheApiIsOpen) {
  Make();
  ASSERT_OK(service_->Start());
  std::vector<LoggedEvent> warnings = logger_->Events("startup-warning");
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_THAT(warnings[0].Field("reason"), HasSubstr("open"));
  service_->Shutdown();
  ScratchDir dir;
  std::ofstream(dir.Sub("api")) << "an-api-token\n";
  config_.api_tokens_file = dir.Sub("api");
  Make();
  ASSERT_OK(service_->Start());
  EXPECT_EQ(logger_->Count("startup-warning"), 0u);
  EXPECT_EQ(Send("GET", "/" + kQuery)->status, 401);
  EXPECT_EQ(Send("GET", "/healthz")->status, 200);
}

TEST_F(ServiceTest, ShutdownHandsBackJobsWhoseMarkersTheNextInstanceTakesOver) {
  config_.heartbeat_ms = 50;
  auto clock = std::make_shared<FakeClock>(kSettledMs);
  auto store = std::make_shared<MemoryMarkerStore>();
  Make(nullptr, clock, store);
  service_->SetQueuer(std::make_unique<MemoryQueuer>());  // keeps the job waiting
  ASSERT_OK(service_->Start());
  const Window later = *MakeWindow("2019-01-02T00:00:00Z", "2019-01-02T01:00:00Z");
  ASSERT_EQ(Send("POST", "/?start=2019-01-02T00:00:00Z&stop=2019-01-02T01:00:00Z")->status, 202);
  service_->Shutdown();
  EXPECT_FALSE(storage_->Digest(DigestId(later)).has_value());
  EXPECT_EQ(logger_->Count("job-handed-back"), 1u);
  // Its marker stays, naming its window, for the next instance.
  Result<MarkInfo> left = marker_->State(DigestId(later));
  ASSERT_OK(left.status());
  EXPECT_EQ(left->state, MarkState::kInProgress);
  EXPECT_EQ(left->window, later);

  // The next instance on the same stores (here in the same process, so only the silence of
  // the heartbeats tells the holder is gone) completes it without a new POST.
  MemoryStorage* storage = storage_;
  StoragePtr kept = std::make_unique<StorageWrapper>(storage);
  clock->AdvanceMillis(kStaleHeartbeats * config_.heartbeat_ms);
  auto memory2 = std::make_unique<MemoryObjectSource>();
  PutCorpus(*memory2);
  service2_ = std::make_unique<Service>(config_);
  service2_->SetObjectSource(std::move(memory2));
  service2_->SetStorage(std::move(kept));
  service2_->SetMarker(std::make_unique<MemoryMarker>(MarkerOptionsFor(config_, clock), store));
  auto logger2 = std::make_unique<MemoryLogger>();
  MemoryLogger* log2 = logger2.get();
  service2_->SetLogger(std::move(logger2));
  service2_->SetStats(std::make_unique<MemoryStats>());
  service2_->SetClock(clock);
  ASSERT_OK(service2_->Start());
  EXPECT_TRUE(WaitFor([&] { return storage->Digest(DigestId(later)).has_value(); }));
  EXPECT_EQ(log2->Count("job-recovered"), 1u);
  EXPECT_TRUE(WaitFor([&] { return marker_->marker_count() == 0; }))
      << "markers left: " << marker_->marker_count();
}

TEST_F(ServiceTest, RecoversAtOnceTheJobsOfADeadPredecessorAndLaterThoseOfASilentHost) {
  config_.heartbeat_ms = 50;
  auto clock = std::make_shared<FakeClock>(kSettledMs);
  auto store = std::make_shared<MemoryMarkerStore>();
  MarkOwner dead = ThisMarkOwner();
  dead.instance = "predecessor";
  dead.start_ticks -= 1;  // this pid, another start time: a killed predecessor
  MarkOwner remote = ThisMarkOwner();
  remote.instance = "remote";
  remote.host = "another-host";
  const Window first = kCorpusWindow;
  const Window second = *MakeWindow("2019-01-01T00:30:00Z", "2019-01-01T01:00:00Z");
  MemoryMarker predecessor(
      {.ttl_ms = config_.progress_timeout_ms, .heartbeat_ms = 50, .clock = clock, .owner = dead},
      store);
  MemoryMarker elsewhere(
      {.ttl_ms = config_.progress_timeout_ms, .heartbeat_ms = 50, .clock = clock, .owner = remote},
      store);
  ASSERT_OK(predecessor.Claim(DigestId(first), first));
  ASSERT_OK(elsewhere.Claim(DigestId(second), second));

  Make(nullptr, clock, store);
  ASSERT_OK(service_->Start());
  EXPECT_TRUE(WaitFor([&] { return storage_->Digest(DigestId(first)).has_value(); }));
  Result<HttpResponse> status =
      Send("GET", "/status?start=2019-01-01T00:30:00Z&stop=2019-01-01T01:00:00Z");
  ASSERT_OK(status.status());
  EXPECT_THAT(status->body, HasSubstr(R"("state":"running")"));  // the remote holder's, live
  EXPECT_FALSE(storage_->Digest(DigestId(second)).has_value());
  clock->AdvanceMillis(kStaleHeartbeats * 50);  // the remote holder stays silent
  EXPECT_TRUE(WaitFor([&] { return storage_->Digest(DigestId(second)).has_value(); }));
  EXPECT_TRUE(WaitFor([&] { return marker_->marker_count() == 0; }));
  // Logged once the job is queued, so possibly after it is done.
  EXPECT_TRUE(WaitFor([&] { return logger_->Count("job-recovered") == 2u; }));
  std::vector<LoggedEvent> recovered = logger_->Events("job-recovered");
  ASSERT_EQ(recovered.size(), 2u);
  EXPECT_EQ(recovered[0].Field("id"), DigestId(first));
  EXPECT_EQ(recovered[1].Field("previous_host"), "another-host");
}

TEST_F(ServiceTest, QueuedJobsKeepTheirMarkersAliveWhileTheyWait) {
  config_.workers = 1;
  config_.heartbeat_ms = 50;
  auto clock = std::make_shared<FakeClock>(kSettledMs);
  GatedSource* gate = MakeGated(clock, nullptr);
  ASSERT_OK(service_->Start());
  ASSERT_EQ(Send("POST", "/" + kQuery)->status, 202);
  gate->WaitOpened();
  const std::string later_query = "?start=2019-01-02T00:00:00Z&stop=2019-01-02T01:00:00Z";
  const std::string later_id =
      DigestId(*MakeWindow("2019-01-02T00:00:00Z", "2019-01-02T01:00:00Z"));
  ASSERT_EQ(Send("POST", "/" + later_query)->status, 202);
  for (int i = 0; i < 5; ++i) {
    // Each step is past the marker's life unless the keeper rewrote it meanwhile.
    const int64_t before = clock->NowUnixMillis();
    clock->AdvanceMillis(kStaleHeartbeats * 50);
    EXPECT_TRUE(WaitFor([&] {
      Result<MarkInfo> a = marker_->State(kId);
      Result<MarkInfo> b = marker_->State(later_id);
      return a.ok() && b.ok() && a->written_unix_ms > before && b->written_unix_ms > before;
    }));
  }
  EXPECT_THAT(Send("GET", "/status" + kQuery)->body, HasSubstr(R"("state":"running")"));
  EXPECT_THAT(Send("GET", "/status" + later_query)->body, HasSubstr(R"("state":"queued")"));
  gate->Release();
  EXPECT_TRUE(WaitFor([&] { return storage_->Digest(later_id).has_value(); }));
}

TEST_F(ServiceTest, UnsettledWindowsMakeProvisionalDigestsReplacedOnceSettled) {
  auto clock = std::make_shared<FakeClock>((kCorpusWindow.stop + 600) * 1000);
  Make(nullptr, clock, nullptr);
  ASSERT_OK(service_->Start());
  ASSERT_EQ(Send("POST", "/" + kQuery)->status, 202);
  EXPECT_TRUE(WaitFor([&] { return storage_->Digest(kId).has_value(); }));
  Result<HttpResponse> get = Send("GET", "/" + kQuery);
  ASSERT_OK(get.status());
  EXPECT_EQ(get->status, 200);
  EXPECT_EQ(get->Header("x-digest-provisional"), "true");
  EXPECT_EQ(Send("POST", "/" + kQuery)->status, 409);  // not settled yet: kept

  clock->AdvanceMillis(600 * 1000);  // settled now: the next POST replaces it
  ASSERT_EQ(Send("POST", "/" + kQuery)->status, 202);
  EXPECT_TRUE(WaitFor([&] {
    Result<HttpResponse> r = Send("GET", "/" + kQuery);
    return r.ok() && r->status == 200 && r->Header("x-digest-provisional").empty();
  }));
  EXPECT_EQ(Send("POST", "/" + kQuery)->status, 409);  // final: never replaced
}

TEST_F(ServiceTest, PostsOfWindowsThatStartInTheFutureAre400ByTheServiceClock) {
  auto clock = std::make_shared<FakeClock>((kCorpusWindow.start - 60) * 1000);
  Make(nullptr, clock, nullptr);
  ASSERT_OK(service_->Start());
  Result<HttpResponse> post = Send("POST", "/" + kQuery);
  ASSERT_OK(post.status());
  EXPECT_EQ(post->status, 400);
  EXPECT_THAT(post->body, HasSubstr("starts in the future"));
}

// Secrets a URL may carry, which no log line or answer may show.
constexpr const char* kUserInfo = "user:s3cr3t-pass@";
constexpr const char* kSignature = "X-Amz-Signature=5ec2e7519";

void ExpectNoSecrets(const std::string& text) {
  EXPECT_THAT(text, ::testing::AllOf(::testing::Not(HasSubstr("s3cr3t-pass")),
                                     ::testing::Not(HasSubstr("5ec2e7519"))))
      << text;
}

std::string AllLogText(const MemoryLogger& logger) {
  std::string text;
  for (const LoggedEvent& e : logger.events()) {
    text += e.event;
    for (const auto& [k, v] : e.fields) text += " " + k + "=" + v;
    text += "\n";
  }
  return text;
}

TEST_F(ServiceTest, TheBusUrlsSecretsAreInNoLogLineNorAnswer) {
  config_.stream_endpoint = std::string("http://") + kUserInfo +
                            "127.0.0.1:" + std::to_string(RefusedLocalPort()) + "/bus/digest?" +
                            kSignature;
  Make();
  ASSERT_OK(service_->Start());
  std::vector<LoggedEvent> startup = logger_->Events("startup");
  ASSERT_EQ(startup.size(), 1u);
  EXPECT_THAT(startup[0].Field("queuer"), HasSubstr("http://***@127.0.0.1:"));
  Result<HttpResponse> post = Send("POST", "/" + kQuery);
  ASSERT_OK(post.status());
  EXPECT_EQ(post->status, 503);
  EXPECT_THAT(post->body, HasSubstr("/bus/digest"));  // says where it went
  ExpectNoSecrets(post->body);
  ExpectNoSecrets(AllLogText(*logger_));
}

TEST_F(ServiceTest, AFailedS3JobShowsOnlyTheErrorCodeAndRedactedMessage) {
  Result<std::unique_ptr<TestHttpServer>> s3 =
      TestHttpServer::Start([](const TestHttpRequest& request) -> TestHttpReply {
        if (request.method == "HEAD") return {.status = 200};  // the bucket exists
        return {.status = 403,
                .body = std::string("<Error><Code>AccessDenied</Code><Message>see http://") +
                        kUserInfo + "example.com/x?" + kSignature +
                        "</Message><StringToSign>AWS4-HMAC-SHA256 the-canonical-request-"
                        "never-shown</StringToSign></Error>",
                .headers = {{"Content-Type", "application/xml"}}};
      });
  ASSERT_OK(s3.status());
  config_.flowlogs_bucket.bucket = "logs";
  config_.aws_access_key_id = "AKIDEXAMPLE";
  config_.aws_secret_access_key = "wJalrXUtnFEMI-never-shown";
  config_.aws_region = "us-east-1";
  config_.aws_endpoint_url_s3 = (*s3)->url();
  MakeWithSourceFromConfig();
  ASSERT_OK(service_->Start());
  ASSERT_EQ(Send("POST", "/" + kQuery)->status, 202);
  ASSERT_TRUE(WaitFor([&] { return logger_->Count("job-failed") > 0; }));
  Result<HttpResponse> status = Send("GET", "/status" + kQuery);
  ASSERT_OK(status.status());
  EXPECT_THAT(status->body, HasSubstr(R"("state":"failed")"));
  EXPECT_THAT(status->body, HasSubstr("AccessDenied"));
  EXPECT_THAT(status->body, HasSubstr("http://***@example.com/x?***"));
  EXPECT_THAT(status->body, ::testing::Not(HasSubstr("canonical-request")));
  ExpectNoSecrets(status->body);
  const std::string logs = AllLogText(*logger_);
  ExpectNoSecrets(logs);
  EXPECT_THAT(logs, ::testing::Not(HasSubstr("never-shown")));
}

}  // namespace
}  // namespace vpcflow
