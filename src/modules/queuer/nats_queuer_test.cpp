// The NATS queue against the real nats-server of the "nats" fixture: each test has its own
// stream and consumer, and short AckWaits (1-2 s) so redeliveries come quickly.
#include "modules/queuer/nats_queuer.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "testing/gate.hpp"
#include "testing/matchers.hpp"
#include "testing/nats_env.hpp"
#include "testing/poll.hpp"
#include "testing/rgw_env.hpp"

namespace vpcflow {
namespace {

const Job kJob{.id = "9740a140-ba85-5600-8b93-7b46eec77617", .window = {1546300800, 1546304400}};

TEST(NatsRetryDelayMsTest, DoublesFromOneSecondUpToAckWait) {
  EXPECT_EQ(NatsRetryDelayMs(1, 30000), 1000);
  EXPECT_EQ(NatsRetryDelayMs(2, 30000), 2000);
  EXPECT_EQ(NatsRetryDelayMs(3, 30000), 4000);
  EXPECT_EQ(NatsRetryDelayMs(10, 30000), 30000);
  EXPECT_EQ(NatsRetryDelayMs(1, 500), 500);
}

class NatsQueuerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = ConnectToTestNats();
    ASSERT_THAT(c, IsOk());
    connection_ = std::move(*c);
    const std::string stream = UniqueBucketName("tasks");
    options_.queue = {.stream = stream,
                      .subjects = stream + ".>",
                      .durable = UniqueBucketName("workers"),
                      .ack_wait_ms = 1000,
                      .max_deliver = 3};
    options_.subject = stream + ".digest";
    options_.fetch_wait_ms = 200;
  }

  QueuerPtr Make(int consumers) {
    NatsQueuerOptions o = options_;
    o.consumers = consumers;
    Result<QueuerPtr> q = NewNatsQueuer(connection_.get(), o);
    EXPECT_THAT(q, IsOk());
    return q.ok() ? std::move(*q) : nullptr;
  }

  // A raw view of the same stream and consumer (another worker, or the test looking).
  std::unique_ptr<WorkQueue> Raw() {
    auto q = WorkQueue::Open(connection_.get(), options_.queue);
    EXPECT_THAT(q, IsOk());
    return q.ok() ? std::move(*q) : nullptr;
  }

  bool WaitPending(WorkQueue& raw, uint64_t n) {
    return PollUntil([&] {
      Result<uint64_t> p = raw.Pending();
      return p.ok() && *p == n;
    });
  }

  std::unique_ptr<NatsConnection> connection_;
  NatsQueuerOptions options_;
};

TEST_F(NatsQueuerTest, AQueuedJobRunsOnAWorkerAndLeavesTheStream) {
  QueuerPtr api = Make(0);
  QueuerPtr worker = Make(1);
  ASSERT_NE(api, nullptr);
  ASSERT_NE(worker, nullptr);
  std::mutex mu;
  std::vector<Job> ran;
  Gate done;
  worker->SetHandler([&](const Job& job, std::stop_token) {
    std::lock_guard lock(mu);
    ran.push_back(job);
    done.Enter();  // open: just counts
    return OkStatus();
  });
  done.Open();
  ASSERT_THAT(api->Queue(kJob), IsOk());
  ASSERT_TRUE(done.WaitEntered(1));
  auto raw = Raw();
  ASSERT_NE(raw, nullptr);
  EXPECT_TRUE(WaitPending(*raw, 0));
  std::lock_guard lock(mu);
  EXPECT_EQ(ran, std::vector<Job>{kJob});
  EXPECT_THAT(worker->Describe(), ::testing::HasSubstr(options_.queue.stream));
}

// The shard and merge tasks of a sharded job: another subject of the stream goes to the task
// handler with its delivery count (a failure comes back as the second delivery); with no task
// handler it is terminated, never given to the job handler.
TEST_F(NatsQueuerTest, TasksOfAnotherSubjectGoToTheTaskHandler) {
  std::mutex mu;
  std::vector<std::pair<std::string, uint64_t>> seen;
  Gate ran;
  ran.Open();
  options_.task_handler = [&](std::string_view subject, std::string_view data, uint64_t delivered,
                              std::stop_token) {
    std::lock_guard lock(mu);
    seen.emplace_back(std::string(subject) + " " + std::string(data), delivered);
    ran.Enter();
    return delivered == 1 ? UnavailableError("try again") : OkStatus();
  };
  QueuerPtr worker = Make(1);
  ASSERT_NE(worker, nullptr);
  std::atomic<int> jobs{0};
  worker->SetHandler([&](const Job&, std::stop_token) {
    ++jobs;
    return OkStatus();
  });
  auto raw = Raw();
  ASSERT_NE(raw, nullptr);
  const std::string subject = options_.queue.stream + ".shard";
  ASSERT_THAT(raw->Publish(subject, "task-1", "task-1"), IsOk());
  ASSERT_TRUE(ran.WaitEntered(2));
  EXPECT_TRUE(WaitPending(*raw, 0));
  std::lock_guard lock(mu);
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].first, subject + " task-1");
  EXPECT_EQ(seen[0].second, 1u);
  EXPECT_EQ(seen[1].second, 2u);
  EXPECT_EQ(jobs, 0);
}

// One bound for every kind of task: with a pool of one worker busy with a job (delivered by
// another route, as the event bus's), a shard task fetched meanwhile waits in the pool instead
// of running beside the job on the consumer thread.
TEST_F(NatsQueuerTest, TasksOfEveryKindRunWithinThePoolsBound) {
  WorkerPool pool({.workers = 1, .capacity = 4});
  Gate gate;  // closed: whoever enters stays inside until the test opens it
  pool.SetHandler([&](const Job&, std::stop_token stop) {
    gate.Enter(stop);
    return OkStatus();
  });
  options_.pool = &pool;
  options_.task_handler = [&](std::string_view, std::string_view, uint64_t, std::stop_token stop) {
    gate.Enter(stop);
    return OkStatus();
  };
  QueuerPtr worker = Make(1);
  ASSERT_NE(worker, nullptr);
  worker->SetHandler([&](const Job& job, std::stop_token) { return pool.Submit(job); });
  ASSERT_THAT(pool.Submit(kJob), IsOk());
  ASSERT_TRUE(gate.WaitInside(1));
  auto raw = Raw();
  ASSERT_NE(raw, nullptr);
  ASSERT_THAT(raw->Publish(options_.queue.stream + ".shard", "task-1", "task-1"), IsOk());
  // The task is taken: it waits in the pool (the bound holds), or runs beside the job.
  ASSERT_TRUE(PollUntil([&] { return pool.Load().waiting == 1 || gate.entered() == 2; }));
  gate.Open();
  ASSERT_TRUE(gate.WaitEntered(2));
  EXPECT_TRUE(WaitPending(*raw, 0));
  EXPECT_EQ(gate.max_inside(), 1);
}

TEST_F(NatsQueuerTest, ATaskOfAnotherSubjectWithoutATaskHandlerIsTerminated) {
  QueuerPtr worker = Make(1);
  ASSERT_NE(worker, nullptr);
  std::atomic<int> jobs{0};
  worker->SetHandler([&](const Job&, std::stop_token) {
    ++jobs;
    return OkStatus();
  });
  auto raw = Raw();
  ASSERT_NE(raw, nullptr);
  ASSERT_THAT(raw->Publish(options_.queue.stream + ".merge", JobToJson(kJob), "m"), IsOk());
  EXPECT_TRUE(WaitPending(*raw, 0));
  EXPECT_EQ(jobs, 0);
}

TEST_F(NatsQueuerTest, TheTaskOfAWorkerThatDiedComesBackToAnother) {
  QueuerPtr api = Make(0);
  ASSERT_THAT(api->Queue(kJob), IsOk());
  auto dying = Raw();
  ASSERT_NE(dying, nullptr);
  auto taken = dying->Fetch(1, 5000);
  ASSERT_THAT(taken, IsOk());
  ASSERT_EQ(taken->size(), 1u);
  taken->clear();  // killed: no ack, no heartbeat
  QueuerPtr worker = Make(1);
  Gate ran;
  ran.Open();
  worker->SetHandler([&](const Job&, std::stop_token) {
    ran.Enter();
    return OkStatus();
  });
  EXPECT_TRUE(ran.WaitEntered(1));
  EXPECT_TRUE(WaitPending(*dying, 0));
}

TEST_F(NatsQueuerTest, ALongJobKeepsItsTaskThroughHeartbeats) {
  QueuerPtr worker = Make(1);
  Gate release;
  std::atomic<int> calls{0};
  worker->SetHandler([&](const Job&, std::stop_token stop) {
    ++calls;
    release.Enter(stop);
    return OkStatus();
  });
  ASSERT_THAT(worker->Queue(kJob), IsOk());
  ASSERT_TRUE(release.WaitInside(1));
  // Three AckWaits: another worker never gets the task while its holder heartbeats.
  auto other = Raw();
  ASSERT_NE(other, nullptr);
  auto got = other->Fetch(1, 3000);
  ASSERT_THAT(got, IsOk());
  EXPECT_TRUE(got->empty());
  release.Open();
  EXPECT_TRUE(WaitPending(*other, 0));
  EXPECT_EQ(calls.load(), 1);
}

TEST_F(NatsQueuerTest, AFailingJobIsRetriedThenTerminatedAtMaxDeliver) {
  QueuerPtr worker = Make(1);
  Gate attempts;
  attempts.Open();
  worker->SetHandler([&](const Job&, std::stop_token) {
    attempts.Enter();
    return UnavailableError("source down");
  });
  ASSERT_THAT(worker->Queue(kJob), IsOk());
  ASSERT_TRUE(attempts.WaitEntered(3));
  auto raw = Raw();
  ASSERT_NE(raw, nullptr);
  EXPECT_TRUE(WaitPending(*raw, 0));  // termed: nothing stuck in the stream
  EXPECT_EQ(attempts.entered(), 3);
}

TEST_F(NatsQueuerTest, AJobThatCanNeverRunIsTerminatedAtOnce) {
  QueuerPtr worker = Make(1);
  Gate attempts;
  attempts.Open();
  worker->SetHandler([&](const Job&, std::stop_token) {
    attempts.Enter();
    return InvalidArgumentError("bad window");
  });
  ASSERT_THAT(worker->Queue(kJob), IsOk());
  ASSERT_TRUE(attempts.WaitEntered(1));
  auto raw = Raw();
  ASSERT_NE(raw, nullptr);
  EXPECT_TRUE(WaitPending(*raw, 0));
  EXPECT_EQ(attempts.entered(), 1);
}

TEST_F(NatsQueuerTest, AJobCancelledAtShutdownGoesToAnotherWorker) {
  QueuerPtr first = Make(1);
  Gate never;
  first->SetHandler([&](const Job&, std::stop_token stop) {
    never.Enter(stop);
    return CancelledError("shutting down");
  });
  ASSERT_THAT(first->Queue(kJob), IsOk());
  ASSERT_TRUE(never.WaitInside(1));
  EXPECT_TRUE(first->Shutdown(0).empty());
  EXPECT_THAT(first->Queue(kJob), StatusIs(StatusCode::kFailedPrecondition));
  QueuerPtr second = Make(1);
  Gate ran;
  ran.Open();
  second->SetHandler([&](const Job&, std::stop_token) {
    ran.Enter();
    return OkStatus();
  });
  EXPECT_TRUE(ran.WaitEntered(1));
}

TEST_F(NatsQueuerTest, AnUnreadableTaskIsTerminated) {
  QueuerPtr worker = Make(1);
  std::atomic<int> calls{0};
  worker->SetHandler([&](const Job&, std::stop_token) {
    ++calls;
    return OkStatus();
  });
  auto raw = Raw();
  ASSERT_NE(raw, nullptr);
  ASSERT_THAT(raw->Publish(options_.subject, "not json", "junk-1"), IsOk());
  EXPECT_TRUE(WaitPending(*raw, 0));
  EXPECT_EQ(calls.load(), 0);
}

}  // namespace
}  // namespace vpcflow
