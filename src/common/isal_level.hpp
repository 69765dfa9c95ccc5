#pragma once
/// ISA-L deflate levels as the gzip sinks use them (byte_sink.cpp, parallel_gzip_sink.cpp).

#include <isa-l.h>

#include <algorithm>
#include <cstdint>

namespace vpcflow {

/// `level` brought into ISA-L's range (0-3).
inline int ClampIsalLevel(int level) {
  return std::clamp(level, ISAL_DEF_MIN_LEVEL, ISAL_DEF_MAX_LEVEL);
}

/// Bytes of the work buffer the caller must give a deflate stream at `level` (clamped); 0 when
/// the level needs none.
inline uint32_t IsalLevelBufBytes(int level) {
  static constexpr uint32_t kBytes[] = {ISAL_DEF_LVL0_DEFAULT, ISAL_DEF_LVL1_DEFAULT,
                                        ISAL_DEF_LVL2_DEFAULT, ISAL_DEF_LVL3_DEFAULT};
  return kBytes[ClampIsalLevel(level)];
}

}  // namespace vpcflow
