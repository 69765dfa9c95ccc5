#pragma once
/// NatsConnection: one connection to a NATS server (or cluster) with JetStream, made from
/// DIGEST_QUEUE_URL and the credentials of NATS_CREDS / NATS_TOKEN (DESIGN.md, "Scaling out").
///
/// The client reconnects by itself, forever, to any of the URLs; calls made while it is away
/// fail with Unavailable (publishes) or time out. Secrets never appear in Describe() nor in any
/// message. Thread-safe: libnats connections and JetStream contexts may be used from any thread.

#include <nats/nats.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "vpcflow/status.hpp"

namespace vpcflow {

struct NatsOptions {
  /// Server URLs without user-info ("nats://host:4222"); at least one.
  std::vector<std::string> urls{};
  std::string user{};        ///< with password (from a URL's "user:password@")
  std::string password{};    ///< a secret
  std::string token{};       ///< NATS_TOKEN or a URL's "token@": a secret
  std::string creds_file{};  ///< NATS_CREDS: a NATS credentials file (JWT and nkey seed)
  std::string name = "vpcflow-digesterd";  ///< the client name the server shows
  int64_t connect_timeout_ms = 2000;       ///< per server and attempt
  int64_t reconnect_wait_ms = 250;         ///< between reconnect attempts to one server
  int64_t request_timeout_ms = 5000;       ///< JetStream API calls and publish acks
};

/// Parses DIGEST_QUEUE_URL: comma-separated `nats://` (or `tls://`) URLs with a host and an
/// optional port, spaces around items ignored. A URL's user-info becomes user and password
/// ("user:password@") or a token ("token@"); all URLs that carry one must carry the same.
/// `creds_file` (NATS_CREDS) and `token` (NATS_TOKEN), when not empty, are kept; a token given
/// twice (URL and NATS_TOKEN) must agree. Returns InvalidArgument naming the bad item, redacted.
Result<NatsOptions> NatsOptionsFromUrls(std::string_view urls, std::string_view creds_file = {},
                                        std::string_view token = {});

/// "nats://h1:4222,nats://h2:4222": the URLs, without secrets.
std::string DescribeNatsUrls(const NatsOptions& options);

class NatsConnection {
 public:
  /// Connects to one of `options.urls` (each tried once at start: an unreachable server is
  /// Unavailable here, not retried; after the first connection the client reconnects forever).
  /// Errors: Unavailable (no server answered), PermissionDenied (authentication failed),
  /// InvalidArgument (unusable options, an unreadable credentials file).
  static Result<std::unique_ptr<NatsConnection>> Connect(const NatsOptions& options);
  ~NatsConnection();
  NatsConnection(const NatsConnection&) = delete;
  NatsConnection& operator=(const NatsConnection&) = delete;

  /// The libnats handles, owned by this object (valid until it is destroyed).
  natsConnection* connection() const { return nc_; }
  jsCtx* jetstream() const { return js_; }
  /// True while connected (false while reconnecting).
  bool Connected() const;
  /// OK when connected, else Unavailable naming the URLs (for /readyz).
  Status Ready() const;
  /// JetStream API and publish-ack timeout (ms).
  int64_t request_timeout_ms() const { return request_timeout_ms_; }
  std::string Describe() const { return describe_; }

 private:
  NatsConnection(natsConnection* nc, jsCtx* js, std::string describe, int64_t request_timeout_ms)
      : nc_(nc), js_(js), describe_(std::move(describe)), request_timeout_ms_(request_timeout_ms) {}

  natsConnection* nc_;
  jsCtx* js_;
  std::string describe_;
  int64_t request_timeout_ms_;
};

}  // namespace vpcflow
