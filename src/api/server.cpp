// The only translation unit that includes Beast and Asio (they are slow to compile).
//
// One coroutine per connection, on its own strand; the tcp_stream's timer enforces the read
// and write timeouts. Work that may block runs on the BlockingPool and hands its result back to
// the connection's strand through a Handoff, so no I/O thread ever waits on a store or a job.
#include "api/server.hpp"

#include <openssl/ssl.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <condition_variable>
#include <future>
#include <mutex>
#include <optional>
#include <thread>
#include <tuple>
#include <vector>

#include "api/blocking_pool.hpp"

namespace vpcflow {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using asio::awaitable;
constexpr auto kTupleAwaitable = asio::as_tuple(asio::use_awaitable);
constexpr size_t kChunkBytes = size_t{256} * 1024;
constexpr int64_t kAcceptBackoffFirstMs = 50;
constexpr int64_t kAcceptBackoffMaxMs = 500;
constexpr int64_t kAcceptLogEveryMs = 1000;
constexpr auto kTlsShutdownTimeout = std::chrono::seconds(2);

namespace {

// Counts the handoffs whose value has not been posted yet: the I/O context must live until
// every one of them is.
class PendingCount {
 public:
  void Add() {
    std::lock_guard lock(mu_);
    ++n_;
  }
  void Done() {
    std::lock_guard lock(mu_);
    if (--n_ == 0) zero_.notify_all();
  }
  void WaitZero() {
    std::unique_lock lock(mu_);
    zero_.wait(lock, [this] { return n_ == 0; });
  }

 private:
  std::mutex mu_;
  std::condition_variable zero_;
  int n_ = 0;
};

// One value handed from any thread to a coroutine on a connection's strand. The coroutine
// waits on `timer`; the value is posted to the strand, which cancels it. Both run on the
// strand, so checking `value` before waiting cannot race with the cancel.
template <class T>
struct HandoffState {
  explicit HandoffState(const asio::any_io_executor& executor) : timer(executor) {}
  asio::steady_timer timer;
  std::optional<T> value;
};

// Gives the value (once; later calls do nothing). Every copy shares one slot, and giving drops
// the slot's hold on the state: what refers to the I/O context is gone once the value is
// posted, even while copies of the giver live on (a job's callback list). A giver dropped
// without giving gives `fallback`.
template <class T>
class Giver {
 public:
  Giver(std::shared_ptr<HandoffState<T>> state, T fallback, PendingCount* pending)
      : slot_(std::make_shared<Slot>(std::move(state), std::move(fallback), pending)) {}
  void operator()(T value) const { slot_->Give(std::move(value)); }

 private:
  struct Slot {
    Slot(std::shared_ptr<HandoffState<T>> s, T f, PendingCount* p)
        : state(std::move(s)), fallback(std::move(f)), pending(p) {
      pending->Add();
    }
    // Only running out of memory (posting the value) can throw here, and then terminating
    // beats a request that never gets its answer.
    // NOLINTNEXTLINE(bugprone-exception-escape)
    ~Slot() { Give(std::move(fallback)); }
    void Give(T value) {
      std::shared_ptr<HandoffState<T>> taken;
      {
        std::lock_guard lock(mu);
        taken.swap(state);
      }
      if (!taken) return;
      {
        asio::any_io_executor executor = taken->timer.get_executor();
        asio::post(executor, [taken = std::move(taken), value = std::move(value)]() mutable {
          taken->value = std::move(value);
          taken->timer.cancel();
        });
      }
      pending->Done();
    }
    std::mutex mu;
    std::shared_ptr<HandoffState<T>> state;
    T fallback;
    PendingCount* pending;
  };
  std::shared_ptr<Slot> slot_;
};

// Starts a handoff on `executor` (the connection's strand): `start` gets the giver and must
// make sure it is called (or dropped). The coroutine then waits with:
//   if (!state->value) co_await state->timer.async_wait(kTupleAwaitable);
// (written out where needed: GCC 12 mishandles temporaries of a nested coroutine's call).
template <class T, class Start>
std::shared_ptr<HandoffState<T>> BeginHandoff(const asio::any_io_executor& executor, Start start,
                                              T fallback, PendingCount* pending) {
  auto state = std::make_shared<HandoffState<T>>(executor);
  state->timer.expires_at(asio::steady_timer::time_point::max());
  start(Giver<T>(state, std::move(fallback), pending));
  return state;
}

// One chunk of a streamed body, read on a blocking thread.
struct ChunkRead {
  Status status;
  size_t bytes = 0;
};

bool IsQuietEnd(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == beast::error::timeout ||
         ec == asio::error::operation_aborted || ec == asio::error::connection_reset ||
         ec == asio::error::eof || ec == http::error::partial_message ||
         ec == ssl::error::stream_truncated;
}

// The length of the request target at the start of `head` (the bytes of a request line, maybe
// cut short), or 0 when the method does not end within it.
size_t TargetLength(std::string_view head) {
  const size_t begin = head.find(' ');
  if (begin == std::string_view::npos) return 0;
  const size_t end = head.find_first_of(" \r\n", begin + 1);
  return (end == std::string_view::npos ? head.size() : end) - begin - 1;
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
        acceptor_(ioc_),
        blocking_pool_(options_.max_blocking_requests) {}

  // Only a failed join can throw in Stop (a bug), and then terminating beats destroying the
  // I/O context under threads that still run.
  // NOLINTNEXTLINE(bugprone-exception-escape)
  ~Impl() { Stop(); }

  Status Start() {
    beast::error_code ec;
    asio::ip::address address = asio::ip::make_address(options_.address, ec);
    if (ec) return InvalidArgumentError("bad listen address \"" + options_.address + "\"");
    if (options_.port < 0 || options_.port > 65535) {
      return InvalidArgumentError("bad port " + std::to_string(options_.port));
    }
    VPCFLOW_RETURN_IF_ERROR(LoadTls());
    const tcp::endpoint endpoint(address, static_cast<uint16_t>(options_.port));
    const std::string where = options_.address + ":" + std::to_string(options_.port);
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return UnavailableError("cannot listen on " + where + ": " + ec.message());
    port_ = acceptor_.local_endpoint().port();
    asio::co_spawn(accept_strand_, Accept(),
                   [this](const std::exception_ptr& e) { LogEscaped(e, "accept"); });
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
    // Handoffs post their value to the I/O context: it must outlive them. One started by a
    // connection while the threads stop is waited for after they stopped.
    pending_.WaitZero();
    ioc_.stop();
    for (std::thread& t : threads_) t.join();
    threads_.clear();
    pending_.WaitZero();
  }

 private:
  Status LoadTls() {
    const std::string& cert = options_.tls_cert_file;
    const std::string& key = options_.tls_key_file;
    if (cert.empty() && key.empty()) return OkStatus();
    if (cert.empty() || key.empty()) {
      return InvalidArgumentError("TLS needs both a certificate file and a key file");
    }
    tls_.emplace(ssl::context::tls_server);
    tls_->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                      ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                      ssl::context::single_dh_use);
    SSL_CTX_set_min_proto_version(tls_->native_handle(), TLS1_2_VERSION);
    beast::error_code ec;
    tls_->use_certificate_chain_file(cert, ec);
    if (ec) {
      return InvalidArgumentError("TLS certificate file \"" + cert + "\": " + ec.message());
    }
    tls_->use_private_key_file(key, ssl::context::pem, ec);
    if (ec) return InvalidArgumentError("TLS key file \"" + key + "\": " + ec.message());
    if (SSL_CTX_check_private_key(tls_->native_handle()) != 1) {
      return InvalidArgumentError("TLS key file \"" + key + "\" is not the key of \"" + cert +
                                  "\"");
    }
    return OkStatus();
  }

  // GCC 12 note: values that live across a co_await are plain locals here, never structured
  // bindings or if-statement declarations, which that compiler does not always keep in the
  // coroutine frame.
  awaitable<void> Accept() {
    asio::steady_timer backoff_timer(accept_strand_);
    int64_t backoff_ms = 0;
    int64_t errors = 0;  // since the last accept-failed line
    int64_t last_line_ms = 0;
    bool logged = false;
    for (;;) {
      std::tuple<beast::error_code, tcp::socket> accepted =
          co_await acceptor_.async_accept(asio::make_strand(ioc_), kTupleAwaitable);
      const beast::error_code ec = std::get<0>(accepted);
      if (!ec) {
        backoff_ms = 0;
        tcp::socket socket = std::move(std::get<1>(accepted));
        auto executor = socket.get_executor();
        asio::co_spawn(executor, Session(std::move(socket)),
                       [this](const std::exception_ptr& e) { LogEscaped(e, "session"); });
        continue;
      }
      if (!acceptor_.is_open() || ec == asio::error::operation_aborted) co_return;
      if (ec == asio::error::connection_aborted) continue;  // the client left: nothing wrong
      // Out of descriptors (or memory) the next accept fails the same way at once: retrying
      // without a pause spins a core and floods the log.
      ++errors;
      backoff_ms =
          backoff_ms == 0 ? kAcceptBackoffFirstMs : std::min(backoff_ms * 2, kAcceptBackoffMaxMs);
      const int64_t now = clock_->MonotonicMillis();
      if (!logged || now - last_line_ms >= kAcceptLogEveryMs) {
        logger_->Log(LogLevel::kWarn, "accept-failed",
                     {{"reason", ec.message()}, {"errors", errors}, {"retry_ms", backoff_ms}});
        logged = true;
        last_line_ms = now;
        errors = 0;
      }
      backoff_timer.expires_after(std::chrono::milliseconds(backoff_ms));
      co_await backoff_timer.async_wait(kTupleAwaitable);
    }
  }

  void LogEscaped(const std::exception_ptr& e, std::string_view where) {
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

  awaitable<void> Session(tcp::socket socket) {
    const auto timeout = std::chrono::milliseconds(options_.request_timeout_ms);
    beast::tcp_stream tcp_stream(std::move(socket));
    if (!tls_) {
      co_await Serve(tcp_stream);
      beast::error_code ignored;
      tcp_stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
      co_return;
    }
    beast::ssl_stream<beast::tcp_stream> stream(std::move(tcp_stream), *tls_);
    beast::get_lowest_layer(stream).expires_after(timeout);
    std::tuple<beast::error_code> handshake =
        co_await stream.async_handshake(ssl::stream_base::server, kTupleAwaitable);
    if (std::get<0>(handshake)) {
      logger_->Log(LogLevel::kDebug, "tls-handshake-failed",
                   {{"reason", std::get<0>(handshake).message()}});
      co_return;
    }
    co_await Serve(stream);
    // close_notify, then wait briefly for the client's (many never send one).
    beast::get_lowest_layer(stream).expires_after(kTlsShutdownTimeout);
    co_await stream.async_shutdown(kTupleAwaitable);
  }

  // Reads one request (header, then the body after a 100 Continue when asked for one).
  template <class Stream>
  awaitable<beast::error_code> ReadRequest(Stream& stream, beast::flat_buffer& buffer,
                                           http::request_parser<http::string_body>& parser) {
    beast::get_lowest_layer(stream).expires_after(
        std::chrono::milliseconds(options_.request_timeout_ms));
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

  // The HTTP status to answer a request that could not be read, or 0 to just close.
  int StatusForReadError(const beast::error_code& ec, const beast::flat_buffer& buffer) const {
    if (ec == http::error::header_limit) {
      // The header is still in the buffer: tell an overlong URL from an overlong header.
      const auto data = buffer.data();
      const std::string_view head(static_cast<const char*>(data.data()), data.size());
      return TargetLength(head) > options_.max_target_bytes ? 414 : 431;
    }
    if (ec == http::error::body_limit) return 413;
    if (IsQuietEnd(ec)) return 0;
    if (ec.category() == http::make_error_code(http::error::bad_method).category()) return 400;
    return 0;
  }

  // Routes and authenticates `request`; runs an inline handler. Sets *deferred instead when
  // the route runs elsewhere (blocking or asynchronous).
  ApiResponse Resolve(ApiRequest& request, std::string_view authorization,
                      std::string_view* route_name, const Route** deferred) {
    if (request.target.size() > options_.max_target_bytes) {
      return JsonError(414, "the request target is longer than " +
                                std::to_string(options_.max_target_bytes) + " bytes");
    }
    if (Status st = ParseTarget(request.target, &request.path, &request.query); !st.ok()) {
      return JsonError(400, st.message());
    }
    RouteMatch match = router_->Find(request.method, request.path);
    if (options_.auth != nullptr) {
      // Unknown paths need a token too: without one, nobody learns which paths exist.
      const Access access = match.route != nullptr ? match.route->access : Access::kApi;
      const AuthVerdict verdict = options_.auth->Check(access, authorization);
      if (verdict != AuthVerdict::kAllowed) return UnauthorizedResponse(verdict);
    }
    if (match.route == nullptr) return NoRouteResponse(match);
    *route_name = match.route->name;
    request.path_params = std::move(match.path_params);
    if (match.route->dispatch != Dispatch::kInline) {
      *deferred = match.route;
      return ApiResponse{};
    }
    return router_->Call(*match.route, request);
  }

  template <class Stream>
  awaitable<void> Serve(Stream& stream) {
    const asio::any_io_executor executor = co_await asio::this_coro::executor;
    beast::flat_buffer buffer;
    for (;;) {
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<uint32_t>(options_.max_header_bytes));
      parser.body_limit(options_.max_body_bytes);
      const beast::error_code ec = co_await ReadRequest(stream, buffer, parser);
      const int64_t t0 = clock_->MonotonicMillis();
      uint64_t bytes = 0;
      if (ec) {
        const int status = StatusForReadError(ec, buffer);
        if (status != 0) {
          ApiResponse response = JsonError(
              status, status == 414 ? "the request target is longer than " +
                                          std::to_string(options_.max_target_bytes) + " bytes"
                                    : "cannot read the request: " + ec.message());
          ChangeInFlight(1);
          co_await Write(stream, response, 11, false, false, &bytes);
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
      request.accept = std::string(req[http::field::accept]);
      request.body = std::move(req.body());
      std::string_view route_name = "-";
      const Route* deferred = nullptr;
      ApiResponse response =
          Resolve(request, req[http::field::authorization], &route_name, &deferred);
      const std::string method = request.method;
      const std::string path = request.path;
      if (deferred != nullptr) {
        std::shared_ptr<HandoffState<ApiResponse>> answer =
            CallDeferred(executor, deferred, request);
        if (!answer->value) co_await answer->timer.async_wait(kTupleAwaitable);
        response = std::move(*answer->value);
      }
      const bool keep_alive = req.keep_alive() && !stopping_;
      const bool head = req.method() == http::verb::head;
      const bool written =
          co_await Write(stream, response, req.version(), keep_alive, head, &bytes);
      Record(method, path, route_name, response.status, t0, bytes);
      ChangeInFlight(-1);
      if (!written || !keep_alive) break;
    }
  }

  // Runs a blocking route on the BlockingPool, or an asynchronous one here; the answer comes
  // through the returned handoff, without holding this thread.
  std::shared_ptr<HandoffState<ApiResponse>> CallDeferred(const asio::any_io_executor& executor,
                                                          const Route* route, ApiRequest& request) {
    ApiResponse dropped = JsonError(500, "internal error: the request was not answered");
    if (route->dispatch == Dispatch::kAsync) {
      return BeginHandoff(
          executor,
          [this, route, &request](const Giver<ApiResponse>& give) {
            router_->CallAsync(*route, request, [give](ApiResponse r) { give(std::move(r)); });
          },
          std::move(dropped), &pending_);
    }
    if (!TakeBlockingSlot()) {
      return BeginHandoff(
          executor,
          [](const Giver<ApiResponse>& give) {
            give(BusyResponse("too many requests in progress"));
          },
          std::move(dropped), &pending_);
    }
    return BeginHandoff(
        executor,
        [this, route, &request](const Giver<ApiResponse>& give) {
          blocking_pool_.Run([this, route, request = std::move(request), give] {
            ApiResponse response = router_->Call(*route, request);
            ReleaseBlockingSlot();
            give(std::move(response));
          });
        },
        std::move(dropped), &pending_);
  }

  bool TakeBlockingSlot() {
    std::lock_guard lock(mu_);
    if (blocking_ >= options_.max_blocking_requests) return false;
    ++blocking_;
    return true;
  }

  void ReleaseBlockingSlot() {
    std::lock_guard lock(mu_);
    --blocking_;
  }

  // Reads the next chunk of `reader` on the BlockingPool.
  std::shared_ptr<HandoffState<ChunkRead>> StartRead(const asio::any_io_executor& executor,
                                                     ObjectReader* reader, std::span<char> into) {
    ChunkRead dropped{.status = InternalError("the read was dropped"), .bytes = 0};
    return BeginHandoff(
        executor,
        [this, reader, into](const Giver<ChunkRead>& give) {
          blocking_pool_.Run([reader, into, give] {
            Result<size_t> n = reader->Read(into);
            give(n.ok() ? ChunkRead{.status = OkStatus(), .bytes = *n}
                        : ChunkRead{.status = n.status(), .bytes = 0});
          });
        },
        std::move(dropped), &pending_);
  }

  // Writes `response` (only its header for HEAD); false when the connection must be dropped
  // (write failed or timed out, or a streamed body failed half-way).
  template <class Stream>
  awaitable<bool> Write(Stream& stream, ApiResponse& response, unsigned version, bool keep_alive,
                        bool head, uint64_t* bytes) {
    const auto timeout = std::chrono::milliseconds(options_.request_timeout_ms);
    auto& lowest = beast::get_lowest_layer(stream);
    const auto status = static_cast<http::status>(response.status);
    if (!response.stream && !(head && response.head_of_stream)) {
      http::response<http::string_body> res{status, version};
      SetHeaders(res, response, keep_alive);
      res.body() = std::move(response.body);
      res.prepare_payload();
      lowest.expires_after(timeout);
      std::tuple<beast::error_code, size_t> r;
      if (head) {
        http::response_serializer<http::string_body> serializer{res};
        r = co_await http::async_write_header(stream, serializer, kTupleAwaitable);
      } else {
        *bytes = res.body().size();
        r = co_await http::async_write(stream, res, kTupleAwaitable);
      }
      co_return !std::get<0>(r);
    }
    http::response<http::empty_body> res{status, version};
    SetHeaders(res, response, keep_alive);
    const bool sized = response.stream_size >= 0;
    if (sized) {
      res.content_length(static_cast<uint64_t>(response.stream_size));
    } else {
      res.chunked(true);
    }
    http::response_serializer<http::empty_body> serializer{res};
    lowest.expires_after(timeout);
    std::tuple<beast::error_code, size_t> r =
        co_await http::async_write_header(stream, serializer, kTupleAwaitable);
    if (std::get<0>(r)) co_return false;
    if (head) co_return true;
    const asio::any_io_executor executor = co_await asio::this_coro::executor;
    // Two buffers: the next chunk is read while this one is written.
    std::vector<char> buffers[2] = {std::vector<char>(kChunkBytes), std::vector<char>(kChunkBytes)};
    int current = 0;
    std::shared_ptr<HandoffState<ChunkRead>> reading =
        StartRead(executor, response.stream.get(), buffers[current]);
    for (;;) {
      if (!reading->value) co_await reading->timer.async_wait(kTupleAwaitable);
      const ChunkRead chunk = std::move(*reading->value);
      if (!chunk.status.ok()) {
        logger_->Log(LogLevel::kError, "dependency-failure",
                     {{"dependency", "storage"}, {"reason", chunk.status.ToString()}});
        co_return false;
      }
      if (chunk.bytes == 0) break;
      const asio::const_buffer data(buffers[current].data(), chunk.bytes);
      current = 1 - current;
      reading = StartRead(executor, response.stream.get(), buffers[current]);
      lowest.expires_after(timeout);  // per write: it bounds a stalled client, not a large body
      if (sized) {
        r = co_await asio::async_write(stream, data, kTupleAwaitable);
      } else {
        const auto chunk_buffers = http::make_chunk(data);
        r = co_await asio::async_write(stream, chunk_buffers, kTupleAwaitable);
      }
      if (std::get<0>(r)) {
        // The read writes into this frame's buffers: it must end before the frame does.
        if (!reading->value) co_await reading->timer.async_wait(kTupleAwaitable);
        co_return false;
      }
      *bytes += chunk.bytes;
    }
    if (sized) co_return *bytes == static_cast<uint64_t>(response.stream_size);
    lowest.expires_after(timeout);
    const auto last_chunk = http::make_chunk_last();
    r = co_await asio::async_write(stream, last_chunk, kTupleAwaitable);
    co_return !std::get<0>(r);
  }

  void Record(std::string_view method, std::string_view path, std::string_view route, int status,
              int64_t t0, uint64_t bytes) {
    const double ms = static_cast<double>(clock_->MonotonicMillis() - t0);
    const std::string code = std::to_string(status);
    logger_->Log(LogLevel::kDebug, "request",
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
  PendingCount pending_;  // before ioc_: handoffs post to it until the count is zero
  asio::io_context ioc_;
  asio::strand<asio::io_context::executor_type> accept_strand_;
  tcp::acceptor acceptor_;
  std::optional<ssl::context> tls_;
  std::vector<std::thread> threads_;
  int port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> accept_closed_{false};
  std::atomic<bool> stopped_{false};
  std::mutex mu_;
  std::condition_variable idle_;
  int in_flight_ = 0;           // requests read and not yet answered
  int blocking_ = 0;            // blocking handlers taken and not yet answered
  BlockingPool blocking_pool_;  // after ioc_: its threads are joined before the context goes
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
