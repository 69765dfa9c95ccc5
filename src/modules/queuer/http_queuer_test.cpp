#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "testing/matchers.hpp"
#include "testing/recording_http_client.hpp"
#include "testing/test_http_server.hpp"
#include "vpcflow/http_client.hpp"
#include "vpcflow/queuer.hpp"

namespace vpcflow {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

Job TestJob() {
  Window window{.start = 1546300800, .stop = 1546304400};
  return Job{.id = DigestId(window), .window = window};
}

TEST(HttpQueuerUrlTest, AppendsTopicAndDigestWhenTheEndpointHasNoPath) {
  auto url = [](std::string endpoint, std::string topic = "digests") {
    return HttpQueuerUrl({.endpoint = std::move(endpoint), .topic = std::move(topic)});
  };
  EXPECT_EQ(url("http://bus:8080"), "http://bus:8080/digests/digest");
  EXPECT_EQ(url("http://bus:8080/"), "http://bus:8080/digests/digest");
  EXPECT_EQ(url("https://bus", "flows"), "https://bus/flows/digest");
  EXPECT_EQ(url("http://bus:8080/custom/path"), "http://bus:8080/custom/path");
  EXPECT_EQ(url("http://bus/x/"), "http://bus/x/");
  EXPECT_EQ(url("bus:9000"), "bus:9000/digests/digest");
}

TEST(HttpQueuerBackoffTest, DoublesAndCaps) {
  HttpQueuerOptions options{.backoff_ms = 100};
  EXPECT_EQ(HttpQueuerBackoffMs(options, 1), 100);
  EXPECT_EQ(HttpQueuerBackoffMs(options, 2), 200);
  EXPECT_EQ(HttpQueuerBackoffMs(options, 3), 400);
  EXPECT_EQ(HttpQueuerBackoffMs(options, 5), 1600);
  EXPECT_EQ(HttpQueuerBackoffMs(options, 6), kHttpQueuerMaxBackoffMs);
  EXPECT_EQ(HttpQueuerBackoffMs(options, 60), kHttpQueuerMaxBackoffMs);
  EXPECT_EQ(HttpQueuerBackoffMs({.backoff_ms = 0}, 3), 0);
}

class HttpQueuerTest : public HttpLoopbackTest {
 protected:
  QueuerPtr Make(int max_attempts = 4, int64_t timeout_ms = 5000) {
    return NewHttpQueuer({.endpoint = server_->url(),
                          .topic = "vpcflow",
                          .timeout_ms = timeout_ms,
                          .max_attempts = max_attempts,
                          .backoff_ms = 1},
                         client_.get());
  }
};

TEST_F(HttpQueuerTest, PostsTheJobJsonToTheTopicPath) {
  server_->PushStatus(202);
  QueuerPtr queuer = Make();
  ASSERT_OK(queuer->Queue(TestJob()));
  std::vector<TestHttpRequest> requests = server_->requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].target, "/vpcflow/digest");
  EXPECT_EQ(requests[0].Header("content-type"), "application/json");
  EXPECT_EQ(requests[0].body, JobToJson(TestJob()));
  EXPECT_THAT(JobFromJson(requests[0].body, kDefaultMaxWindowSeconds), IsOkAndHolds(TestJob()));
  EXPECT_EQ(queuer->Describe(), "http:" + server_->url() + "/vpcflow/digest");
}

TEST_F(HttpQueuerTest, SendsTheBearerTokenAndNeverNamesIt) {
  QueuerPtr plain = Make(1);
  server_->PushStatus(202);
  ASSERT_OK(plain->Queue(TestJob()));
  QueuerPtr queuer =
      NewHttpQueuer({.endpoint = server_->url(), .bearer_token = "s3cr3t-t0ken"}, client_.get());
  server_->PushStatus(202);
  ASSERT_OK(queuer->Queue(TestJob()));
  server_->PushStatus(401);
  Status refused = queuer->Queue(TestJob());
  EXPECT_THAT(refused, StatusIs(StatusCode::kFailedPrecondition,
                                AllOf(HasSubstr("401"), Not(HasSubstr("s3cr3t")))));
  EXPECT_THAT(queuer->Describe(), Not(HasSubstr("s3cr3t")));
  std::vector<TestHttpRequest> requests = server_->requests();
  ASSERT_EQ(requests.size(), 3u);
  EXPECT_EQ(requests[0].Header("authorization"), "");
  EXPECT_EQ(requests[1].Header("authorization"), "Bearer s3cr3t-t0ken");
}

TEST_F(HttpQueuerTest, AcceptsAny2xx) {
  QueuerPtr queuer = Make(1);
  for (int status : {200, 201, 202, 204, 299}) {
    server_->PushStatus(status);
    EXPECT_OK(queuer->Queue(TestJob())) << status;
  }
  EXPECT_EQ(server_->request_count(), 5u);
}

TEST_F(HttpQueuerTest, RetriesServerErrorsThenSucceeds) {
  server_->PushStatus(503);
  server_->PushStatus(500);
  server_->PushStatus(502);
  server_->PushStatus(204);
  ASSERT_OK(Make(4)->Queue(TestJob()));
  EXPECT_EQ(server_->request_count(), 4u);
}

TEST_F(HttpQueuerTest, GivesUpAfterTheAttemptsNamingTheUrlNotTheBody) {
  server_->PushStatus(503, 3);
  Status status = Make(3)->Queue(TestJob());
  EXPECT_THAT(status, StatusIs(StatusCode::kUnavailable,
                               AllOf(HasSubstr(server_->url() + "/vpcflow/digest"),
                                     HasSubstr("503"), Not(HasSubstr(TestJob().id)))));
  EXPECT_EQ(server_->request_count(), 3u);
}

TEST_F(HttpQueuerTest, ClientErrorsFailAtOnce) {
  QueuerPtr queuer = Make(4);
  server_->PushStatus(400);
  EXPECT_THAT(queuer->Queue(TestJob()), StatusIs(StatusCode::kInvalidArgument));
  server_->PushStatus(404);
  EXPECT_THAT(queuer->Queue(TestJob()), StatusIs(StatusCode::kFailedPrecondition));
  server_->PushStatus(401);
  EXPECT_THAT(queuer->Queue(TestJob()), StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_EQ(server_->request_count(), 3u);
}

TEST_F(HttpQueuerTest, RetriesTimeoutsAndDroppedConnections) {
  server_->Push({.drop = true});
  server_->Push({.hang = true});
  server_->PushStatus(202);
  ASSERT_OK(Make(3, 300)->Queue(TestJob()));
  EXPECT_EQ(server_->request_count(), 3u);
}

TEST(HttpQueuerRefusedTest, ConnectionRefusedIsUnavailableAfterTheAttempts) {
  HttpClientPtr client = NewCurlHttpClient();
  std::string endpoint = "http://127.0.0.1:" + std::to_string(RefusedLocalPort());
  QueuerPtr queuer =
      NewHttpQueuer({.endpoint = endpoint, .max_attempts = 3, .backoff_ms = 1}, client.get());
  EXPECT_THAT(queuer->Queue(TestJob()),
              StatusIs(StatusCode::kUnavailable,
                       AllOf(HasSubstr(endpoint + "/digests/digest"), HasSubstr("3 attempts"))));
}

TEST(HttpQueuerScriptedTest, RetriesClientUnavailableAndDeadlineButNotOtherErrors) {
  RecordingHttpClient client;
  client.Push(UnavailableError("refused"));
  client.Push(DeadlineExceededError("slow"));
  client.PushStatus(202);
  QueuerPtr queuer = NewHttpQueuer({.endpoint = "http://bus", .backoff_ms = 1}, &client);
  ASSERT_OK(queuer->Queue(TestJob()));
  EXPECT_EQ(client.request_count(), 3u);
  client.Push(InvalidArgumentError("bad url"));
  EXPECT_THAT(queuer->Queue(TestJob()), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_EQ(client.request_count(), 4u);
  EXPECT_EQ(client.requests()[0].timeout_ms, 5000);
}

TEST(HttpQueuerScriptedTest, WaitsTheBackoffBetweenAttempts) {
  RecordingHttpClient client;
  client.SetDefault(HttpResponse{.status = 502});
  QueuerPtr queuer =
      NewHttpQueuer({.endpoint = "http://bus", .max_attempts = 3, .backoff_ms = 40}, &client);
  auto start = std::chrono::steady_clock::now();
  EXPECT_THAT(queuer->Queue(TestJob()), StatusIs(StatusCode::kUnavailable, HasSubstr("HTTP 502")));
  // 40 ms before the second attempt, 80 ms before the third; a lower bound only.
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(120));
  EXPECT_EQ(client.request_count(), 3u);
}

TEST(HttpQueuerScriptedTest, ShutdownInterruptsARetryDelay) {
  RecordingHttpClient client;
  client.SetDefault(HttpResponse{.status = 503});
  QueuerPtr queuer = NewHttpQueuer(
      {.endpoint = "http://bus", .max_attempts = 100, .backoff_ms = 3600000}, &client);
  Status status;
  std::thread queueing([&] { status = queuer->Queue(TestJob()); });
  while (client.request_count() == 0) std::this_thread::yield();
  EXPECT_TRUE(queuer->Shutdown(0).empty());
  queueing.join();
  EXPECT_THAT(status, StatusIs(StatusCode::kFailedPrecondition));
  EXPECT_THAT(queuer->Queue(TestJob()), StatusIs(StatusCode::kFailedPrecondition));
}

}  // namespace
}  // namespace vpcflow
