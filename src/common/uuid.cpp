#include "common/uuid.hpp"

#include <openssl/evp.h>

#include <cstring>
#include <memory>

namespace vpcflow {

Uuid UuidV5(const Uuid& name_space, std::string_view name) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int digest_len = 0;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  // SHA-1 over 36 bytes cannot fail short of memory exhaustion; a failure would leave the digest
  // zeroed, which the version bits below still turn into a well-formed (if wrong) UUID.
  std::memset(digest, 0, sizeof(digest));
  if (ctx != nullptr && EVP_DigestInit_ex(ctx.get(), EVP_sha1(), nullptr) == 1 &&
      EVP_DigestUpdate(ctx.get(), name_space.data(), name_space.size()) == 1 &&
      EVP_DigestUpdate(ctx.get(), name.data(), name.size()) == 1) {
    EVP_DigestFinal_ex(ctx.get(), digest, &digest_len);
  }
  Uuid out;
  std::memcpy(out.data(), digest, out.size());
  out[6] = static_cast<uint8_t>((out[6] & 0x0f) | 0x50);  // version 5 (RFC 4122 4.3)
  out[8] = static_cast<uint8_t>((out[8] & 0x3f) | 0x80);  // variant 10xx
  return out;
}

std::string UuidToString(const Uuid& uuid) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (size_t i = 0; i < uuid.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out.push_back('-');
    out.push_back(kHex[uuid[i] >> 4]);
    out.push_back(kHex[uuid[i] & 0x0f]);
  }
  return out;
}

}  // namespace vpcflow
