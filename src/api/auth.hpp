#pragma once
/// Bearer-token authentication of the HTTP API (DESIGN.md, "Authentication").
///
/// Two token sets: API tokens (DIGEST_API_TOKENS_FILE) open every route but the open ones;
/// worker tokens (DIGEST_WORKER_TOKENS_FILE) open the worker route (POST /{topic}/{event})
/// alone, so an event bus holds a token that can only deliver jobs. The worker route also
/// takes an API token (whoever may queue a job may run one). A set that is empty protects
/// nothing: no API tokens leave the API routes open, no tokens at all leave everything open.
///
/// Tokens are kept only as SHA-256 digests and a presented token is compared with each of
/// them with CRYPTO_memcmp, so neither its content nor its length shows in the time taken.
/// Nothing here logs; a token must never be logged.
///
/// Thread safety: immutable after construction; Check may be called from any thread.

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "api/message.hpp"
#include "vpcflow/status.hpp"

namespace vpcflow {

/// Who may call a route.
enum class Access {
  kOpen,    ///< anyone (/healthz, /readyz)
  kApi,     ///< an API token
  kWorker,  ///< a worker token or an API token
};

/// The outcome of a check.
enum class AuthVerdict {
  kAllowed,
  kMissing,  ///< no "Authorization: Bearer <token>" (or another scheme)
  kRefused,  ///< a bearer token that is not valid for the route
};

/// Reads a token file: one token per line; blank lines and lines starting with '#' are
/// ignored, spaces and tabs around a token dropped. Returns InvalidArgument when the file
/// cannot be read, holds no token, or a line holds a space or control character inside the
/// token (the message names the line number, never its content).
Result<std::vector<std::string>> ReadTokenFile(const std::string& path);

class Authenticator {
 public:
  /// No tokens at all: everything open.
  Authenticator() = default;
  Authenticator(const std::vector<std::string>& api_tokens,
                const std::vector<std::string>& worker_tokens);

  /// Whether `authorization` (the Authorization header's value, "" when absent) may call a
  /// route of `access`.
  AuthVerdict Check(Access access, std::string_view authorization) const;

  /// Whether the API routes need a token.
  bool api_protected() const { return !api_.empty(); }
  /// Whether the worker route needs a token.
  bool worker_protected() const { return !api_.empty() || !worker_.empty(); }

 private:
  using Digest = std::array<unsigned char, 32>;
  static Digest Hash(std::string_view token);
  static bool AnyEqual(const std::vector<Digest>& set, const Digest& digest);

  std::vector<Digest> api_;
  std::vector<Digest> worker_;
};

/// The 401 answer for a verdict other than kAllowed: a JSON message and
/// `WWW-Authenticate: Bearer realm="vpcflow-digesterd"` (with error="invalid_token" when a
/// token was refused, RFC 6750).
ApiResponse UnauthorizedResponse(AuthVerdict verdict);

}  // namespace vpcflow
