#include "modules/queuer/worker_pool.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <future>
#include <mutex>
#include <set>
#include <string>

#include "testing/gate.hpp"
#include "testing/matchers.hpp"
#include "testing/memory_stats.hpp"

namespace vpcflow {
namespace {

Job TestJob(int n) {
  Window window{.start = 1546300800 + int64_t{n} * 3600,
                .stop = 1546300800 + int64_t{n + 1} * 3600};
  return Job{.id = DigestId(window), .window = window};
}

// A handler that holds every job at `gate`; jobs of even hours succeed, odd ones fail.
JobHandler GatedHandler(Gate& gate) {
  return [&gate](const Job& job, std::stop_token stop) {
    if (!gate.Enter(stop)) return CancelledError("stopped");
    return job.window.start % 7200 == 0 ? OkStatus() : UnavailableError("odd hour");
  };
}

// Collects the results of the `done` callbacks.
class Results {
 public:
  WorkerPool::Done Callback(int n) {
    return [this, n](const Status& st) {
      std::lock_guard lock(mu_);
      results_.emplace(n, st);
      cv_.notify_all();
    };
  }
  bool WaitFor(size_t count) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(30), [&] { return results_.size() >= count; });
  }
  std::multimap<int, Status> results() {
    std::lock_guard lock(mu_);
    return results_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::multimap<int, Status> results_;
};

TEST(WorkerPoolTest, RunsAtMostWorkersAtOnceAndRefusesBeyondTheQueue) {
  Gate gate;
  Results results;
  WorkerPool pool({.workers = 2, .capacity = 3});
  pool.SetHandler(GatedHandler(gate));
  for (int i = 0; i < 5; ++i) ASSERT_OK(pool.Submit(TestJob(i), results.Callback(i)));
  ASSERT_TRUE(gate.WaitEntered(2));
  EXPECT_THAT(pool.Submit(TestJob(5), results.Callback(5)),
              StatusIs(StatusCode::kResourceExhausted));
  WorkerPoolLoad load = pool.Load();
  EXPECT_EQ(load.running, 2);
  EXPECT_EQ(load.waiting, 3u);
  EXPECT_TRUE(load.full());
  gate.Open();
  ASSERT_TRUE(results.WaitFor(5));
  EXPECT_EQ(gate.max_inside(), 2);
  std::multimap<int, Status> got = results.results();
  EXPECT_EQ(got.count(5), 0u);  // refused: its callback is never called
  EXPECT_OK(got.find(0)->second);
  EXPECT_THAT(got.find(1)->second, StatusIs(StatusCode::kUnavailable));
  EXPECT_TRUE(pool.Shutdown(60000).empty());
}

TEST(WorkerPoolTest, AJobIsNotAddedTwiceButOneResubmittedWhileItRunsRunsAgainAfter) {
  Gate gate;
  Results results;
  WorkerPool pool({.workers = 2, .capacity = 2});
  std::mutex mu;
  std::multiset<std::string> inside;  // ids of the jobs in the handler
  size_t same_id_at_once = 0;
  pool.SetHandler([&](const Job& job, std::stop_token stop) {
    {
      std::lock_guard lock(mu);
      inside.insert(job.id);
      same_id_at_once = std::max(same_id_at_once, inside.count(job.id));
    }
    const bool entered = gate.Enter(stop);
    std::lock_guard lock(mu);
    inside.erase(inside.find(job.id));
    return entered ? OkStatus() : CancelledError("stopped");
  });
  ASSERT_OK(pool.Submit(TestJob(0), results.Callback(0)));
  ASSERT_TRUE(gate.WaitEntered(1));
  // Asked for again while it runs (its outcome may be decided already): it waits for the
  // running one, never beside it, although a worker is free.
  // Submit (a bus's delivery) refuses it: it runs already.
  EXPECT_THAT(pool.Submit(TestJob(0), results.Callback(12)), StatusIs(StatusCode::kAlreadyExists));
  ASSERT_OK(pool.Resubmit(TestJob(0), results.Callback(10)));
  EXPECT_THAT(pool.Resubmit(TestJob(0), results.Callback(11)),
              StatusIs(StatusCode::kAlreadyExists));
  EXPECT_THAT(pool.Submit(TestJob(0), results.Callback(13)), StatusIs(StatusCode::kAlreadyExists));
  ASSERT_OK(pool.Submit(TestJob(1), results.Callback(1)));
  ASSERT_TRUE(gate.WaitEntered(2));  // job 1 takes the free worker; the second job 0 waits
  EXPECT_EQ(pool.Load().running, 2);
  EXPECT_EQ(pool.Load().waiting, 1u);
  gate.Open();
  ASSERT_TRUE(results.WaitFor(3));
  EXPECT_EQ(gate.entered(), 3);
  EXPECT_EQ(same_id_at_once, 1u);
  pool.Shutdown(60000);
  EXPECT_EQ(results.results().size(), 3u);  // the refused ones are never called back
  EXPECT_EQ(results.results().count(11) + results.results().count(12) + results.results().count(13),
            0u);
}

TEST(WorkerPoolTest, ShutdownCancelsTheCallbacksOfWaitingJobs) {
  Gate gate;
  Results results;
  WorkerPool pool({.workers = 1, .capacity = 5});
  pool.SetHandler(GatedHandler(gate));
  ASSERT_OK(pool.Submit(TestJob(0), results.Callback(0)));
  ASSERT_TRUE(gate.WaitEntered(1));
  ASSERT_OK(pool.Submit(TestJob(1), results.Callback(1)));
  std::vector<Job> handed_back = pool.Shutdown(0);
  EXPECT_EQ(handed_back, std::vector<Job>{TestJob(1)});
  ASSERT_TRUE(results.WaitFor(2));
  std::multimap<int, Status> got = results.results();
  EXPECT_THAT(got.find(0)->second, StatusIs(StatusCode::kCancelled));  // stopped after grace
  EXPECT_THAT(got.find(1)->second, StatusIs(StatusCode::kCancelled));  // never started
  EXPECT_THAT(pool.Submit(TestJob(2)), StatusIs(StatusCode::kFailedPrecondition));
}

// Tasks (shard and merge tasks) count with the jobs against one bound; a waiting task is
// cancelled at shutdown but is not a job handed back.
TEST(WorkerPoolTest, TasksAndJobsShareTheBoundAndTasksAreNotHandedBack) {
  Gate gate;
  Results results;
  WorkerPool pool({.workers = 1, .capacity = 2});
  pool.SetHandler(GatedHandler(gate));
  auto task = [&gate](std::stop_token stop) {
    return gate.Enter(stop) ? OkStatus() : CancelledError("stopped");
  };
  ASSERT_OK(pool.Submit(TestJob(0), results.Callback(0)));
  ASSERT_TRUE(gate.WaitEntered(1));
  ASSERT_OK(pool.SubmitTask(task, results.Callback(1)));
  ASSERT_OK(pool.SubmitTask(task, results.Callback(2)));  // tasks are not told apart by id
  EXPECT_THAT(pool.SubmitTask(task), StatusIs(StatusCode::kResourceExhausted));
  EXPECT_EQ(pool.Load().waiting, 2u);
  gate.Open();
  ASSERT_TRUE(results.WaitFor(3));
  EXPECT_OK(pool.RunTask(task));  // waits for its turn, then its result
  EXPECT_EQ(gate.entered(), 4);
  EXPECT_EQ(gate.max_inside(), 1);

  Gate closed;
  ASSERT_OK(pool.SubmitTask([&closed](std::stop_token stop) {
    return closed.Enter(stop) ? OkStatus() : CancelledError("stopped");
  }));
  ASSERT_TRUE(closed.WaitEntered(1));
  ASSERT_OK(pool.SubmitTask(task, results.Callback(3)));
  EXPECT_TRUE(pool.Shutdown(0).empty());
  ASSERT_TRUE(results.WaitFor(4));
  EXPECT_THAT(results.results().find(3)->second, StatusIs(StatusCode::kCancelled));
  EXPECT_THAT(pool.RunTask(task), StatusIs(StatusCode::kFailedPrecondition));
}

TEST(WorkerPoolTest, AThrowingHandlerIsAnInternalResult) {
  Results results;
  WorkerPool pool({.workers = 1, .capacity = 1});
  pool.SetHandler([](const Job&, std::stop_token) -> Status { throw std::runtime_error("boom"); });
  ASSERT_OK(pool.Submit(TestJob(0), results.Callback(0)));
  ASSERT_TRUE(results.WaitFor(1));
  EXPECT_THAT(results.results().begin()->second,
              StatusIs(StatusCode::kInternal, ::testing::HasSubstr("boom")));
}

TEST(WorkerPoolTest, PublishesWaitingRunningAndSaturation) {
  Gate gate;
  MemoryStats stats;
  WorkerPool pool({.workers = 1, .capacity = 3, .stats = &stats});
  pool.SetHandler(GatedHandler(gate));
  EXPECT_EQ(stats.LastGauge("worker_pool_saturation"), 0.0);
  ASSERT_OK(pool.Submit(TestJob(0)));
  ASSERT_TRUE(gate.WaitEntered(1));
  ASSERT_OK(pool.Submit(TestJob(1)));
  EXPECT_EQ(stats.LastGauge("jobs_running"), 1.0);
  EXPECT_EQ(stats.LastGauge("jobs_waiting"), 1.0);
  EXPECT_EQ(stats.LastGauge("worker_pool_saturation"), 0.5);
  gate.Open();
  pool.Shutdown(60000);
  EXPECT_EQ(stats.LastGauge("jobs_running"), 0.0);
  EXPECT_EQ(stats.LastGauge("jobs_waiting"), 0.0);
}

}  // namespace
}  // namespace vpcflow
