// Scaling out, end to end: the real vpcflow-digesterd as one API process and two or three
// worker processes on a real nats-server (fixture "nats_own": the service's stream has a fixed
// name) and the file-system stores (one test: every store on the Ceph RGW of fixture "rgw").
// Workers are killed with SIGKILL while they digest, hold a shard or hold the merge; their
// tasks go to other workers after NATS_ACK_WAIT, and every digest equals vpcflow-digest's, with
// no marker, partial, shard ledger or temporary file left.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <optional>
#include <set>

#include "nats/kv_bucket.hpp"
#include "s3/s3_client.hpp"
#include "service_harness.hpp"
#include "testing/matchers.hpp"
#include "testing/nats_env.hpp"
#include "testing/poll.hpp"
#include "testing/rgw_env.hpp"
#include "testing/s3_rgw.hpp"
#include "testing/scratch_dir.hpp"
#include "testing/service_corpus.hpp"
#include "vpcflow/window.hpp"

namespace vpcflow {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using ::testing::IsEmpty;

struct TestWindow {
  std::string start;
  std::string stop;
  std::string query() const { return "?start=" + start + "&stop=" + stop; }
};

// Every window touches the big object at 00:10, so each job takes a while.
const std::vector<TestWindow> kWindows = {{"2019-01-01T00:00:00Z", "2019-01-01T01:00:00Z"},
                                          {"2019-01-01T00:00:00Z", "2019-01-01T00:30:00Z"},
                                          {"2019-01-01T00:05:00Z", "2019-01-01T00:45:00Z"}};

Status Script(const std::string& command) {
  return RunNatsScript(VPCFLOW_NATS_SCRIPT, command, VPCFLOW_NATS_OWN_DIR);
}

class ServiceNatsE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto [code, out] = GenerateServiceCorpus(VPCFLOW_DIGEST_BIN, logs_.path());
    ASSERT_EQ(code, 0) << out;
    ASSERT_OK(WriteBusyFlowLog(logs_.path(), 300));
    ASSERT_OK(Script("start"));
    Result<std::string> url = LoadNatsUrlFile(std::string(VPCFLOW_NATS_OWN_DIR) + "/env");
    ASSERT_OK(url.status());
    url_ = *url;
  }
  void TearDown() override {
    for (auto& p : processes_) {
      if (p) p->Signal(SIGKILL);
    }
    EXPECT_OK(Script("stop"));
  }

  // `shard_target` ("" = the default) as DIGEST_SHARD_TARGET: "1K" makes every object a shard.
  std::unique_ptr<Process> Start(const std::string& role, int* port,
                                 const std::string& shard_target = "") {
    std::map<std::string, std::string> env = {
        {"DATA_DIR", data_.path()}, {"VPC_FLOW_LOGS_DIR", source_dir_},
        {"DIGEST_QUEUE_URL", url_}, {"DIGEST_ROLE", role},
        {"NATS_ACK_WAIT", "2s"},    {"DIGEST_WORKERS", "1"},
        {"DIGEST_THREADS", "1"},    {"DIGEST_HEARTBEAT_INTERVAL", "1s"}};
    if (!shard_target.empty()) env["DIGEST_SHARD_TARGET"] = shard_target;
    if (extra_env_.contains("VPC_FLOW_LOGS_BUCKET")) env.erase("VPC_FLOW_LOGS_DIR");
    for (const auto& [k, v] : extra_env_) env[k] = v;
    return StartDigesterd(VPCFLOW_DIGESTERD_BIN, env, port);
  }

  // Starts an api process (into `*api`) and `workers` worker processes, all with
  // DIGEST_SHARD_TARGET `shard_target`, and POSTs the first window.
  void PostShardedJob(int workers, const std::string& shard_target, std::unique_ptr<Process>* api) {
    *api = Start("api", &api_port_, shard_target);
    ASSERT_NE(*api, nullptr);
    for (int i = 0; i < workers; ++i) {
      int port = 0;
      processes_.push_back(Start("worker", &port, shard_target));
      ASSERT_NE(processes_.back(), nullptr);
    }
    Result<HttpResponse> post = Send("POST", "/" + kWindows[0].query());
    ASSERT_OK(post.status());
    ASSERT_EQ(post->status, 202) << post->body;
  }

  // The /status of `query` once `ready` holds for it, waiting at most 60 s (null: never).
  std::optional<json::object> StatusWhen(const std::string& query,
                                         const std::function<bool(const json::object&)>& ready) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      Result<HttpResponse> r = Send("GET", "/status" + query);
      if (!r.ok()) break;
      json::value v = json::parse(r->body);
      if (v.is_object() && ready(v.as_object())) return v.as_object();
    }
    return std::nullopt;
  }

  // Polls GET until the digest is there (at most 120 s), then compares it with the CLI's.
  void ExpectDigestEqualsTheClis(const TestWindow& w) {
    Result<HttpResponse> get = InternalError("not polled");
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    do {
      get = Send("GET", "/" + w.query());
    } while (get.ok() && get->status != 200 && std::chrono::steady_clock::now() < deadline);
    ASSERT_OK(get.status());
    ASSERT_EQ(get->status, 200) << w.query() << " " << get->body;
    auto [code, expected] = RunToCompletion(
        {VPCFLOW_DIGEST_BIN, "--source", source_dir_, "--start", w.start, "--stop", w.stop});
    ASSERT_EQ(code, 0);
    EXPECT_TRUE(Gunzip(get->body) == expected)
        << "the digest of " << w.query() << " differs from the CLI's";
  }

  // Nothing of a finished job is left: no marker, failure record, temporary, partial or spill
  // directory. The digest is served before its job's clean-up ends, whose last step removes the
  // marker, and a worker may still be removing its spill directory: waits for both first (at
  // most 30 s each).
  void ExpectNothingLeft() {
    EXPECT_TRUE(PollUntil([&] { return NamesIn(progress(), "_in_progress").empty(); }, 30000));
    EXPECT_TRUE(
        PollUntil([&] { return NamesIn(fs::path(data_.path()) / "spill", "").empty(); }, 30000));
    EXPECT_THAT(NamesIn(progress(), "_failed"), IsEmpty());
    EXPECT_THAT(NamesIn(digests(), ".tmp"), IsEmpty());
    EXPECT_THAT(NamesIn(digests() / "partials", ""), IsEmpty());
    EXPECT_THAT(NamesIn(fs::path(data_.path()) / "spill", ""), IsEmpty());
    ExpectNoLedger();
  }

  // No shard ledger left in its bucket.
  void ExpectNoLedger() {
    Result<NatsOptions> options = NatsOptionsFromUrls(url_, "", "");
    ASSERT_OK(options.status());
    Result<std::unique_ptr<NatsConnection>> nats = NatsConnection::Connect(*options);
    ASSERT_OK(nats.status());
    Result<std::unique_ptr<KvBucket>> ledgers =
        KvBucket::Open(nats->get(), {.bucket = "vpcflow_shards"});
    ASSERT_OK(ledgers.status());
    Result<std::vector<std::string>> keys = (*ledgers)->Keys();
    ASSERT_OK(keys.status());
    EXPECT_THAT(*keys, IsEmpty());
  }

  Result<HttpResponse> Send(std::string method, const std::string& path) {
    return client_->Send({.method = std::move(method),
                          .url = "http://127.0.0.1:" + std::to_string(api_port_) + path,
                          .timeout_ms = 30000});
  }

  // The worker ("host/pid") /status names for `query`, waiting at most 60 s for one.
  std::string Holder(const std::string& query) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      Result<HttpResponse> r = Send("GET", "/status" + query);
      if (!r.ok()) break;
      json::value v = json::parse(r->body);
      const json::value& holders = v.at("holders");
      if (holders.is_object() && holders.as_object().contains("digest")) {
        return std::string(holders.at("digest").as_string());
      }
    }
    return "";
  }

  // Waits (at most 60 s) until /status of `w` names a live worker holding a task that
  // `wanted` accepts, kills that worker with SIGKILL and returns it (null: none seen). The
  // status seen goes to `*status`.
  Process* KillHolder(const TestWindow& w, const std::function<bool(std::string_view)>& wanted,
                      std::optional<json::object>* status) {
    Process* victim = nullptr;
    *status = StatusWhen(w.query(), [&](const json::object& s) {
      const json::value* holders = s.if_contains("holders");
      if (holders == nullptr || !holders->is_object()) return false;
      for (const auto& [task, worker] : holders->as_object()) {
        if (!wanted(task) || !worker.is_string()) continue;
        const std::string holder(worker.as_string());
        const pid_t pid = static_cast<pid_t>(std::stoll(holder.substr(holder.rfind('/') + 1)));
        for (auto& p : processes_) {
          if (p && p->pid() == pid && !killed_.contains(p.get())) victim = p.get();
        }
        if (victim != nullptr) return true;
      }
      return false;
    });
    if (victim == nullptr) return nullptr;
    killed_.insert(victim);
    victim->Signal(SIGKILL);
    EXPECT_EQ(victim->Wait(), 128 + SIGKILL);
    return victim;
  }

  fs::path digests() const { return fs::path(data_.path()) / "digests"; }
  fs::path progress() const { return fs::path(data_.path()) / "progress"; }

  std::string url_;
  ScratchDir logs_;
  std::string source_dir_ = logs_.path();  // the services' and the CLI's source
  ScratchDir data_;
  int api_port_ = 0;
  HttpClientPtr client_ = NewCurlHttpClient();
  std::vector<std::unique_ptr<Process>> processes_;
  std::set<Process*> killed_;
  std::map<std::string, std::string> extra_env_;  // for every process Start()s, winning
};

TEST_F(ServiceNatsE2eTest, AWorkerKilledMidJobLosesNothingAndDigestsEqualTheClis) {
  std::unique_ptr<Process> api = Start("api", &api_port_);
  ASSERT_NE(api, nullptr);
  std::vector<Process*> workers;
  for (int i = 0; i < 3; ++i) {
    int port = 0;
    processes_.push_back(Start("worker", &port));
    ASSERT_NE(processes_.back(), nullptr);
    workers.push_back(processes_.back().get());
  }
  for (const TestWindow& w : kWindows) {
    Result<HttpResponse> post = Send("POST", "/" + w.query());
    ASSERT_OK(post.status());
    ASSERT_EQ(post->status, 202) << post->body;
  }
  // Kill the worker that holds the first job, while it digests.
  const std::string holder = Holder(kWindows[0].query());
  ASSERT_FALSE(holder.empty());
  const pid_t pid = static_cast<pid_t>(std::stoll(holder.substr(holder.rfind('/') + 1)));
  Process* victim = nullptr;
  for (Process* w : workers) {
    if (w->pid() == pid) victim = w;
  }
  ASSERT_NE(victim, nullptr) << holder;
  victim->Signal(SIGKILL);
  EXPECT_EQ(victim->Wait(), 128 + SIGKILL);

  // Between the kill and the redelivery (NATS_ACK_WAIT) the dead holder's marker is stale and
  // GET says 404: ExpectDigestEqualsTheClis polls until the digest is there.
  for (const TestWindow& w : kWindows) ExpectDigestEqualsTheClis(w);
  ExpectNothingLeft();
  api->Signal(SIGTERM);
  EXPECT_EQ(api->Wait(), 0);
}

// Issue 10, the task flow, killed at its two stages: a job split into shard tasks (every
// object a shard) over three workers; the worker holding a shard is killed with SIGKILL, then
// the one holding the merge. The shard comes back after NATS_ACK_WAIT to another worker, the
// last shard publishes the merge, the merge comes back to the third worker, and the digest
// equals the CLI's with no partial, marker, ledger entry or temporary file left. The corpus
// has many keys (about 180 000 in the window), so the merge lasts seconds and /status shows
// its holder long enough to be seen.
TEST_F(ServiceNatsE2eTest, AShardedJobSurvivesWorkersKilledInAShardAndInTheMerge) {
  ScratchDir many_keys;
  auto [code, out] =
      RunToCompletion({VPCFLOW_DIGEST_BIN, "generate", "--out", many_keys.path(), "--start",
                       "2019-01-01T00:00:00Z", "--stop", "2019-01-01T01:00:00Z", "--size-mb", "30",
                       "--hosts", "200000", "--seed", "7", "--threads", "2"});
  ASSERT_EQ(code, 0) << out;
  source_dir_ = many_keys.path();
  std::unique_ptr<Process> api;
  ASSERT_NO_FATAL_FAILURE(PostShardedJob(3, "1K", &api));
  const TestWindow& w = kWindows[0];

  std::optional<json::object> status;
  Process* in_shard = KillHolder(
      w, [](std::string_view task) { return task.starts_with("shard/"); }, &status);
  ASSERT_NE(in_shard, nullptr) << "no live worker was seen holding a shard";
  ASSERT_TRUE(status->at("shards").is_object());
  EXPECT_GE(status->at("shards").at("total").to_number<int64_t>(), 4);
  Process* in_merge = KillHolder(
      w, [](std::string_view task) { return task == "merge"; }, &status);
  ASSERT_NE(in_merge, nullptr) << "no live worker was seen holding the merge";
  EXPECT_NE(in_merge, in_shard);
  EXPECT_EQ(status->at("shards").at("done"), status->at("shards").at("total"));

  ExpectDigestEqualsTheClis(w);
  ExpectNothingLeft();
  api->Signal(SIGTERM);
  EXPECT_EQ(api->Wait(), 0);
}

// The same flow with every store on the Ceph RGW (fixture "rgw"): the flow logs, the digests
// and their partials, the markers. The worker holding a shard is killed with SIGKILL; the
// digest equals the CLI's over the same files on disk, and nothing is left in the buckets but
// the digest, its manifest and rows sidecar: no partial under partials/<id>/, no marker.
TEST_F(ServiceNatsE2eTest, AShardedJobWithEveryStoreOnTheRgwSurvivesAWorkerKilledInAShard) {
  Result<RgwEnv> rgw = LoadRgwEnv();
  ASSERT_OK(rgw.status());
  std::shared_ptr<S3Client> s3 = NewRgwClient(*rgw);
  const std::string logs = UniqueBucketName("logs");
  const std::string digests = UniqueBucketName("digests");
  const std::string progress = UniqueBucketName("progress");
  for (const std::string& bucket : {logs, digests, progress}) ASSERT_OK(s3->CreateBucket(bucket));
  ASSERT_OK(UploadDirectory(*s3, logs, logs_.path()));
  extra_env_ = {
      {"VPC_FLOW_LOGS_BUCKET", logs},         {"VPC_FLOW_LOGS_BUCKET_REGION", rgw->region},
      {"DIGEST_STORAGE_BUCKET", digests},     {"DIGEST_STORAGE_BUCKET_REGION", rgw->region},
      {"DIGEST_PROGRESS_BUCKET", progress},   {"DIGEST_PROGRESS_BUCKET_REGION", rgw->region},
      {"AWS_ACCESS_KEY_ID", rgw->access_key}, {"AWS_SECRET_ACCESS_KEY", rgw->secret_key},
      {"AWS_ENDPOINT_URL", rgw->endpoint}};
  std::unique_ptr<Process> api;
  ASSERT_NO_FATAL_FAILURE(PostShardedJob(2, "1K", &api));
  const TestWindow& w = kWindows[0];
  std::optional<json::object> status;
  ASSERT_NE(KillHolder(
                w, [](std::string_view task) { return task.starts_with("shard/"); }, &status),
            nullptr)
      << "no live worker was seen holding a shard";
  EXPECT_GE(status->at("shards").at("total").to_number<int64_t>(), 4);

  ExpectDigestEqualsTheClis(w);
  const std::string id = DigestId(*MakeWindow(w.start, w.stop));
  auto keys = [&](const std::string& bucket) {
    std::vector<std::string> out;
    Result<ListPage> page = s3->ListObjectsV2(bucket, {});
    EXPECT_OK(page.status());
    if (page.ok()) {
      for (const ObjectInfo& o : page->objects) out.push_back(o.key);
    }
    return out;
  };
  // The marker goes last in the clean-up after the digest is served: wait for it (30 s).
  EXPECT_TRUE(PollUntil([&] { return keys(progress).empty(); }, 30000));
  EXPECT_THAT(keys(digests), ::testing::UnorderedElementsAre(id + ".log.gz", id + ".rows.gz",
                                                             id + ".manifest.json"));
  ExpectNoLedger();
  api->Signal(SIGTERM);
  EXPECT_EQ(api->Wait(), 0);
  EXPECT_THAT(api->output(), ::testing::Not(::testing::HasSubstr(rgw->secret_key)));
}

// nats-server restarted (file storage) while a sharded job runs: the tasks are still in the
// stream, the ledger in its bucket; the job completes once the server is back.
TEST_F(ServiceNatsE2eTest, AShardedJobCompletesAfterNatsServerRestartsMidJob) {
  // Shards of a few objects (tens of them, not one per object): the restart lands mid-job
  // without hundreds of tasks to drain on a loaded machine.
  std::unique_ptr<Process> api;
  ASSERT_NO_FATAL_FAILURE(PostShardedJob(2, "64K", &api));
  const TestWindow& w = kWindows[0];
  std::optional<json::object> status =
      StatusWhen(w.query(), [](const json::object& s) { return s.at("shards").is_object(); });
  ASSERT_TRUE(status.has_value()) << "the job was never split into shards";
  ASSERT_OK(Script("restart"));

  ExpectDigestEqualsTheClis(w);
  ExpectNothingLeft();
  api->Signal(SIGTERM);
  EXPECT_EQ(api->Wait(), 0);
}

}  // namespace
}  // namespace vpcflow
