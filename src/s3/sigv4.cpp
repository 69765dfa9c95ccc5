#include "s3/sigv4.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "common/civil_time.hpp"

namespace vpcflow {
namespace {

constexpr char kHexLower[] = "0123456789abcdef";
constexpr char kHexUpper[] = "0123456789ABCDEF";
constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

std::string ToHex(const unsigned char* data, size_t size) {
  std::string out;
  out.reserve(size * 2);
  for (size_t i = 0; i < size; ++i) {
    out.push_back(kHexLower[data[i] >> 4]);
    out.push_back(kHexLower[data[i] & 0x0f]);
  }
  return out;
}

std::string_view AsView(const std::array<uint8_t, 32>& bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

std::string ToLower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Canonical header value: leading and trailing spaces removed and inner runs of spaces collapsed
// to one (IAM User Guide, "Create a canonical request", CanonicalHeaders).
std::string TrimValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  bool pending_space = false;
  for (char c : value) {
    if (c == ' ' || c == '\t') {
      pending_space = !out.empty();
      continue;
    }
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(c);
  }
  return out;
}

// SHA-256 fetched once: the implicit fetch of EVP_sha256() is a locked lookup on every use
// (OpenSSL 3), a fair part of signing a small request.
const EVP_MD* Sha256Md() {
  static EVP_MD* const fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return fetched != nullptr ? fetched : EVP_sha256();
}

// SHA-256 of `data` (all zeros on memory exhaustion: a signature S3 then rejects, never a wrong
// one accepted).
std::array<uint8_t, 32> Sha256(std::string_view data) {
  std::array<uint8_t, 32> digest{};
  unsigned int digest_len = 0;
  EVP_Digest(data.data(), data.size(), digest.data(), &digest_len, Sha256Md(), nullptr);
  return digest;
}

// The signing key changes once a day for a secret, region and service, and deriving it is four of
// the five HMACs of a signature: each thread keeps the last key it derived. The secret is
// recognised by its SHA-256 (one hash, against four HMACs), so the cache never holds the secret.
const std::array<uint8_t, 32>& CachedSigningKey(std::string_view secret_access_key,
                                                std::string_view date, std::string_view region,
                                                std::string_view service) {
  struct Cached {
    bool valid = false;
    std::array<uint8_t, 32> secret_digest{};
    std::string date, region, service;
    std::array<uint8_t, 32> key{};
  };
  thread_local Cached cached;
  const std::array<uint8_t, 32> secret_digest = Sha256(secret_access_key);
  if (!cached.valid || cached.secret_digest != secret_digest || cached.date != date ||
      cached.region != region || cached.service != service) {
    cached.key = SigV4SigningKey(secret_access_key, date, region, service);
    cached.secret_digest = secret_digest;
    cached.date = date;
    cached.region = region;
    cached.service = service;
    cached.valid = true;
  }
  return cached.key;
}

bool IsSignerHeader(std::string_view lower_name) {
  return lower_name == "authorization" || lower_name == "x-amz-date" ||
         lower_name == "x-amz-content-sha256" || lower_name == "x-amz-security-token";
}

}  // namespace

std::string Sha256Hex(std::string_view data) {
  const std::array<uint8_t, 32> digest = Sha256(data);
  return ToHex(digest.data(), digest.size());
}

std::array<uint8_t, 32> HmacSha256(std::string_view key, std::string_view data) {
  std::array<uint8_t, 32> out{};
  unsigned int out_len = 0;
  // As for Sha256Hex: a failure (memory exhaustion) leaves zeros and a signature S3 rejects.
  HMAC(Sha256Md(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data(), &out_len);
  return out;
}

std::string UriEncode(std::string_view text, bool encode_slash) {
  std::string out;
  out.reserve(text.size() + text.size() / 2);
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    bool unreserved = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '.' || c == '_' || c == '~';
    if (unreserved || (c == '/' && !encode_slash)) {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(kHexUpper[c >> 4]);
      out.push_back(kHexUpper[c & 0x0f]);
    }
  }
  return out;
}

std::string SigV4CanonicalUri(std::string_view path) {
  if (path.empty()) return "/";
  // S3 signs the path encoded once, unlike the other services, which encode it twice (S3 API
  // Reference, "Signature Calculations for the Authorization Header").
  return UriEncode(path, /*encode_slash=*/false);
}

std::string SigV4CanonicalQuery(const std::vector<QueryParam>& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(query.size());
  for (const auto& [name, value] : query) {
    encoded.emplace_back(UriEncode(name, true), UriEncode(value, true));
  }
  // Sorted by encoded name (byte order), ties by value.
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [name, value] : encoded) {
    if (!out.empty()) out.push_back('&');
    out += name;
    out.push_back('=');
    out += value;
  }
  return out;
}

std::string AmzDate(int64_t unix_seconds) {
  CivilTime t = FromUnixSeconds(unix_seconds);
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%04d%02d%02dT%02d%02d%02dZ", t.year, t.month, t.day, t.hour,
                t.minute, t.second);
  return buf;
}

std::array<uint8_t, 32> SigV4SigningKey(std::string_view secret_access_key, std::string_view date,
                                        std::string_view region, std::string_view service) {
  std::string seed = "AWS4";
  seed += secret_access_key;
  std::array<uint8_t, 32> key = HmacSha256(seed, date);
  key = HmacSha256(AsView(key), region);
  key = HmacSha256(AsView(key), service);
  key = HmacSha256(AsView(key), "aws4_request");
  // The seed holds the secret: do not leave it in freed memory longer than needed.
  std::fill(seed.begin(), seed.end(), '\0');
  return key;
}

SigV4Signature SignV4(const SigV4Request& request, const SigV4Credentials& credentials,
                      std::string_view region, std::string_view service, int64_t unix_seconds) {
  SigV4Signature sig;
  const std::string amz_date = AmzDate(unix_seconds);
  const std::string_view date = std::string_view(amz_date).substr(0, 8);

  // Lower-cased names with trimmed values; the signer's own headers replace any given.
  std::vector<std::pair<std::string, std::string>> headers;
  headers.reserve(request.headers.size() + 3);
  for (const auto& [name, value] : request.headers) {
    std::string lower = ToLower(name);
    if (IsSignerHeader(lower)) continue;
    headers.emplace_back(std::move(lower), TrimValue(value));
  }
  headers.emplace_back("x-amz-content-sha256", request.payload_hash);
  headers.emplace_back("x-amz-date", amz_date);
  if (!credentials.session_token.empty()) {
    headers.emplace_back("x-amz-security-token", credentials.session_token);
  }
  // Stable: repeated names keep their order and are joined with ',' below.
  std::stable_sort(headers.begin(), headers.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });

  std::string canonical_headers;
  for (size_t i = 0; i < headers.size(); ++i) {
    if (i > 0 && headers[i].first == headers[i - 1].first) {
      canonical_headers.back() = ',';  // replaces the previous line's '\n'
    } else {
      if (!sig.signed_headers.empty()) sig.signed_headers.push_back(';');
      sig.signed_headers += headers[i].first;
      canonical_headers += headers[i].first;
      canonical_headers.push_back(':');
    }
    canonical_headers += headers[i].second;
    canonical_headers.push_back('\n');
  }

  sig.canonical_request = request.method;
  sig.canonical_request.push_back('\n');
  sig.canonical_request += SigV4CanonicalUri(request.path);
  sig.canonical_request.push_back('\n');
  sig.canonical_request += SigV4CanonicalQuery(request.query);
  sig.canonical_request.push_back('\n');
  sig.canonical_request += canonical_headers;
  sig.canonical_request.push_back('\n');
  sig.canonical_request += sig.signed_headers;
  sig.canonical_request.push_back('\n');
  sig.canonical_request += request.payload_hash;

  sig.credential_scope =
      std::string(date) + "/" + std::string(region) + "/" + std::string(service) + "/aws4_request";
  sig.string_to_sign = std::string(kAlgorithm) + "\n" + amz_date + "\n" + sig.credential_scope +
                       "\n" + Sha256Hex(sig.canonical_request);

  const std::array<uint8_t, 32>& key =
      CachedSigningKey(credentials.secret_access_key, date, region, service);
  const std::array<uint8_t, 32> mac = HmacSha256(AsView(key), sig.string_to_sign);
  sig.signature = ToHex(mac.data(), mac.size());

  sig.authorization = std::string(kAlgorithm) + " Credential=" + credentials.access_key_id + "/" +
                      sig.credential_scope + ",SignedHeaders=" + sig.signed_headers +
                      ",Signature=" + sig.signature;

  sig.headers.emplace_back("Authorization", sig.authorization);
  sig.headers.emplace_back("x-amz-date", amz_date);
  sig.headers.emplace_back("x-amz-content-sha256", request.payload_hash);
  if (!credentials.session_token.empty()) {
    sig.headers.emplace_back("x-amz-security-token", credentials.session_token);
  }
  return sig;
}

}  // namespace vpcflow
