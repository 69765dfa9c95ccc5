// vpcflow-digesterd and vpcflow-digest with every store on a real S3 server (the Ceph RGW of
// the CTest fixture "rgw"), configured with the older service's variables. The digest must equal
// the one made from the same files on the local file system, and no marker may be left behind.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <memory>
#include <string>

#include "s3/s3_client.hpp"
#include "service_harness.hpp"
#include "testing/matchers.hpp"
#include "testing/s3_rgw.hpp"
#include "testing/scratch_dir.hpp"
#include "testing/service_corpus.hpp"
#include "vpcflow/window.hpp"

namespace vpcflow {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

class ServiceS3E2eTest : public ::testing::Test {
 protected:
  // One corpus for the suite, on disk and in a bucket.
  static void SetUpTestSuite() {
    Result<RgwEnv> env = LoadRgwEnv();
    ASSERT_OK(env.status());
    env_ = new RgwEnv(*env);
    corpus_ = new ScratchDir();
    auto [code, out] = GenerateServiceCorpus(VPCFLOW_DIGEST_BIN, corpus_->path());
    ASSERT_EQ(code, 0) << out;
    logs_bucket_ = new std::string(UniqueBucketName("logs"));
    std::shared_ptr<S3Client> client = NewRgwClient(*env_);
    ASSERT_OK(client->CreateBucket(*logs_bucket_));
    ASSERT_OK(UploadDirectory(*client, *logs_bucket_, corpus_->path()));
  }
  static void TearDownTestSuite() {
    delete corpus_;
    delete env_;
    delete logs_bucket_;
  }

  void SetUp() override {
    ASSERT_NE(env_, nullptr);
    client_ = NewRgwClient(*env_);
    digests_bucket_ = UniqueBucketName("digests");
    progress_bucket_ = UniqueBucketName("progress");
    ASSERT_OK(client_->CreateBucket(digests_bucket_));
    ASSERT_OK(client_->CreateBucket(progress_bucket_));
  }

  // The older service's variables (plus the SDK's endpoint variable for a non-AWS server).
  std::map<std::string, std::string> S3Env() const {
    return {{"VPC_FLOW_LOGS_BUCKET", *logs_bucket_},
            {"VPC_FLOW_LOGS_BUCKET_REGION", env_->region},
            {"DIGEST_STORAGE_BUCKET", digests_bucket_},
            {"DIGEST_STORAGE_BUCKET_REGION", env_->region},
            {"DIGEST_PROGRESS_BUCKET", progress_bucket_},
            {"DIGEST_PROGRESS_BUCKET_REGION", env_->region},
            {"AWS_ACCESS_KEY_ID", env_->access_key},
            {"AWS_SECRET_ACCESS_KEY", env_->secret_key},
            {"AWS_ENDPOINT_URL", env_->endpoint},
            {"VPC_MAX_BYTES_PREFETCH", "2000000"},
            {"VPC_MAX_CONCURRENT_PREFETCH", "2"}};
  }

  std::unique_ptr<Process> StartService(std::map<std::string, std::string> extra = {}) {
    std::map<std::string, std::string> all = S3Env();
    all["DATA_DIR"] = data_.Sub("unused");
    for (auto& [k, v] : extra) all[k] = v;
    return StartDigesterd(VPCFLOW_DIGESTERD_BIN, all, &port_);
  }

  Result<HttpResponse> Send(std::string method, const std::string& path) {
    return http_->Send({.method = std::move(method),
                        .url = "http://127.0.0.1:" + std::to_string(port_) + path,
                        .timeout_ms = 30000});
  }

  std::vector<std::string> KeysIn(const std::string& bucket) {
    std::vector<std::string> out;
    Result<ListPage> page = client_->ListObjectsV2(bucket, {});
    EXPECT_OK(page.status());
    if (page.ok()) {
      for (const ObjectInfo& o : page->objects) out.push_back(o.key);
    }
    return out;
  }

  static std::string LocalDigest() {
    auto [code, out] = RunToCompletion(
        {VPCFLOW_DIGEST_BIN, "--source", corpus_->path(), "--start", kStart, "--stop", kStop});
    EXPECT_EQ(code, 0);
    return out;
  }

  static RgwEnv* env_;
  static ScratchDir* corpus_;
  static std::string* logs_bucket_;
  std::shared_ptr<S3Client> client_;
  std::string digests_bucket_;
  std::string progress_bucket_;
  ScratchDir data_;
  int port_ = 0;
  HttpClientPtr http_ = NewCurlHttpClient();
};

RgwEnv* ServiceS3E2eTest::env_ = nullptr;
ScratchDir* ServiceS3E2eTest::corpus_ = nullptr;
std::string* ServiceS3E2eTest::logs_bucket_ = nullptr;

TEST_F(ServiceS3E2eTest, FullCycleWithEveryStoreOnS3) {
  std::unique_ptr<Process> service = StartService();
  ASSERT_NE(service, nullptr);
  Result<HttpResponse> ready = Send("GET", "/readyz");
  ASSERT_OK(ready.status());
  EXPECT_EQ(ready->status, 200) << ready->body;

  Result<HttpResponse> post = Send("POST", "/" + kQuery);
  ASSERT_OK(post.status());
  ASSERT_EQ(post->status, 202) << post->body;
  Result<HttpResponse> again = Send("POST", "/" + kQuery);
  ASSERT_OK(again.status());
  EXPECT_EQ(again->status, 409);  // the S3 marker (or the stored digest) refuses a second one

  Result<HttpResponse> get = GetUntilNotInProgress(
      *http_, "http://127.0.0.1:" + std::to_string(port_) + "/" + kQuery, 60000);
  ASSERT_OK(get.status());
  ASSERT_EQ(get->status, 200) << get->body;
  const std::string expected = LocalDigest();
  EXPECT_GT(expected.size(), 1000u);
  EXPECT_TRUE(Gunzip(get->body) == expected) << "the digest from S3 differs from the local one";

  // Stored under the older service's keys; the manifest beside it; no marker left.
  Result<S3GetResult> stored =
      client_->GetObject(digests_bucket_, std::string(kDesignId) + ".log.gz");
  ASSERT_OK(stored.status());
  EXPECT_TRUE(stored->body == get->body);
  Result<S3GetResult> manifest =
      client_->GetObject(digests_bucket_, std::string(kDesignId) + ".manifest.json");
  ASSERT_OK(manifest.status());
  EXPECT_EQ(json::parse(manifest->body).at("id").as_string(), kDesignId);
  EXPECT_THAT(KeysIn(progress_bucket_), IsEmpty());

  service->Signal(SIGTERM);
  EXPECT_EQ(service->Wait(), 0);
  // Secrets never reach the logs.
  EXPECT_THAT(service->output(), Not(HasSubstr(env_->secret_key)));
}

TEST_F(ServiceS3E2eTest, AQueryThatNeedsFlowsIsAnsweredFromTheSidecarOnS3) {
  std::unique_ptr<Process> service = StartService();
  ASSERT_NE(service, nullptr);
  Result<HttpResponse> post = Send("POST", "/" + kQuery);
  ASSERT_OK(post.status());
  ASSERT_EQ(post->status, 202) << post->body;
  Result<HttpResponse> get = GetUntilNotInProgress(
      *http_, "http://127.0.0.1:" + std::to_string(port_) + "/" + kQuery, 60000);
  ASSERT_OK(get.status());
  ASSERT_EQ(get->status, 200) << get->body;
  // The job stored the rows sidecar beside the digest in the bucket.
  EXPECT_OK(client_->HeadObject(digests_bucket_, std::string(kDesignId) + ".rows.gz").status());

  // Ranked by flows, which only the sidecar has: the same answer as the CLI's over the digest
  // it computes from the same files.
  const std::vector<std::string> cli = {
      VPCFLOW_DIGEST_BIN, "--source", corpus_->path(), "--start", kStart, "--stop", kStop};
  struct Case {
    std::string params;
    std::vector<std::string> args;
  };
  const Case cases[] = {
      {"&group_by=srcaddr/24,dstport&by=flows&top=20&format=json",
       {"--group-by", "srcaddr/24,dstport", "--by", "flows", "--top", "20", "--format", "json"}},
      {"&filter=flows%3E1&conversation=true&format=csv",
       {"--filter", "flows>1", "--conversation", "--format", "csv"}},
  };
  for (const Case& c : cases) {
    Result<HttpResponse> answer = Send("GET", "/" + kQuery + c.params);
    ASSERT_OK(answer.status());
    ASSERT_EQ(answer->status, 200) << c.params << ": " << answer->body;
    std::vector<std::string> argv = cli;
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    auto [code, expected] = RunToCompletion(argv);
    ASSERT_EQ(code, 0) << expected;
    EXPECT_GT(expected.size(), 100u) << c.params;
    EXPECT_EQ(answer->body, expected) << c.params;
  }
  service->Signal(SIGTERM);
  EXPECT_EQ(service->Wait(), 0);
}

TEST_F(ServiceS3E2eTest, AWrongSecretStopsStartUpWithAClearMessage) {
  std::map<std::string, std::string> all = S3Env();
  all["AWS_SECRET_ACCESS_KEY"] = "not-the-secret-0123456789";
  all["LISTEN_ADDRESS"] = "127.0.0.1";
  all["PORT"] = "0";
  all["STATSD_ADDRESS"] = "";
  Result<std::unique_ptr<Process>> p = Process::Start({VPCFLOW_DIGESTERD_BIN}, all);
  ASSERT_OK(p.status());
  std::optional<int> code = (*p)->Wait(60000);
  ASSERT_TRUE(code.has_value());
  EXPECT_NE(*code, 0);
  const std::string output = (*p)->output();
  EXPECT_THAT(output, HasSubstr("VPC_FLOW_LOGS_BUCKET"));
  EXPECT_THAT(output, HasSubstr("SignatureDoesNotMatch"));
  EXPECT_THAT(output, Not(HasSubstr("not-the-secret-0123456789")));
}

TEST_F(ServiceS3E2eTest, CliReadsAnS3UrlLikeADirectory) {
  // The bucket's objects under a prefix: s3://bucket/prefix/ reads like the directory.
  const std::string bucket = UniqueBucketName("cli");
  ASSERT_OK(client_->CreateBucket(bucket));
  ASSERT_OK(UploadDirectory(*client_, bucket, corpus_->path(), "exports/"));
  const std::map<std::string, std::string> env = {{"AWS_ACCESS_KEY_ID", env_->access_key},
                                                  {"AWS_SECRET_ACCESS_KEY", env_->secret_key},
                                                  {"AWS_ENDPOINT_URL_S3", env_->endpoint},
                                                  {"AWS_REGION", env_->region}};
  auto [code, out] = RunToCompletion(
      {VPCFLOW_DIGEST_BIN, "--source", "s3://" + bucket + "/exports", "--start", kStart, "--stop",
       kStop, "--prefetch-bytes", "1000000", "--prefetch-concurrency", "3"},
      env);
  auto [missing_code, missing_out] =
      RunToCompletion({VPCFLOW_DIGEST_BIN, "--source", "s3://" + UniqueBucketName("none"),
                       "--start", kStart, "--stop", kStop},
                      env);
  EXPECT_EQ(code, 0);
  EXPECT_TRUE(out == LocalDigest()) << "the CLI's digest from S3 differs from the local one";
  EXPECT_EQ(missing_code, 1);
}

TEST_F(ServiceS3E2eTest, EmbeddedS3ExampleKeepsDigestsAndMarkersUnderPrefixesOfOneBucket) {
  // examples/embed_s3: S3ModuleFactory (vpcflow/s3.hpp) makes the storage and the marker in the
  // program's main.cpp, both in one bucket; the flow logs come from VPC_FLOW_LOGS_BUCKET.
  std::map<std::string, std::string> all = S3Env();
  all.erase("DIGEST_STORAGE_BUCKET");
  all.erase("DIGEST_PROGRESS_BUCKET");
  all["ARCHIVE_BUCKET"] = digests_bucket_;
  all["ARCHIVE_BUCKET_REGION"] = env_->region;
  all["DATA_DIR"] = data_.Sub("unused");
  std::unique_ptr<Process> service = StartDigesterd(VPCFLOW_EMBED_S3_BIN, all, &port_);
  ASSERT_NE(service, nullptr);
  Result<HttpResponse> post = Send("POST", "/" + kQuery);
  ASSERT_OK(post.status());
  ASSERT_EQ(post->status, 202) << post->body;
  // The marker is under progress/ while the job runs, or the digest is already stored.
  Result<HttpResponse> get = GetUntilNotInProgress(
      *http_, "http://127.0.0.1:" + std::to_string(port_) + "/" + kQuery, 60000);
  ASSERT_OK(get.status());
  ASSERT_EQ(get->status, 200) << get->body;
  EXPECT_TRUE(Gunzip(get->body) == LocalDigest()) << "the digest differs from the local one";

  Result<S3GetResult> stored =
      client_->GetObject(digests_bucket_, "digests/" + std::string(kDesignId) + ".log.gz");
  ASSERT_OK(stored.status());
  EXPECT_TRUE(stored->body == get->body);
  ASSERT_OK(
      client_->HeadObject(digests_bucket_, "digests/" + std::string(kDesignId) + ".manifest.json")
          .status());
  // Nothing at the bucket's root, and no marker left under progress/.
  for (const std::string& key : KeysIn(digests_bucket_)) {
    EXPECT_TRUE(key.starts_with("digests/")) << key;
  }
  service->Signal(SIGTERM);
  EXPECT_EQ(service->Wait(), 0);
  EXPECT_THAT(service->output(), Not(HasSubstr(env_->secret_key)));
}

TEST_F(ServiceS3E2eTest, EmbeddedS3ExampleNamesAMissingBucketAndStops) {
  std::map<std::string, std::string> all = S3Env();
  all["ARCHIVE_BUCKET"] = UniqueBucketName("none");
  all["ARCHIVE_BUCKET_REGION"] = env_->region;
  Result<std::unique_ptr<Process>> p = Process::Start({VPCFLOW_EMBED_S3_BIN}, all, true);
  ASSERT_OK(p.status());
  std::optional<int> code = (*p)->Wait(60000);
  ASSERT_TRUE(code.has_value());
  EXPECT_EQ(*code, 2);
  EXPECT_THAT((*p)->output(), HasSubstr("ARCHIVE_BUCKET \"" + all["ARCHIVE_BUCKET"] + "\""));
  EXPECT_THAT((*p)->output(), Not(HasSubstr(env_->secret_key)));
}

}  // namespace
}  // namespace vpcflow
