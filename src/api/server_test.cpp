#include "api/server.hpp"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json/parse.hpp>
#include <chrono>
#include <condition_variable>
#include <future>

#include "testing/fake_clock.hpp"
#include "testing/gate.hpp"
#include "testing/matchers.hpp"
#include "testing/memory_logger.hpp"
#include "testing/memory_object_source.hpp"
#include "testing/memory_stats.hpp"
#include "testing/scratch_dir.hpp"
#include "testing/self_signed_cert.hpp"
#include "vpcflow/http_client.hpp"

namespace vpcflow {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// A raw TCP connection to 127.0.0.1 for what an HTTP client library will not send.
class RawConnection {
 public:
  explicit RawConnection(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0;
  }
  ~RawConnection() { ::close(fd_); }
  bool connected() const { return connected_; }

  void Send(std::string_view text) {
    while (!text.empty()) {
      ssize_t n = ::send(fd_, text.data(), text.size(), MSG_NOSIGNAL);
      if (n <= 0) return;
      text.remove_prefix(static_cast<size_t>(n));
    }
  }

  // Reads until `done(received)` holds, the peer closes, or the deadline passes.
  std::string ReadUntil(const std::function<bool(const std::string&)>& done,
                        int64_t timeout_ms = 10000) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (!done(received_)) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) break;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
      char buf[4096];
      ssize_t n = ::recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) {
        closed_ = true;
        break;
      }
      received_.append(buf, static_cast<size_t>(n));
    }
    return received_;
  }
  std::string ReadAll(int64_t timeout_ms = 10000) {
    return ReadUntil([](const std::string&) { return false; }, timeout_ms);
  }
  bool closed() const { return closed_; }
  void Clear() { received_.clear(); }

 private:
  int fd_ = -1;
  bool connected_ = false;
  bool closed_ = false;
  std::string received_;
};

bool Contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

// A reader of `size` bytes whose every Read waits at `gate` (a slow store).
class GatedReader : public ObjectReader {
 public:
  GatedReader(Gate* gate, size_t size) : gate_(gate), left_(size) {}
  Result<size_t> Read(std::span<char> buffer) override {
    gate_->Enter();
    size_t n = std::min(left_, buffer.size());
    std::fill_n(buffer.data(), n, 'r');
    left_ -= n;
    return n;
  }

 private:
  Gate* gate_;
  size_t left_;
};

// An ObjectReader that fails after handing out `good` bytes.
class FailingReader : public ObjectReader {
 public:
  explicit FailingReader(size_t good) : left_(good) {}
  Result<size_t> Read(std::span<char> buffer) override {
    if (left_ == 0) return UnavailableError("disk went away");
    size_t n = std::min(left_, buffer.size());
    std::fill_n(buffer.data(), n, 'x');
    left_ -= n;
    return n;
  }

 private:
  size_t left_;
};

class ServerTest : public ::testing::Test {
 protected:
  ServerTest() : router_(&logger_) {
    big_.resize(300 * 1024);
    for (size_t i = 0; i < big_.size(); ++i) big_[i] = static_cast<char>('a' + i % 26);
    objects_.Put("big", big_);
    router_.Add(
        {.method = "GET", .pattern = "/hello", .name = "hello", .handler = [](const ApiRequest& r) {
           return JsonResponse(200, "{\"q\":" + JsonQuote(r.Query("q").value_or("")) + "}");
         }});
    router_.Add(
        {.method = "POST", .pattern = "/echo", .name = "echo", .handler = [](const ApiRequest& r) {
           ApiResponse out;
           out.content_type = "text/plain";
           out.body = r.body;
           return out;
         }});
    router_.Add(
        {.method = "GET", .pattern = "/big", .name = "big", .handler = [this](const ApiRequest& r) {
           ApiResponse out;
           out.content_type = "application/octet-stream";
           out.stream = std::move(objects_.Open("big")).value();
           if (!r.Query("chunked")) out.stream_size = static_cast<int64_t>(big_.size());
           return out;
         }});
    router_.Add({.method = "GET",
                 .pattern = "/lazy",
                 .name = "lazy",
                 .handler = [this](const ApiRequest& r) {
                   ApiResponse out;
                   out.content_type = "text/plain";
                   // HEAD: the headers of the stream, which is not opened.
                   out.head_of_stream = r.method == "HEAD";
                   if (!out.head_of_stream) out.stream = std::move(objects_.Open("big")).value();
                   return out;
                 }});
    router_.Add(
        {.method = "GET", .pattern = "/broken", .name = "broken", .handler = [](const ApiRequest&) {
           ApiResponse out;
           out.stream = std::make_unique<FailingReader>(100000);
           out.stream_size = 1000000;
           return out;
         }});
    router_.Add(
        {.method = "GET",
         .pattern = "/throw",
         .name = "throw",
         .handler = [](const ApiRequest&) -> ApiResponse { throw std::runtime_error("oops"); }});
    router_.Add({.method = "POST",
                 .pattern = "/wait",
                 .name = "wait",
                 .handler =
                     [this](const ApiRequest&) {
                       {
                         std::lock_guard lock(mu_);
                         ++entered_;
                       }
                       entered_cv_.notify_all();
                       release_.wait();
                       return JsonResponse(200, R"({"waited":true})");
                     },
                 .dispatch = Dispatch::kBlocking});
  }

  void AddSlowAndAsyncRoutes() {
    router_.Add(
        {.method = "GET", .pattern = "/slow", .name = "slow", .handler = [this](const ApiRequest&) {
           ApiResponse out;
           out.content_type = "application/octet-stream";
           out.stream = std::make_unique<GatedReader>(&reads_, 1000);
           out.stream_size = 1000;
           return out;
         }});
    router_.Add({.method = "POST",
                 .pattern = "/later",
                 .name = "later",
                 .dispatch = Dispatch::kAsync,
                 .async_handler = [this](const ApiRequest& r, ApiResponder respond) {
                   if (r.body == "now") return respond(JsonResponse(200, R"({"now":true})"));
                   std::lock_guard lock(mu_);
                   responders_.push_back(std::move(respond));
                   entered_cv_.notify_all();
                 }});
  }

  // Waits until `n` asynchronous requests wait for their answer.
  bool WaitResponders(size_t n) {
    std::unique_lock lock(mu_);
    return entered_cv_.wait_for(lock, std::chrono::seconds(10),
                                [&] { return responders_.size() >= n; });
  }

  void StartServer(ServerOptions options = {}) {
    options.address = "127.0.0.1";
    options.port = 0;
    server_ = std::make_unique<HttpServer>(options, &router_, &logger_, &stats_, &clock_);
    ASSERT_OK(server_->Start());
    ASSERT_GT(server_->port(), 0);
  }

  std::string Url(std::string_view path) const {
    return "http://127.0.0.1:" + std::to_string(server_->port()) + std::string(path);
  }

  Result<HttpResponse> Send(std::string method, std::string_view path, std::string body = "",
                            std::vector<std::pair<std::string, std::string>> headers = {}) {
    return client_->Send({.method = std::move(method),
                          .url = Url(path),
                          .headers = std::move(headers),
                          .body = std::move(body),
                          .timeout_ms = 10000});
  }

  // Waits until `n` requests entered the blocking /wait handler.
  bool WaitEntered(int n) {
    std::unique_lock lock(mu_);
    return entered_cv_.wait_for(lock, std::chrono::seconds(10), [&] { return entered_ >= n; });
  }

  std::mutex mu_;
  std::condition_variable entered_cv_;
  int entered_ = 0;
  std::vector<ApiResponder> responders_;
  Gate reads_;
  MemoryLogger logger_;
  MemoryStats stats_;
  FakeClock clock_;
  Router router_;
  MemoryObjectSource objects_;
  std::string big_;
  std::promise<void> release_promise_;
  std::shared_future<void> release_ = release_promise_.get_future().share();
  HttpClientPtr client_ = NewCurlHttpClient();
  std::unique_ptr<HttpServer> server_;
};

TEST_F(ServerTest, AnswersARouteAndLogsTheRequest) {
  StartServer();
  Result<HttpResponse> r = Send("GET", "/hello?q=a%20b+c");
  ASSERT_OK(r.status());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, R"({"q":"a b+c"})");
  EXPECT_EQ(r->Header("content-type"), "application/json");
  EXPECT_EQ(r->Header("server"), "vpcflow-digesterd");
  ASSERT_TRUE(server_->WaitIdle(5000));  // the log line follows the response
  std::vector<LoggedEvent> events = logger_.Events("request");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].level, LogLevel::kDebug);  // one line per request is too much for info
  EXPECT_EQ(events[0].Field("method"), "GET");
  EXPECT_EQ(events[0].Field("path"), "/hello");
  EXPECT_EQ(events[0].Field("route"), "hello");
  EXPECT_EQ(events[0].Field("status"), "200");
  EXPECT_EQ(events[0].Field("bytes"), "13");
  EXPECT_NE(events[0].Field("duration_ms"), "");
  EXPECT_EQ(stats_.CounterTotal("http_requests", {{"route", "hello"}, {"status", "200"}}), 1);
  EXPECT_EQ(stats_.TimingCount("http_request_ms"), 1u);
}

TEST_F(ServerTest, UnknownPathsMethodsAndExceptionsAreJson) {
  StartServer();
  Result<HttpResponse> missing = Send("GET", "/nope");
  ASSERT_OK(missing.status());
  EXPECT_EQ(missing->status, 404);
  EXPECT_THAT(missing->body, HasSubstr("\"message\""));
  Result<HttpResponse> wrong = Send("DELETE", "/hello");
  ASSERT_OK(wrong.status());
  EXPECT_EQ(wrong->status, 405);
  EXPECT_EQ(wrong->Header("allow"), "GET, HEAD");
  Result<HttpResponse> thrown = Send("GET", "/throw");
  ASSERT_OK(thrown.status());
  EXPECT_EQ(thrown->status, 500);
  EXPECT_EQ(thrown->body, R"({"message":"internal error"})");
  EXPECT_EQ(logger_.Count("unknown-failure"), 1u);
}

TEST_F(ServerTest, StreamsABodyWithContentLength) {
  StartServer();
  Result<HttpResponse> r = Send("GET", "/big");
  ASSERT_OK(r.status());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("content-length"), std::to_string(big_.size()));
  EXPECT_EQ(r->Header("transfer-encoding"), "");
  EXPECT_TRUE(r->body == big_);
}

TEST_F(ServerTest, StreamsABodyOfUnknownSizeChunked) {
  StartServer();
  Result<HttpResponse> r = Send("GET", "/big?chunked");
  ASSERT_OK(r.status());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("transfer-encoding"), "chunked");
  EXPECT_TRUE(r->body == big_);
}

TEST_F(ServerTest, AFailingStreamDropsTheConnection) {
  StartServer();
  Result<HttpResponse> r = Send("GET", "/broken");
  EXPECT_FALSE(r.ok() && r->body.size() == 1000000);
  ASSERT_TRUE(server_->WaitIdle(5000));
  EXPECT_EQ(logger_.Count("dependency-failure"), 1u);
}

TEST_F(ServerTest, EchoesABodyAndRefusesOneTooLarge) {
  StartServer({.max_body_bytes = 1000});
  Result<HttpResponse> ok = Send("POST", "/echo", std::string(1000, 'b'));
  ASSERT_OK(ok.status());
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(ok->body.size(), 1000u);
  Result<HttpResponse> big = Send("POST", "/echo", std::string(1001, 'b'));
  ASSERT_OK(big.status());
  EXPECT_EQ(big->status, 413);
  EXPECT_THAT(big->body, HasSubstr("\"message\""));
}

TEST_F(ServerTest, RefusesAHeaderTooLarge) {
  StartServer({.max_header_bytes = 2048});
  Result<HttpResponse> r = Send("GET", "/hello", "", {{"X-Padding", std::string(4096, 'p')}});
  ASSERT_OK(r.status());
  EXPECT_EQ(r->status, 431);
}

TEST_F(ServerTest, AnswersGarbageWith400AndCloses) {
  StartServer();
  RawConnection c(server_->port());
  ASSERT_TRUE(c.connected());
  c.Send("THIS IS NOT HTTP\r\n\r\n");
  std::string reply = c.ReadAll();
  EXPECT_THAT(reply, StartsWith("HTTP/1.1 400"));
  EXPECT_TRUE(c.closed());
}

TEST_F(ServerTest, ClosesARequestThatDoesNotArriveInTime) {
  StartServer({.request_timeout_ms = 200});
  RawConnection c(server_->port());
  ASSERT_TRUE(c.connected());
  c.Send("GET /hello HTTP/1.1\r\nHost: x\r\n");  // never finished
  const auto t0 = std::chrono::steady_clock::now();
  c.ReadAll(10000);
  EXPECT_TRUE(c.closed());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(9));
}

TEST_F(ServerTest, KeepsTheConnectionAlive) {
  StartServer();
  RawConnection c(server_->port());
  ASSERT_TRUE(c.connected());
  auto has_body = [](const std::string& s) { return Contains(s, "\"q\":\"2\"}"); };
  c.Send("GET /hello?q=1 HTTP/1.1\r\nHost: x\r\n\r\n");
  c.ReadUntil([](const std::string& s) { return Contains(s, "\"q\":\"1\"}"); });
  c.Send("GET /hello?q=2 HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string both = c.ReadUntil(has_body);
  EXPECT_TRUE(has_body(both)) << both;
  EXPECT_FALSE(c.closed());
  // HTTP/1.0 without keep-alive: closed after the answer.
  RawConnection old(server_->port());
  old.Send("GET /hello HTTP/1.0\r\n\r\n");
  EXPECT_THAT(old.ReadAll(), StartsWith("HTTP/1.0 200"));
  EXPECT_TRUE(old.closed());
}

TEST_F(ServerTest, AnswersExpectContinue) {
  StartServer();
  RawConnection c(server_->port());
  c.Send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
  std::string interim = c.ReadUntil([](const std::string& s) { return Contains(s, "\r\n\r\n"); });
  EXPECT_THAT(interim, StartsWith("HTTP/1.1 100 Continue"));
  c.Send("hello");
  std::string reply = c.ReadUntil([](const std::string& s) { return Contains(s, "hello"); });
  EXPECT_THAT(reply, HasSubstr("HTTP/1.1 200 OK"));
}

TEST_F(ServerTest, ABlockingRouteDoesNotHoldTheOnlyIoThread) {
  StartServer({.threads = 1});
  auto waiting = std::async(std::launch::async, [this] { return Send("POST", "/wait"); });
  ASSERT_TRUE(WaitEntered(1));
  // While the blocking handler waits, the single I/O thread still serves others.
  for (int i = 0; i < 3; ++i) {
    Result<HttpResponse> r = Send("GET", "/hello");
    ASSERT_OK(r.status());
    EXPECT_EQ(r->status, 200);
  }
  EXPECT_EQ(waiting.wait_for(std::chrono::milliseconds(0)), std::future_status::timeout);
  release_promise_.set_value();
  Result<HttpResponse> r = waiting.get();
  ASSERT_OK(r.status());
  EXPECT_EQ(r->body, R"({"waited":true})");
}

TEST_F(ServerTest, BlockingAndInlineRoutesInterleaveOnOneConnection) {
  router_.Add({.method = "POST",
               .pattern = "/b",
               .name = "b",
               .handler = [](const ApiRequest& r) { return JsonError(400, "x" + r.body); },
               .dispatch = Dispatch::kBlocking});
  StartServer();
  for (int i = 0; i < 100; ++i) {
    Result<HttpResponse> a = Send("GET", "/hello?q=1");
    ASSERT_OK(a.status()) << i;
    EXPECT_EQ(a->status, 200);
    Result<HttpResponse> b = Send("POST", "/b", i % 2 ? "{" : "");
    ASSERT_OK(b.status()) << i;
    EXPECT_EQ(b->body, i % 2 ? R"({"message":"x{"})" : R"({"message":"x"})");
  }
}

TEST_F(ServerTest, TooManyBlockingRequestsAre503) {
  StartServer({.max_blocking_requests = 1});
  auto waiting = std::async(std::launch::async, [this] { return Send("POST", "/wait"); });
  ASSERT_TRUE(WaitEntered(1));  // the first one holds the only slot
  Result<HttpResponse> second = Send("POST", "/wait");
  ASSERT_OK(second.status());
  EXPECT_EQ(second->status, 503);
  EXPECT_EQ(second->Header("retry-after"), "5");
  release_promise_.set_value();
  EXPECT_EQ(waiting.get()->status, 200);
}

TEST_F(ServerTest, AnAsynchronousRouteHoldsNoThreadWhileItWaits) {
  AddSlowAndAsyncRoutes();
  StartServer({.threads = 1, .max_blocking_requests = 1});
  std::vector<std::future<Result<HttpResponse>>> waiting;
  for (int i = 0; i < 3; ++i) {
    waiting.push_back(std::async(std::launch::async, [this] { return Send("POST", "/later"); }));
  }
  ASSERT_TRUE(WaitResponders(3));  // more than the blocking slots: no thread is held
  Result<HttpResponse> now = Send("POST", "/later", "now");
  ASSERT_OK(now.status());
  EXPECT_EQ(now->body, R"({"now":true})");
  Result<HttpResponse> hello = Send("GET", "/hello");
  ASSERT_OK(hello.status());
  EXPECT_EQ(hello->status, 200);
  std::vector<ApiResponder> responders;
  {
    std::lock_guard lock(mu_);
    responders.swap(responders_);
  }
  for (size_t i = 0; i < responders.size(); ++i) {
    std::thread([respond = responders[i], i] {
      respond(JsonResponse(200, "{\"n\":" + std::to_string(i) + "}"));
    }).join();
  }
  for (auto& w : waiting) {
    Result<HttpResponse> r = w.get();
    ASSERT_OK(r.status());
    EXPECT_EQ(r->status, 200);
  }
}

TEST_F(ServerTest, ADroppedResponderAnswers500) {
  router_.Add({.method = "POST",
               .pattern = "/drop",
               .name = "drop",
               .dispatch = Dispatch::kAsync,
               .async_handler = [](const ApiRequest&, ApiResponder) {}});
  StartServer();
  Result<HttpResponse> r = Send("POST", "/drop");
  ASSERT_OK(r.status());
  EXPECT_EQ(r->status, 500);
}

TEST_F(ServerTest, SlowStoreReadsDoNotStallTheIoThreads) {
  AddSlowAndAsyncRoutes();
  StartServer({.threads = 2});
  auto first = std::async(std::launch::async, [this] { return Send("GET", "/slow"); });
  auto second = std::async(std::launch::async, [this] { return Send("GET", "/slow"); });
  ASSERT_TRUE(reads_.WaitInside(2));  // as many stalled downloads as I/O threads
  Result<HttpResponse> hello = Send("GET", "/hello");
  ASSERT_OK(hello.status());
  EXPECT_EQ(hello->status, 200);
  reads_.Open();
  for (auto* f : {&first, &second}) {
    Result<HttpResponse> r = f->get();
    ASSERT_OK(r.status());
    EXPECT_EQ(r->body, std::string(1000, 'r'));
  }
}

TEST_F(ServerTest, HeadAnswersTheHeadersOfGetWithoutABody) {
  StartServer();
  RawConnection c(server_->port());
  ASSERT_TRUE(c.connected());
  c.Send("HEAD /hello?q=x HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string head = c.ReadUntil([](const std::string& s) { return Contains(s, "\r\n\r\n"); });
  EXPECT_THAT(head, StartsWith("HTTP/1.1 200"));
  EXPECT_THAT(head, HasSubstr("Content-Length: 9\r\n"));  // {"q":"x"}
  // No body follows: the next answer on the connection starts right after the header.
  c.Clear();
  c.Send("HEAD /big HTTP/1.1\r\nHost: x\r\n\r\nGET /hello?q=2 HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string both = c.ReadUntil([](const std::string& s) { return Contains(s, "\"q\":\"2\"}"); });
  EXPECT_THAT(both, StartsWith("HTTP/1.1 200"));
  EXPECT_THAT(both, HasSubstr("Content-Length: " + std::to_string(big_.size()) + "\r\n"));
  EXPECT_EQ(both.find("abc"), std::string::npos);  // no byte of the streamed body
  EXPECT_EQ(both.substr(both.find("\r\n\r\n") + 4, 8), "HTTP/1.1");
  // A HEAD answer without a stream says the GET's body streams (chunked), not that it is empty.
  c.Clear();
  c.Send("HEAD /lazy HTTP/1.1\r\nHost: x\r\n\r\nGET /hello?q=3 HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string lazy = c.ReadUntil([](const std::string& s) { return Contains(s, "\"q\":\"3\"}"); });
  const std::string lazy_head = lazy.substr(0, lazy.find("\r\n\r\n"));
  EXPECT_THAT(lazy_head, HasSubstr("Transfer-Encoding: chunked"));
  EXPECT_THAT(lazy_head, Not(HasSubstr("Content-Length")));
  EXPECT_EQ(lazy.substr(lazy.find("\r\n\r\n") + 4, 8), "HTTP/1.1");
  // A path without GET still says which methods it takes.
  Result<HttpResponse> echo = Send("HEAD", "/echo");
  ASSERT_OK(echo.status());
  EXPECT_EQ(echo->status, 405);
}

TEST_F(ServerTest, AnOverlongTargetIs414) {
  StartServer({.max_header_bytes = 16 * 1024, .max_target_bytes = 8 * 1024});
  for (size_t length : {9000u, 20000u}) {  // within the header limit, and beyond it
    RawConnection c(server_->port());
    c.Send("GET /hello?q=" + std::string(length, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n");
    std::string reply = c.ReadUntil([](const std::string& s) { return Contains(s, "}"); });
    EXPECT_THAT(reply, StartsWith("HTTP/1.1 414")) << length;
    EXPECT_THAT(reply, HasSubstr("\"message\"")) << length;
  }
  Result<HttpResponse> ok = Send("GET", "/hello?q=" + std::string(8000, 'a'));
  ASSERT_OK(ok.status());
  EXPECT_EQ(ok->status, 200);
}

TEST_F(ServerTest, ARepeatedQueryParameterIs400) {
  StartServer();
  Result<HttpResponse> r = Send("GET", "/hello?q=a&q=b");
  ASSERT_OK(r.status());
  EXPECT_EQ(r->status, 400);
  EXPECT_THAT(r->body, HasSubstr("given twice"));
}

TEST_F(ServerTest, AnErrorBodyIsValidJsonWhateverTheInputBytes) {
  StartServer();
  RawConnection c(server_->port());
  c.Send("GET /hello?q=%FF%C3&q=2 HTTP/1.1\r\nHost: x\r\n\r\n");
  std::string reply = c.ReadUntil([](const std::string& s) { return Contains(s, "}"); });
  ASSERT_THAT(reply, StartsWith("HTTP/1.1 400"));
  boost::system::error_code ec;
  boost::json::parse(reply.substr(reply.find("\r\n\r\n") + 4), ec);
  EXPECT_FALSE(ec) << reply;
}

class ServerAuthTest : public ServerTest {
 protected:
  ServerAuthTest() {
    router_.Add({.method = "GET",
                 .pattern = "/health",
                 .name = "health",
                 .handler = [](const ApiRequest&) { return JsonResponse(200, "{}"); },
                 .access = Access::kOpen});
    router_.Add({.method = "POST",
                 .pattern = "/{topic}/{event}",
                 .name = "work",
                 .handler = [](const ApiRequest&) { return JsonResponse(200, "{}"); },
                 .access = Access::kWorker});
  }
  Result<HttpResponse> SendWith(std::string method, std::string_view path, std::string token) {
    return Send(std::move(method), path, "", {{"Authorization", "Bearer " + token}});
  }
  Authenticator auth_{{"api-secret"}, {"bus-secret"}};
};

TEST_F(ServerAuthTest, RoutesNeedTheRightToken) {
  StartServer({.auth = &auth_});
  Result<HttpResponse> none = Send("GET", "/hello");
  ASSERT_OK(none.status());
  EXPECT_EQ(none->status, 401);
  EXPECT_EQ(none->Header("www-authenticate"), R"(Bearer realm="vpcflow-digesterd")");
  EXPECT_THAT(none->body, HasSubstr("\"message\""));
  Result<HttpResponse> wrong = SendWith("GET", "/hello", "nope");
  ASSERT_OK(wrong.status());
  EXPECT_EQ(wrong->status, 401);
  EXPECT_THAT(wrong->Header("www-authenticate"), HasSubstr("invalid_token"));
  EXPECT_EQ(SendWith("GET", "/hello", "bus-secret")->status, 401);  // a worker token
  EXPECT_EQ(SendWith("GET", "/hello", "api-secret")->status, 200);
  EXPECT_EQ(SendWith("HEAD", "/hello", "api-secret")->status, 200);
  EXPECT_EQ(SendWith("POST", "/t/e", "bus-secret")->status, 200);
  EXPECT_EQ(SendWith("POST", "/t/e", "api-secret")->status, 200);
  EXPECT_EQ(Send("POST", "/t/e")->status, 401);
  EXPECT_EQ(Send("GET", "/health")->status, 200);
  // Which paths exist is only told to a caller with a token.
  EXPECT_EQ(Send("GET", "/nope")->status, 401);
  EXPECT_EQ(SendWith("GET", "/nope", "api-secret")->status, 404);
  ASSERT_TRUE(server_->WaitIdle(5000));
  for (const LoggedEvent& e : logger_.events()) {
    for (const auto& [key, value] : e.fields) {
      EXPECT_EQ(value.find("secret"), std::string::npos) << e.event << " " << key;
    }
  }
}

class ServerTlsTest : public ServerTest {
 protected:
  void SetUp() override {
    Result<SelfSignedCert> cert = MakeSelfSignedCert(dir_.path());
    ASSERT_OK(cert.status());
    cert_ = *cert;
  }
  Result<HttpResponse> SendHttps(HttpClient& client, std::string_view path) {
    return client.Send(
        {.method = "GET",
         .url = "https://127.0.0.1:" + std::to_string(server_->port()) + std::string(path),
         .timeout_ms = 10000});
  }
  ScratchDir dir_;
  SelfSignedCert cert_;
};

TEST_F(ServerTlsTest, ServesHttpsVerifiedWithTheCaFileAndRefusedWithout) {
  StartServer({.tls_cert_file = cert_.cert_file, .tls_key_file = cert_.key_file});
  HttpClientPtr trusting = NewCurlHttpClient({.ca_file = cert_.cert_file});
  Result<HttpResponse> r = SendHttps(*trusting, "/hello?q=tls");
  ASSERT_OK(r.status());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, R"({"q":"tls"})");
  Result<HttpResponse> big = SendHttps(*trusting, "/big");
  ASSERT_OK(big.status());
  EXPECT_TRUE(big->body == big_);
  // The system's CAs do not know this certificate.
  EXPECT_THAT(SendHttps(*client_, "/hello").status(),
              StatusIs(StatusCode::kUnavailable, HasSubstr("certificate")));
  // Plain HTTP on the TLS port gets no answer.
  Result<HttpResponse> plain = Send("GET", "/hello");
  EXPECT_FALSE(plain.ok() && plain->status == 200);
}

TEST_F(ServerTlsTest, RefusesMissingOrMismatchedFiles) {
  ServerOptions options{.address = "127.0.0.1", .port = 0};
  options.tls_cert_file = cert_.cert_file;
  HttpServer only_cert(options, &router_, &logger_, &stats_, &clock_);
  EXPECT_THAT(only_cert.Start(), StatusIs(StatusCode::kInvalidArgument, HasSubstr("both")));
  options.tls_key_file = dir_.Sub("missing.key");
  HttpServer missing(options, &router_, &logger_, &stats_, &clock_);
  EXPECT_THAT(missing.Start(), StatusIs(StatusCode::kInvalidArgument, HasSubstr("missing.key")));
  Result<SelfSignedCert> other = MakeSelfSignedCert(dir_.path(), "other");
  ASSERT_OK(other.status());
  options.tls_key_file = other->key_file;
  HttpServer mismatched(options, &router_, &logger_, &stats_, &clock_);
  EXPECT_THAT(mismatched.Start(), StatusIs(StatusCode::kInvalidArgument, HasSubstr("other.key")));
}

TEST_F(ServerTest, StopAcceptingThenWaitIdleThenStop) {
  StartServer();
  RawConnection idle(server_->port());  // an idle keep-alive connection does not block Stop
  ASSERT_OK(Send("GET", "/hello").status());
  server_->StopAccepting();
  EXPECT_FALSE(RawConnection(server_->port()).connected());
  // A kept-alive connection gets its answer, and is closed after it.
  Result<HttpResponse> last = Send("GET", "/hello");
  ASSERT_OK(last.status());
  EXPECT_EQ(last->status, 200);
  EXPECT_EQ(last->Header("connection"), "close");
  EXPECT_TRUE(server_->WaitIdle(5000));
  server_->Stop();
  server_->Stop();
}

TEST_F(ServerTest, ReportsAnAddressInUseAndABadAddress) {
  StartServer();
  HttpServer second({.address = "127.0.0.1", .port = server_->port()}, &router_, &logger_, &stats_,
                    &clock_);
  EXPECT_THAT(second.Start(), StatusIs(StatusCode::kUnavailable, HasSubstr("cannot listen")));
  HttpServer bad({.address = "not-an-address", .port = 0}, &router_, &logger_, &stats_, &clock_);
  EXPECT_THAT(bad.Start(), StatusIs(StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace vpcflow
