#include "api/handlers.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json/parse.hpp>
#include <future>
#include <mutex>

#include "testing/fake_clock.hpp"
#include "testing/matchers.hpp"
#include "testing/memory_logger.hpp"
#include "testing/memory_marker.hpp"
#include "testing/memory_queuer.hpp"
#include "testing/memory_stats.hpp"
#include "testing/memory_storage.hpp"
#include "testing/service_corpus.hpp"

namespace vpcflow {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::Pair;
using ::testing::SizeIs;
using ::testing::StartsWith;

namespace json = boost::json;

constexpr int64_t kTtlMs = 60000;
const std::string kQuery = std::string("?start=") + kCorpusStart + "&stop=" + kCorpusStop;
const std::string kId = DigestId(kCorpusWindow);

std::string Drain(ApiResponse& response) {
  if (!response.stream) return response.body;
  std::string out;
  char buf[1000];
  while (true) {
    Result<size_t> n = response.stream->Read(std::span<char>(buf, sizeof(buf)));
    EXPECT_OK(n.status());
    if (!n.ok() || *n == 0) return out;
    out.append(buf, *n);
  }
}

json::value ParseJson(const std::string& text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  EXPECT_FALSE(ec) << text;
  return v;
}

std::string Message(const ApiResponse& response) {
  json::value v = ParseJson(response.body);
  if (!v.is_object() || !v.as_object().contains("message")) return "<no message>";
  return std::string(v.as_object().at("message").as_string());
}

// A storage whose Exists fails with `error`.
class ExistsFails : public StorageWrapper {
 public:
  ExistsFails(Storage* target, Status error) : StorageWrapper(target), error_(std::move(error)) {}
  Result<bool> Exists(std::string_view) override { return error_; }

 private:
  Status error_;
};

class ApiTest : public ::testing::Test {
 protected:
  // A day after the corpus window: it is settled.
  ApiTest()
      : clock_(std::make_shared<FakeClock>((kCorpusWindow.stop + 86400) * 1000)),
        marker_(kTtlMs, clock_),
        router_(&logger_) {
    ctx_.clock = clock_.get();
    ctx_.storage = &storage_;
    ctx_.marker = &marker_;
    ctx_.queuer = &queuer_;
    ctx_.logger = &logger_;
    ctx_.stats = &stats_;
    ctx_.job_states = states_.get();
    pool_.SetHandler([this](const Job& job, std::stop_token) {
      std::lock_guard lock(mu_);
      run_jobs_.push_back(job);
      return run_result_;
    });
    ctx_.pool = &pool_;
    ctx_.ready = [this] { return ready_; };
    AddApiRoutes(router_, &ctx_);
  }

  ApiResponse Call(std::string method, const std::string& target, std::string body = "") {
    ApiRequest request;
    request.method = std::move(method);
    request.target = target;
    EXPECT_OK(ParseTarget(target, &request.path, &request.query));
    request.body = std::move(body);
    return router_.Handle(std::move(request));
  }

  void Store(const std::string& id, const std::string& bytes, const std::string& manifest) {
    Result<StorageUploadPtr> upload = storage_.Begin(id);
    ASSERT_OK(upload.status());
    ASSERT_OK((*upload)->body().Append(bytes));
    ASSERT_OK((*upload)->Commit(manifest));
  }

  MarkState State(const std::string& id = kId) {
    Result<MarkInfo> info = marker_.State(id);
    EXPECT_OK(info.status());
    return info.ok() ? info->state : MarkState::kAbsent;
  }

  std::shared_ptr<FakeClock> clock_;
  MemoryStorage storage_;
  MemoryMarker marker_;
  MemoryQueuer queuer_;
  MemoryLogger logger_;
  MemoryStats stats_;
  JobStateStorePtr states_ = NewMemoryJobStateStore();  // shared with "other processes"
  ApiContext ctx_;
  Router router_;
  std::mutex mu_;  // the pool's worker writes these, the test reads them after the answer
  std::vector<Job> run_jobs_;
  Status run_result_;
  Status ready_;
  WorkerPool pool_{{.workers = 1, .capacity = 2, .stats = &stats_}};  // last: joined first
};

TEST_F(ApiTest, PostMarksQueuesAndAnswers202) {
  ApiResponse r = Call("POST", "/" + kQuery);
  EXPECT_EQ(r.status, 202);
  EXPECT_EQ(ParseJson(r.body).at("id").as_string(), kId);
  EXPECT_THAT(r.headers, Contains(Pair("Location", "/" + kQuery)));
  EXPECT_EQ(State(), MarkState::kInProgress);
  ASSERT_THAT(queuer_.jobs(), SizeIs(1));
  EXPECT_EQ(queuer_.jobs()[0], (Job{.id = kId, .window = kCorpusWindow}));
  EXPECT_EQ(stats_.CounterTotal("digest_posts", {{"outcome", "queued"}}), 1);
}

TEST_F(ApiTest, SecondPostWhileInProgressIs409) {
  ASSERT_EQ(Call("POST", "/" + kQuery).status, 202);
  ApiResponse r = Call("POST", "/" + kQuery);
  EXPECT_EQ(r.status, 409);
  EXPECT_THAT(Message(r), HasSubstr("in progress"));
  EXPECT_THAT(queuer_.jobs(), SizeIs(1));
  EXPECT_EQ(logger_.Count("conflict"), 1u);
}

TEST_F(ApiTest, TheSameWindowWrittenOtherwiseIsTheSameDigest) {
  ASSERT_EQ(Call("POST", "/" + kQuery).status, 202);
  // 01:00:30+01:00 is 00:00:30Z, truncated to 00:00; 02:00:59.9+01:00 is 01:00:59.9Z -> 01:00.
  ApiResponse r =
      Call("POST", "/?start=2019-01-01T01:00:30%2B01:00&stop=2019-01-01T02:00:59.9+01:00");
  EXPECT_EQ(r.status, 409);
  EXPECT_THAT(Message(r), HasSubstr(kId));
}

TEST_F(ApiTest, PostOfAStoredDigestIs409AndMarksNothing) {
  Store(kId, "gz", "{}");
  ApiResponse r = Call("POST", "/" + kQuery);
  EXPECT_EQ(r.status, 409);
  EXPECT_THAT(Message(r), HasSubstr("exists"));
  EXPECT_EQ(State(), MarkState::kAbsent);
  EXPECT_THAT(queuer_.jobs(), IsEmpty());
}

TEST_F(ApiTest, QueueFailureUnmarksAndAnswers503) {
  queuer_.FailWith(UnavailableError("bus down"));
  ApiResponse r = Call("POST", "/" + kQuery);
  EXPECT_EQ(r.status, 503);
  EXPECT_THAT(Message(r), HasSubstr("bus down"));
  EXPECT_EQ(State(), MarkState::kAbsent);
  ASSERT_THAT(logger_.Events("dependency-failure"), SizeIs(1));
  EXPECT_EQ(logger_.Events("dependency-failure")[0].Field("dependency"), "queuer");
  // The next POST may try again.
  queuer_.FailWith(OkStatus());
  EXPECT_EQ(Call("POST", "/" + kQuery).status, 202);
}

TEST_F(ApiTest, AStaleMarkerDoesNotBlockAPost) {
  ASSERT_OK(marker_.Mark(kId, kCorpusWindow));
  clock_->AdvanceMillis(kTtlMs + 1);
  EXPECT_EQ(Call("POST", "/" + kQuery).status, 202);
  EXPECT_EQ(State(), MarkState::kInProgress);
}

TEST_F(ApiTest, AFullQueueLeavesTheMarkerOfAnAcceptedJobWhoseHolderIsGone) {
  // Accepted (202) by an instance that was then killed: its marker is stale. A POST that takes
  // the job over but cannot queue it leaves a marker for the recovery to queue it later;
  // unmarking it lost the job (make soak: accepted digests never stored).
  ASSERT_OK(marker_.Mark(kId, kCorpusWindow));
  clock_->AdvanceMillis(kTtlMs + 1);
  queuer_.FailWith(ResourceExhaustedError("the job queue is full"));
  ApiResponse r = Call("POST", "/" + kQuery);
  EXPECT_EQ(r.status, 503);
  Result<MarkInfo> info = marker_.State(kId);
  ASSERT_OK(info.status());
  EXPECT_NE(info->state, MarkState::kAbsent);
  ASSERT_TRUE(info->window.has_value());
  EXPECT_EQ(DigestId(*info->window), kId);
  EXPECT_EQ(logger_.Count("job-left-for-recovery"), 1u);
}

TEST_F(ApiTest, AFailedDigestCanBePostedAgain) {
  ASSERT_OK(marker_.Fail(kId, R"({"code":"UNAVAILABLE"})"));
  EXPECT_EQ(Call("POST", "/" + kQuery).status, 202);
}

TEST_F(ApiTest, PostWhileNotReadyIs503AndMarksNothing) {
  ready_ = UnavailableError("the job queue is full (2 jobs running, 8 waiting)");
  ApiResponse r = Call("POST", "/" + kQuery);
  EXPECT_EQ(r.status, 503);
  EXPECT_THAT(r.headers, Contains(Pair("Retry-After", "5")));
  EXPECT_THAT(Message(r), HasSubstr("queue is full"));
  EXPECT_EQ(State(), MarkState::kAbsent);
  EXPECT_THAT(queuer_.jobs(), IsEmpty());
}

TEST_F(ApiTest, AFullQueueIs503WithRetryAfter) {
  queuer_.FailWith(ResourceExhaustedError("the job queue is full"));
  ApiResponse r = Call("POST", "/" + kQuery);
  EXPECT_EQ(r.status, 503);
  EXPECT_THAT(r.headers, Contains(Pair("Retry-After", "5")));
  EXPECT_EQ(State(), MarkState::kAbsent);
}

TEST_F(ApiTest, APermissionFailureOfAStoreIs503) {
  ExistsFails refusing(&storage_, PermissionDeniedError("403"));
  ctx_.storage = &refusing;
  EXPECT_EQ(Call("POST", "/" + kQuery).status, 503);
  EXPECT_EQ(Call("GET", "/status" + kQuery).status, 503);
}

TEST_F(ApiTest, StorageFailureOnPostIs503) {
  ExistsFails broken(&storage_, UnavailableError("disk gone"));
  ctx_.storage = &broken;
  ApiResponse r = Call("POST", "/" + kQuery);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(State(), MarkState::kAbsent);
}

TEST_F(ApiTest, AWindowThatStartsInTheFutureIs400AndUnknown) {
  clock_->SetUnixMillis(kCorpusWindow.start * 1000 - 1000);
  ApiResponse r = Call("POST", "/" + kQuery);
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(Message(r), HasSubstr("starts in the future"));
  EXPECT_EQ(Call("POST", "/digests/digest", JobToJson({.id = kId, .window = kCorpusWindow})).status,
            400);
  EXPECT_THAT(run_jobs_, IsEmpty());
  EXPECT_EQ(Call("GET", "/" + kQuery).status, 404);
  EXPECT_THAT(Call("GET", "/status" + kQuery).body, HasSubstr(R"("state":"unknown")"));
  EXPECT_THAT(queuer_.jobs(), IsEmpty());
  EXPECT_EQ(State(), MarkState::kAbsent);
}

TEST_F(ApiTest, AWindowNotSettledIsAcceptedForAProvisionalDigest) {
  ctx_.settle_seconds = 1200;
  for (int64_t now_s : {kCorpusWindow.start + 60, kCorpusWindow.stop, kCorpusWindow.stop + 1199}) {
    clock_->SetUnixMillis(now_s * 1000);
    ApiResponse r = Call("POST", "/" + kQuery);
    EXPECT_EQ(r.status, 202) << now_s;
    ApiResponse worker =
        Call("POST", "/digests/digest", JobToJson({.id = kId, .window = kCorpusWindow}));
    EXPECT_EQ(worker.status, 204) << now_s;
    ASSERT_OK(marker_.Unmark(kId));
  }
  EXPECT_THAT(queuer_.jobs(), SizeIs(3));
}

const std::string kProvisionalManifest = R"({"id":"x","provisional":true,"summary":{"keys":1}})";

TEST_F(ApiTest, AProvisionalDigestIsKeptUntilItsWindowSettlesThenAPostReplacesIt) {
  ctx_.settle_seconds = 1200;
  Store(kId, "gz", kProvisionalManifest);
  clock_->SetUnixMillis((kCorpusWindow.stop + 1199) * 1000);
  ApiResponse early = Call("POST", "/" + kQuery);
  EXPECT_EQ(early.status, 409);
  EXPECT_THAT(Message(early), HasSubstr("provisional: a POST from 2019-01-01T01:20:00Z"));
  EXPECT_THAT(queuer_.jobs(), IsEmpty());
  EXPECT_EQ(State(), MarkState::kAbsent);

  clock_->SetUnixMillis((kCorpusWindow.stop + 1200) * 1000);
  ApiResponse settled = Call("POST", "/" + kQuery);
  EXPECT_EQ(settled.status, 202);
  EXPECT_THAT(queuer_.jobs(), SizeIs(1));
  EXPECT_EQ(State(), MarkState::kInProgress);
}

TEST_F(ApiTest, AFinalDigestIsNeverReplaced) {
  ctx_.settle_seconds = 1200;
  Store(kId, "gz", R"({"id":"x","provisional":false})");
  clock_->SetUnixMillis((kCorpusWindow.stop + 86400) * 1000);
  ApiResponse r = Call("POST", "/" + kQuery);
  EXPECT_EQ(r.status, 409);
  EXPECT_THAT(Message(r), Not(HasSubstr("provisional")));
  EXPECT_THAT(queuer_.jobs(), IsEmpty());
}

TEST_F(ApiTest, GetAndStatusOfAProvisionalDigestSaySo) {
  Store(kId, "gz", kProvisionalManifest);
  ApiResponse get = Call("GET", "/" + kQuery);
  EXPECT_EQ(get.status, 200);
  EXPECT_THAT(get.headers, Contains(Pair("X-Digest-Provisional", "true")));
  json::value status = ParseJson(Call("GET", "/status" + kQuery).body);
  EXPECT_EQ(status.at("state").as_string(), "done");
  EXPECT_EQ(status.at("provisional").as_bool(), true);

  Store(kId, "gz", R"({"id":"x","provisional":false})");
  get = Call("GET", "/" + kQuery);
  EXPECT_THAT(get.headers, Not(Contains(Pair("X-Digest-Provisional", ::testing::_))));
  status = ParseJson(Call("GET", "/status" + kQuery).body);
  EXPECT_EQ(status.at("provisional").as_bool(), false);
}

TEST_F(ApiTest, AWorkerServesOnlyTheProbesAndMetrics) {
  ApiContext worker_ctx = ctx_;
  worker_ctx.routes = ApiRoutes::kProbesOnly;
  Router worker(&logger_);
  AddApiRoutes(worker, &worker_ctx);
  auto call = [&](std::string method, const std::string& target) {
    ApiRequest request;
    request.method = std::move(method);
    request.target = target;
    EXPECT_OK(ParseTarget(target, &request.path, &request.query));
    return worker.Handle(std::move(request)).status;
  };
  EXPECT_EQ(call("GET", "/healthz"), 200);
  EXPECT_EQ(call("GET", "/readyz"), 200);
  EXPECT_EQ(call("GET", "/metrics"), 200);
  EXPECT_EQ(call("POST", "/" + kQuery), 404);
  EXPECT_EQ(call("GET", "/status" + kQuery), 404);
  EXPECT_EQ(call("POST", "/digests/digest"), 404);
  EXPECT_THAT(queuer_.jobs(), IsEmpty());
}

TEST_F(ApiTest, StatusShowsTheSharedStateOfAJobAnotherProcessRuns) {
  ASSERT_EQ(Call("POST", "/" + kQuery).status, 202);
  ASSERT_OK(marker_.Claim(kId, kCorpusWindow));
  ASSERT_OK(states_
                ->Update(kId,
                         [](JobState& s) {
                           s.phase = JobPhase::kRunning;
                           s.progress = {.objects_done = 2, .objects_total = 8};
                           s.shards_total = 4;
                           s.shards_done = 1;
                           s.holders = {{"shard/a", "w1/10"}, {"shard/b", "w2/20"}};
                           return OkStatus();
                         })
                .status());
  json::value status = ParseJson(Call("GET", "/status" + kQuery).body);
  EXPECT_EQ(status.at("state").as_string(), "running");
  EXPECT_EQ(status.at("progress").at("objects_total").as_int64(), 8);
  EXPECT_EQ(status.at("shards").at("done").as_int64(), 1);
  EXPECT_EQ(status.at("shards").at("total").as_int64(), 4);
  EXPECT_EQ(status.at("holders").at("shard/b").as_string(), "w2/20");
  EXPECT_TRUE(status.at("provisional").is_null());
}

struct BadInput {
  const char* name;
  const char* query;
  const char* message_part;
};

class BadInputTest : public ApiTest, public ::testing::WithParamInterface<BadInput> {};

TEST_P(BadInputTest, Is400WithAMessageAndChangesNothing) {
  const BadInput& c = GetParam();
  for (const char* method : {"POST", "GET"}) {
    ApiResponse r = Call(method, std::string("/") + c.query);
    EXPECT_EQ(r.status, 400) << method;
    EXPECT_EQ(r.content_type, "application/json");
    EXPECT_THAT(Message(r), HasSubstr(c.message_part)) << method;
  }
  EXPECT_EQ(Call("GET", std::string("/status") + c.query).status, 400);
  EXPECT_THAT(queuer_.jobs(), IsEmpty());
  EXPECT_EQ(marker_.marker_count(), 0u);
  EXPECT_EQ(storage_.size(), 0u);
  EXPECT_GE(logger_.Count("invalid-input"), 2u);
}

INSTANTIATE_TEST_SUITE_P(
    Cases, BadInputTest,
    ::testing::Values(
        BadInput{"NoParameters", "", "start"},
        BadInput{"MissingStop", "?start=2019-01-01T00:00:00Z", "stop"},
        BadInput{"MissingStart", "?stop=2019-01-01T00:00:00Z", "start"},
        BadInput{"EmptyStart", "?start=&stop=2019-01-01T00:00:00Z", "start"},
        BadInput{"UnparsableStart", "?start=yesterday&stop=2019-01-01T00:00:00Z", "yesterday"},
        BadInput{"UnparsableStop", "?start=2019-01-01T00:00:00Z&stop=2019-13-01T00:00:00Z",
                 "2019-13-01"},
        BadInput{"StartAfterStop", "?start=2019-01-02T00:00:00Z&stop=2019-01-01T00:00:00Z",
                 "before"},
        BadInput{"EqualAfterTruncation", "?start=2019-01-01T00:00:10Z&stop=2019-01-01T00:00:50Z",
                 "before"},
        BadInput{"TooLong", "?start=2019-01-01T00:00:00Z&stop=2019-01-09T00:00:00Z", "long"}),
    [](const auto& info) { return std::string(info.param.name); });

TEST_F(ApiTest, GetStreamsTheStoredBytes) {
  Store(kId, "the gzip bytes", "{}");
  ApiResponse r = Call("GET", "/" + kQuery);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.content_type, "application/octet-stream");
  ASSERT_NE(r.stream, nullptr);
  EXPECT_EQ(r.stream_size, 14);
  EXPECT_THAT(r.headers, Contains(Pair("X-Digest-Id", kId)));
  EXPECT_EQ(Drain(r), "the gzip bytes");
  EXPECT_EQ(Call("GET", "/" + kQuery + "&format=flowlog").stream_size, 14);
}

TEST_F(ApiTest, GetWhileInProgressIs204) {
  ASSERT_OK(marker_.Mark(kId, kCorpusWindow));
  ApiResponse r = Call("GET", "/" + kQuery);
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(r.stream, nullptr);
  EXPECT_EQ(r.content_type, "");
}

TEST_F(ApiTest, GetOfUnknownOrStaleOrFailedIs404) {
  EXPECT_EQ(Call("GET", "/" + kQuery).status, 404);
  ASSERT_OK(marker_.Mark(kId, kCorpusWindow));
  clock_->AdvanceMillis(kTtlMs + 1);
  EXPECT_EQ(Call("GET", "/" + kQuery).status, 404);
  ASSERT_OK(marker_.Fail(kId, "{}"));
  ApiResponse r = Call("GET", "/" + kQuery);
  EXPECT_EQ(r.status, 404);
  EXPECT_THAT(Message(r), HasSubstr("failed"));
  EXPECT_EQ(logger_.Count("not-found"), 3u);
}

TEST_F(ApiTest, GetInOtherFormatsReencodes) {
  MemoryObjectSource source;
  PutCorpus(source);
  Result<DigestRun> run = RunDigest(source, kCorpusWindow, DigestOptions{});
  ASSERT_OK(run.status());
  StringSink gz_target;
  ByteSinkPtr gz = NewGzipSink(&gz_target);
  ASSERT_OK(run->digest.Encode(DigestFormat::kFlowLog, *gz));
  ASSERT_OK(gz->Close());
  Store(kId, gz_target.data(), "{}");

  ApiResponse csv = Call("GET", "/" + kQuery + "&format=csv");
  EXPECT_EQ(csv.status, 200);
  EXPECT_EQ(csv.content_type, "text/csv; charset=utf-8");
  EXPECT_EQ(csv.stream_size, -1);
  EXPECT_THAT(Drain(csv), StartsWith("account_id,interface_id,"));
  ApiResponse nd = Call("GET", "/" + kQuery + "&format=ndjson");
  EXPECT_EQ(nd.content_type, "application/x-ndjson");
  const std::string text = Drain(nd);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), static_cast<long>(run->digest.size()));
  ApiResponse bad = Call("GET", "/" + kQuery + "&format=xml");
  EXPECT_EQ(bad.status, 400);
  EXPECT_THAT(Message(bad), HasSubstr("xml"));
}

TEST_F(ApiTest, WorkerEntryRunsTheJobAndAnswers204) {
  const Job job{.id = kId, .window = kCorpusWindow};
  ApiResponse r = Call("POST", "/digests/digest", JobToJson(job));
  EXPECT_EQ(r.status, 204);
  EXPECT_THAT(run_jobs_, ::testing::ElementsAre(job));
  // Without an id, and with other spellings of the same window.
  EXPECT_EQ(Call("POST", "/any/event",
                 R"({"start":"2019-01-01T01:00:00+01:00","stop":"2019-01-01T01:00:00Z"})")
                .status,
            204);
  EXPECT_EQ(run_jobs_.back(), job);
}

TEST_F(ApiTest, WorkerEntryAnswers503WithRetryAfterWhenThePoolIsFull) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> entered;
  std::atomic<bool> first{true};
  pool_.SetHandler([&](const Job&, std::stop_token) {
    if (first.exchange(false)) entered.set_value();
    released.wait();
    return OkStatus();
  });
  auto job = [](int hour) {
    Window w{.start = kCorpusWindow.start + hour * 3600, .stop = kCorpusWindow.stop + hour * 3600};
    return Job{.id = DigestId(w), .window = w};
  };
  ASSERT_OK(pool_.Submit(job(1)));
  entered.get_future().wait();
  ASSERT_OK(pool_.Submit(job(2)));
  ASSERT_OK(pool_.Submit(job(3)));  // one running, two waiting: full
  ApiResponse r = Call("POST", "/t/e", JobToJson(job(0)));
  EXPECT_EQ(r.status, 503);
  EXPECT_THAT(r.headers, Contains(Pair("Retry-After", "5")));
  EXPECT_THAT(Message(r), HasSubstr("full"));
  // A job the pool holds already is acknowledged at once (a bus delivering it again).
  EXPECT_EQ(Call("POST", "/t/e", JobToJson(job(1))).status, 202);
  EXPECT_EQ(Call("POST", "/t/e", JobToJson(job(3))).status, 202);
  release.set_value();
  pool_.Shutdown(60000);  // before the handler's captures go
}

TEST_F(ApiTest, WorkerEntryRefusesBadJobsWith400) {
  for (
      const char* body :
      {"", "not json", "[]", R"({"start":"2019-01-01T00:00:00Z"})",
       R"({"start":"2019-01-01T00:00:00Z","stop":"2019-01-01T01:00:00Z","stop":"2019-01-02T00:00:00Z"})",
       R"({"start":"2019-01-01T01:00:00Z","stop":"2019-01-01T00:00:00Z"})",
       R"({"start":"2019-01-01T00:00:00Z","stop":"2019-02-01T00:00:00Z"})",
       R"({"id":"00000000-0000-5000-8000-000000000000","start":"2019-01-01T00:00:00Z","stop":"2019-01-01T01:00:00Z"})"}) {
    ApiResponse r = Call("POST", "/digests/digest", body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_NE(Message(r), "<no message>") << body;
  }
  EXPECT_THAT(run_jobs_, IsEmpty());
}

TEST_F(ApiTest, WorkerEntryFailuresAre5xxSoTheBusRetries) {
  const std::string body = JobToJson({.id = kId, .window = kCorpusWindow});
  run_result_ = InternalError("boom");
  EXPECT_EQ(Call("POST", "/t/e", body).status, 500);
  run_result_ = PermissionDeniedError("no");
  EXPECT_EQ(Call("POST", "/t/e", body).status, 500);
  run_result_ = NotFoundError("no bucket");
  EXPECT_EQ(Call("POST", "/t/e", body).status, 500);
  run_result_ = CancelledError("shutting down");
  EXPECT_EQ(Call("POST", "/t/e", body).status, 503);
  run_result_ = UnavailableError("source down");
  EXPECT_EQ(Call("POST", "/t/e", body).status, 503);
}

TEST_F(ApiTest, StatusOfEveryState) {
  auto status = [this] {
    ApiResponse r = Call("GET", "/status" + kQuery);
    EXPECT_EQ(r.status, 200);
    return ParseJson(r.body).as_object();
  };
  json::object unknown = status();
  EXPECT_EQ(unknown.at("id").as_string(), kId);
  EXPECT_EQ(unknown.at("start").as_string(), kCorpusStart);
  EXPECT_EQ(unknown.at("stop").as_string(), kCorpusStop);
  EXPECT_EQ(unknown.at("state").as_string(), "unknown");
  EXPECT_TRUE(unknown.at("progress").is_null());
  EXPECT_TRUE(unknown.at("counts").is_null());
  EXPECT_TRUE(unknown.at("error").is_null());

  ASSERT_EQ(Call("POST", "/" + kQuery).status, 202);
  EXPECT_EQ(status().at("state").as_string(), "queued");
  // The shared state (written by the JobTracker of the process that runs it) says.
  ASSERT_OK(states_
                ->Update(kId,
                         [](JobState& s) {
                           s.phase = JobPhase::kRunning;
                           s.progress = {.objects_done = 1,
                                         .objects_total = 4,
                                         .bytes_done = 10,
                                         .bytes_total = 40};
                           return OkStatus();
                         })
                .status());
  json::object running = status();
  EXPECT_EQ(running.at("state").as_string(), "running");
  EXPECT_EQ(running.at("progress").at("objects_total").as_int64(), 4);
  EXPECT_EQ(running.at("progress").at("bytes_done").as_int64(), 10);

  // A live marker of another process: its phase says.
  ASSERT_OK(states_->Remove(kId));
  EXPECT_EQ(status().at("state").as_string(), "queued");
  ASSERT_OK(marker_.Claim(kId, kCorpusWindow));
  EXPECT_EQ(status().at("state").as_string(), "running");

  ASSERT_OK(marker_.Fail(kId, R"({"code":"UNAVAILABLE","message":"source down"})"));
  json::object failed = status();
  EXPECT_EQ(failed.at("state").as_string(), "failed");
  EXPECT_EQ(failed.at("error").at("message").as_string(), "source down");

  ASSERT_OK(marker_.Unmark(kId));
  Store(kId, "gz", R"({"id":"x","summary":{"objects_read":3,"keys":9}})");
  json::object done = status();
  EXPECT_EQ(done.at("state").as_string(), "done");
  EXPECT_EQ(done.at("counts").at("keys").as_int64(), 9);
}

TEST_F(ApiTest, StatusIsValidJsonWhateverBytesTheFailureHolds) {
  ASSERT_OK(marker_.Fail(kId, "S3 said \xff\xfe<Error>"));
  ApiResponse r = Call("GET", "/status" + kQuery);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(ParseJson(r.body).at("error").as_string(), "S3 said \xef\xbf\xbd\xef\xbf\xbd<Error>");
}

TEST(DigestStateNameTest, StaleIsUnknownAndAFailureTextMayBePlain) {
  DigestStatusFacts facts;
  facts.mark.state = MarkState::kStale;
  EXPECT_EQ(DigestStateName(facts), "unknown");
  facts.mark.state = MarkState::kFailed;
  facts.mark.failure = "not json";
  EXPECT_THAT(DigestStatusJson(facts), HasSubstr(R"("error":"not json")"));
  facts.stored = true;
  EXPECT_EQ(DigestStateName(facts), "done");
}

TEST_F(ApiTest, HealthReadinessMetricsAndOpenApi) {
  ApiResponse health = Call("GET", "/healthz");
  EXPECT_EQ(health.status, 200);
  EXPECT_EQ(health.body, R"({"status":"ok"})");
  EXPECT_EQ(Call("GET", "/readyz").status, 200);
  ready_ = UnavailableError("digest store is read-only");
  ApiResponse not_ready = Call("GET", "/readyz");
  EXPECT_EQ(not_ready.status, 503);
  EXPECT_THAT(Message(not_ready), HasSubstr("read-only"));

  ready_ = OkStatus();
  ASSERT_EQ(Call("POST", "/" + kQuery).status, 202);
  ApiResponse metrics = Call("GET", "/metrics");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_THAT(metrics.content_type, StartsWith("text/plain"));
  EXPECT_THAT(metrics.body, HasSubstr("digest_posts"));
  for (const char* gauge : {"jobs_waiting", "jobs_running", "worker_pool_saturation"}) {
    EXPECT_THAT(metrics.body, HasSubstr(gauge));
  }

  ApiResponse spec = Call("GET", "/openapi.yaml");
  EXPECT_EQ(spec.status, 200);
  EXPECT_EQ(spec.content_type, "application/yaml");
  EXPECT_THAT(spec.body, StartsWith("openapi: 3"));
  for (const char* path : {"/{topic}/{event}:", "/status:", "/healthz:", "/readyz:", "/metrics:"}) {
    EXPECT_THAT(spec.body, HasSubstr(path));
  }
}

}  // namespace
}  // namespace vpcflow
