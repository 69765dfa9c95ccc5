// Scaling out, end to end: the real vpcflow-digesterd as one API process and three worker
// processes on a real nats-server (fixture "nats_own": the service's stream has a fixed name)
// and the file-system stores. One worker is killed with SIGKILL while it digests; its job goes
// to another worker after NATS_ACK_WAIT, and every digest equals vpcflow-digest's, with no
// marker or temporary file left.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <optional>

#include "service_harness.hpp"
#include "testing/matchers.hpp"
#include "testing/nats_env.hpp"
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
        {"DATA_DIR", data_.path()}, {"VPC_FLOW_LOGS_DIR", logs_.path()},
        {"DIGEST_QUEUE_URL", url_}, {"DIGEST_ROLE", role},
        {"NATS_ACK_WAIT", "2s"},    {"DIGEST_WORKERS", "1"},
        {"DIGEST_THREADS", "1"},    {"DIGEST_HEARTBEAT_INTERVAL", "1s"}};
    if (!shard_target.empty()) env["DIGEST_SHARD_TARGET"] = shard_target;
    return StartDigesterd(VPCFLOW_DIGESTERD_BIN, env, port);
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
        {VPCFLOW_DIGEST_BIN, "--source", logs_.path(), "--start", w.start, "--stop", w.stop});
    ASSERT_EQ(code, 0);
    EXPECT_TRUE(Gunzip(get->body) == expected)
        << "the digest of " << w.query() << " differs from the CLI's";
  }

  // Nothing of a finished job is left: no marker, failure record, temporary or partial.
  void ExpectNothingLeft() {
    EXPECT_THAT(NamesIn(progress(), "_in_progress"), IsEmpty());
    EXPECT_THAT(NamesIn(progress(), "_failed"), IsEmpty());
    EXPECT_THAT(NamesIn(digests(), ".tmp"), IsEmpty());
    EXPECT_THAT(NamesIn(digests() / "partials", ""), IsEmpty());
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

  fs::path digests() const { return fs::path(data_.path()) / "digests"; }
  fs::path progress() const { return fs::path(data_.path()) / "progress"; }

  std::string url_;
  ScratchDir logs_;
  ScratchDir data_;
  int api_port_ = 0;
  HttpClientPtr client_ = NewCurlHttpClient();
  std::vector<std::unique_ptr<Process>> processes_;
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

// Issue 10, the task flow: a job split into shard tasks (every object a shard) over two
// workers; the worker holding a shard is killed with SIGKILL; its shard comes back after
// NATS_ACK_WAIT to the other, the last shard publishes the merge, and the digest equals the
// CLI's with no partial, ledger-held marker or temporary file left.
TEST_F(ServiceNatsE2eTest, AShardedJobSurvivesAWorkerKilledWhileItHoldsAShard) {
  std::unique_ptr<Process> api = Start("api", &api_port_, "1K");
  ASSERT_NE(api, nullptr);
  std::vector<Process*> workers;
  for (int i = 0; i < 2; ++i) {
    int port = 0;
    processes_.push_back(Start("worker", &port, "1K"));
    ASSERT_NE(processes_.back(), nullptr);
    workers.push_back(processes_.back().get());
  }
  const TestWindow& w = kWindows[0];
  Result<HttpResponse> post = Send("POST", "/" + w.query());
  ASSERT_OK(post.status());
  ASSERT_EQ(post->status, 202) << post->body;

  std::string holder;
  std::optional<json::object> status = StatusWhen(w.query(), [&](const json::object& s) {
    const json::value* holders = s.if_contains("holders");
    if (holders == nullptr || !holders->is_object()) return false;
    for (const auto& [task, worker] : holders->as_object()) {
      if (task.starts_with("shard/")) {
        holder = std::string(worker.as_string());
        return true;
      }
    }
    return false;
  });
  ASSERT_TRUE(status.has_value()) << "no worker was seen holding a shard";
  ASSERT_TRUE(status->at("shards").is_object());
  EXPECT_GE(status->at("shards").at("total").to_number<int64_t>(), 4);
  const pid_t pid = static_cast<pid_t>(std::stoll(holder.substr(holder.rfind('/') + 1)));
  Process* victim = nullptr;
  for (Process* p : workers) {
    if (p->pid() == pid) victim = p;
  }
  ASSERT_NE(victim, nullptr) << holder;
  victim->Signal(SIGKILL);
  EXPECT_EQ(victim->Wait(), 128 + SIGKILL);

  ExpectDigestEqualsTheClis(w);
  ExpectNothingLeft();
  api->Signal(SIGTERM);
  EXPECT_EQ(api->Wait(), 0);
}

// nats-server restarted (file storage) while a sharded job runs: the tasks are still in the
// stream, the ledger in its bucket; the job completes once the server is back.
TEST_F(ServiceNatsE2eTest, AShardedJobCompletesAfterNatsServerRestartsMidJob) {
  // Shards of a few objects (tens of them, not one per object): the restart lands mid-job
  // without hundreds of tasks to drain on a loaded machine.
  std::unique_ptr<Process> api = Start("api", &api_port_, "64K");
  ASSERT_NE(api, nullptr);
  for (int i = 0; i < 2; ++i) {
    int port = 0;
    processes_.push_back(Start("worker", &port, "64K"));
    ASSERT_NE(processes_.back(), nullptr);
  }
  const TestWindow& w = kWindows[0];
  Result<HttpResponse> post = Send("POST", "/" + w.query());
  ASSERT_OK(post.status());
  ASSERT_EQ(post->status, 202) << post->body;
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
