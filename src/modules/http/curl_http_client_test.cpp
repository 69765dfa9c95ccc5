#include <gtest/gtest.h>

#include <thread>

#include "testing/matchers.hpp"
#include "testing/recording_http_client.hpp"
#include "testing/test_http_server.hpp"
#include "vpcflow/http_client.hpp"

namespace vpcflow {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::Not;

// The HTTP status of a successful exchange, or -1 (the error is printed).
int StatusOf(const Result<HttpResponse>& response) {
  if (!response.ok()) {
    ADD_FAILURE() << response.status().ToString();
    return -1;
  }
  return response->status;
}

using CurlHttpClientTest = HttpLoopbackTest;

TEST_F(CurlHttpClientTest, GetReturnsStatusBodyAndLowerCasedHeaders) {
  server_->Push({.status = 200, .body = "hello", .headers = {{"X-Amz-Request-Id", " abc "}}});
  Result<HttpResponse> response = client_->Send({.url = server_->url() + "/a/b?x=1"});
  ASSERT_OK(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "hello");
  EXPECT_EQ(response->Header("x-amz-request-id"), "abc");
  EXPECT_EQ(response->Header("X-AMZ-Request-ID"), "abc");
  EXPECT_EQ(response->Header("content-length"), "5");
  EXPECT_EQ(response->Header("missing"), "");
  for (const auto& [name, value] : response->headers) {
    for (char c : name) EXPECT_FALSE(c >= 'A' && c <= 'Z') << name;
  }
  std::vector<TestHttpRequest> requests = server_->requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].target, "/a/b?x=1");
  EXPECT_EQ(requests[0].Header("expect"), "");
}

TEST_F(CurlHttpClientTest, SendsMethodsHeadersAndBodies) {
  std::string big(300000, 'z');
  ASSERT_OK(client_->Send({.method = "POST",
                           .url = server_->url() + "/post",
                           .headers = {{"Content-Type", "application/json"}, {"X-Empty", ""}},
                           .body = R"({"a":1})"}));
  ASSERT_OK(client_->Send({.method = "PUT", .url = server_->url() + "/put", .body = big}));
  ASSERT_OK(client_->Send({.method = "PUT", .url = server_->url() + "/empty"}));
  ASSERT_OK(client_->Send({.method = "DELETE", .url = server_->url() + "/del"}));
  Result<HttpResponse> head = client_->Send({.method = "HEAD", .url = server_->url() + "/h"});
  ASSERT_OK(head);
  EXPECT_EQ(head->body, "");
  std::vector<TestHttpRequest> requests = server_->requests();
  ASSERT_EQ(requests.size(), 5u);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].body, R"({"a":1})");
  EXPECT_EQ(requests[0].Header("content-type"), "application/json");
  EXPECT_EQ(requests[0].Header("x-empty"), "");
  EXPECT_EQ(requests[0].Header("expect"), "");
  EXPECT_EQ(requests[1].method, "PUT");
  EXPECT_EQ(requests[1].body, big);
  EXPECT_EQ(requests[1].Header("content-type"), "");
  EXPECT_EQ(requests[1].Header("expect"), "");
  EXPECT_EQ(requests[2].Header("content-length"), "0");
  EXPECT_EQ(requests[3].method, "DELETE");
  EXPECT_EQ(requests[4].method, "HEAD");
}

TEST_F(CurlHttpClientTest, AnyStatusIsASuccessfulExchange) {
  server_->Push({.status = 404, .body = "no"});
  server_->Push({.status = 503});
  server_->Push({.status = 204});
  EXPECT_EQ(StatusOf(client_->Send({.url = server_->url()})), 404);
  EXPECT_EQ(StatusOf(client_->Send({.url = server_->url()})), 503);
  EXPECT_EQ(StatusOf(client_->Send({.url = server_->url()})), 204);
}

TEST_F(CurlHttpClientTest, ReusesConnections) {
  for (int i = 0; i < 5; ++i) ASSERT_OK(client_->Send({.url = server_->url()}));
  EXPECT_EQ(server_->connection_count(), 1u);
}

TEST_F(CurlHttpClientTest, BodyIntoReadsEachBodyIntoTheCallersString) {
  const std::string large(300000, 'a');
  const std::string larger(700000, 'c');
  server_->Push({.status = 200, .body = large});
  server_->Push({.status = 200, .body = "small"});
  server_->Push({.status = 404, .body = "<Error/>"});
  server_->Push({.status = 200, .body = larger});
  std::string body = "stale bytes";
  Result<HttpResponse> first = client_->Send({.url = server_->url(), .body_into = &body});
  ASSERT_OK(first);
  EXPECT_EQ(first->body, "");
  EXPECT_TRUE(body == large);
  const char* memory = body.data();
  // A smaller body reuses the memory (no new allocation), holding only its own bytes.
  ASSERT_OK(client_->Send({.url = server_->url(), .body_into = &body}));
  EXPECT_EQ(body, "small");
  EXPECT_EQ(body.data(), memory);
  // An error status's body goes there too (callers parse S3's <Error> from it).
  Result<HttpResponse> missing = client_->Send({.url = server_->url(), .body_into = &body});
  EXPECT_EQ(StatusOf(missing), 404);
  EXPECT_EQ(body, "<Error/>");
  // A body larger than the string's memory grows it.
  ASSERT_OK(client_->Send({.url = server_->url(), .body_into = &body}));
  EXPECT_TRUE(body == larger);
}

TEST_F(CurlHttpClientTest, ABodyCutShortIsUnavailableAndTheStringReadsTheNextWhole) {
  const std::string object(200000, 'x');
  server_->Push({.status = 200, .body = object, .cut_body_at = 70000});
  server_->Push({.status = 200, .body = object});
  std::string body;
  EXPECT_THAT(client_->Send({.url = server_->url(), .body_into = &body}),
              StatusIs(StatusCode::kUnavailable));
  Result<HttpResponse> again = client_->Send({.url = server_->url(), .body_into = &body});
  ASSERT_OK(again);
  EXPECT_TRUE(body == object);
  // Without body_into the cut is reported the same way.
  server_->Push({.status = 200, .body = object, .cut_body_at = 1});
  EXPECT_THAT(client_->Send({.url = server_->url()}), StatusIs(StatusCode::kUnavailable));
}

TEST_F(CurlHttpClientTest, TimeoutIsDeadlineExceeded) {
  server_->Push({.hang = true});
  EXPECT_THAT(client_->Send({.url = server_->url() + "/slow", .timeout_ms = 200}),
              StatusIs(StatusCode::kDeadlineExceeded, HasSubstr("GET " + server_->url())));
}

TEST_F(CurlHttpClientTest, DroppedConnectionIsUnavailable) {
  server_->Push({.drop = true});
  EXPECT_THAT(client_->Send({.url = server_->url()}), StatusIs(StatusCode::kUnavailable));
}

TEST_F(CurlHttpClientTest, ManyThreadsAtOnce) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 10; ++i) {
        Result<HttpResponse> response = client_->Send({.url = server_->url()});
        EXPECT_EQ(StatusOf(response), 200);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(server_->request_count(), 80u);
  EXPECT_LE(server_->connection_count(), 16u);
}

TEST(CurlHttpClientErrorsTest, RefusedIsUnavailableAndMessagesHideTheQuery) {
  HttpClientPtr client = NewCurlHttpClient();
  std::string url = "http://127.0.0.1:" + std::to_string(RefusedLocalPort()) + "/k";
  EXPECT_THAT(client->Send({.url = url + "?X-Amz-Signature=secret"}),
              StatusIs(StatusCode::kUnavailable, AllOf(HasSubstr(url), Not(HasSubstr("secret")))));
}

TEST(CurlHttpClientErrorsTest, BadUrlsAreInvalidArgument) {
  HttpClientPtr client = NewCurlHttpClient();
  EXPECT_THAT(client->Send({.url = "ftp://127.0.0.1/x"}), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(client->Send({.url = "http://[::1"}), StatusIs(StatusCode::kInvalidArgument));
}

TEST(RecordingHttpClientTest, RecordsAndAnswersTheScriptThenTheDefault) {
  RecordingHttpClient client;
  client.PushStatus(201, "made");
  client.Push(UnavailableError("down"));
  Result<HttpResponse> made = client.Send({.url = "a"});
  ASSERT_OK(made);
  EXPECT_EQ(made->body, "made");
  EXPECT_THAT(client.Send({.url = "b"}), StatusIs(StatusCode::kUnavailable));
  EXPECT_EQ(StatusOf(client.Send({.url = "c"})), 200);
  ASSERT_EQ(client.request_count(), 3u);
  EXPECT_EQ(client.requests()[1].url, "b");
  client.PushStatus(200, "into");
  std::string body = "old";
  Result<HttpResponse> into = client.Send({.url = "d", .body_into = &body});
  ASSERT_OK(into);
  EXPECT_EQ(into->body, "");
  EXPECT_EQ(body, "into");
}

}  // namespace
}  // namespace vpcflow
