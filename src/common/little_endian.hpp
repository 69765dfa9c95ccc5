#pragma once
/// Little-endian loads and stores (the first byte is the lowest), as file formats and the SWAR
/// parsers want them, on any host. Pure, header-only.

#include <cstdint>
#include <cstring>
#include <string>

namespace vpcflow {

inline uint32_t LoadLittleEndian32(const void* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap32(v);
#endif
  return v;
}

inline uint64_t LoadLittleEndian64(const void* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  v = __builtin_bswap64(v);
#endif
  return v;
}

/// Appends the low `bytes` bytes of `v`, lowest first.
inline void AppendLittleEndian(uint64_t v, int bytes, std::string* out) {
  for (int i = 0; i < bytes; ++i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

}  // namespace vpcflow
