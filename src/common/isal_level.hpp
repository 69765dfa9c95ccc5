#pragma once
/// ISA-L deflate levels as the gzip sinks use them (byte_sink.cpp, parallel_gzip_sink.cpp).

#include <isa-l.h>

#include <algorithm>
#include <cstdint>

namespace vpcflow {

/// The deflate window of the digest's outputs (the parallel sink: the digest text, its rows
/// sidecar), as ISA-L's hist_bits: 1 KiB (a match reaches back at most 1024 bytes). A digest's
/// lines repeat their neighbours', so the default 32 KiB window found little more: on the
/// bench's high digest (216 MB of text, level 1) 1 KiB deflated ~8% faster and ~3% smaller, a
/// rows sidecar ~12% faster and ~1.5% larger (DESIGN.md "Performance"). The single-stream sink
/// (the generator's flow logs, Parquet pages, tests) keeps ISA-L's 32 KiB window: flow-log text
/// came out ~5% larger with 1 KiB. Any gzip reader accepts a window this size.
inline constexpr int kDigestIsalHistBits = 10;

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
