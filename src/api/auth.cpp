#include "api/auth.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <sstream>

#include "modules/posix_file.hpp"

namespace vpcflow {
namespace {

bool IsBlank(char c) { return c == ' ' || c == '\t' || c == '\r'; }

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsBlank(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsBlank(s.back())) s.remove_suffix(1);
  return s;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i] >= 'A' && a[i] <= 'Z' ? static_cast<char>(a[i] - 'A' + 'a') : a[i];
    if (x != b[i]) return false;
  }
  return true;
}

}  // namespace

Result<std::vector<std::string>> ReadTokenFile(const std::string& path) {
  Result<std::string> content = ReadWholeFile(path);
  if (!content.ok()) return InvalidArgumentError(content.status().message());
  std::vector<std::string> tokens;
  std::istringstream text(std::move(content).value());
  std::string line;
  for (int number = 1; std::getline(text, line); ++number) {
    std::string_view token = Trim(line);
    if (token.empty() || token.front() == '#') continue;
    for (char c : token) {
      if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7F) {
        return InvalidArgumentError("\"" + path + "\" line " + std::to_string(number) +
                                    ": a token must not hold spaces or control characters");
      }
    }
    tokens.emplace_back(token);
  }
  if (tokens.empty()) return InvalidArgumentError("\"" + path + "\" holds no token");
  return tokens;
}

Authenticator::Authenticator(const std::vector<std::string>& api_tokens,
                             const std::vector<std::string>& worker_tokens) {
  for (const std::string& t : api_tokens) api_.push_back(Hash(t));
  for (const std::string& t : worker_tokens) worker_.push_back(Hash(t));
}

Authenticator::Digest Authenticator::Hash(std::string_view token) {
  Digest digest{};
  unsigned int length = 0;
  EVP_Digest(token.data(), token.size(), digest.data(), &length, EVP_sha256(), nullptr);
  return digest;
}

bool Authenticator::AnyEqual(const std::vector<Digest>& set, const Digest& digest) {
  // Every entry is compared, so the time does not tell which one (if any) matched.
  int matched = 0;
  for (const Digest& d : set) {
    matched |= CRYPTO_memcmp(d.data(), digest.data(), d.size()) == 0 ? 1 : 0;
  }
  return matched != 0;
}

AuthVerdict Authenticator::Check(Access access, std::string_view authorization) const {
  if (access == Access::kOpen) return AuthVerdict::kAllowed;
  if (access == Access::kApi ? !api_protected() : !worker_protected()) {
    return AuthVerdict::kAllowed;
  }
  // RFC 6750 section 2.1: "Bearer" (any case), one or more spaces, the token.
  std::string_view value = Trim(authorization);
  const size_t space = value.find(' ');
  if (space == std::string_view::npos || !EqualsIgnoreCase(value.substr(0, space), "bearer")) {
    return AuthVerdict::kMissing;
  }
  const std::string_view token = Trim(value.substr(space + 1));
  if (token.empty()) return AuthVerdict::kMissing;
  const Digest digest = Hash(token);
  bool ok = AnyEqual(api_, digest);
  if (access == Access::kWorker) ok = AnyEqual(worker_, digest) || ok;
  return ok ? AuthVerdict::kAllowed : AuthVerdict::kRefused;
}

ApiResponse UnauthorizedResponse(AuthVerdict verdict) {
  const bool refused = verdict == AuthVerdict::kRefused;
  ApiResponse response =
      JsonError(401, refused ? "the bearer token is not valid for this route"
                             : "authentication required: send \"Authorization: Bearer <token>\"");
  response.headers.emplace_back(
      "WWW-Authenticate", refused ? R"(Bearer realm="vpcflow-digesterd", error="invalid_token")"
                                  : R"(Bearer realm="vpcflow-digesterd")");
  return response;
}

}  // namespace vpcflow
