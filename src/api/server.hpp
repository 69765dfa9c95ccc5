#pragma once
/// HttpServer: HTTP/1.1 over TCP, or over TLS 1.2+ when a certificate and key are given
/// (Boost.Beast over OpenSSL), serving a Router.
///
/// Per connection: keep-alive; a request must arrive (header and body) within
/// `request_timeout_ms` (the TLS handshake too) and each write of the response must progress
/// within it; a request target longer than `max_target_bytes` is answered 414, a header larger
/// than `max_header_bytes` 431, a body larger than `max_body_bytes` 413, an unparsable request
/// 400, each then closing the connection. A route the Authenticator refuses is answered 401
/// before its handler runs. HEAD is answered for every GET route: its headers, no body.
///
/// Where handlers run (Route::dispatch): inline ones on the I/O threads; blocking ones on a
/// BlockingPool thread (at most `max_blocking_requests` at once, beyond that 503 with
/// Retry-After); asynchronous ones start on the I/O thread and their answer is awaited without
/// holding any thread. Streamed bodies are read on BlockingPool threads too (a store read can
/// take long), 256 KiB at a time, and written while the next is read; so are they never read on
/// an I/O thread, and /healthz answers while downloads wait on a slow store.
///
/// The accept loop backs off when it cannot accept (descriptors exhausted: EMFILE, ENFILE):
/// 50 ms, doubling up to 500 ms, back to none after an accept succeeds; it logs
/// `accept-failed` (reason, errors since the last such line, retry_ms) at most once a second.
///
/// One `request` log event at debug level (method, path, route, status, duration_ms, bytes:
/// never the query or a header) and the `http_requests` / `http_request_ms` stats per request.
///
/// Thread safety: Start once; StopAccepting, WaitIdle and Stop may be called from any thread
/// (not from a handler). The destructor stops the server. Stop waits for every answer handed to
/// an asynchronous handler's responder: the handler's owner must make them come (the Service
/// shuts its worker pool down first).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "api/auth.hpp"
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
  size_t max_header_bytes = size_t{16} * 1024;
  size_t max_body_bytes = size_t{64} * 1024;
  size_t max_target_bytes = size_t{8} * 1024;  ///< the request target ("/path?query") at most
  int max_blocking_requests = 256;             ///< blocking handlers at once; also the most threads
  std::string tls_cert_file{};  ///< PEM certificate chain; with tls_key_file the port is HTTPS
  std::string tls_key_file{};   ///< PEM private key of that certificate
  const Authenticator* auth = nullptr;  ///< not owned; null = every route open
};

class HttpServer {
 public:
  /// `router`, `logger`, `stats` and `clock` are not owned and must outlive the server.
  HttpServer(ServerOptions options, const Router* router, Logger* logger, Stats* stats,
             Clock* clock);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  /// Binds and starts the I/O threads. Returns InvalidArgument for a bad address or TLS files
  /// that cannot be loaded (only one of them, unreadable, not PEM, key not the certificate's:
  /// the message names the file), Unavailable naming the address when it cannot listen (port
  /// in use, no permission).
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
