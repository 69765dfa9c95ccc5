#include <gtest/gtest.h>

#include <condition_variable>
#include <latch>
#include <mutex>

#include "testing/matchers.hpp"
#include "testing/memory_queuer.hpp"
#include "testing/queuer_conformance.hpp"
#include "testing/test_http_server.hpp"
#include "vpcflow/http_client.hpp"
#include "vpcflow/queuer.hpp"

namespace vpcflow {
namespace {

QueuerPtr WithHandler(QueuerPtr queuer, JobHandler handler) {
  queuer->SetHandler(std::move(handler));
  return queuer;
}

struct LoopbackParts {
  std::unique_ptr<TestHttpServer> server{};
  HttpClientPtr client{};
  QueuerPtr queuer{};
};

// An HttpQueuer posting to a real server on 127.0.0.1 that runs the handler on each job, as
// the service's `POST /{topic}/{event}` does. Owns the server and client (destroyed last).
class LoopbackHttpQueuer final : private LoopbackParts, public QueuerWrapper {
 public:
  static QueuerPtr Make(JobHandler handler) {
    Result<std::unique_ptr<TestHttpServer>> server =
        TestHttpServer::Start([handler](const TestHttpRequest& request) {
          Result<Job> job = JobFromJson(request.body, kDefaultMaxWindowSeconds);
          if (!job.ok() || request.target != "/digests/digest") return TestHttpReply{.status = 400};
          Status status = handler(*job, std::stop_token());
          return TestHttpReply{.status = status.ok() ? 204 : 500};
        });
    if (!server.ok()) return nullptr;
    LoopbackParts parts{.server = std::move(server).value(), .client = NewCurlHttpClient()};
    parts.queuer = NewHttpQueuer({.endpoint = parts.server->url()}, parts.client.get());
    return std::make_unique<LoopbackHttpQueuer>(std::move(parts));
  }

  explicit LoopbackHttpQueuer(LoopbackParts parts)
      : LoopbackParts(std::move(parts)), QueuerWrapper(queuer.get()) {}
};

INSTANTIATE_TEST_SUITE_P(InProcess, QueuerConformanceTest,
                         ::testing::Values(QueuerFactory([](JobHandler handler) {
                           return WithHandler(NewInProcessQueuer(3), std::move(handler));
                         })));
INSTANTIATE_TEST_SUITE_P(Memory, QueuerConformanceTest,
                         ::testing::Values(QueuerFactory([](JobHandler handler) {
                           return WithHandler(std::make_unique<MemoryQueuer>(), std::move(handler));
                         })));
INSTANTIATE_TEST_SUITE_P(Http, QueuerConformanceTest,
                         ::testing::Values(QueuerFactory(&LoopbackHttpQueuer::Make)));

Job TestJob(int n) {
  Window window{.start = 1546300800 + int64_t{n} * 3600,
                .stop = 1546300800 + int64_t{n + 1} * 3600};
  return Job{.id = DigestId(window), .window = window};
}

// A handler that blocks until released (or stopped), recording what it saw.
class Gate {
 public:
  JobHandler Handler() {
    return [this](const Job&, std::stop_token stop) {
      std::unique_lock lock(mu_);
      ++started_;
      cv_.notify_all();
      cv_.wait(lock, stop, [this] { return released_; });
      if (stop.stop_requested() && !released_) {
        ++cancelled_;
        return CancelledError("stopped");
      }
      ++finished_;
      return OkStatus();
    };
  }
  void WaitStarted(int n) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return started_ >= n; });
  }
  void Release() {
    std::lock_guard lock(mu_);
    released_ = true;
    cv_.notify_all();
  }
  int finished() {
    std::lock_guard lock(mu_);
    return finished_;
  }
  int cancelled() {
    std::lock_guard lock(mu_);
    return cancelled_;
  }

 private:
  std::mutex mu_;
  std::condition_variable_any cv_;
  int started_ = 0;
  int finished_ = 0;
  int cancelled_ = 0;
  bool released_ = false;
};

TEST(InProcessQueuerTest, FullQueueIsResourceExhausted) {
  Gate gate;
  QueuerPtr queuer = WithHandler(NewInProcessQueuer(1, 2), gate.Handler());
  ASSERT_OK(queuer->Queue(TestJob(0)));
  gate.WaitStarted(1);
  ASSERT_OK(queuer->Queue(TestJob(1)));
  ASSERT_OK(queuer->Queue(TestJob(2)));
  EXPECT_THAT(queuer->Queue(TestJob(3)), StatusIs(StatusCode::kResourceExhausted));
  gate.Release();
  EXPECT_EQ(queuer->Shutdown(60000).size() + static_cast<size_t>(gate.finished()), 3u);
}

TEST(InProcessQueuerTest, ShutdownHandsBackWaitingJobsAndCancelsRunningOnesAfterGrace) {
  Gate gate;
  QueuerPtr queuer = WithHandler(NewInProcessQueuer(2, 10), gate.Handler());
  ASSERT_OK(queuer->Queue(TestJob(0)));
  ASSERT_OK(queuer->Queue(TestJob(1)));
  gate.WaitStarted(2);
  ASSERT_OK(queuer->Queue(TestJob(2)));
  ASSERT_OK(queuer->Queue(TestJob(3)));
  std::vector<Job> unstarted = queuer->Shutdown(0);
  EXPECT_EQ(unstarted, (std::vector<Job>{TestJob(2), TestJob(3)}));
  EXPECT_EQ(gate.cancelled(), 2);
  EXPECT_EQ(gate.finished(), 0);
}

TEST(InProcessQueuerTest, RunningJobsFinishWithinTheGracePeriod) {
  Gate gate;
  QueuerPtr queuer = WithHandler(NewInProcessQueuer(1, 10), gate.Handler());
  ASSERT_OK(queuer->Queue(TestJob(0)));
  gate.WaitStarted(1);
  std::vector<Job> unstarted;
  std::thread shutdown([&] { unstarted = queuer->Shutdown(600000); });
  gate.Release();
  shutdown.join();
  EXPECT_TRUE(unstarted.empty());
  EXPECT_EQ(gate.finished(), 1);
  EXPECT_EQ(gate.cancelled(), 0);
}

TEST(InProcessQueuerTest, QueueWithoutHandlerIsFailedPrecondition) {
  QueuerPtr queuer = NewInProcessQueuer(1);
  EXPECT_THAT(queuer->Queue(TestJob(0)), StatusIs(StatusCode::kFailedPrecondition));
}

TEST(InProcessQueuerTest, AThrowingHandlerDoesNotKillTheWorker) {
  std::atomic<int> calls{0};
  std::latch done(2);
  QueuerPtr queuer = NewInProcessQueuer(1);
  queuer->SetHandler([&](const Job&, std::stop_token) -> Status {
    ++calls;
    done.count_down();
    throw std::runtime_error("boom");
  });
  ASSERT_OK(queuer->Queue(TestJob(0)));
  ASSERT_OK(queuer->Queue(TestJob(1)));
  done.wait();
  EXPECT_TRUE(queuer->Shutdown(60000).empty());
  EXPECT_EQ(calls.load(), 2);
}

TEST(InProcessQueuerTest, RunsJobsOnSeveralWorkersAtOnce) {
  Gate gate;
  QueuerPtr queuer = WithHandler(NewInProcessQueuer(3, 10), gate.Handler());
  for (int i = 0; i < 3; ++i) ASSERT_OK(queuer->Queue(TestJob(i)));
  gate.WaitStarted(3);  // would hang with fewer than 3 workers
  gate.Release();
  EXPECT_TRUE(queuer->Shutdown(60000).empty());
  EXPECT_EQ(gate.finished(), 3);
  EXPECT_NE(queuer->Describe().find("3 workers"), std::string::npos);
}

TEST(MemoryQueuerTest, RecordsRunsAndFailsOnDemand) {
  MemoryQueuer queuer;
  std::vector<Job> ran;
  queuer.SetHandler([&](const Job& job, std::stop_token) {
    ran.push_back(job);
    return OkStatus();
  });
  ASSERT_OK(queuer.Queue(TestJob(0)));
  queuer.FailWith(UnavailableError("down"));
  EXPECT_THAT(queuer.Queue(TestJob(1)), StatusIs(StatusCode::kUnavailable));
  queuer.FailWith(OkStatus());
  ASSERT_OK(queuer.Queue(TestJob(2)));
  EXPECT_EQ(queuer.pending(), (std::vector<Job>{TestJob(0), TestJob(2)}));
  EXPECT_EQ(queuer.RunPending().size(), 2u);
  EXPECT_EQ(ran, (std::vector<Job>{TestJob(0), TestJob(2)}));
  EXPECT_TRUE(queuer.pending().empty());
  EXPECT_EQ(queuer.jobs().size(), 2u);
}

}  // namespace
}  // namespace vpcflow
