// Against the real nats-server of the "nats" fixture (cmake/nats.cmake): each test uses its own
// stream and consumer.
#include "nats/work_queue.hpp"

#include <gtest/gtest.h>

#include <set>
#include <thread>

#include "testing/matchers.hpp"
#include "testing/nats_env.hpp"
#include "testing/poll.hpp"
#include "testing/rgw_env.hpp"

namespace vpcflow {
namespace {

class WorkQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    connection_ = Connect();
    ASSERT_NE(connection_, nullptr);
    options_.stream = UniqueBucketName("stream");
    options_.subjects = options_.stream + ".>";
    options_.durable = UniqueBucketName("workers");
    options_.ack_wait_ms = 1000;
    options_.max_deliver = 3;
  }

  static std::unique_ptr<NatsConnection> Connect() {
    auto c = ConnectToTestNats();
    EXPECT_THAT(c, IsOk());
    return c.ok() ? std::move(*c) : nullptr;
  }

  std::unique_ptr<WorkQueue> Open(NatsConnection* connection) {
    auto q = WorkQueue::Open(connection, options_);
    EXPECT_THAT(q, IsOk());
    return q.ok() ? std::move(*q) : nullptr;
  }

  std::string Subject(std::string_view leaf) const {
    return options_.stream + "." + std::string(leaf);
  }

  // The next task, waiting up to `timeout_ms`; null when none came.
  static TaskMessagePtr Next(WorkQueue& q, int64_t timeout_ms = 5000) {
    auto got = q.Fetch(1, timeout_ms);
    EXPECT_THAT(got, IsOk());
    if (!got.ok() || got->empty()) return nullptr;
    return std::move(got->front());
  }

  std::unique_ptr<NatsConnection> connection_;
  WorkQueueOptions options_;
};

TEST_F(WorkQueueTest, OpenCreatesStreamAndConsumerAndReopensThem) {
  auto a = Open(connection_.get());
  ASSERT_NE(a, nullptr);
  auto b = Open(connection_.get());  // both exist now: used as they are
  ASSERT_NE(b, nullptr);
  EXPECT_THAT(a->Pending(), IsOkAndHolds(0u));
}

TEST_F(WorkQueueTest, PublishWithTheSameIdStoresOneTask) {
  auto q = Open(connection_.get());
  ASSERT_NE(q, nullptr);
  EXPECT_THAT(q->Publish(Subject("plan"), "job-1", "id-1"), IsOkAndHolds(false));
  EXPECT_THAT(q->Publish(Subject("plan"), "job-1", "id-1"), IsOkAndHolds(true));
  EXPECT_THAT(q->Publish(Subject("plan"), "job-2", "id-2"), IsOkAndHolds(false));
  EXPECT_THAT(q->Pending(), IsOkAndHolds(2u));
}

TEST_F(WorkQueueTest, FetchWithNothingToDoReturnsNoTask) {
  auto q = Open(connection_.get());
  ASSERT_NE(q, nullptr);
  auto got = q->Fetch(4, 100);
  ASSERT_THAT(got, IsOk());
  EXPECT_TRUE(got->empty());
}

TEST_F(WorkQueueTest, AckRemovesTheTaskFromTheStream) {
  auto q = Open(connection_.get());
  ASSERT_NE(q, nullptr);
  ASSERT_THAT(q->Publish(Subject("shard"), "payload", "s-1"), IsOk());
  TaskMessagePtr task = Next(*q);
  ASSERT_NE(task, nullptr);
  EXPECT_EQ(task->data(), "payload");
  EXPECT_EQ(task->subject(), Subject("shard"));
  EXPECT_EQ(task->delivered(), 1u);
  ASSERT_THAT(task->Ack(), IsOk());
  EXPECT_THAT(q->Pending(), IsOkAndHolds(0u));
}

TEST_F(WorkQueueTest, UnackedTaskComesBackAfterAckWait) {
  auto q = Open(connection_.get());
  ASSERT_NE(q, nullptr);
  ASSERT_THAT(q->Publish(Subject("shard"), "lost", "s-1"), IsOk());
  TaskMessagePtr first = Next(*q);
  ASSERT_NE(first, nullptr);
  first.reset();  // the worker died holding it
  TaskMessagePtr again = Next(*q);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(again->data(), "lost");
  EXPECT_EQ(again->delivered(), 2u);
  EXPECT_THAT(again->Ack(), IsOk());
}

TEST_F(WorkQueueTest, InProgressKeepsTheTaskPastAckWait) {
  auto q = Open(connection_.get());
  ASSERT_NE(q, nullptr);
  ASSERT_THAT(q->Publish(Subject("shard"), "busy", "s-1"), IsOk());
  TaskMessagePtr task = Next(*q);
  ASSERT_NE(task, nullptr);
  // Three AckWaits of work with heartbeats: the other worker never gets it.
  auto other_connection = Connect();
  ASSERT_NE(other_connection, nullptr);
  auto other = Open(other_connection.get());
  ASSERT_NE(other, nullptr);
  for (int i = 0; i < 10; ++i) {
    ASSERT_THAT(task->InProgress(), IsOk());
    auto got = other->Fetch(1, 300);
    ASSERT_THAT(got, IsOk());
    EXPECT_TRUE(got->empty()) << "redelivered while its worker sent InProgress";
  }
  EXPECT_THAT(task->Ack(), IsOk());
}

TEST_F(WorkQueueTest, NakWithDelayRedeliversAndTermEndsIt) {
  auto q = Open(connection_.get());
  ASSERT_NE(q, nullptr);
  ASSERT_THAT(q->Publish(Subject("merge"), "m", "m-1"), IsOk());
  TaskMessagePtr task = Next(*q);
  ASSERT_NE(task, nullptr);
  ASSERT_THAT(task->Nak(100), IsOk());
  task = Next(*q);
  ASSERT_NE(task, nullptr);
  EXPECT_EQ(task->delivered(), 2u);
  ASSERT_THAT(task->Term(), IsOk());
  EXPECT_TRUE(PollUntil([&] {
    Result<uint64_t> n = q->Pending();
    return n.ok() && *n == 0;
  }));
  auto none = q->Fetch(1, 1500);  // more than AckWait: a termed task never comes back
  ASSERT_THAT(none, IsOk());
  EXPECT_TRUE(none->empty());
}

TEST_F(WorkQueueTest, AfterMaxDeliverTheTaskIsNotDeliveredAgainButStays) {
  options_.max_deliver = 2;
  auto q = Open(connection_.get());
  ASSERT_NE(q, nullptr);
  ASSERT_THAT(q->Publish(Subject("shard"), "poison", "p-1"), IsOk());
  for (uint64_t attempt = 1; attempt <= 2; ++attempt) {
    TaskMessagePtr task = Next(*q);
    ASSERT_NE(task, nullptr);
    EXPECT_EQ(task->delivered(), attempt);
    ASSERT_THAT(task->Nak(0), IsOk());
  }
  auto none = q->Fetch(1, 1500);
  ASSERT_THAT(none, IsOk());
  EXPECT_TRUE(none->empty());
  EXPECT_THAT(q->Pending(), IsOkAndHolds(1u));  // SCALE.md: it stays until termed
}

TEST_F(WorkQueueTest, WorkersOnTwoConnectionsShareTheTasksEachOnce) {
  auto a = Open(connection_.get());
  auto other_connection = Connect();
  ASSERT_NE(other_connection, nullptr);
  auto b = Open(other_connection.get());
  ASSERT_NE(a, nullptr);
  ASSERT_NE(b, nullptr);
  constexpr int kTasks = 20;
  for (int i = 0; i < kTasks; ++i) {
    ASSERT_THAT(a->Publish(Subject("shard"), std::to_string(i), "t-" + std::to_string(i)), IsOk());
  }
  std::multiset<std::string> seen;
  std::mutex mu;
  auto work = [&](WorkQueue& q) {
    while (true) {
      auto got = q.Fetch(3, 300);
      if (!got.ok() || got->empty()) return;
      for (auto& task : *got) {
        {
          std::lock_guard lock(mu);
          seen.insert(std::string(task->data()));
        }
        EXPECT_THAT(task->Ack(), IsOk());
      }
    }
  };
  std::thread ta([&] { work(*a); });
  std::thread tb([&] { work(*b); });
  ta.join();
  tb.join();
  EXPECT_EQ(seen.size(), static_cast<size_t>(kTasks));
  for (int i = 0; i < kTasks; ++i) EXPECT_EQ(seen.count(std::to_string(i)), 1u) << i;
}

}  // namespace
}  // namespace vpcflow
