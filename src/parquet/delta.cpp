// DELTA_BINARY_PACKED: parquet-format's Encodings.md.
#include "parquet/delta.hpp"

#include <algorithm>
#include <vector>

#include "parquet/bit_unpack.hpp"
#include "parquet/rle.hpp"
#include "parquet/varint.hpp"

namespace vpcflow::parquet {
namespace {

constexpr uint64_t kMaxBlockSize = uint64_t{1} << 31;

bool ZigZag(const uint8_t*& p, const uint8_t* end, int64_t* out) {
  uint64_t v;
  if (!ReadVarint(p, end, &v)) return false;
  *out = ZigZagDecode(v);
  return true;
}

void AppendZigZag(int64_t v, std::string* out) { AppendVarint(ZigZagEncode(v), out); }

}  // namespace

bool DeltaDecoder::Init(std::span<const uint8_t> data) {
  begin_ = p_ = data.data();
  end_ = p_ + data.size();
  int64_t first = 0;
  failed_ = !ReadVarint(p_, end_, &block_size_) || !ReadVarint(p_, end_, &miniblocks_) ||
            !ReadVarint(p_, end_, &total_) || !ZigZag(p_, end_, &first);
  failed_ = failed_ || block_size_ == 0 || block_size_ % 128 != 0 || block_size_ > kMaxBlockSize ||
            miniblocks_ == 0 || block_size_ % miniblocks_ != 0 ||
            (block_size_ / miniblocks_) % 32 != 0;
  if (failed_) return false;
  per_miniblock_ = block_size_ / miniblocks_;
  last_ = first;
  after_header_ = p_;
  return true;
}

bool DeltaDecoder::NextBlock() {
  if (!ZigZag(p_, end_, &min_delta_)) return false;
  if (static_cast<uint64_t>(end_ - p_) < miniblocks_) return false;
  widths_ = p_;
  p_ += miniblocks_;
  miniblock_ = 0;
  in_miniblock_ = 0;
  in_block_ = true;
  mini_data_ = nullptr;
  return true;
}

bool DeltaDecoder::Get(int64_t* out, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (failed_ || returned_ >= total_) return failed_ = true, false;
    if (returned_ == 0) {
      out[i] = last_;
      ++returned_;
      continue;
    }
    if (!in_block_ || mini_data_ == nullptr || in_miniblock_ == per_miniblock_) {
      if (in_block_ && mini_data_ != nullptr) {
        ++miniblock_;
        in_miniblock_ = 0;
        mini_data_ = nullptr;
      }
      if (!in_block_ || miniblock_ == miniblocks_) {
        if (!NextBlock()) return failed_ = true, false;
      }
      const int width = widths_[miniblock_];
      if (width > 64) return failed_ = true, false;
      const uint64_t bytes = per_miniblock_ * static_cast<uint64_t>(width) / 8;
      mini_data_ = p_;
      mini_size_ = std::min<uint64_t>(bytes, static_cast<uint64_t>(end_ - p_));
      p_ += mini_size_;
    }
    const int width = widths_[miniblock_];
    // The value's bits must be present (only the padding of a miniblock may be missing).
    if ((in_miniblock_ + 1) * static_cast<uint64_t>(width) > mini_size_ * 8) {
      return failed_ = true, false;
    }
    const uint64_t delta = ReadBits(mini_data_, mini_size_, in_miniblock_ * width, width);
    last_ = static_cast<int64_t>(static_cast<uint64_t>(last_) + static_cast<uint64_t>(min_delta_) +
                                 delta);
    out[i] = last_;
    ++in_miniblock_;
    ++returned_;
  }
  return true;
}

bool DeltaDecoder::Size(size_t* bytes) const {
  if (failed_ || after_header_ == nullptr) return false;
  const uint8_t* p = after_header_;
  uint64_t remaining = total_ > 0 ? total_ - 1 : 0;
  while (remaining > 0) {
    int64_t min_delta;
    if (!ZigZag(p, end_, &min_delta)) return false;
    if (static_cast<uint64_t>(end_ - p) < miniblocks_) return false;
    const uint8_t* widths = p;
    p += miniblocks_;
    for (uint64_t m = 0; m < miniblocks_ && remaining > 0; ++m) {
      if (widths[m] > 64) return false;
      const uint64_t size = per_miniblock_ * widths[m] / 8;
      if (static_cast<uint64_t>(end_ - p) < size) return false;
      p += size;
      remaining -= std::min(remaining, per_miniblock_);
    }
  }
  *bytes = static_cast<size_t>(p - begin_);
  return true;
}

void DeltaEncode(std::span<const int64_t> values, std::string* out) {
  constexpr size_t kBlock = 128;
  constexpr size_t kMiniblocks = 4;
  constexpr size_t kPerMiniblock = kBlock / kMiniblocks;
  AppendVarint(kBlock, out);
  AppendVarint(kMiniblocks, out);
  AppendVarint(values.size(), out);
  AppendZigZag(values.empty() ? 0 : values[0], out);
  std::vector<uint64_t> deltas;
  for (size_t i = 1; i < values.size(); ++i) {
    deltas.push_back(static_cast<uint64_t>(values[i]) - static_cast<uint64_t>(values[i - 1]));
  }
  for (size_t start = 0; start < deltas.size(); start += kBlock) {
    const size_t n = std::min(kBlock, deltas.size() - start);
    int64_t min_delta = static_cast<int64_t>(deltas[start]);
    for (size_t i = 0; i < n; ++i) {
      min_delta = std::min(min_delta, static_cast<int64_t>(deltas[start + i]));
    }
    AppendZigZag(min_delta, out);
    uint8_t widths[kMiniblocks] = {};
    for (size_t m = 0; m < kMiniblocks; ++m) {
      uint64_t max = 0;
      for (size_t i = m * kPerMiniblock; i < std::min(n, (m + 1) * kPerMiniblock); ++i) {
        max = std::max(max, deltas[start + i] - static_cast<uint64_t>(min_delta));
      }
      widths[m] = static_cast<uint8_t>(BitWidth(max));
    }
    out->append(reinterpret_cast<const char*>(widths), kMiniblocks);
    for (size_t m = 0; m < kMiniblocks && m * kPerMiniblock < n; ++m) {
      const size_t at = out->size();
      out->resize(at + kPerMiniblock * widths[m] / 8, '\0');
      auto* bytes = reinterpret_cast<uint8_t*>(out->data() + at);
      uint64_t bit = 0;
      for (size_t i = m * kPerMiniblock; i < (m + 1) * kPerMiniblock; ++i) {
        const uint64_t v =
            i < n ? deltas[start + i] - static_cast<uint64_t>(min_delta) : uint64_t{0};
        for (int b = 0; b < widths[m]; ++b, ++bit) {
          if ((v >> b) & 1) bytes[bit >> 3] |= static_cast<uint8_t>(1u << (bit & 7));
        }
      }
    }
  }
}

}  // namespace vpcflow::parquet
