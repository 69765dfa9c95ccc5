#pragma once
/// AWS Signature Version 4 (header-based, "AWS4-HMAC-SHA256") for S3 and the other AWS services
/// the client calls (STS). Pure and deterministic: the time is a parameter, nothing is read from
/// the environment or the clock. Every function is thread-safe (no shared state; SignV4 keeps,
/// per thread, the last signing key it derived, which is valid for one day, region and service).
///
/// Protocol: "Create a signed AWS API request" (IAM User Guide) and "Signature Calculations for
/// the Authorization Header" (Amazon S3 API Reference); tested against the examples of both.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace vpcflow {

/// The hex SHA-256 of an empty payload; the x-amz-content-sha256 of every body-less request.
inline constexpr std::string_view kEmptyPayloadSha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
/// x-amz-content-sha256 value for a payload that is not hashed (S3 over TLS only).
inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";

/// Lower-case hex SHA-256 of `data`.
std::string Sha256Hex(std::string_view data);

/// HMAC-SHA256 of `data` under `key` (raw 32 bytes).
std::array<uint8_t, 32> HmacSha256(std::string_view key, std::string_view data);

/// RFC 3986 percent-encoding as SigV4 wants it: unreserved characters (A-Z a-z 0-9 - . _ ~) are
/// kept, every other byte becomes %XX with upper-case hex; '/' is kept when `encode_slash` is
/// false (object key paths) and encoded when true (query names and values).
std::string UriEncode(std::string_view text, bool encode_slash);

/// The canonical URI of an S3 request for the *unencoded* path `path` ("/bucket/a b.txt"): each
/// segment encoded once (S3 does not double-encode), '/' kept; "" becomes "/". Send exactly this
/// string as the request path so that what is signed is what is sent.
std::string SigV4CanonicalUri(std::string_view path);

/// One query parameter, unencoded ("prefix", "a/b"). A flag-only parameter ("?lifecycle") has an
/// empty value.
using QueryParam = std::pair<std::string, std::string>;

/// The canonical query string: names and values UriEncode'd (slash encoded), sorted by encoded
/// name then value, joined as "n=v&n=v". Also the query string to send.
std::string SigV4CanonicalQuery(const std::vector<QueryParam>& query);

/// "YYYYMMDDTHHMMSSZ" (UTC) for Unix seconds; the x-amz-date value.
std::string AmzDate(int64_t unix_seconds);

/// The signing key: HMAC chain "AWS4"+secret -> date (YYYYMMDD) -> region -> service ->
/// "aws4_request".
std::array<uint8_t, 32> SigV4SigningKey(std::string_view secret_access_key, std::string_view date,
                                        std::string_view region, std::string_view service);

/// Credentials to sign with. `session_token` is empty for long-term keys. Never log these.
struct SigV4Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;
};

/// The request to sign.
struct SigV4Request {
  std::string method = "GET";
  /// Unencoded path, starting with '/'; encoded by SigV4CanonicalUri.
  std::string path = "/";
  std::vector<QueryParam> query;
  /// Headers as they will be sent, Host included (required). Names in any case; values are
  /// trimmed and inner runs of spaces collapsed. x-amz-date, x-amz-content-sha256,
  /// x-amz-security-token and Authorization given here are ignored: Sign adds its own.
  std::vector<std::pair<std::string, std::string>> headers;
  /// Hex SHA-256 of the body (Sha256Hex), kEmptyPayloadSha256, or kUnsignedPayload.
  std::string payload_hash = std::string(kEmptyPayloadSha256);
};

/// The result of signing: the headers to add, and the intermediate pieces (for tests and for
/// diagnosing SignatureDoesNotMatch; none contains the secret).
struct SigV4Signature {
  /// Authorization, x-amz-date, x-amz-content-sha256 and, with a session token,
  /// x-amz-security-token; names as AWS spells them.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string canonical_request;
  std::string string_to_sign;
  /// "YYYYMMDD/region/service/aws4_request".
  std::string credential_scope;
  /// Lower-case names joined by ';'.
  std::string signed_headers;
  /// Lower-case hex.
  std::string signature;
  std::string authorization;
};

/// Signs `request` for `region` and `service` ("s3", "sts") at `unix_seconds`. All request
/// headers (plus the added x-amz-* ones) are signed.
SigV4Signature SignV4(const SigV4Request& request, const SigV4Credentials& credentials,
                      std::string_view region, std::string_view service, int64_t unix_seconds);

}  // namespace vpcflow
