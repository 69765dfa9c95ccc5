// The S3 client and the S3 modules against a real S3 server: the Ceph RGW of the CTest fixture
// "rgw" (scripts/rgw.sh). Every test uses buckets of its own.
#include "testing/s3_rgw.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "generate/generator.hpp"
#include "s3/s3_client.hpp"
#include "s3/s3_modules.hpp"
#include "testing/marker_conformance.hpp"
#include "testing/matchers.hpp"
#include "testing/object_source_conformance.hpp"
#include "testing/reader.hpp"
#include "testing/scratch_dir.hpp"
#include "testing/storage_conformance.hpp"
#include "vpcflow/digest.hpp"
#include "vpcflow/window.hpp"

namespace vpcflow {
namespace {

using ::testing::AllOf;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::SizeIs;

RgwEnv Env() {
  static const Result<RgwEnv> env = LoadRgwEnv();
  EXPECT_OK(env.status());
  return env.ok() ? *env : RgwEnv{};
}

// A client of the fixture and a fresh bucket.
class RgwTest : public ::testing::Test {
 protected:
  void SetUp() override {
    env_ = Env();
    ASSERT_FALSE(env_.endpoint.empty());
    client_ = NewRgwClient(env_);
    bucket_ = UniqueBucketName("t");
    ASSERT_OK(client_->CreateBucket(bucket_));
  }

  static std::string Bytes(size_t n, uint32_t seed) {
    return conformance_internal::PseudoRandomBytes(n, seed);
  }

  RgwEnv env_;
  std::shared_ptr<S3Client> client_;
  std::string bucket_;
};

TEST_F(RgwTest, PutGetHeadDeleteRoundTrip) {
  const std::string body = Bytes(100000, 1);
  ASSERT_OK(client_->PutObject(bucket_, "dir/a b+c=d/é.bin", body));
  Result<S3GetResult> got = client_->GetObject(bucket_, "dir/a b+c=d/é.bin");
  ASSERT_OK(got.status());
  EXPECT_TRUE(got->body == body);
  EXPECT_EQ(got->object_size, body.size());
  Result<S3ObjectMeta> meta = client_->HeadObject(bucket_, "dir/a b+c=d/é.bin");
  ASSERT_OK(meta.status());
  EXPECT_EQ(meta->size, body.size());
  EXPECT_EQ(meta->etag, got->etag);
  ASSERT_OK(client_->DeleteObject(bucket_, "dir/a b+c=d/é.bin"));
  EXPECT_THAT(client_->HeadObject(bucket_, "dir/a b+c=d/é.bin"), StatusIs(StatusCode::kNotFound));
  EXPECT_OK(client_->DeleteObject(bucket_, "dir/a b+c=d/é.bin"));  // absent: still OK
}

TEST_F(RgwTest, ListingPaginatesOverMoreThanAThousandKeys) {
  constexpr int kKeys = 1100;
  std::atomic<int> next{0};
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = next++; i < kKeys; i = next++) {
        char key[32];
        std::snprintf(key, sizeof(key), "k/%02d/%05d", i % 7, i);
        if (!client_->PutObject(bucket_, key, std::to_string(i)).ok()) ++failures;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  ASSERT_EQ(failures, 0);

  Result<ListPage> first = client_->ListObjectsV2(bucket_, {.prefix = "k/"});
  ASSERT_OK(first.status());
  EXPECT_THAT(first->objects, SizeIs(1000));
  EXPECT_FALSE(first->next_token.empty());
  Result<ListPage> second =
      client_->ListObjectsV2(bucket_, {.prefix = "k/", .continuation_token = first->next_token});
  ASSERT_OK(second.status());
  EXPECT_THAT(second->objects, SizeIs(100));
  EXPECT_EQ(second->next_token, "");
  EXPECT_LT(first->objects.back().key, second->objects.front().key);

  // Small pages, start-after, delimiter.
  Result<ListPage> all = ListAll(*NewS3ObjectSource(client_, {.bucket = bucket_}).value(),
                                 {.prefix = "k/", .max_keys = 333});
  ASSERT_OK(all.status());
  EXPECT_THAT(all->objects, SizeIs(kKeys));
  Result<ListPage> after = client_->ListObjectsV2(bucket_, {.start_after = "k/06/", .max_keys = 5});
  ASSERT_OK(after.status());
  ASSERT_THAT(after->objects, SizeIs(5));
  EXPECT_THAT(after->objects.front().key, ::testing::StartsWith("k/06/"));
  Result<ListPage> folders = client_->ListObjectsV2(bucket_, {.prefix = "k/", .delimiter = "/"});
  ASSERT_OK(folders.status());
  EXPECT_THAT(folders->common_prefixes, SizeIs(7));
  EXPECT_THAT(folders->objects, SizeIs(0));
}

TEST_F(RgwTest, RangeReadsAndChunkedReader) {
  const std::string body = Bytes(3 * 1024 * 1024 + 500, 2);
  ASSERT_OK(client_->PutObject(bucket_, "big", body));
  Result<S3GetResult> part = client_->GetObject(bucket_, "big", S3Range{.first = 10, .last = 19});
  ASSERT_OK(part.status());
  EXPECT_EQ(part->body, body.substr(10, 10));
  EXPECT_EQ(part->object_size, body.size());

  Result<ObjectReaderPtr> reader = client_->OpenReader(bucket_, "big", 1024 * 1024);
  ASSERT_OK(reader.status());
  Result<std::string> read = ReadAll(**reader, 100000);
  ASSERT_OK(read.status());
  EXPECT_TRUE(*read == body);

  ASSERT_OK(client_->PutObject(bucket_, "empty", ""));
  Result<ObjectReaderPtr> empty = client_->OpenReader(bucket_, "empty", 1024);
  ASSERT_OK(empty.status());
  EXPECT_THAT(ReadAll(**empty), IsOkAndHolds(""));
}

TEST_F(RgwTest, AReplacedObjectIsNotMixedIntoARead) {
  ASSERT_OK(client_->PutObject(bucket_, "o", Bytes(300000, 3)));
  Result<ObjectReaderPtr> reader = client_->OpenReader(bucket_, "o", 100000);
  ASSERT_OK(reader.status());
  std::vector<char> buffer(100000);
  ASSERT_THAT((*reader)->Read(std::span<char>(buffer)), IsOkAndHolds(100000u));
  ASSERT_OK(client_->PutObject(bucket_, "o", Bytes(300000, 4)));
  Result<std::string> rest = ReadAll(**reader);
  EXPECT_THAT(rest.status(), StatusIs(StatusCode::kFailedPrecondition));
}

TEST_F(RgwTest, MultipartUploadStreamsLargeBodies) {
  const std::string body = Bytes(12 * 1024 * 1024 + 123, 5);
  S3UploadSinkPtr upload = client_->NewUpload(bucket_, "multi.gz", "application/gzip", 5 << 20);
  for (size_t i = 0; i < body.size(); i += 1000003) {
    ASSERT_OK(upload->Append(std::string_view(body).substr(i, 1000003)));
  }
  // Not visible before it completes.
  EXPECT_THAT(client_->HeadObject(bucket_, "multi.gz"), StatusIs(StatusCode::kNotFound));
  ASSERT_OK(upload->Close());
  Result<S3ObjectMeta> meta = client_->HeadObject(bucket_, "multi.gz");
  ASSERT_OK(meta.status());
  EXPECT_EQ(meta->size, body.size());
  EXPECT_THAT(meta->etag, EndsWith("-3\""));
  Result<S3GetResult> got = client_->GetObject(bucket_, "multi.gz");
  ASSERT_OK(got.status());
  EXPECT_TRUE(got->body == body);
}

TEST_F(RgwTest, AnAbandonedMultipartUploadLeavesNothing) {
  {
    S3UploadSinkPtr upload = client_->NewUpload(bucket_, "abandoned", "", 5 << 20);
    ASSERT_OK(upload->Append(Bytes(11 * 1024 * 1024, 6)));
  }  // destroyed without Close: aborted
  EXPECT_THAT(client_->HeadObject(bucket_, "abandoned"), StatusIs(StatusCode::kNotFound));
  Result<ListPage> page = client_->ListObjectsV2(bucket_, {});
  ASSERT_OK(page.status());
  EXPECT_THAT(page->objects, SizeIs(0));
}

TEST_F(RgwTest, MissingKeysAndBucketsAreNotFound) {
  EXPECT_THAT(client_->GetObject(bucket_, "nope"), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(client_->HeadObject(bucket_, "nope"), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(client_->OpenReader(bucket_, "nope"), StatusIs(StatusCode::kNotFound));
  const std::string missing = UniqueBucketName("missing");
  EXPECT_THAT(client_->ListObjectsV2(missing, {}),
              StatusIs(StatusCode::kNotFound, HasSubstr(missing)));
  EXPECT_THAT(client_->HeadBucket(missing), StatusIs(StatusCode::kNotFound));
  EXPECT_THAT(client_->GetObject(missing, "k"), StatusIs(StatusCode::kNotFound));
  EXPECT_OK(client_->HeadBucket(bucket_));
}

TEST_F(RgwTest, AWrongSecretIsAClearPermissionError) {
  const std::string wrong = "wrong-secret-0123456789abcdef";
  std::shared_ptr<S3Client> bad = NewRgwClient(env_, wrong);
  Result<ListPage> page = bad->ListObjectsV2(bucket_, {});
  ASSERT_THAT(page.status(), StatusIs(StatusCode::kPermissionDenied));
  EXPECT_THAT(page.status().message(), AllOf(HasSubstr(bucket_), HasSubstr("SignatureDoesNotMatch"),
                                             HasSubstr("secret access key"), Not(HasSubstr(wrong)),
                                             Not(HasSubstr(env_.secret_key))));
  EXPECT_THAT(bad->PutObject(bucket_, "k", "v"), StatusIs(StatusCode::kPermissionDenied));
  EXPECT_THAT(bad->HeadObject(bucket_, "k"), StatusIs(StatusCode::kPermissionDenied));
}

TEST_F(RgwTest, ConditionalPutsAreHonoured) {
  ASSERT_OK(client_->PutObject(bucket_, "m", "1", {.if_none_match = true}));
  EXPECT_THAT(client_->PutObject(bucket_, "m", "2", {.if_none_match = true}),
              StatusIs(StatusCode::kAlreadyExists));
  Result<S3GetResult> got = client_->GetObject(bucket_, "m");
  ASSERT_OK(got.status());
  EXPECT_EQ(got->body, "1");
  EXPECT_THAT(client_->PutObject(bucket_, "m", "3", {.if_match = "\"0123\""}),
              StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_OK(client_->PutObject(bucket_, "m", "4", {.if_match = got->etag}));
  bool atomic = false;
  ASSERT_OK(NewS3Marker(client_, bucket_, {.ttl_ms = 1000}, "", &atomic).status());
  EXPECT_TRUE(atomic) << "RGW honours If-None-Match, so marks must be atomic";
}

// The digest of the files in `dir`, read locally; its flowlog encoding in `*text`.
Result<DigestRun> DigestLocally(const std::string& dir, const Window& window, StringSink* text) {
  VPCFLOW_ASSIGN_OR_RETURN(ObjectSourcePtr local, NewLocalDirSource(dir));
  DigestOptions options;
  options.threads = 2;
  VPCFLOW_ASSIGN_OR_RETURN(DigestRun run, RunDigest(*local, window, options));
  VPCFLOW_RETURN_IF_ERROR(run.digest.Encode(DigestFormat::kFlowLog, *text));
  return run;
}

// The digest of a generated corpus read from RGW equals the digest of the same files read
// from the local directory, with prefetching off, tight and generous.
TEST_F(RgwTest, DigestFromS3EqualsDigestFromLocalFiles) {
  ScratchDir corpus;
  Result<GenerateReport> generated =
      GenerateCorpus({.out_dir = corpus.path(),
                      .window = *MakeWindow("2018-12-31T23:50:00Z", "2019-01-01T01:00:00Z"),
                      .size_mb = 4,
                      .seed = 11,
                      .threads = 2,
                      .prefix = ""});
  ASSERT_OK(generated.status());
  ASSERT_OK(UploadDirectory(*client_, bucket_, corpus.path(), "team/"));
  const Window window = *MakeWindow("2019-01-01T00:10:00Z", "2019-01-01T00:50:00Z");

  DigestOptions options;
  options.threads = 2;
  StringSink expected_text;
  Result<DigestRun> expected = DigestLocally(corpus.path(), window, &expected_text);
  ASSERT_OK(expected.status());
  ASSERT_GT(expected_text.data().size(), 1000u);

  struct Limits {
    int64_t bytes;
    int concurrency;
  };
  for (Limits limits : {Limits{0, 0}, Limits{300000, 1}, Limits{150000000, 4}}) {
    Result<ObjectSourcePtr> s3 =
        NewS3ObjectSource(client_, {.bucket = bucket_,
                                    .prefix = "team/",
                                    .max_bytes_prefetch = limits.bytes,
                                    .max_concurrent_prefetch = limits.concurrency});
    ASSERT_OK(s3.status());
    Result<DigestRun> run = RunDigest(**s3, window, options);
    ASSERT_OK(run.status());
    StringSink text;
    ASSERT_OK(run->digest.Encode(DigestFormat::kFlowLog, text));
    EXPECT_TRUE(text.data() == expected_text.data())
        << "prefetch " << limits.bytes << " bytes, " << limits.concurrency << " at once";
    EXPECT_EQ(run->summary.objects_read, expected->summary.objects_read);
  }
}

TEST_F(RgwTest, RandomAccessReadsTheTailWithTheOpenAndIsPinnedToOneVersion) {
  const std::string body = Bytes(300000, 6);
  ASSERT_OK(client_->PutObject(bucket_, "p", body));
  Result<RandomAccessObjectPtr> object = client_->OpenRandomAccess(bucket_, "p", 1000);
  ASSERT_OK(object.status());
  EXPECT_EQ((*object)->size(), body.size());
  std::string tail(1000, '\0');
  ASSERT_OK((*object)->ReadAt(body.size() - 1000, tail));
  EXPECT_TRUE(tail == body.substr(body.size() - 1000));
  std::string middle(5000, '\0');
  ASSERT_OK((*object)->ReadAt(100000, middle));
  EXPECT_TRUE(middle == body.substr(100000, 5000));

  ASSERT_OK(client_->PutObject(bucket_, "p", Bytes(300000, 7)));
  EXPECT_THAT((*object)->ReadAt(100000, middle), StatusIs(StatusCode::kFailedPrecondition));
  // The tail came with the open: still the first version's.
  ASSERT_OK((*object)->ReadAt(body.size() - 10, std::span<char>(tail.data(), 10)));
  EXPECT_TRUE(tail.substr(0, 10) == body.substr(body.size() - 10));

  ASSERT_OK(client_->PutObject(bucket_, "small", "tiny"));
  Result<RandomAccessObjectPtr> small = client_->OpenRandomAccess(bucket_, "small", 1 << 16);
  ASSERT_OK(small.status());
  EXPECT_EQ((*small)->size(), 4u);
  EXPECT_THAT(client_->OpenRandomAccess(bucket_, "missing", 1 << 16),
              StatusIs(StatusCode::kNotFound));
}

// Counts the GETs an S3 client sends and the bytes that come back.
class CountingHttpClient : public HttpClientWrapper {
 public:
  using HttpClientWrapper::HttpClientWrapper;
  Result<HttpResponse> Send(const HttpRequest& request) override {
    Result<HttpResponse> response = HttpClientWrapper::Send(request);
    if (request.method == "GET" && request.url.find("list-type") == std::string::npos &&
        response.ok()) {
      ++gets;
      bytes += response->body.size();
    }
    return response;
  }
  std::atomic<uint64_t> gets{0};
  std::atomic<uint64_t> bytes{0};
};

// Parquet objects on S3 (as AWS delivers them with FileFormat=parquet) digest as their text
// twins read locally; they are read by ranges, never prefetched whole: two GETs per object of
// more than 64 KiB (the tail with the footer, then the needed chunks of its one row group), and
// no byte twice.
TEST_F(RgwTest, ParquetFromS3DigestsAsItsTextTwin) {
  ScratchDir text_corpus;
  ScratchDir parquet_corpus;
  GenerateOptions g{.window = *MakeWindow("2019-01-01T00:00:00Z", "2019-01-01T00:30:00Z"),
                    .size_mb = 60,
                    .seed = 12,
                    .threads = 2,
                    .prefix = ""};
  g.out_dir = text_corpus.path();
  ASSERT_OK(GenerateCorpus(g).status());
  g.out_dir = parquet_corpus.path();
  g.format = GenerateFormat::kParquet;
  g.layout = GenerateLayout::kHourly;
  ASSERT_OK(GenerateCorpus(g).status());
  ASSERT_OK(UploadDirectory(*client_, bucket_, parquet_corpus.path(), "pq/"));
  const Window window = *MakeWindow("2019-01-01T00:10:00Z", "2019-01-01T00:20:00Z");

  DigestOptions options;
  options.threads = 2;
  StringSink expected_text;
  Result<DigestRun> expected = DigestLocally(text_corpus.path(), window, &expected_text);
  ASSERT_OK(expected.status());
  ASSERT_GT(expected_text.data().size(), 1000u);

  HttpClientPtr curl = NewCurlHttpClient();
  auto http = std::make_shared<CountingHttpClient>(curl.get());
  std::shared_ptr<S3Client> client = NewRgwClient(env_, "", {.max_attempts = 3}, http);
  Result<ObjectSourcePtr> s3 =
      NewS3ObjectSource(client, {.bucket = bucket_, .prefix = "pq/", .max_concurrent_prefetch = 4});
  ASSERT_OK(s3.status());
  Result<DigestRun> run = RunDigest(**s3, window, options);
  ASSERT_OK(run.status());
  StringSink text;
  ASSERT_OK(run->digest.Encode(DigestFormat::kFlowLog, text));
  EXPECT_TRUE(text.data() == expected_text.data());
  const DigestSummary& s = run->summary;
  EXPECT_EQ(s.objects_read, expected->summary.objects_read);
  EXPECT_EQ(s.objects_parquet, s.objects_read);
  EXPECT_EQ(s.objects_failed, 0u);
  std::array<uint64_t, kLineOutcomeCount> lines = expected->summary.lines;
  lines[static_cast<size_t>(LineOutcome::kHeader)] = 0;
  EXPECT_EQ(s.lines, lines);
  EXPECT_EQ(http->gets.load(), 2 * s.objects_read);
  EXPECT_LE(http->bytes.load(), s.bytes_compressed);
}

// The conformance suites of the three modules, each test on a fresh bucket.
INSTANTIATE_TEST_SUITE_P(
    Rgw, ObjectSourceConformanceTest,
    ::testing::Values(ObjectSourceFactory([](const std::vector<TestObject>& objects,
                                             const std::string&) -> Result<ObjectSourcePtr> {
      std::shared_ptr<S3Client> client = NewRgwClient(Env());
      const std::string bucket = UniqueBucketName("src");
      VPCFLOW_RETURN_IF_ERROR(client->CreateBucket(bucket));
      for (const TestObject& o : objects)
        VPCFLOW_RETURN_IF_ERROR(client->PutObject(bucket, o.key, o.bytes));
      return NewS3ObjectSource(client, {.bucket = bucket});
    })));

INSTANTIATE_TEST_SUITE_P(
    Rgw, StorageConformanceTest,
    ::testing::Values(StorageFactory([](const std::string& scratch_dir) -> Result<StoragePtr> {
      std::shared_ptr<S3Client> client = NewRgwClient(Env());
      const std::string bucket = BucketForDir("dig", scratch_dir);
      VPCFLOW_RETURN_IF_ERROR(client->CreateBucket(bucket));
      return NewS3Storage(client, bucket, "", 5 << 20);
    })));

INSTANTIATE_TEST_SUITE_P(
    Rgw, MarkerConformanceTest,
    ::testing::Values(MarkerFactory([](const std::string& scratch_dir,
                                       MarkerOptions options) -> Result<MarkerPtr> {
      std::shared_ptr<S3Client> client = NewRgwClient(Env());
      // One bucket per test: its markers share it, as instances share a progress bucket.
      const std::string bucket = BucketForDir("mark", scratch_dir);
      VPCFLOW_RETURN_IF_ERROR(client->CreateBucket(bucket));
      return NewS3Marker(client, bucket, std::move(options));
    })));

}  // namespace
}  // namespace vpcflow
