#include "s3/s3_client.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <atomic>
#include <cstring>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "s3/s3_modules.hpp"
#include "s3/sigv4.hpp"
#include "testing/fake_clock.hpp"
#include "testing/matchers.hpp"
#include "testing/reader.hpp"
#include "testing/recording_http_client.hpp"
#include "testing/test_http_server.hpp"

namespace vpcflow {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

constexpr char kKeyId[] = "AKIDEXAMPLETEST";
constexpr char kSecret[] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYSECRET";
constexpr char kScope[] = "Credential=AKIDEXAMPLETEST/20190101/us-east-1/s3/aws4_request,";

// Fixed keys, counting the calls; `error` (when set) is returned instead.
class TestCredentials final : public CredentialsProvider {
 public:
  Result<AwsCredentials> Get() override {
    ++calls;
    std::lock_guard lock(mu);
    if (!error.ok()) return error;
    return AwsCredentials{.keys = {kKeyId, kSecret, session_token}};
  }
  std::string Describe() const override { return "test keys"; }

  std::atomic<int> calls{0};
  std::mutex mu;
  Status error;
  std::string session_token;
};

std::string ErrorXml(std::string_view code, std::string_view message) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>" + std::string(code) +
         "</Code><Message>" + std::string(message) + "</Message><RequestId>r1</RequestId></Error>";
}

TestHttpReply ErrorReply(int status, std::string_view code, std::string_view message = "") {
  return TestHttpReply{.status = status, .body = ErrorXml(code, message)};
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

std::string PercentDecode(std::string_view text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size() && HexValue(text[i + 1]) >= 0 &&
        HexValue(text[i + 2]) >= 0) {
      out.push_back(static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2])));
      i += 2;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

std::string TargetPath(const TestHttpRequest& request) {
  return request.target.substr(0, request.target.find('?'));
}

std::string TargetQuery(const TestHttpRequest& request) {
  size_t q = request.target.find('?');
  return q == std::string::npos ? "" : request.target.substr(q + 1);
}

std::vector<QueryParam> DecodeQuery(std::string_view query) {
  std::vector<QueryParam> params;
  while (!query.empty()) {
    std::string_view item = query.substr(0, query.find('&'));
    query.remove_prefix(std::min(query.size(), item.size() + 1));
    size_t eq = item.find('=');
    params.emplace_back(PercentDecode(item.substr(0, eq)),
                        eq == std::string_view::npos ? "" : PercentDecode(item.substr(eq + 1)));
  }
  return params;
}

// Checks, from the server's side, that the request was signed as it was sent: the canonical URI
// and query of the decoded target equal the target, the payload hash is the body's, and
// re-signing what arrived reproduces the Authorization header.
void ExpectSignedAsSent(const TestHttpRequest& request, int64_t unix_seconds,
                        const std::string& session_token = "") {
  SCOPED_TRACE(request.method + " " + request.target);
  const std::string path = PercentDecode(TargetPath(request));
  const std::vector<QueryParam> query = DecodeQuery(TargetQuery(request));
  EXPECT_EQ(SigV4CanonicalUri(path), TargetPath(request));
  EXPECT_EQ(SigV4CanonicalQuery(query), TargetQuery(request));
  EXPECT_EQ(request.Header("x-amz-content-sha256"), Sha256Hex(request.body));

  const std::string authorization = request.Header("authorization");
  ASSERT_THAT(authorization, StartsWith("AWS4-HMAC-SHA256 "));
  EXPECT_THAT(authorization, HasSubstr(kScope));
  size_t begin = authorization.find("SignedHeaders=") + std::strlen("SignedHeaders=");
  std::string signed_names = authorization.substr(begin, authorization.find(',', begin) - begin);
  EXPECT_THAT(signed_names, HasSubstr("host;"));
  SigV4Request again{.method = request.method, .path = path, .query = query, .headers = {}};
  again.payload_hash = request.Header("x-amz-content-sha256");
  std::string_view names = signed_names;
  while (!names.empty()) {
    std::string name(names.substr(0, names.find(';')));
    names.remove_prefix(std::min(names.size(), name.size() + 1));
    again.headers.emplace_back(name, request.Header(name));
  }
  SigV4Signature signature =
      SignV4(again, {kKeyId, kSecret, session_token}, "us-east-1", "s3", unix_seconds);
  EXPECT_EQ(authorization, signature.authorization);
}

// Serves `object` to ranged GETs (206 with Content-Range) with `etag`.
TestHttpReply ServeRange(const TestHttpRequest& request, const std::string& object,
                         const std::string& etag) {
  std::string range = request.Header("range");
  if (range.empty()) return {.status = 200, .body = object, .headers = {{"ETag", etag}}};
  size_t dash = range.find('-');
  uint64_t first = std::stoull(range.substr(6, dash - 6));
  uint64_t last = std::stoull(range.substr(dash + 1));
  if (first >= object.size()) return ErrorReply(416, "InvalidRange");
  last = std::min<uint64_t>(last, object.size() - 1);
  return {
      .status = 206,
      .body = object.substr(first, last - first + 1),
      .headers = {{"ETag", etag},
                  {"Content-Range", "bytes " + std::to_string(first) + "-" + std::to_string(last) +
                                        "/" + std::to_string(object.size())}}};
}

class S3ClientTest : public ::testing::Test {
 protected:
  void SetUp() override { StartServer(nullptr); }

  // A new server (with `handler`) and a client for it.
  void StartServer(TestHttpServer::Handler handler, RetryPolicy retry = {3, 100, 1000},
                   int64_t timeout_ms = 10000) {
    client_.reset();
    Result<std::unique_ptr<TestHttpServer>> server = TestHttpServer::Start(std::move(handler));
    ASSERT_OK(server);
    server_ = std::move(server).value();
    client_ = NewClient(server_->url(), retry, timeout_ms);
  }

  std::unique_ptr<S3Client> NewClient(std::string endpoint, RetryPolicy retry, int64_t timeout_ms) {
    S3ClientOptions options{.region = "us-east-1",
                            .endpoint = std::move(endpoint),
                            .retry = retry,
                            .timeout_ms = timeout_ms,
                            .clock = clock_,
                            .sleep = [this](int64_t ms) {
                              std::lock_guard lock(sleeps_mu_);
                              sleeps_.push_back(ms);
                              return true;
                            }};
    return std::make_unique<S3Client>(options, credentials_,
                                      std::shared_ptr<HttpClient>(NewCurlHttpClient()));
  }

  std::vector<int64_t> sleeps() {
    std::lock_guard lock(sleeps_mu_);
    return sleeps_;
  }
  int64_t now_seconds() const { return clock_->NowUnixMillis() / 1000; }

  std::shared_ptr<FakeClock> clock_ = std::make_shared<FakeClock>();
  std::shared_ptr<TestCredentials> credentials_ = std::make_shared<TestCredentials>();
  std::mutex sleeps_mu_;
  std::vector<int64_t> sleeps_;
  std::unique_ptr<TestHttpServer> server_;
  std::unique_ptr<S3Client> client_;
};

constexpr char kListXml[] = R"(
<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Name>bucket</Name><Prefix>logs/</Prefix><KeyCount>4</KeyCount><MaxKeys>3</MaxKeys>
  <Delimiter>/</Delimiter><IsTruncated>true</IsTruncated>
  <NextContinuationToken>1/abc+=</NextContinuationToken>
  <Contents><Key>logs/a b+c=d.gz</Key><Size>12</Size><ETag>"e1"</ETag></Contents>
  <Contents><Key>logs/caf&#xE9; &amp; &lt;x&gt;.gz</Key><Size>0</Size></Contents>
  <Contents><Key>logs/big</Key><Size>123456789012</Size></Contents>
  <CommonPrefixes><Prefix>logs/2019/</Prefix></CommonPrefixes>
  <CommonPrefixes><Prefix>logs/2020 x/</Prefix></CommonPrefixes>
</ListBucketResult>)";

TEST_F(S3ClientTest, ListSendsPathStyleSignedQuery) {
  server_->Push({.status = 200, .body = "<ListBucketResult/>"});
  ListRequest request{.prefix = "a b/+=\xC3\xA9/", .delimiter = "/", .max_keys = 5000};
  ASSERT_OK(client_->ListObjectsV2("bucket", request));
  ASSERT_EQ(server_->request_count(), 1u);
  TestHttpRequest sent = server_->requests()[0];
  EXPECT_EQ(sent.method, "GET");
  EXPECT_EQ(sent.target,
            "/bucket?delimiter=%2F&list-type=2&max-keys=1000&prefix=a%20b%2F%2B%3D%C3%A9%2F");
  EXPECT_THAT(sent.target, Not(HasSubstr("encoding-type")));
  EXPECT_EQ(sent.Header("host"), "127.0.0.1:" + std::to_string(server_->port()));
  EXPECT_EQ(sent.Header("x-amz-date"), "20190101T000000Z");
  ExpectSignedAsSent(sent, now_seconds());
}

TEST_F(S3ClientTest, ListClampsMaxKeysAndSendsTokens) {
  server_->Push({.status = 200, .body = "<ListBucketResult/>"});
  ASSERT_OK(client_->ListObjectsV2(
      "bucket", {.start_after = "k 1", .continuation_token = "t/+=", .max_keys = 0}));
  TestHttpRequest sent = server_->requests()[0];
  EXPECT_EQ(sent.target,
            "/bucket?continuation-token=t%2F%2B%3D&list-type=2&max-keys=1&start-after=k%201");
  ExpectSignedAsSent(sent, now_seconds());
}

TEST_F(S3ClientTest, ListParsesObjectsPrefixesAndToken) {
  server_->Push({.status = 200, .body = kListXml});
  Result<ListPage> page = client_->ListObjectsV2("bucket", {.prefix = "logs/", .delimiter = "/"});
  ASSERT_OK(page);
  EXPECT_THAT(page->objects, ElementsAre(ObjectInfo{"logs/a b+c=d.gz", 12},
                                         ObjectInfo{"logs/caf\xC3\xA9 & <x>.gz", 0},
                                         ObjectInfo{"logs/big", 123456789012ull}));
  EXPECT_THAT(page->common_prefixes, ElementsAre("logs/2019/", "logs/2020 x/"));
  EXPECT_EQ(page->next_token, "1/abc+=");
}

TEST_F(S3ClientTest, ListLastPageHasNoToken) {
  server_->Push({.status = 200,
                 .body = "<ListBucketResult><IsTruncated>false</IsTruncated>"
                         "<NextContinuationToken>ignored</NextContinuationToken>"
                         "</ListBucketResult>"});
  EXPECT_THAT(client_->ListObjectsV2("bucket", {}),
              IsOkAndHolds(::testing::Field(&ListPage::next_token, "")));
}

TEST_F(S3ClientTest, ListRejectsMalformedAnswers) {
  server_->Push({.status = 200,
                 .body = "<ListBucketResult><IsTruncated>true</IsTruncated>"
                         "</ListBucketResult>"});
  server_->Push({.status = 200, .body = "not xml <"});
  server_->Push({.status = 200,
                 .body = "<ListBucketResult><Contents><Key>k</Key><Size>x</Size></Contents>"
                         "</ListBucketResult>"});
  for (int i = 0; i < 3; ++i) {
    EXPECT_THAT(client_->ListObjectsV2("bucket", {}),
                StatusIs(StatusCode::kDataLoss, HasSubstr("S3 ListObjectsV2 s3://bucket")));
  }
}

TEST_F(S3ClientTest, SpecialKeysRoundTripThroughThePath) {
  const std::string key = "dir/a b+c=d%25 \xC3\xA9~_.txt";
  server_->Push({.status = 200, .body = "hello", .headers = {{"ETag", "\"e\""}}});
  Result<S3GetResult> got = client_->GetObject("bucket", key);
  ASSERT_OK(got);
  EXPECT_EQ(got->body, "hello");
  EXPECT_EQ(got->object_size, 5u);
  EXPECT_EQ(got->etag, "\"e\"");
  TestHttpRequest sent = server_->requests()[0];
  EXPECT_EQ(TargetPath(sent), "/bucket/dir/a%20b%2Bc%3Dd%2525%20%C3%A9~_.txt");
  EXPECT_EQ(PercentDecode(TargetPath(sent)), "/bucket/" + key);
  ExpectSignedAsSent(sent, now_seconds());
}

TEST_F(S3ClientTest, SessionTokenIsSentAndSigned) {
  credentials_->session_token = "session-token-value";
  server_->Push({.status = 200});
  ASSERT_OK(client_->HeadBucket("bucket"));
  TestHttpRequest sent = server_->requests()[0];
  EXPECT_EQ(sent.method, "HEAD");
  EXPECT_EQ(sent.target, "/bucket");
  EXPECT_EQ(sent.Header("x-amz-security-token"), "session-token-value");
  EXPECT_THAT(sent.Header("authorization"), HasSubstr("x-amz-security-token"));
  ExpectSignedAsSent(sent, now_seconds(), "session-token-value");
}

TEST_F(S3ClientTest, PutSignsTheBodyHashAndHeaders) {
  const std::string body = "line 1\nline 2\n";
  ASSERT_OK(client_->PutObject("bucket", "out/d.json", body,
                               {.content_type = "application/json", .if_none_match = true}));
  TestHttpRequest sent = server_->requests()[0];
  EXPECT_EQ(sent.method, "PUT");
  EXPECT_EQ(sent.target, "/bucket/out/d.json");
  EXPECT_EQ(sent.body, body);
  EXPECT_EQ(sent.Header("x-amz-content-sha256"), Sha256Hex(body));
  EXPECT_EQ(sent.Header("content-type"), "application/json");
  EXPECT_EQ(sent.Header("if-none-match"), "*");
  EXPECT_THAT(sent.Header("authorization"), HasSubstr("content-type;host;if-none-match;"));
  ExpectSignedAsSent(sent, now_seconds());
}

TEST_F(S3ClientTest, PutOfAnEmptyBodySendsContentLengthZero) {
  ASSERT_OK(client_->PutObject("bucket", "empty", ""));
  TestHttpRequest sent = server_->requests()[0];
  EXPECT_EQ(sent.Header("content-length"), "0");
  EXPECT_EQ(sent.Header("content-type"), "");
  EXPECT_EQ(sent.Header("x-amz-content-sha256"), kEmptyPayloadSha256);
  ExpectSignedAsSent(sent, now_seconds());
}

TEST_F(S3ClientTest, ConditionalPutFailures) {
  server_->Push(ErrorReply(412, "PreconditionFailed", "At least one of the pre-conditions..."));
  EXPECT_THAT(client_->PutObject("bucket", "m", "x", {.if_none_match = true}),
              StatusIs(StatusCode::kAlreadyExists, HasSubstr("S3 PutObject s3://bucket/m")));
  // A quoted ETag refused is tried once more bare (Ceph RGW); refused again, it fails.
  server_->Push(ErrorReply(412, "PreconditionFailed"));
  server_->Push(ErrorReply(412, "PreconditionFailed"));
  EXPECT_THAT(client_->PutObject("bucket", "m", "x", {.if_match = "\"e1\""}),
              StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_EQ(server_->requests()[2].Header("if-match"), "e1");
  server_->Push(ErrorReply(404, "NoSuchKey"));
  EXPECT_THAT(client_->PutObject("bucket", "m", "x", {.if_match = "\"e1\""}),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("NoSuchKey")));
  server_->Push(ErrorReply(404, "NoSuchBucket"));
  EXPECT_THAT(client_->PutObject("bucket", "m", "x", {.if_match = "\"e1\""}),
              StatusIs(StatusCode::kNotFound, HasSubstr("NoSuchBucket")));
  EXPECT_EQ(server_->requests()[1].Header("if-match"), "\"e1\"");
}

TEST_F(S3ClientTest, AQuotedIfMatchRefusedIsRetriedBareOnce) {
  server_->Push(ErrorReply(412, "PreconditionFailed"));
  server_->Push(TestHttpReply{.status = 200});
  ASSERT_OK(client_->PutObject("bucket", "m", "x", {.if_match = "\"e1\""}));
  ASSERT_EQ(server_->requests().size(), 2u);
  EXPECT_EQ(server_->requests()[0].Header("if-match"), "\"e1\"");
  EXPECT_EQ(server_->requests()[1].Header("if-match"), "e1");
  ExpectSignedAsSent(server_->requests()[1], now_seconds());
  // A bare ETag is not tried twice.
  server_->Push(ErrorReply(412, "PreconditionFailed"));
  EXPECT_THAT(client_->PutObject("bucket", "m", "x", {.if_match = "e1"}),
              StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_EQ(server_->requests().size(), 3u);
}

TEST_F(S3ClientTest, AWrongRegionAnswerNamesTheBucketsRegion) {
  // HEAD has no body: only the status and S3's x-amz-bucket-region header tell.
  server_->Push(TestHttpReply{.status = 301, .headers = {{"x-amz-bucket-region", "eu-west-1"}}});
  EXPECT_THAT(client_->HeadBucket("bucket"),
              StatusIs(StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("HTTP 301"),
                             HasSubstr("the bucket is in region eu-west-1, not us-east-1"))));
  TestHttpReply reply = ErrorReply(400, "AuthorizationHeaderMalformed");
  reply.headers = {{"x-amz-bucket-region", "eu-west-1"}};
  server_->Push(reply);
  EXPECT_THAT(client_->ListObjectsV2("bucket", {}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("in region eu-west-1")));
}

TEST_F(S3ClientTest, MapsErrorsByStatusAndCode) {
  server_->Push(ErrorReply(404, "NoSuchKey", "The specified key does not exist."));
  EXPECT_THAT(client_->GetObject("bucket", "dir/k"),
              StatusIs(StatusCode::kNotFound,
                       AllOf(HasSubstr("S3 GetObject s3://bucket/dir/k"), HasSubstr("NoSuchKey"),
                             HasSubstr("The specified key does not exist."))));
  server_->Push(ErrorReply(404, "NoSuchBucket"));
  EXPECT_THAT(client_->ListObjectsV2("nobucket", {}),
              StatusIs(StatusCode::kNotFound, AllOf(HasSubstr("S3 ListObjectsV2 s3://nobucket"),
                                                    HasSubstr("NoSuchBucket"))));
  server_->Push(ErrorReply(412, "PreconditionFailed"));
  EXPECT_THAT(client_->GetObject("bucket", "k", std::nullopt, "\"e\""),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("PreconditionFailed")));
  // RGW sends an empty <Message>.
  server_->Push(ErrorReply(400, "InvalidArgument"));
  EXPECT_THAT(client_->GetObject("bucket", "k"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("HTTP 400 InvalidArgument")));
  server_->Push(ErrorReply(409, "BucketNotEmpty", "The bucket is not empty"));
  EXPECT_THAT(client_->GetObject("bucket", "k"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("BucketNotEmpty")));
  server_->Push({.status = 416, .body = "<html>not S3</html>"});
  EXPECT_THAT(client_->GetObject("bucket", "k", S3Range{10, 20}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("HTTP 416")));
  server_->Push({.status = 404});
  EXPECT_THAT(client_->HeadObject("bucket", "k"),
              StatusIs(StatusCode::kNotFound, HasSubstr("S3 HeadObject s3://bucket/k: HTTP 404")));
  server_->Push({.status = 404});
  EXPECT_THAT(client_->HeadBucket("bucket"), StatusIs(StatusCode::kNotFound));
  server_->Push({.status = 501, .body = ErrorXml("NotImplemented", "")});
  EXPECT_THAT(client_->GetObject("bucket", "k"), StatusIs(StatusCode::kUnimplemented));
  EXPECT_EQ(server_->request_count(), 9u);  // none of these is retried
}

TEST_F(S3ClientTest, Maps403WithTheLikelyCauseAndNoSecret) {
  server_->Push(ErrorReply(403, "SignatureDoesNotMatch",
                           "The request signature we calculated does not match"));
  Status status = client_->GetObject("bucket", "k").status();
  EXPECT_THAT(status, StatusIs(StatusCode::kPermissionDenied,
                               AllOf(HasSubstr("S3 GetObject s3://bucket/k"),
                                     HasSubstr("SignatureDoesNotMatch"),
                                     HasSubstr("the secret access key does not match the access "
                                               "key id"),
                                     HasSubstr("test keys"))));
  EXPECT_THAT(status.message(), Not(HasSubstr(kSecret)));

  server_->Push(ErrorReply(403, "InvalidAccessKeyId"));
  EXPECT_THAT(client_->ListObjectsV2("bucket", {}),
              StatusIs(StatusCode::kPermissionDenied, HasSubstr("the access key id is unknown")));
  server_->Push(ErrorReply(403, "AccessDenied", "Access Denied"));
  EXPECT_THAT(
      client_->PutObject("bucket", "k", "x"),
      StatusIs(StatusCode::kPermissionDenied,
               HasSubstr("the credentials lack permission for PutObject on bucket bucket")));
  server_->Push(ErrorReply(403, "RequestTimeTooSkewed"));
  EXPECT_THAT(client_->GetObject("bucket", "k"),
              StatusIs(StatusCode::kPermissionDenied, HasSubstr("the clock is off")));
  // A HEAD answer has no body, so no code: the status alone decides.
  server_->Push({.status = 403, .body = ErrorXml("AccessDenied", "")});
  Status head = client_->HeadObject("bucket", "k").status();
  EXPECT_THAT(head, StatusIs(StatusCode::kPermissionDenied,
                             AllOf(HasSubstr("S3 HeadObject s3://bucket/k: HTTP 403"),
                                   HasSubstr("HEAD answers have no body"))));
  EXPECT_THAT(head.message(), Not(HasSubstr(kSecret)));
}

TEST_F(S3ClientTest, RetriesServerErrorsWithJitteredBackoff) {
  server_->PushStatus(503, 2);
  server_->Push({.status = 200, .body = "ok"});
  EXPECT_THAT(client_->GetObject("bucket", "k"),
              IsOkAndHolds(::testing::Field(&S3GetResult::body, "ok")));
  EXPECT_EQ(server_->request_count(), 3u);
  std::vector<int64_t> slept = sleeps();
  ASSERT_EQ(slept.size(), 2u);
  EXPECT_GE(slept[0], 0);
  EXPECT_LE(slept[0], 100);
  EXPECT_GE(slept[1], 0);
  EXPECT_LE(slept[1], 200);
  EXPECT_EQ(credentials_->calls.load(), 3);  // fetched per attempt
  for (const TestHttpRequest& sent : server_->requests()) ExpectSignedAsSent(sent, now_seconds());
}

TEST_F(S3ClientTest, GivesUpAfterMaxAttempts) {
  StartServer([](const TestHttpRequest&) { return ErrorReply(500, "InternalError", "oops"); });
  EXPECT_THAT(client_->PutObject("bucket", "k", "body"),
              StatusIs(StatusCode::kUnavailable,
                       AllOf(HasSubstr("S3 PutObject s3://bucket/k"), HasSubstr("3 attempts"),
                             HasSubstr("HTTP 500 InternalError: oops"))));
  EXPECT_EQ(server_->request_count(), 3u);
  EXPECT_EQ(sleeps().size(), 2u);
}

TEST_F(S3ClientTest, RetriesSlowDownAndRequestTimeout) {
  server_->Push(ErrorReply(503, "SlowDown", "Please reduce your request rate."));
  server_->Push(ErrorReply(400, "RequestTimeout"));
  server_->Push({.status = 200});
  EXPECT_OK(client_->DeleteObject("bucket", "k"));
  EXPECT_EQ(server_->request_count(), 3u);
  EXPECT_EQ(sleeps().size(), 2u);
}

TEST_F(S3ClientTest, RetriesTimeoutsThenReportsUnavailable) {
  StartServer([](const TestHttpRequest&) { return TestHttpReply{.hang = true}; }, {2, 10, 10},
              /*timeout_ms=*/200);
  Status status = client_->HeadBucket("bucket");
  EXPECT_THAT(status, StatusIs(StatusCode::kUnavailable, HasSubstr("2 attempts")));
  EXPECT_EQ(server_->request_count(), 2u);
  server_->Stop();
}

TEST_F(S3ClientTest, RefusedConnectionIsUnavailable) {
  client_ = NewClient("http://127.0.0.1:" + std::to_string(RefusedLocalPort()), {2, 10, 10}, 2000);
  EXPECT_THAT(client_->GetObject("bucket", "k"),
              StatusIs(StatusCode::kUnavailable,
                       AllOf(HasSubstr("S3 GetObject s3://bucket/k"), HasSubstr("2 attempts"))));
  EXPECT_EQ(sleeps().size(), 1u);
}

TEST_F(S3ClientTest, CredentialErrorsAreReturnedAsTheyAre) {
  {
    std::lock_guard lock(credentials_->mu);
    credentials_->error = PermissionDeniedError("sts AssumeRole refused");
  }
  EXPECT_THAT(client_->GetObject("bucket", "k"),
              StatusIs(StatusCode::kPermissionDenied, AllOf(HasSubstr("S3 GetObject s3://bucket/k"),
                                                            HasSubstr("sts AssumeRole refused"))));
  EXPECT_EQ(credentials_->calls.load(), 1);
  EXPECT_EQ(server_->request_count(), 0u);
}

TEST_F(S3ClientTest, OneClientServesManyThreads) {
  // The first request for a key ending in "0" gets a 503: some retries on the way.
  auto mu = std::make_shared<std::mutex>();
  auto seen = std::make_shared<std::set<std::string>>();
  StartServer([mu, seen](const TestHttpRequest& r) {
    std::string path = TargetPath(r);
    std::lock_guard lock(*mu);
    if (path.ends_with("0") && seen->insert(path).second) return TestHttpReply{.status = 503};
    return TestHttpReply{.status = 200, .body = path};
  });
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        std::string key = "k" + std::to_string(t) + "-" + std::to_string(i);
        Result<S3GetResult> got = client_->GetObject("bucket", key);
        if (got.ok() && got->body == "/bucket/" + key) ++ok;
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(ok.load(), 40);
  EXPECT_EQ(sleeps().size(), 4u);
}

TEST_F(S3ClientTest, HeadObjectReadsSizeAndEtag) {
  server_->Push({.status = 200, .body = std::string(1234, 'x'), .headers = {{"ETag", "\"abc\""}}});
  Result<S3ObjectMeta> meta = client_->HeadObject("bucket", "k");
  ASSERT_OK(meta);
  EXPECT_EQ(meta->size, 1234u);
  EXPECT_EQ(meta->etag, "\"abc\"");
}

TEST_F(S3ClientTest, RangedGetReadsTheTotalSize) {
  const std::string object = "0123456789abcdef";
  StartServer([&](const TestHttpRequest& r) { return ServeRange(r, object, "\"v\""); });
  Result<S3GetResult> got = client_->GetObject("bucket", "k", S3Range{4, 7}, "\"v\"");
  ASSERT_OK(got);
  EXPECT_EQ(got->body, "4567");
  EXPECT_EQ(got->object_size, 16u);
  TestHttpRequest sent = server_->requests()[0];
  EXPECT_EQ(sent.Header("range"), "bytes=4-7");
  EXPECT_EQ(sent.Header("if-match"), "\"v\"");
  ExpectSignedAsSent(sent, now_seconds());
}

TEST_F(S3ClientTest, RangedGetAnsweredWholeIsCut) {
  server_->Push({.status = 200, .body = "0123456789"});
  Result<S3GetResult> got = client_->GetObject("bucket", "k", S3Range{2, 4});
  ASSERT_OK(got);
  EXPECT_EQ(got->body, "234");
  EXPECT_EQ(got->object_size, 10u);
}

TEST_F(S3ClientTest, DeleteIgnoresAMissingKeyButNotAMissingBucket) {
  server_->Push({.status = 204});
  EXPECT_OK(client_->DeleteObject("bucket", "k"));
  server_->Push(ErrorReply(404, "NoSuchKey"));
  EXPECT_OK(client_->DeleteObject("bucket", "k"));
  server_->Push(ErrorReply(404, "NoSuchBucket"));
  EXPECT_THAT(client_->DeleteObject("bucket", "k"),
              StatusIs(StatusCode::kNotFound, HasSubstr("S3 DeleteObject s3://bucket/k")));
  EXPECT_EQ(server_->requests()[0].method, "DELETE");
}

// A scripted multipart server: records nothing itself (the TestHttpServer does), answers by
// the query, and fails part `fail_part` (0 = none) with a 400.
TestHttpServer::Handler MultipartHandler(int fail_part = 0) {
  return [fail_part](const TestHttpRequest& r) -> TestHttpReply {
    std::string query = TargetQuery(r);
    if (r.method == "POST" && query == "uploads=") {
      return {.status = 200,
              .body =
                  "<?xml version=\"1.0\"?><InitiateMultipartUploadResult><Bucket>bucket"
                  "</Bucket><Key>k</Key><UploadId>up/1+x</UploadId>"
                  "</InitiateMultipartUploadResult>"};
    }
    if (r.method == "PUT" && query.starts_with("partNumber=")) {
      int part = std::stoi(query.substr(std::strlen("partNumber=")));
      if (part == fail_part) return ErrorReply(400, "EntityTooSmall");
      return {.status = 200, .headers = {{"ETag", "\"etag-" + std::to_string(part) + "\""}}};
    }
    if (r.method == "POST" && query.starts_with("uploadId=")) {
      return {.status = 200,
              .body =
                  "   \n<CompleteMultipartUploadResult><ETag>\"x-3\"</ETag>"
                  "</CompleteMultipartUploadResult>"};
    }
    if (r.method == "DELETE") return {.status = 204};
    return {.status = 200};
  };
}

TEST_F(S3ClientTest, UploadSinkSendsPartsInOrderAndCompletes) {
  StartServer(MultipartHandler());
  S3UploadSinkPtr sink = client_->NewUpload("bucket", "d/k.gz", "application/gzip", 10);
  ASSERT_OK(sink->Append("0123456"));
  ASSERT_OK(sink->Append("789abcdefghijklmn"));
  ASSERT_OK(sink->Append("opqr"));
  EXPECT_EQ(sink->size(), 28u);
  ASSERT_OK(sink->Close());
  ASSERT_OK(sink->Close());  // idempotent
  sink.reset();

  std::vector<TestHttpRequest> sent = server_->requests();
  ASSERT_EQ(sent.size(), 5u);
  EXPECT_EQ(sent[0].method + " " + sent[0].target, "POST /bucket/d/k.gz?uploads=");
  EXPECT_EQ(sent[0].Header("content-type"), "application/gzip");
  EXPECT_EQ(sent[1].method + " " + sent[1].target,
            "PUT /bucket/d/k.gz?partNumber=1&uploadId=up%2F1%2Bx");
  EXPECT_EQ(sent[1].body, "0123456789");
  EXPECT_EQ(sent[2].target, "/bucket/d/k.gz?partNumber=2&uploadId=up%2F1%2Bx");
  EXPECT_EQ(sent[2].body, "abcdefghij");
  EXPECT_EQ(sent[3].target, "/bucket/d/k.gz?partNumber=3&uploadId=up%2F1%2Bx");
  EXPECT_EQ(sent[3].body, "klmnopqr");
  EXPECT_EQ(sent[4].method + " " + sent[4].target, "POST /bucket/d/k.gz?uploadId=up%2F1%2Bx");
  EXPECT_EQ(sent[4].body,
            "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
            "<Part><PartNumber>1</PartNumber><ETag>\"etag-1\"</ETag></Part>"
            "<Part><PartNumber>2</PartNumber><ETag>\"etag-2\"</ETag></Part>"
            "<Part><PartNumber>3</PartNumber><ETag>\"etag-3\"</ETag></Part>"
            "</CompleteMultipartUpload>");
  for (const TestHttpRequest& request : sent) ExpectSignedAsSent(request, now_seconds());
}

TEST_F(S3ClientTest, UploadSinkPartFailureAbortsAndSticks) {
  StartServer(MultipartHandler(/*fail_part=*/2));
  S3UploadSinkPtr sink = client_->NewUpload("bucket", "k", "", 4);
  Status appended = sink->Append("0123456789");
  EXPECT_THAT(appended, StatusIs(StatusCode::kInvalidArgument, HasSubstr("EntityTooSmall")));
  EXPECT_THAT(sink->Close(), StatusIs(StatusCode::kInvalidArgument, HasSubstr("EntityTooSmall")));
  EXPECT_THAT(sink->Append("x"), StatusIs(StatusCode::kInvalidArgument));
  sink.reset();
  std::vector<TestHttpRequest> sent = server_->requests();
  ASSERT_EQ(sent.size(), 4u);  // create, part 1, part 2 (failed), abort; no complete
  EXPECT_EQ(sent[3].method + " " + sent[3].target, "DELETE /bucket/k?uploadId=up%2F1%2Bx");
}

TEST_F(S3ClientTest, UploadSinkDestroyedUnclosedAborts) {
  StartServer(MultipartHandler());
  S3UploadSinkPtr sink = client_->NewUpload("bucket", "k", "", 4);
  ASSERT_OK(sink->Append("01234"));
  sink.reset();
  std::vector<TestHttpRequest> sent = server_->requests();
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[2].method + " " + sent[2].target, "DELETE /bucket/k?uploadId=up%2F1%2Bx");
}

TEST_F(S3ClientTest, UploadSinkSmallBodyIsOnePut) {
  S3UploadSinkPtr sink = client_->NewUpload("bucket", "small", "text/plain", 100);
  ASSERT_OK(sink->Append("hello "));
  ASSERT_OK(sink->Append("world"));
  ASSERT_OK(sink->Close());
  sink.reset();
  std::vector<TestHttpRequest> sent = server_->requests();
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].method + " " + sent[0].target, "PUT /bucket/small");
  EXPECT_EQ(sent[0].body, "hello world");
  EXPECT_EQ(sent[0].Header("content-type"), "text/plain");
}

TEST_F(S3ClientTest, CompleteWithAnErrorInsideA200) {
  // S3 may answer 200 and report the failure in the body; InternalError is retried.
  server_->Push({.status = 200, .body = ErrorXml("InternalError", "try again")});
  server_->Push({.status = 200, .body = "<CompleteMultipartUploadResult/>"});
  EXPECT_OK(client_->CompleteMultipartUpload("bucket", "k", "u", {"\"a\""}));
  EXPECT_EQ(server_->request_count(), 2u);
  server_->Push({.status = 200, .body = ErrorXml("InvalidPart", "One or more parts")});
  EXPECT_THAT(client_->CompleteMultipartUpload("bucket", "k", "u", {"\"a\""}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("InvalidPart")));
}

TEST_F(S3ClientTest, ReaderStreamsChunksWithIfMatch) {
  const std::string object = "abcdefghijklmnopqrstuvwxy";  // 25 bytes: chunks of 10, 10, 5
  StartServer([&](const TestHttpRequest& r) { return ServeRange(r, object, "\"v1\""); });
  Result<ObjectReaderPtr> reader = client_->OpenReader("bucket", "k", 10);
  ASSERT_OK(reader);
  EXPECT_EQ(server_->request_count(), 1u);  // the first chunk comes with the open
  EXPECT_THAT(ReadAll(**reader, 3), IsOkAndHolds(object));
  std::vector<TestHttpRequest> sent = server_->requests();
  ASSERT_EQ(sent.size(), 3u);
  EXPECT_EQ(sent[0].Header("range"), "bytes=0-9");
  EXPECT_EQ(sent[0].Header("if-match"), "");
  EXPECT_EQ(sent[1].Header("range"), "bytes=10-19");
  EXPECT_EQ(sent[1].Header("if-match"), "\"v1\"");
  EXPECT_EQ(sent[2].Header("range"), "bytes=20-24");
  EXPECT_EQ(sent[2].Header("if-match"), "\"v1\"");
}

TEST_F(S3ClientTest, ReaderReportsAReplacedObject) {
  const std::string object = "abcdefghijklmnopqrstuvwxy";
  StartServer([&](const TestHttpRequest& r) {
    if (r.Header("range") == "bytes=20-24") return ErrorReply(412, "PreconditionFailed");
    return ServeRange(r, object, "\"v1\"");
  });
  Result<ObjectReaderPtr> reader = client_->OpenReader("bucket", "k", 10);
  ASSERT_OK(reader);
  std::string before_error;
  EXPECT_THAT(ReadAll(**reader, 100, &before_error),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("S3 GetObject s3://bucket/k")));
  EXPECT_EQ(before_error, object.substr(0, 20));
  std::array<char, 4> buffer;
  EXPECT_THAT((*reader)->Read(buffer), StatusIs(StatusCode::kFailedPrecondition));  // sticky
  EXPECT_EQ(server_->request_count(), 3u);
}

TEST_F(S3ClientTest, ReaderOfASmallObjectUsesOneGet) {
  const std::string object = "tiny";
  StartServer([&](const TestHttpRequest& r) { return ServeRange(r, object, "\"t\""); });
  Result<ObjectReaderPtr> reader = client_->OpenReader("bucket", "k", 10);
  ASSERT_OK(reader);
  EXPECT_THAT(ReadAll(**reader, 100), IsOkAndHolds(std::string("tiny")));
  EXPECT_EQ(server_->request_count(), 1u);
}

TEST_F(S3ClientTest, ReaderOfAnEmptyObject) {
  StartServer([](const TestHttpRequest& r) { return ServeRange(r, "", "\"empty\""); });
  Result<ObjectReaderPtr> reader = client_->OpenReader("bucket", "k", 10);
  ASSERT_OK(reader);
  EXPECT_THAT(ReadAll(**reader, 100), IsOkAndHolds(std::string("")));
  std::vector<TestHttpRequest> sent = server_->requests();
  ASSERT_EQ(sent.size(), 2u);  // the ranged GET (416), then a plain one
  EXPECT_EQ(sent[1].Header("range"), "");
}

TEST_F(S3ClientTest, ReaderOfAMissingKeyFailsAtOpen) {
  server_->Push(ErrorReply(404, "NoSuchKey"));
  EXPECT_THAT(client_->OpenReader("bucket", "nope"),
              StatusIs(StatusCode::kNotFound, HasSubstr("S3 GetObject s3://bucket/nope")));
}

TEST_F(S3ClientTest, StorageGetTakesTheSizeAndTheBytesFromOneAnswer) {
  const std::string object(3000, 'z');
  const std::string id = "9740a140-ba85-5600-8b93-7b46eec77617";
  StartServer([&](const TestHttpRequest& r) { return ServeRange(r, object, "\"d\""); });
  Result<StoragePtr> storage =
      NewS3Storage(std::shared_ptr<S3Client>(std::shared_ptr<void>(), client_.get()), "bucket");
  ASSERT_OK(storage);
  Result<StoredDigest> got = (*storage)->Get(id);
  ASSERT_OK(got);
  EXPECT_EQ(got->size, object.size());
  EXPECT_THAT(ReadAll(*got->reader, 1000), IsOkAndHolds(object));
  std::vector<TestHttpRequest> sent = server_->requests();
  ASSERT_EQ(sent.size(), 1u);  // no HEAD before the GET
  EXPECT_EQ(sent[0].method, "GET");
  EXPECT_EQ(TargetPath(sent[0]), "/bucket/" + id + ".log.gz");
}

TEST_F(S3ClientTest, ReaderReusesItsBufferAndReportsAShortChunk) {
  const std::string object = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ";  // 36 bytes: 4 chunks of 10
  StartServer([&](const TestHttpRequest& r) {
    TestHttpReply reply = ServeRange(r, object, "\"v1\"");
    if (r.Header("range") == "bytes=30-35") reply.body.resize(2);  // 2 bytes of 6
    return reply;
  });
  Result<ObjectReaderPtr> reader = client_->OpenReader("bucket", "k", 10);
  ASSERT_OK(reader);
  std::string before_error;
  EXPECT_THAT(ReadAll(**reader, 7, &before_error),
              StatusIs(StatusCode::kDataLoss, HasSubstr("bytes 30-35 came back as 2 bytes")));
  EXPECT_EQ(before_error, object.substr(0, 30));  // every chunk whole, none of the short one
  std::array<char, 4> buffer;
  EXPECT_THAT((*reader)->Read(buffer), StatusIs(StatusCode::kDataLoss));  // sticky
}

TEST_F(S3ClientTest, GetObjectIntoACallersString) {
  const std::string object(5000, 'q');
  StartServer([&](const TestHttpRequest& r) {
    if (TargetPath(r) == "/bucket/missing") return ErrorReply(404, "NoSuchKey");
    return ServeRange(r, object, "\"g\"");
  });
  std::string body = "stale";
  Result<S3GetResult> got = client_->GetObject("bucket", "k", std::nullopt, "", &body);
  ASSERT_OK(got);
  EXPECT_EQ(got->body, "");
  EXPECT_EQ(got->object_size, object.size());
  EXPECT_TRUE(body == object);
  got = client_->GetObject("bucket", "k", S3Range{10, 19}, "", &body);
  ASSERT_OK(got);
  EXPECT_EQ(body, object.substr(10, 10));
  EXPECT_EQ(got->object_size, object.size());
  // S3's error, parsed from the caller's string.
  EXPECT_THAT(client_->GetObject("bucket", "missing", std::nullopt, "", &body),
              StatusIs(StatusCode::kNotFound, HasSubstr("NoSuchKey")));
}

// Objects of the prefetch tests: `size` bytes that differ from key to key and along the object.
std::string PrefetchObject(size_t index, size_t size) {
  std::string bytes(size, '\0');
  for (size_t i = 0; i < size; ++i) bytes[i] = static_cast<char>('a' + (i * 7 + index) % 26);
  return bytes;
}

// Downloads one after another, each into the buffer a consumed one handed back: objects smaller
// and larger than that buffer, a download that failed (the object is then streamed) and one cut
// short (retried) all read back exactly, handed over without a copy.
TEST_F(S3ClientTest, PrefetchReusesBuffersAndReadsEachObjectExactly) {
  const std::vector<size_t> sizes = {300000, 1000, 250000, 400000, 20000, 90000, 120000};
  const size_t failing = 4;  // every whole-object GET answers 503: the prefetch fails
  const size_t cut = 6;      // the first answer is cut short
  std::vector<std::string> objects;
  for (size_t i = 0; i < sizes.size(); ++i) objects.push_back(PrefetchObject(i, sizes[i]));
  std::atomic<int> cut_answers{0};
  StartServer([&](const TestHttpRequest& r) {
    const size_t i = std::stoul(TargetPath(r).substr(std::strlen("/bucket/k")));
    if (i == failing && r.Header("range").empty()) return ErrorReply(503, "SlowDown");
    TestHttpReply reply = ServeRange(r, objects[i], "\"e\"");
    if (i == cut && cut_answers++ == 0) reply.cut_body_at = 1000;
    return reply;
  });
  std::shared_ptr<S3Client> client = NewClient(server_->url(), {3, 100, 1000}, 10000);
  Result<ObjectSourcePtr> source =
      NewS3ObjectSource(client, {.bucket = "bucket", .max_concurrent_prefetch = 1});
  ASSERT_OK(source);
  size_t requests = 0;
  const char* first_buffer = nullptr;
  for (size_t i = 0; i < sizes.size(); ++i) {
    SCOPED_TRACE(i);
    const std::string key = "k" + std::to_string(i);
    const std::vector<ObjectInfo> upcoming = {{.key = key, .size = sizes[i]}};
    (*source)->Prefetch(upcoming);
    requests += i == failing ? 3 : i == cut ? 2 : 1;
    ASSERT_TRUE(server_->WaitForRequests(requests));  // the download has started
    Result<ObjectReaderPtr> reader = (*source)->Open(key);
    ASSERT_OK(reader);
    // A download is handed over in place; the failed one is streamed.
    std::optional<std::string_view> held = (*reader)->TakeInMemory();
    ASSERT_EQ(held.has_value(), i != failing);
    if (held) {
      EXPECT_TRUE(*held == objects[i]);
      EXPECT_THAT(ReadAll(**reader), IsOkAndHolds(""));  // taken: nothing left to read
      // k1 and k2 fit in k0's buffer, which the pool hands out again.
      if (i == 0) first_buffer = held->data();
      if (i == 1 || i == 2) {
        EXPECT_EQ(held->data(), first_buffer);
      }
    } else {
      Result<std::string> read = ReadAll(**reader, 65536);
      ASSERT_OK(read);
      EXPECT_TRUE(*read == objects[i]);
      requests += 1;  // one ranged GET
    }
  }
  // Only the failed download was streamed (one ranged GET).
  std::vector<TestHttpRequest> sent = server_->requests();
  ASSERT_EQ(sent.size(), requests);
  std::vector<std::string> ranged;
  for (const TestHttpRequest& r : sent) {
    if (!r.Header("range").empty()) ranged.push_back(TargetPath(r));
  }
  EXPECT_THAT(ranged, ElementsAre("/bucket/k4"));
}

// A pooled buffer is charged to the byte budget, and freed when a download needs the room:
// with a budget for one object, every object is still prefetched.
TEST_F(S3ClientTest, PooledBuffersGiveWayToTheBudget) {
  const std::vector<std::string> objects = {PrefetchObject(0, 600), PrefetchObject(1, 600),
                                            PrefetchObject(2, 600)};
  StartServer([&](const TestHttpRequest& r) {
    const size_t i = std::stoul(TargetPath(r).substr(std::strlen("/bucket/k")));
    return ServeRange(r, objects[i], "\"e\"");
  });
  std::shared_ptr<S3Client> client = NewClient(server_->url(), {3, 100, 1000}, 10000);
  Result<ObjectSourcePtr> source = NewS3ObjectSource(
      client, {.bucket = "bucket", .max_bytes_prefetch = 1000, .max_concurrent_prefetch = 2});
  ASSERT_OK(source);
  const std::vector<ObjectInfo> upcoming = {
      {.key = "k0", .size = 600}, {.key = "k1", .size = 600}, {.key = "k2", .size = 600}};
  (*source)->Prefetch(upcoming);
  for (size_t i = 0; i < objects.size(); ++i) {
    SCOPED_TRACE(i);
    ASSERT_TRUE(server_->WaitForRequests(i + 1));  // started once the previous one was released
    Result<ObjectReaderPtr> reader = (*source)->Open(upcoming[i].key);
    ASSERT_OK(reader);
    EXPECT_THAT(ReadAll(**reader, 100), IsOkAndHolds(objects[i]));
  }
  for (const TestHttpRequest& r : server_->requests()) EXPECT_EQ(r.Header("range"), "");
  EXPECT_EQ(server_->request_count(), objects.size());
}

TEST(S3ClientAddressingTest, VirtualHostedForAwsAndPathStyleForDottedBuckets) {
  auto http = std::make_shared<RecordingHttpClient>();
  auto credentials = std::make_shared<TestCredentials>();
  S3Client client({.region = "eu-west-1", .timeout_ms = 1234}, credentials, http);
  EXPECT_EQ(client.Describe(), "s3 (region eu-west-1)");
  http->PushStatus(200);
  http->PushStatus(200);
  http->PushStatus(200, "<ListBucketResult/>");
  ASSERT_OK(client.GetObject("my-bucket", "a b.txt"));
  ASSERT_OK(client.GetObject("my.bucket", "a b.txt"));
  ASSERT_OK(client.ListObjectsV2("my-bucket", {.prefix = "p/"}));
  ASSERT_OK(client.HeadBucket("my.bucket"));
  std::vector<HttpRequest> sent = http->requests();
  ASSERT_EQ(sent.size(), 4u);
  EXPECT_EQ(sent[0].url, "https://my-bucket.s3.eu-west-1.amazonaws.com/a%20b.txt");
  EXPECT_EQ(sent[1].url, "https://s3.eu-west-1.amazonaws.com/my.bucket/a%20b.txt");
  EXPECT_EQ(sent[2].url,
            "https://my-bucket.s3.eu-west-1.amazonaws.com/?list-type=2&max-keys=1000&prefix=p%2F");
  EXPECT_EQ(sent[3].url, "https://s3.eu-west-1.amazonaws.com/my.bucket");
  auto header = [](const HttpRequest& request, std::string_view name) {
    for (const auto& [key, value] : request.headers) {
      if (key == name) return value;
    }
    return std::string();
  };
  EXPECT_EQ(header(sent[0], "Host"), "my-bucket.s3.eu-west-1.amazonaws.com");
  EXPECT_EQ(header(sent[1], "Host"), "s3.eu-west-1.amazonaws.com");
  EXPECT_THAT(header(sent[0], "Authorization"), HasSubstr("/eu-west-1/s3/aws4_request,"));
  EXPECT_EQ(sent[0].timeout_ms, 1234);
}

TEST(S3ClientAddressingTest, EndpointWithABasePath) {
  auto http = std::make_shared<RecordingHttpClient>();
  S3Client client({.endpoint = "http://storage.local:9000/s3/"},
                  std::make_shared<TestCredentials>(), http);
  EXPECT_EQ(client.Describe(), "s3 http://storage.local:9000/s3/ (region us-east-1)");
  ASSERT_OK(client.DeleteObject("b", "k"));
  EXPECT_EQ(http->requests()[0].url, "http://storage.local:9000/s3/b/k");

  S3Client bad({.endpoint = "storage.local:9000"}, std::make_shared<TestCredentials>(), http);
  EXPECT_THAT(bad.HeadBucket("b"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("endpoint")));
}

TEST(ParseS3UrlTest, Cases) {
  Result<S3Url> url = ParseS3Url("s3://bucket/logs/2019/");
  ASSERT_OK(url);
  EXPECT_EQ(url->bucket, "bucket");
  EXPECT_EQ(url->prefix, "logs/2019/");
  url = ParseS3Url("s3://my.bucket-1");
  ASSERT_OK(url);
  EXPECT_EQ(url->bucket, "my.bucket-1");
  EXPECT_EQ(url->prefix, "");
  url = ParseS3Url("s3://bucket/");
  ASSERT_OK(url);
  EXPECT_EQ(url->prefix, "");
  for (std::string_view bad : {"", "s3://", "s3:///prefix", "http://bucket/x", "bucket/x",
                               "s3:/bucket", "s3://buck et/x"}) {
    EXPECT_THAT(ParseS3Url(bad), StatusIs(StatusCode::kInvalidArgument)) << bad;
  }
}

}  // namespace
}  // namespace vpcflow
