#pragma once
/// HttpServer: HTTP/1.1 over TCP (Boost.Beast), serving a Router.
///
/// Per connection: keep-alive; a request must arrive (header and body) within
/// `request_timeout_ms` and each write of the response must progress within it too; a header
/// larger than `max_header_bytes` is answered 431, a body larger than `max_body_bytes` 413, an
/// unparsable request 400, each then closing the connection. Inline routes run on the I/O
/// threads; blocking routes on a thread of their own (at most `max_blocking_requests` at once,
/// beyond that 503). Streamed bodies are read in 64 KiB chunks while they are written. One
/// `request` log event (method, path, route, status, duration_ms, bytes) and the
/// `http_requests` / `http_request_ms` stats per request.
///
/// Thread safety: Start once; StopAccepting, WaitIdle and Stop may be called from any thread
/// (not from a handler). The destructor stops the server.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "api/router.hpp"
#include "vpcflow/clock.hpp"
#include "vpcflow/logger.hpp"
#include "vpcflow/stats.hpp"
#include "vpcflow/status.hpp"

namespace vpcflow {

struct ServerOptions {
  std::string address = "0.0.0.0";  ///< IPv4 or IPv6 literal to listen on
  int port = 8080;                  ///< 0 = any free port (see HttpServer::port)
  int threads = 2;                  ///< I/O threads
  int64_t request_timeout_ms = 30000;
  size_t max_header_bytes = 16 * 1024;
  size_t max_body_bytes = 64 * 1024;
  int max_blocking_requests = 256;
};

class HttpServer {
 public:
  /// `router`, `logger`, `stats` and `clock` are not owned and must outlive the server.
  HttpServer(ServerOptions options, const Router* router, Logger* logger, Stats* stats,
             Clock* clock);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /// Binds and starts the I/O threads. Returns InvalidArgument for a bad address and
  /// Unavailable naming the address when it cannot listen (port in use, no permission).
  [[nodiscard]] Status Start();
  /// The bound port (after Start).
  int port() const;
  /// Closes the listening socket. Requests in progress continue; their connections close after
  /// the response (no more keep-alive).
  void StopAccepting();
  /// Waits until no request is being handled, written or logged, at most `timeout_ms`.
  /// Returns true when idle.
  bool WaitIdle(int64_t timeout_ms);
  /// Closes every connection and joins the threads. Idempotent.
  void Stop();

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace vpcflow
