// The JobStateStore conformance suite on a bucket of the real nats-server ("nats" fixture).
#include "nats/kv_job_state_store.hpp"

#include "testing/job_state_store_conformance.hpp"
#include "testing/nats_env.hpp"
#include "testing/rgw_env.hpp"

namespace vpcflow {
namespace {

// A store that owns its connection and bucket.
class OwningKvStore final : public JobStateStore {
 public:
  OwningKvStore(std::unique_ptr<NatsConnection> c, std::unique_ptr<KvBucket> kv)
      : connection_(std::move(c)), kv_(std::move(kv)), store_(NewKvJobStateStore(kv_.get())) {}
  Result<JobState> Get(std::string_view id) override { return store_->Get(id); }
  Result<JobState> Update(std::string_view id,
                          const std::function<Status(JobState&)>& change) override {
    return store_->Update(id, change);
  }
  Status Remove(std::string_view id) override { return store_->Remove(id); }
  std::string Describe() const override { return store_->Describe(); }

 private:
  std::unique_ptr<NatsConnection> connection_;
  std::unique_ptr<KvBucket> kv_;
  JobStateStorePtr store_;
};

std::unique_ptr<NatsConnection> ConnectToFixture() {
  auto c = ConnectToTestNats();
  return c.ok() ? std::move(*c) : nullptr;
}

JobStateStorePtr MakeKvStore(const std::string& bucket) {
  auto c = ConnectToFixture();
  if (c == nullptr) return nullptr;
  auto kv = KvBucket::Open(c.get(), {.bucket = bucket});
  if (!kv.ok()) return nullptr;
  return std::make_unique<OwningKvStore>(std::move(c), std::move(*kv));
}

JobStateStorePtr MakeFreshKvStore() { return MakeKvStore(UniqueBucketName("jobs")); }

INSTANTIATE_TEST_SUITE_P(NatsKv, JobStateStoreConformanceTest,
                         ::testing::Values(JobStateStoreFactory(&MakeFreshKvStore)));

TEST(KvJobStateStoreTest, AnUnreadableValueReadsAsNotFoundAndIsReplaced) {
  const std::string bucket = UniqueBucketName("jobs");
  JobStateStorePtr store = MakeKvStore(bucket);
  ASSERT_NE(store, nullptr);
  // A value written by something else into the same bucket, through a second connection.
  auto c = ConnectToFixture();
  ASSERT_NE(c, nullptr);
  auto kv = KvBucket::Open(c.get(), {.bucket = bucket});
  ASSERT_THAT(kv, IsOk());
  ASSERT_THAT((*kv)->Put("job", "{\"phase\":\"from the future\"}"), IsOk());
  EXPECT_THAT(store->Get("job"), StatusIs(StatusCode::kNotFound));
  Result<JobState> replaced = store->Update("job", [](JobState& s) {
    EXPECT_EQ(s.phase, JobPhase::kQueued);
    s.shards_total = 2;
    return OkStatus();
  });
  ASSERT_THAT(replaced, IsOk());
  Result<JobState> seen_by_other = NewKvJobStateStore(kv->get())->Get("job");
  ASSERT_THAT(seen_by_other, IsOk());
  EXPECT_EQ(seen_by_other->shards_total, 2);
}

}  // namespace
}  // namespace vpcflow
