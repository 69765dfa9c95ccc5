#pragma once
/// TestHttpServer: a tiny HTTP/1.1 server on 127.0.0.1 port 0 for tests of HTTP clients. It
/// records every request and answers with scripted replies (in order), then with the handler,
/// else 200 with an empty body. Keep-alive (Content-Length bodies only; no chunked requests).
/// One thread per connection. Thread-safe.

#include <gtest/gtest.h>

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "testing/matchers.hpp"
#include "vpcflow/http_client.hpp"
#include "vpcflow/status.hpp"

namespace vpcflow {

struct TestHttpRequest {
  std::string method{};
  std::string target{};                                        ///< path and query as sent
  std::vector<std::pair<std::string, std::string>> headers{};  ///< names lower-cased
  std::string body{};
  /// The first header named `name` (lower case), or "".
  std::string Header(std::string_view name) const;
};

struct TestHttpReply {
  int status = 200;
  std::string body{};
  std::vector<std::pair<std::string, std::string>> headers{};
  bool hang = false;  ///< never answer; hold the connection until the server stops
  bool drop = false;  ///< close the connection without answering
  /// Send only this many bytes of the body (the Content-Length announces all of it), then close
  /// the connection: a body cut short. Unset: the whole body.
  std::optional<size_t> cut_body_at{};
};

class TestHttpServer {
 public:
  using Handler = std::function<TestHttpReply(const TestHttpRequest&)>;

  /// Listens on 127.0.0.1, port 0. Returns the socket error when it cannot.
  static Result<std::unique_ptr<TestHttpServer>> Start(Handler handler = nullptr);
  ~TestHttpServer();
  TestHttpServer(const TestHttpServer&) = delete;
  TestHttpServer& operator=(const TestHttpServer&) = delete;

  /// Appends a reply to the script.
  void Push(TestHttpReply reply);
  /// Shorthand for Push({.status = status}), `times` times.
  void PushStatus(int status, int times = 1);

  int port() const { return port_; }
  /// "http://127.0.0.1:<port>".
  std::string url() const;
  std::vector<TestHttpRequest> requests() const;
  size_t request_count() const;
  /// Connections accepted so far.
  size_t connection_count() const;
  /// Waits until `n` requests arrived; false after `timeout_ms`.
  bool WaitForRequests(size_t n, int64_t timeout_ms = 10000) const;
  /// Stops accepting, closes every connection, joins the threads. Idempotent.
  void Stop();

 private:
  TestHttpServer(int listen_fd, int port, Handler handler);
  void AcceptLoop();
  void Serve(int fd);
  bool ServeOne(int fd, std::string& buffer);  // false: close the connection
  TestHttpReply NextReply(const TestHttpRequest& request);

  const int listen_fd_;
  const int port_;
  const Handler handler_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  bool stopping_ = false;
  std::deque<TestHttpReply> script_;
  std::vector<TestHttpRequest> requests_;
  std::vector<int> open_fds_;
  size_t connections_ = 0;
  std::vector<std::thread> connection_threads_;
  std::thread accept_thread_;
};

/// A fixture for tests of HTTP callers: a started TestHttpServer and a NewCurlHttpClient.
class HttpLoopbackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<TestHttpServer>> server = TestHttpServer::Start();
    ASSERT_OK(server);
    server_ = std::move(server).value();
    client_ = NewCurlHttpClient();
  }

  std::unique_ptr<TestHttpServer> server_;
  HttpClientPtr client_;
};

/// A port on 127.0.0.1 that refuses connections (bound once, then closed). For tests.
int RefusedLocalPort();

}  // namespace vpcflow
