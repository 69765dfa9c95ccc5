// Crash recovery of vpcflow-digesterd, end to end: the real binary killed with SIGKILL while a
// job runs and others wait, then started again on the same stores. Every accepted digest
// completes without a new POST, equal to vpcflow-digest's; the markers left by the killed
// process never pass for live work, and its temporary files are removed at start-up.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "common/process_identity.hpp"
#include "service_harness.hpp"
#include "testing/matchers.hpp"
#include "testing/scratch_dir.hpp"
#include "testing/service_corpus.hpp"
#include "vpcflow/marker.hpp"
#include "vpcflow/window.hpp"

namespace vpcflow {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using ::testing::IsEmpty;
using ::testing::SizeIs;

struct TestWindow {
  std::string start;
  std::string stop;
  std::string query() const { return "?start=" + start + "&stop=" + stop; }
  std::string id() const { return DigestId(*MakeWindow(start, stop)); }
};

// Every window touches the big object at 00:10, so each job takes a while.
const std::vector<TestWindow> kWindows = {{"2019-01-01T00:00:00Z", "2019-01-01T01:00:00Z"},
                                          {"2019-01-01T00:00:00Z", "2019-01-01T00:30:00Z"},
                                          {"2019-01-01T00:05:00Z", "2019-01-01T00:45:00Z"},
                                          {"2019-01-01T00:10:00Z", "2019-01-01T00:20:00Z"}};

class ServiceRecoveryE2eTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto [code, out] = GenerateServiceCorpus(VPCFLOW_DIGEST_BIN, logs_.path());
    ASSERT_EQ(code, 0) << out;
    ASSERT_OK(WriteBusyFlowLog(logs_.path(), 300));
  }

  // One worker, so the other jobs wait in the queue. Heartbeats every 10 minutes and a TTL of
  // an hour: within this test a marker can only go stale because its holder is gone.
  std::unique_ptr<Process> Start() {
    return StartDigesterd(VPCFLOW_DIGESTERD_BIN,
                          {{"DATA_DIR", data_.path()},
                           {"VPC_FLOW_LOGS_DIR", logs_.path()},
                           {"DIGEST_WORKERS", "1"},
                           {"DIGEST_THREADS", "1"},
                           {"DIGEST_PROGRESS_TIMEOUT", "3600000"},
                           {"DIGEST_HEARTBEAT_INTERVAL", "10m"}},
                          &port_);
  }

  Result<HttpResponse> Send(std::string method, const std::string& path) {
    return client_->Send({.method = std::move(method),
                          .url = "http://127.0.0.1:" + std::to_string(port_) + path,
                          .timeout_ms = 30000});
  }

  // Polls /status until `state`, at most 60 s; returns the last state seen.
  std::string PollState(const std::string& query, const std::string& state) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    std::string last;
    do {
      Result<HttpResponse> r = Send("GET", "/status" + query);
      if (!r.ok()) break;
      last = std::string(json::parse(r->body).at("state").as_string());
    } while (last != state && std::chrono::steady_clock::now() < deadline);
    return last;
  }

  fs::path digests() const { return fs::path(data_.path()) / "digests"; }
  fs::path progress() const { return fs::path(data_.path()) / "progress"; }

  ScratchDir logs_;
  ScratchDir data_;
  int port_ = 0;
  HttpClientPtr client_ = NewCurlHttpClient();
};

TEST_F(ServiceRecoveryE2eTest, AfterKill9AndRestartEveryAcceptedDigestCompletesWithoutANewPost) {
  std::unique_ptr<Process> first = Start();
  ASSERT_NE(first, nullptr);
  for (const TestWindow& w : kWindows) {
    Result<HttpResponse> post = Send("POST", "/" + w.query());
    ASSERT_OK(post.status());
    ASSERT_EQ(post->status, 202) << post->body;
  }
  const pid_t killed = first->pid();
  // Its identity as its temporary files name it (a file a store was writing when killed).
  ProcessIdentity writer = ThisProcess();
  writer.pid = killed;
  writer.start_ticks = ProcessStartTicks(killed).value_or(0);
  ASSERT_GT(writer.start_ticks, 0);
  EXPECT_EQ(PollState(kWindows[3].query(), "queued"), "queued");
  ASSERT_EQ(PollState(kWindows[0].query(), "running"), "running");
  first->Signal(SIGKILL);
  EXPECT_EQ(first->Wait(), 128 + SIGKILL);

  // What the killed process left: a marker per accepted job, naming it and its window. Read as
  // any other process of this host reads them, none passes for live work.
  ASSERT_THAT(NamesIn(progress(), "_in_progress"), SizeIs(kWindows.size()));
  Result<MarkerPtr> observer =
      NewFileMarker(progress().string(), {.ttl_ms = 3600000, .heartbeat_ms = 600000});
  ASSERT_OK(observer.status());
  Result<std::vector<MarkedDigest>> left = (*observer)->List();
  ASSERT_OK(left.status());
  ASSERT_THAT(*left, SizeIs(kWindows.size()));
  for (const MarkedDigest& m : *left) {
    EXPECT_EQ(m.info.state, MarkState::kStale) << m.id;
    ASSERT_TRUE(m.info.owner.has_value());
    EXPECT_EQ(m.info.owner->pid, killed);
    ASSERT_TRUE(m.info.window.has_value());
    EXPECT_EQ(DigestId(*m.info.window), m.id);
  }
  // A temporary file of the killed writer, and one of a live writer (this test process).
  const fs::path dead_temp = digests() / (".0000abcd.log.gz.7-1." + ProcessTag(writer) + ".tmp");
  const fs::path live_temp =
      digests() / (".0000abcd.log.gz.7-2." + ProcessTag(ThisProcess()) + ".tmp");
  for (const fs::path& path : {dead_temp, live_temp}) std::ofstream(path) << "partial";

  std::unique_ptr<Process> second = Start();
  ASSERT_NE(second, nullptr);
  EXPECT_FALSE(fs::exists(dead_temp));
  EXPECT_TRUE(fs::exists(live_temp));
  for (const TestWindow& w : kWindows) {
    std::optional<json::object> recovered = second->WaitForEvent("job-recovered", {{"id", w.id()}});
    ASSERT_TRUE(recovered.has_value()) << w.query();
    EXPECT_EQ(recovered->at("previous_pid").as_int64(), killed);
  }
  for (const TestWindow& w : kWindows) {
    Result<HttpResponse> get = GetUntilNotInProgress(
        *client_, "http://127.0.0.1:" + std::to_string(port_) + "/" + w.query(), 120000);
    ASSERT_OK(get.status());
    ASSERT_EQ(get->status, 200) << w.query();
    auto [code, expected] = RunToCompletion(
        {VPCFLOW_DIGEST_BIN, "--source", logs_.path(), "--start", w.start, "--stop", w.stop});
    ASSERT_EQ(code, 0);
    EXPECT_TRUE(Gunzip(get->body) == expected)
        << "the digest of " << w.query() << " differs from the CLI's";
    EXPECT_EQ(PollState(w.query(), "done"), "done");
  }
  EXPECT_THAT(NamesIn(progress(), "_in_progress"), IsEmpty());
  fs::remove(live_temp);
  EXPECT_THAT(NamesIn(digests(), ".tmp"), IsEmpty());
  EXPECT_THAT(NamesIn(progress(), ".tmp"), IsEmpty());
  EXPECT_THAT(second->Events("job-failed"), IsEmpty());
  second->Signal(SIGTERM);
  EXPECT_EQ(second->Wait(), 0);
}

}  // namespace
}  // namespace vpcflow
