// The only translation unit that includes Beast and Asio (they are slow to compile).
//
// One coroutine per connection, on its own strand; the tcp_stream's timer enforces the read
// and write timeouts. Blocking routes run on a detached thread of their own and hand their
// response back to the connection's strand, so a long job never holds an I/O thread.
#include "api/server.hpp"

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <condition_variable>
#include <future>
#include <mutex>
#include <thread>
#include <tuple>
#include <vector>

namespace vpcflow {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using asio::awaitable;
constexpr auto kTupleAwaitable = asio::as_tuple(asio::use_awaitable);
constexpr size_t kChunkBytes = 64 * 1024;

namespace {

// A response body read from an ObjectReader chunk by chunk while it is serialised.
struct ReaderBody {
  struct value_type {
    ObjectReader* reader = nullptr;
    std::unique_ptr<char[]> chunk;
    uint64_t bytes = 0;  // body bytes handed to the serializer
    Status error;        // the reader's failure, when the body ends early
  };

  class writer {
   public:
    using const_buffers_type = asio::const_buffer;

    template <bool kIsRequest, class Fields>
    writer(const http::header<kIsRequest, Fields>&, value_type& body) : body_(body) {}

    void init(beast::error_code& ec) {
      if (!body_.chunk) body_.chunk = std::make_unique<char[]>(kChunkBytes);
      ec = {};
    }

    boost::optional<std::pair<const_buffers_type, bool>> get(beast::error_code& ec) {
      Result<size_t> n = body_.reader->Read(std::span<char>(body_.chunk.get(), kChunkBytes));
      if (!n.ok()) {
        body_.error = n.status();
        ec = asio::error::make_error_code(asio::error::broken_pipe);
        return boost::none;
      }
      ec = {};
      if (*n == 0) return boost::none;
      body_.bytes += *n;
      return {{const_buffers_type(body_.chunk.get(), *n), true}};
    }

   private:
    value_type& body_;
  };
};

bool IsQuietEnd(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == beast::error::timeout ||
         ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
         ec == asio::error::eof || ec == http::error::partial_message;
}

// The HTTP status to answer a request that could not be read, or 0 to just close.
int StatusForReadError(const beast::error_code& ec) {
  if (ec == http::error::header_limit) return 431;
  if (ec == http::error::body_limit) return 413;
  if (IsQuietEnd(ec)) return 0;
  if (ec.category() == http::make_error_code(http::error::bad_method).category()) return 400;
  return 0;
}

template <class Body>
void SetHeaders(http::response<Body>& res, const ApiResponse& response, bool keep_alive) {
  res.set(http::field::server, "vpcflow-digesterd");
  if (!response.content_type.empty()) res.set(http::field::content_type, response.content_type);
  for (const auto& [name, value] : response.headers) res.set(name, value);
  res.keep_alive(keep_alive);
}

}  // namespace

class HttpServer::Impl {
 public:
  Impl(ServerOptions options, const Router* router, Logger* logger, Stats* stats, Clock* clock)
      : options_(std::move(options)),
        router_(router),
        logger_(logger),
        stats_(stats),
        clock_(clock),
        accept_strand_(asio::make_strand(ioc_)),
        acceptor_(ioc_) {}

  ~Impl() { Stop(); }

  Status Start() {
    beast::error_code ec;
    asio::ip::address address = asio::ip::make_address(options_.address, ec);
    if (ec) return InvalidArgumentError("bad listen address \"" + options_.address + "\"");
    if (options_.port < 0 || options_.port > 65535) {
      return InvalidArgumentError("bad port " + std::to_string(options_.port));
    }
    const tcp::endpoint endpoint(address, static_cast<uint16_t>(options_.port));
    const std::string where = options_.address + ":" + std::to_string(options_.port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return UnavailableError("cannot listen on " + where + ": " + ec.message());
    port_ = acceptor_.local_endpoint().port();
    asio::co_spawn(accept_strand_, Accept(),
                   [this](std::exception_ptr e) { LogEscaped(e, "accept"); });
    const int threads = std::max(1, options_.threads);
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { ioc_.run(); });
    return OkStatus();
  }

  int port() const { return port_; }

  void StopAccepting() {
    stopping_ = true;
    if (threads_.empty() || accept_closed_.exchange(true)) return;
    std::promise<void> closed;
    asio::post(accept_strand_, [this, &closed] {  // where Accept() uses the acceptor
      beast::error_code ec;
      acceptor_.close(ec);
      closed.set_value();
    });
    closed.get_future().wait();
  }

  bool WaitIdle(int64_t timeout_ms) {
    std::unique_lock lock(mu_);
    return idle_.wait_for(lock, std::chrono::milliseconds(std::max<int64_t>(0, timeout_ms)),
                          [this] { return in_flight_ == 0; });
  }

  void Stop() {
    if (stopped_.exchange(true)) return;
    StopAccepting();
    {
      // Blocking handlers post their result to the I/O context: it must outlive them.
      std::unique_lock lock(mu_);
      idle_.wait(lock, [this] { return blocking_ == 0; });
    }
    ioc_.stop();
    for (std::thread& t : threads_) t.join();
    threads_.clear();
  }

 private:
  // GCC 12 note: values that live across a co_await are plain locals here, never structured
  // bindings or if-statement declarations, which that compiler does not always keep in the
  // coroutine frame.
  awaitable<void> Accept() {
    for (;;) {
      std::tuple<beast::error_code, tcp::socket> accepted =
          co_await acceptor_.async_accept(asio::make_strand(ioc_), kTupleAwaitable);
      const beast::error_code ec = std::get<0>(accepted);
      if (ec) {
        if (!acceptor_.is_open() || ec == asio::error::operation_aborted) co_return;
        logger_->Log(LogLevel::kWarn, "accept-failed", {{"reason", ec.message()}});
        continue;
      }
      tcp::socket socket = std::move(std::get<1>(accepted));
      auto executor = socket.get_executor();
      asio::co_spawn(executor, Session(std::move(socket)),
                     [this](std::exception_ptr e) { LogEscaped(e, "session"); });
    }
  }

  void LogEscaped(std::exception_ptr e, std::string_view where) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      logger_->Log(LogLevel::kError, "unknown-failure", {{"where", where}, {"reason", ex.what()}});
    } catch (...) {
      logger_->Log(LogLevel::kError, "unknown-failure", {{"where", where}});
    }
  }

  void ChangeInFlight(int delta) {
    std::lock_guard lock(mu_);
    in_flight_ += delta;
    if (in_flight_ == 0) idle_.notify_all();
  }

  // Reads one request (header, then the body after a 100 Continue when asked for one).
  awaitable<beast::error_code> ReadRequest(beast::tcp_stream& stream, beast::flat_buffer& buffer,
                                           http::request_parser<http::string_body>& parser) {
    stream.expires_after(std::chrono::milliseconds(options_.request_timeout_ms));
    std::tuple<beast::error_code, size_t> r =
        co_await http::async_read_header(stream, buffer, parser, kTupleAwaitable);
    if (std::get<0>(r) || parser.is_done()) co_return std::get<0>(r);
    if (parser.get()[http::field::expect] == "100-continue") {
      http::response<http::empty_body> go_on{http::status::continue_, parser.get().version()};
      r = co_await http::async_write(stream, go_on, kTupleAwaitable);
      if (std::get<0>(r)) co_return std::get<0>(r);
    }
    r = co_await http::async_read(stream, buffer, parser, kTupleAwaitable);
    co_return std::get<0>(r);
  }

  // Routes `request` and runs an inline handler. Sets *blocking instead when the route must
  // run on a thread of its own.
  ApiResponse Resolve(ApiRequest& request, std::string_view* route_name, const Route** blocking) {
    if (Status st = ParseTarget(request.target, &request.path, &request.query); !st.ok()) {
      return JsonError(400, st.message());
    }
    RouteMatch match = router_->Find(request.method, request.path);
    if (match.route == nullptr) return NoRouteResponse(match);
    *route_name = match.route->name;
    request.path_params = std::move(match.path_params);
    if (match.route->dispatch == Dispatch::kBlocking) {
      *blocking = match.route;
      return ApiResponse{};
    }
    return router_->Call(*match.route, request);
  }

  awaitable<void> Session(tcp::socket socket) {
    beast::tcp_stream stream(std::move(socket));
    beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<uint32_t>(options_.max_header_bytes));
      parser.body_limit(options_.max_body_bytes);
      const beast::error_code ec = co_await ReadRequest(stream, buffer, parser);
      const int64_t t0 = clock_->MonotonicMillis();
      uint64_t bytes = 0;
      if (ec) {
        const int status = StatusForReadError(ec);
        if (status != 0) {
          ApiResponse response = JsonError(status, "cannot read the request: " + ec.message());
          ChangeInFlight(1);
          co_await Write(stream, response, 11, false, &bytes);
          Record("-", "-", "-", status, t0, bytes);
          ChangeInFlight(-1);
        }
        break;
      }
      ChangeInFlight(1);
      http::request<http::string_body> req = parser.release();
      ApiRequest request;
      request.method = std::string(req.method_string());
      request.target = std::string(req.target());
      request.content_type = std::string(req[http::field::content_type]);
      request.body = std::move(req.body());
      std::string_view route_name = "-";
      const Route* blocking = nullptr;
      ApiResponse response = Resolve(request, &route_name, &blocking);
      const std::string method = request.method;
      const std::string path = request.path;
      if (blocking != nullptr) response = co_await CallBlocking(blocking, std::move(request));
      const bool keep_alive = req.keep_alive() && !stopping_;
      const bool written = co_await Write(stream, response, req.version(), keep_alive, &bytes);
      Record(method, path, route_name, response.status, t0, bytes);
      ChangeInFlight(-1);
      if (!written || !keep_alive) break;
    }
    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  // Runs a blocking route on a thread of its own and resumes on this connection's strand. The
  // thread hands the response back by cancelling a timer the coroutine waits on (both on the
  // strand, so the `ready` check before waiting cannot race with the cancel).
  awaitable<ApiResponse> CallBlocking(const Route* route, ApiRequest request) {
    if (!TakeBlockingSlot()) co_return JsonError(503, "too many requests in progress");
    struct Handoff {
      explicit Handoff(const asio::any_io_executor& executor) : timer(executor) {}
      asio::steady_timer timer;
      ApiResponse response;
      bool ready = false;
    };
    auto handoff = std::make_shared<Handoff>(co_await asio::this_coro::executor);
    handoff->timer.expires_at(asio::steady_timer::time_point::max());
    auto work = [this, route, handoff, request = std::move(request)] {
      handoff->response = router_->Call(*route, request);
      asio::post(handoff->timer.get_executor(), [handoff] {
        handoff->ready = true;
        handoff->timer.cancel();
      });
      std::lock_guard lock(mu_);
      --blocking_;
      idle_.notify_all();
    };
    try {
      std::thread(std::move(work)).detach();
    } catch (const std::system_error&) {
      std::lock_guard lock(mu_);
      --blocking_;
      idle_.notify_all();
    }
    if (handoff.use_count() == 1) co_return JsonError(503, "cannot start a thread for the request");
    if (!handoff->ready) co_await handoff->timer.async_wait(kTupleAwaitable);
    co_return std::move(handoff->response);
  }

  bool TakeBlockingSlot() {
    std::lock_guard lock(mu_);
    if (blocking_ >= options_.max_blocking_requests) return false;
    ++blocking_;
    return true;
  }

  // Writes `response`; false when the connection must be dropped (write failed or timed out,
  // or a streamed body failed half-way).
  awaitable<bool> Write(beast::tcp_stream& stream, ApiResponse& response, unsigned version,
                        bool keep_alive, uint64_t* bytes) {
    const auto timeout = std::chrono::milliseconds(options_.request_timeout_ms);
    const auto status = static_cast<http::status>(response.status);
    if (!response.stream) {
      http::response<http::string_body> res{status, version};
      SetHeaders(res, response, keep_alive);
      res.body() = std::move(response.body);
      res.prepare_payload();
      *bytes = res.body().size();
      stream.expires_after(timeout);
      std::tuple<beast::error_code, size_t> r =
          co_await http::async_write(stream, res, kTupleAwaitable);
      co_return !std::get<0>(r);
    }
    http::response<ReaderBody> res{status, version};
    SetHeaders(res, response, keep_alive);
    if (response.stream_size >= 0) {
      res.content_length(static_cast<uint64_t>(response.stream_size));
    } else {
      res.chunked(true);
    }
    res.body().reader = response.stream.get();
    http::response_serializer<ReaderBody> serializer{res};
    while (!serializer.is_done()) {
      // Reset per write: the timeout bounds a stalled client, not a large body.
      stream.expires_after(timeout);
      std::tuple<beast::error_code, size_t> r =
          co_await http::async_write_some(stream, serializer, kTupleAwaitable);
      if (std::get<0>(r)) {
        *bytes = res.body().bytes;
        if (!res.body().error.ok()) {
          logger_->Log(LogLevel::kError, "dependency-failure",
                       {{"dependency", "storage"}, {"reason", res.body().error.ToString()}});
        }
        co_return false;
      }
    }
    *bytes = res.body().bytes;
    co_return true;
  }

  void Record(std::string_view method, std::string_view path, std::string_view route, int status,
              int64_t t0, uint64_t bytes) {
    const double ms = static_cast<double>(clock_->MonotonicMillis() - t0);
    const std::string code = std::to_string(status);
    logger_->Log(LogLevel::kInfo, "request",
                 {{"method", method},
                  {"path", path},
                  {"route", route},
                  {"status", status},
                  {"duration_ms", ms},
                  {"bytes", bytes}});
    stats_->Count("http_requests", 1, {{"route", route}, {"status", code}});
    stats_->Timing("http_request_ms", ms, {{"route", route}});
  }

  ServerOptions options_;
  const Router* router_;
  Logger* logger_;
  Stats* stats_;
  Clock* clock_;
  asio::io_context ioc_;
  asio::strand<asio::io_context::executor_type> accept_strand_;
  tcp::acceptor acceptor_;
  std::vector<std::thread> threads_;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> accept_closed_{false};
  std::atomic<bool> stopped_{false};
  std::mutex mu_;
  std::condition_variable idle_;
  int in_flight_ = 0;  // requests read and not yet answered
  int blocking_ = 0;   // blocking handlers running on their own threads
};

HttpServer::HttpServer(ServerOptions options, const Router* router, Logger* logger, Stats* stats,
                       Clock* clock)
    : impl_(std::make_unique<Impl>(std::move(options), router, logger, stats, clock)) {}
HttpServer::~HttpServer() = default;
Status HttpServer::Start() { return impl_->Start(); }
int HttpServer::port() const { return impl_->port(); }
void HttpServer::StopAccepting() { impl_->StopAccepting(); }
bool HttpServer::WaitIdle(int64_t timeout_ms) { return impl_->WaitIdle(timeout_ms); }
void HttpServer::Stop() { impl_->Stop(); }

}  // namespace vpcflow
