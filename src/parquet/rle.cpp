#include "parquet/rle.hpp"

#include <algorithm>

#include "common/little_endian.hpp"
#include "parquet/bit_unpack.hpp"
#include "parquet/varint.hpp"

namespace vpcflow::parquet {
namespace {

void AppendLiterals(std::span<const uint32_t> values, int width, std::string* out) {
  if (values.empty()) return;
  const size_t groups = (values.size() + 7) / 8;
  AppendVarint((groups << 1) | 1, out);
  const size_t start = out->size();
  out->resize(start + groups * static_cast<size_t>(width), '\0');
  auto* bytes = reinterpret_cast<uint8_t*>(out->data() + start);
  uint64_t bit = 0;
  for (uint32_t v : values) {
    for (int b = 0; b < width; ++b, ++bit) {
      if ((v >> b) & 1) bytes[bit >> 3] |= static_cast<uint8_t>(1u << (bit & 7));
    }
  }
}

}  // namespace

RleDecoder::RleDecoder(std::span<const uint8_t> data, int width)
    : p_(data.data()), end_(data.data() + data.size()), width_(width) {
  failed_ = width < 0 || width > 32;
}

bool RleDecoder::NextRun() {
  uint64_t header;
  if (!ReadVarint(p_, end_, &header)) return false;
  if ((header & 1) == 0) {
    rle_left_ = header >> 1;
    const size_t bytes = static_cast<size_t>((width_ + 7) / 8);
    if (static_cast<size_t>(end_ - p_) < bytes) return false;
    uint32_t v = 0;
    for (size_t i = 0; i < bytes; ++i) v |= static_cast<uint32_t>(p_[i]) << (8 * i);
    rle_value_ = v;
    p_ += bytes;
    return true;
  }
  const uint64_t groups = header >> 1;
  const uint64_t left = static_cast<uint64_t>(end_ - p_);
  // Some writers cut the last run short of its padding: take what its bytes hold.
  uint64_t bytes = groups > left ? left : std::min<uint64_t>(groups * width_, left);
  if (width_ == 0) {
    bytes = 0;
    literal_left_ = std::min<uint64_t>(groups, uint64_t{1} << 60) * 8;
  } else {
    literal_left_ = std::min(groups * 8, bytes * 8 / static_cast<uint64_t>(width_));
  }
  literal_ = p_;
  literal_size_ = bytes;
  literal_index_ = 0;
  p_ += bytes;
  return true;
}

bool RleDecoder::Get(uint32_t* out, size_t n) { return GetInto(out, n); }

bool RleDecoder::GetBytes(uint8_t* out, size_t n) {
  if (width_ > 8) failed_ = true;
  return GetInto(out, n);
}

// T holds every value of the width (uint32_t: up to 32 bits; uint8_t: up to 8, as GetBytes
// checks): an RLE run's value has (width + 7) / 8 bytes, a literal's `width` bits.
template <typename T>
bool RleDecoder::GetInto(T* out, size_t n) {
  while (n > 0) {
    if (failed_) return false;
    if (rle_left_ > 0) {
      const size_t take = static_cast<size_t>(std::min<uint64_t>(rle_left_, n));
      std::fill(out, out + take, static_cast<T>(rle_value_));
      out += take;
      n -= take;
      rle_left_ -= take;
      continue;
    }
    if (literal_left_ > 0) {
      const size_t take = static_cast<size_t>(std::min<uint64_t>(literal_left_, n));
      const uint64_t width = static_cast<uint64_t>(width_);
      const uint64_t first = literal_index_;  // the first value's index in the run
      if (((first + take) * width >> 3) + 8 <= literal_size_) {
        // Every value's 8-byte load stays inside the run: no bounds checks (width <= 32, so a
        // value and its shift fit in 64 bits; width >= 1, as a width-0 run holds no bytes).
        // Each value's offset from its index (no chain through the previous one), in locals
        // that the stores to `out` cannot alias.
        const uint64_t mask = (uint64_t{1} << width) - 1;
        const uint8_t* const bytes = literal_;
        auto one = [&](size_t i) {
          const uint64_t bit = (first + i) * width;
          const uint64_t word = LoadLittleEndian64(bytes + (bit >> 3));
          out[i] = static_cast<T>((word >> (bit & 7)) & mask);
        };
        // Values up to the next group of 8 (a group starts on a byte), then whole groups by
        // UnpackGroups, then the rest.
        const size_t head = std::min<size_t>(take, (8 - first % 8) % 8);
        const size_t groups = (take - head) / 8;
        for (size_t i = 0; i < head; ++i) one(i);
        if (groups > 0) {
          UnpackGroups(width_, bytes + (first + head) * width / 8, groups, out + head);
        }
        for (size_t i = head + groups * 8; i < take; ++i) one(i);
      } else {
        for (size_t i = 0; i < take; ++i) {
          out[i] = static_cast<T>(ReadBits(literal_, literal_size_, (first + i) * width, width_));
        }
      }
      literal_index_ += take;
      out += take;
      n -= take;
      literal_left_ -= take;
      continue;
    }
    if (!NextRun()) failed_ = true;
  }
  return true;
}

void RleEncode(std::span<const uint32_t> values, int width, std::string* out) {
  size_t literal_start = 0;
  size_t i = 0;
  while (i < values.size()) {
    size_t run = 1;
    while (i + run < values.size() && values[i + run] == values[i]) ++run;
    // A literal run must hold a multiple of 8 values unless it is the last: lend it the first
    // values of this run when needed.
    const size_t pad = (8 - (i - literal_start) % 8) % 8;
    if (run >= 8 + pad) {
      AppendLiterals(values.subspan(literal_start, i + pad - literal_start), width, out);
      AppendVarint((run - pad) << 1, out);
      for (int b = 0; b < (width + 7) / 8; ++b) {
        out->push_back(static_cast<char>((values[i] >> (8 * b)) & 0xff));
      }
      i += run;
      literal_start = i;
    } else {
      i += run;
    }
  }
  AppendLiterals(values.subspan(literal_start), width, out);
}

int BitWidth(uint64_t max_value) {
  int width = 0;
  while (width < 64 && (max_value >> width) != 0) ++width;
  return width;
}

}  // namespace vpcflow::parquet
