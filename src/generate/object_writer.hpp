#pragma once
/// The text of one generated flow-log object: the flow log's header line, then events (a
/// request and usually its answer, scanner probes refused, NODATA/SKIPDATA lines) drawn from the
/// traffic model, in the flow log's record format.

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "generate/random.hpp"
#include "generate/traffic_model.hpp"

namespace vpcflow::generate {

// Appends text to a growable buffer with a raw cursor (no allocation per record).
class TextBuffer {
 public:
  void Reserve(size_t bytes) {
    if (data_.size() - pos_ < bytes) data_.resize(std::max(data_.size() * 2, pos_ + bytes));
  }
  void Put(std::string_view s) {
    std::memcpy(data_.data() + pos_, s.data(), s.size());
    pos_ += s.size();
  }
  void Put(char c) { data_[pos_++] = c; }
  void PutNumber(uint64_t v) {
    auto r = std::to_chars(data_.data() + pos_, data_.data() + data_.size(), v);
    pos_ = static_cast<size_t>(r.ptr - data_.data());
  }
  size_t size() const { return pos_; }
  std::string_view view() const { return std::string_view(data_.data(), pos_); }
  void Clear() { pos_ = 0; }

 private:
  std::string data_;
  size_t pos_ = 0;
};

/// Writes the object of flow log `fl` of `account` stamped `stamp` into `out` (appended): its
/// header line, then events of the mix `shape` ending in [stamp, stamp + shape.stamp_minutes)
/// until `out` holds at least `target_bytes`. Draws from `rng` only, so the same seed gives the
/// same bytes. Returns the number of records written.
uint64_t WriteObjectText(const Account& account, const FlowLog& fl, const GenerateShape& shape,
                         int64_t stamp, size_t target_bytes, Rng& rng, TextBuffer& out);

}  // namespace vpcflow::generate
