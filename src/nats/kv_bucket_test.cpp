// Against the real nats-server of the "nats" fixture: each test uses its own bucket.
#include "nats/kv_bucket.hpp"

#include <gtest/gtest.h>

#include <thread>

#include "testing/matchers.hpp"
#include "testing/nats_env.hpp"
#include "testing/rgw_env.hpp"

namespace vpcflow {
namespace {

using ::testing::UnorderedElementsAre;

class KvBucketTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = ConnectToTestNats();
    ASSERT_THAT(c, IsOk());
    connection_ = std::move(*c);
    auto kv = KvBucket::Open(connection_.get(), {.bucket = UniqueBucketName("kv")});
    ASSERT_THAT(kv, IsOk());
    kv_ = std::move(*kv);
  }

  std::unique_ptr<NatsConnection> connection_;
  std::unique_ptr<KvBucket> kv_;
};

TEST_F(KvBucketTest, CreateSucceedsOnlyOnce) {
  Result<uint64_t> rev = kv_->Create("job.a", "one");
  ASSERT_THAT(rev, IsOk());
  EXPECT_THAT(kv_->Create("job.a", "two"), StatusIs(StatusCode::kAlreadyExists));
  Result<KvEntry> e = kv_->Get("job.a");
  ASSERT_THAT(e, IsOk());
  EXPECT_EQ(e->value, "one");
  EXPECT_EQ(e->revision, *rev);
}

TEST_F(KvBucketTest, UpdateIsACompareAndSet) {
  Result<uint64_t> rev = kv_->Create("k", "1");
  ASSERT_THAT(rev, IsOk());
  Result<uint64_t> next = kv_->Update("k", "2", *rev);
  ASSERT_THAT(next, IsOk());
  EXPECT_THAT(kv_->Update("k", "3", *rev), StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(kv_->Get("k"), IsOk());
  EXPECT_EQ(kv_->Get("k")->value, "2");
  EXPECT_THAT(kv_->Update("missing", "x", 1), StatusIs(StatusCode::kFailedPrecondition));
}

TEST_F(KvBucketTest, DeletedKeysAreNotFoundAndMayBeCreatedAgain) {
  EXPECT_THAT(kv_->Get("never"), StatusIs(StatusCode::kNotFound));
  ASSERT_THAT(kv_->Put("k", "v"), IsOk());
  ASSERT_THAT(kv_->Put("other", "v"), IsOk());
  EXPECT_THAT(kv_->Keys(), IsOkAndHolds(UnorderedElementsAre("k", "other")));
  ASSERT_THAT(kv_->Delete("k"), IsOk());
  EXPECT_THAT(kv_->Get("k"), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(kv_->Keys(), IsOkAndHolds(UnorderedElementsAre("other")));
  EXPECT_THAT(kv_->Create("k", "again"), IsOk());
}

TEST_F(KvBucketTest, ConcurrentCompareAndSetIncrementsLoseNone) {
  ASSERT_THAT(kv_->Create("count", "0"), IsOk());
  constexpr int kThreads = 4;
  constexpr int kEach = 10;
  auto increment = [&] {
    for (int i = 0; i < kEach; ++i) {
      while (true) {
        Result<KvEntry> e = kv_->Get("count");
        ASSERT_THAT(e, IsOk());
        Result<uint64_t> r =
            kv_->Update("count", std::to_string(std::stoi(e->value) + 1), e->revision);
        if (r.ok()) break;
        ASSERT_THAT(r, StatusIs(StatusCode::kFailedPrecondition));
      }
    }
  };
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) threads.emplace_back(increment);
  for (auto& t : threads) t.join();
  EXPECT_EQ(kv_->Get("count")->value, std::to_string(kThreads * kEach));
}

}  // namespace
}  // namespace vpcflow
