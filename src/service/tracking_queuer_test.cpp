#include "service/tracking_queuer.hpp"

#include <gtest/gtest.h>

#include "testing/matchers.hpp"
#include "testing/memory_queuer.hpp"

namespace vpcflow {
namespace {

const Job kJob{.id = "job-1", .window = {1546300800, 1546304400}};

class TrackingQueuerTest : public ::testing::Test {
 protected:
  JobStateStorePtr states_ = NewMemoryJobStateStore();
  JobTracker tracker_{states_.get()};
  MemoryQueuer target_;
  TrackingQueuer queuer_{&target_, &tracker_};
};

TEST_F(TrackingQueuerTest, AQueuedJobIsHeldAsQueuedHereAndInTheSharedState) {
  ASSERT_OK(queuer_.Queue(kJob));
  EXPECT_EQ(target_.jobs(), std::vector<Job>{kJob});
  ASSERT_TRUE(tracker_.Get(kJob.id).has_value());
  EXPECT_EQ(tracker_.Get(kJob.id)->phase, JobPhase::kQueued);
  Result<JobState> shared = states_->Get(kJob.id);
  ASSERT_OK(shared.status());
  EXPECT_EQ(shared->phase, JobPhase::kQueued);
}

TEST_F(TrackingQueuerTest, ARefusedJobIsForgottenAndTheErrorReturned) {
  for (const Status& error :
       {ResourceExhaustedError("the job queue is full"), UnavailableError("bus down")}) {
    target_.FailWith(error);
    EXPECT_THAT(queuer_.Queue(kJob), StatusIs(error.code()));
    EXPECT_FALSE(tracker_.Get(kJob.id).has_value());
    EXPECT_THAT(states_->Get(kJob.id), StatusIs(StatusCode::kNotFound));
  }
}

TEST_F(TrackingQueuerTest, AJobThisProcessHasAlreadyStaysHeld) {
  ASSERT_TRUE(tracker_.StartRunning(kJob.id));
  target_.FailWith(AlreadyExistsError("running here"));
  EXPECT_THAT(queuer_.Queue(kJob), StatusIs(StatusCode::kAlreadyExists));
  ASSERT_TRUE(tracker_.Get(kJob.id).has_value());
  EXPECT_EQ(tracker_.Get(kJob.id)->phase, JobPhase::kRunning);
}

}  // namespace
}  // namespace vpcflow
