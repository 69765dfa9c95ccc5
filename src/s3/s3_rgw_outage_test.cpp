// The S3 client and S3Storage when the server goes away mid-run. The test starts a Ceph RGW of
// its own (scripts/rgw.sh in VPCFLOW_RGW_OWN_DIR, not the shared "rgw" fixture, since it stops the
// gateway; cmake/rgw.cmake), stops the
// gateway while a multipart upload is under way, and checks: every operation fails after the
// configured number of attempts with an Unavailable error naming the operation and the object;
// after the gateway is back, nothing of the interrupted uploads is visible and what was stored
// before is intact. A digest reading the bucket when the gateway stops fails (issue 12, must-fix
// 5). (A server that accepts and never answers: s3_client_test, timeouts.)
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "s3/s3_client.hpp"
#include "s3/s3_modules.hpp"
#include "testing/flow_log_builder.hpp"
#include "testing/matchers.hpp"
#include "testing/rgw_env.hpp"
#include "testing/s3_rgw.hpp"
#include "vpcflow/digest.hpp"

namespace vpcflow {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;

constexpr char kId[] = "9740a140-ba85-5600-8b93-7b46eec77617";

// Runs `scripts/rgw.sh <command> <dir>`; true on exit status 0. Output goes to <dir>.out.
bool RgwScript(const std::string& command, const std::string& dir) {
  const std::string line =
      std::string(VPCFLOW_RGW_SCRIPT) + " " + command + " '" + dir + "' >>'" + dir + ".out' 2>&1";
  return std::system(line.c_str()) == 0;
}

std::string Bytes(size_t n, unsigned seed) {
  std::string out(n, '\0');
  uint64_t x = 0x9e3779b97f4a7c15ULL * (seed + 1);
  for (char& c : out) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c = static_cast<char>(x);
  }
  return out;
}

class RgwOutageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = VPCFLOW_RGW_OWN_DIR;  // the "rgw_own" fixture stops it whatever happens here
    ASSERT_TRUE(RgwScript("start", dir_)) << "scripts/rgw.sh start failed; see " << dir_ << ".out";
    started_ = true;
    Result<RgwEnv> env = LoadRgwEnvFile(dir_ + "/env");
    ASSERT_OK(env.status());
    // Three attempts, backoff capped at 200 ms: the failures below end within a second.
    client_ = NewRgwClient(*env, "", {.max_attempts = 3, .base_delay_ms = 50, .max_delay_ms = 200});
    bucket_ = UniqueBucketName("outage");
    ASSERT_OK(client_->CreateBucket(bucket_));
  }
  void TearDown() override {
    if (started_) {
      EXPECT_TRUE(RgwScript("stop", dir_));  // also after a failure
    }
  }

  std::string dir_;
  bool started_ = false;
  std::shared_ptr<S3Client> client_;
  std::string bucket_;
};

TEST_F(RgwOutageTest, AGatewayGoneMidRunFailsAfterBoundedRetriesAndLeavesNothingHalfWritten) {
  const std::string kept = Bytes(1000, 1);
  ASSERT_OK(client_->PutObject(bucket_, "kept", kept));

  // A digest upload and a plain multipart upload, each with one 5 MiB part already sent.
  Result<StoragePtr> storage = NewS3Storage(client_, bucket_, "", 5 << 20);
  ASSERT_OK(storage.status());
  Result<StorageUploadPtr> digest = (*storage)->Begin(kId);
  ASSERT_OK(digest.status());
  ASSERT_OK((*digest)->body().Append(Bytes(6 << 20, 2)));
  S3UploadSinkPtr plain = client_->NewUpload(bucket_, "plain.gz", "application/gzip", 5 << 20);
  ASSERT_OK(plain->Append(Bytes(6 << 20, 3)));

  ASSERT_TRUE(RgwScript("stop-gateway", dir_));

  // Every operation: Unavailable after exactly the configured attempts, naming what failed.
  auto unavailable = [](const std::string& what) {
    return StatusIs(StatusCode::kUnavailable,
                    AllOf(HasSubstr(what), HasSubstr("failed 3 attempts")));
  };
  EXPECT_THAT((*digest)->body().Append(Bytes(6 << 20, 4)),
              unavailable("S3 UploadPart s3://" + bucket_ + "/" + kId + ".log.gz"));
  EXPECT_THAT(
      (*digest)->Commit("{}"),
      StatusIs(StatusCode::kUnavailable, HasSubstr("storing the digest in s3://" + bucket_)));
  EXPECT_THAT(plain->Close(), unavailable("S3 UploadPart s3://" + bucket_ + "/plain.gz"));
  EXPECT_THAT(client_->GetObject(bucket_, "kept"),
              unavailable("S3 GetObject s3://" + bucket_ + "/kept"));
  EXPECT_THAT(client_->HeadObject(bucket_, "kept"), unavailable("S3 HeadObject"));
  EXPECT_THAT(client_->ListObjectsV2(bucket_, {}), unavailable("S3 ListObjectsV2 s3://" + bucket_));
  EXPECT_THAT(client_->PutObject(bucket_, "new", "x"), unavailable("S3 PutObject"));
  EXPECT_THAT(client_->DeleteObject(bucket_, "kept"), unavailable("S3 DeleteObject"));
  EXPECT_THAT((*storage)->Exists(kId), StatusIs(StatusCode::kUnavailable));
  digest->reset();  // the abort is attempted and fails too: the parts stay invisible
  plain.reset();

  ASSERT_TRUE(RgwScript("start-gateway", dir_));

  // Nothing of the interrupted uploads is visible; what was there before is intact.
  EXPECT_THAT((*storage)->Exists(kId), IsOkAndHolds(false));
  EXPECT_THAT((*storage)->GetManifest(kId), StatusIs(StatusCode::kNotFound));
  Result<ListPage> page = client_->ListObjectsV2(bucket_, {});
  ASSERT_OK(page.status());
  EXPECT_THAT(page->objects, ElementsAre(Field(&ObjectInfo::key, "kept")));
  Result<S3GetResult> got = client_->GetObject(bucket_, "kept");
  ASSERT_OK(got.status());
  EXPECT_TRUE(got->body == kept);

  // And the same client works again without being rebuilt.
  Result<StorageUploadPtr> again = (*storage)->Begin(kId);
  ASSERT_OK(again.status());
  ASSERT_OK((*again)->body().Append("digest"));
  ASSERT_OK((*again)->Commit("{\"id\":\"x\"}"));
  EXPECT_THAT((*storage)->Exists(kId), IsOkAndHolds(true));
}

// Must-fix 5 of issue 12: a gateway that dies mid-digest fails the run (the job fails and is
// retried), never a "done" digest that lacks the objects it could not read.
TEST_F(RgwOutageTest, AGatewayGoneMidDigestFailsTheRun) {
  auto key = [](int minute) {
    char buf[160];
    std::snprintf(buf, sizeof(buf),
                  "AWSLogs/123456789012/vpcflowlogs/us-east-1/2019/01/01/"
                  "123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20190101T00%02dZ_abcd1234.log.gz",
                  minute);
    return std::string(buf);
  };
  const std::string gz = FlowLogBuilder().Add({}).Gzip();
  for (int minute = 0; minute < 30; minute += 5)
    ASSERT_OK(client_->PutObject(bucket_, key(minute), gz));
  Result<ObjectSourcePtr> s3 =
      NewS3ObjectSource(client_, {.bucket = bucket_, .max_concurrent_prefetch = 0});
  ASSERT_OK(s3.status());

  // The gateway stops as the third object is opened.
  class StopsTheGateway : public ObjectSourceWrapper {
   public:
    StopsTheGateway(ObjectSource* target, std::string dir)
        : ObjectSourceWrapper(target), dir_(std::move(dir)) {}
    Result<ObjectReaderPtr> Open(std::string_view key) override {
      if (++opens_ == 3) {
        EXPECT_TRUE(RgwScript("stop-gateway", dir_));
      }
      return ObjectSourceWrapper::Open(key);
    }

   private:
    std::string dir_;
    int opens_ = 0;
  } stopping(s3->get(), dir_);

  DigestOptions options;
  options.threads = 1;
  Result<DigestRun> run = RunDigest(stopping, Window{1546300800, 1546304400}, options);
  EXPECT_THAT(run, StatusIs(StatusCode::kUnavailable, AllOf(HasSubstr("reading " + key(10)),
                                                            HasSubstr("failed 3 attempts"))));
}

}  // namespace
}  // namespace vpcflow
