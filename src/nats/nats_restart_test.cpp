// A nats-server of this test's own (VPCFLOW_NATS_OWN_DIR, fixture "nats_own") that it stops and
// restarts: the connection comes back by itself and the file-stored tasks are still there.
#include <gtest/gtest.h>

#include "nats/kv_bucket.hpp"
#include "nats/work_queue.hpp"
#include "testing/matchers.hpp"
#include "testing/nats_env.hpp"
#include "testing/poll.hpp"

namespace vpcflow {
namespace {

Status Script(const std::string& command) {
  return RunNatsScript(VPCFLOW_NATS_SCRIPT, command, VPCFLOW_NATS_OWN_DIR);
}

class NatsRestartTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_THAT(Script("start"), IsOk());
    Result<std::string> url = LoadNatsUrlFile(std::string(VPCFLOW_NATS_OWN_DIR) + "/env");
    ASSERT_THAT(url, IsOk());
    Result<NatsOptions> o = NatsOptionsFromUrls(*url);
    ASSERT_THAT(o, IsOk());
    options_ = *o;
    options_.request_timeout_ms = 2000;
  }
  void TearDown() override { EXPECT_THAT(Script("stop"), IsOk()); }

  NatsOptions options_;
};

TEST_F(NatsRestartTest, TasksAndKeysSurviveARestartAndTheClientReconnects) {
  auto c = NatsConnection::Connect(options_);
  ASSERT_THAT(c, IsOk());
  NatsConnection& connection = **c;
  auto q = WorkQueue::Open(
      &connection,
      {.stream = "T", .subjects = "t.>", .durable = "w", .ack_wait_ms = 2000, .max_deliver = 5});
  ASSERT_THAT(q, IsOk());
  auto kv = KvBucket::Open(&connection, {.bucket = "jobs"});
  ASSERT_THAT(kv, IsOk());
  ASSERT_THAT((*q)->Publish("t.plan", "before", "id-before"), IsOk());
  ASSERT_THAT((*kv)->Put("job", "state"), IsOk());

  ASSERT_THAT(Script("restart"), IsOk());
  ASSERT_TRUE(PollUntil([&] { return connection.Connected(); }, 20000));
  EXPECT_THAT(connection.Ready(), IsOk());

  // Publishing again with the same id is still a duplicate (the window survives), a new one
  // is stored, and both the old task and the key are there.
  EXPECT_THAT((*q)->Publish("t.plan", "before", "id-before"), IsOkAndHolds(true));
  EXPECT_THAT((*q)->Publish("t.plan", "after", "id-after"), IsOkAndHolds(false));
  EXPECT_THAT((*kv)->Get("job"), IsOk());
  std::vector<std::string> seen;
  ASSERT_TRUE(PollUntil(
      [&] {
        auto got = (*q)->Fetch(2, 500);
        if (got.ok()) {
          for (auto& task : *got) {
            seen.emplace_back(task->data());
            EXPECT_THAT(task->Ack(), IsOk());
          }
        }
        return seen.size() == 2;
      },
      20000));
  EXPECT_EQ(seen, (std::vector<std::string>{"before", "after"}));
}

TEST_F(NatsRestartTest, WhileTheServerIsAwayCallsAreUnavailable) {
  auto c = NatsConnection::Connect(options_);
  ASSERT_THAT(c, IsOk());
  auto q = WorkQueue::Open(
      c->get(),
      {.stream = "T", .subjects = "t.>", .durable = "w", .ack_wait_ms = 2000, .max_deliver = 5});
  ASSERT_THAT(q, IsOk());
  ASSERT_THAT(Script("stop"), IsOk());
  ASSERT_TRUE(PollUntil([&] { return !(*c)->Connected(); }, 20000));
  EXPECT_THAT((*c)->Ready(), StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT((*q)->Publish("t.plan", "x", "id-x"), StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT((*q)->Fetch(1, 100), StatusIs(StatusCode::kUnavailable));
  // A new connection to a stopped server fails at once.
  options_.connect_timeout_ms = 500;
  EXPECT_THAT(NatsConnection::Connect(options_), StatusIs(StatusCode::kUnavailable));
  ASSERT_THAT(Script("start"), IsOk());  // TearDown stops it
}

}  // namespace
}  // namespace vpcflow
