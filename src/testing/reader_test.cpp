#include "testing/reader.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "testing/matchers.hpp"

namespace vpcflow {
namespace {

// Hands out `bytes` in the sizes asked for, then fails with `error` (OK: ends).
class ScriptedReader final : public ObjectReader {
 public:
  ScriptedReader(std::string bytes, Status error) : bytes_(std::move(bytes)), error_(error) {}
  Result<size_t> Read(std::span<char> out) override {
    sizes_.push_back(out.size());
    if (offset_ == bytes_.size()) {
      if (!error_.ok()) return error_;
      return size_t{0};
    }
    const size_t n = std::min(out.size(), bytes_.size() - offset_);
    std::memcpy(out.data(), bytes_.data() + offset_, n);
    offset_ += n;
    return n;
  }
  const std::vector<size_t>& sizes() const { return sizes_; }

 private:
  std::string bytes_;
  Status error_;
  size_t offset_ = 0;
  std::vector<size_t> sizes_;
};

TEST(ReadAllTest, ReadsToTheEndInChunksOfTheSizeAsked) {
  ScriptedReader reader("abcdefg", OkStatus());
  EXPECT_THAT(ReadAll(reader, 3), IsOkAndHolds(std::string("abcdefg")));
  EXPECT_EQ(reader.sizes(), (std::vector<size_t>{3, 3, 3, 3}));
}

TEST(ReadAllTest, ReturnsTheErrorAndWhatWasReadBeforeIt) {
  ScriptedReader reader("abcde", DataLossError("truncated"));
  std::string before;
  EXPECT_THAT(ReadAll(reader, 2, &before), StatusIs(StatusCode::kDataLoss));
  EXPECT_EQ(before, "abcde");
}

TEST(ReadAllTest, AChunkOfZeroReadsOneByteAtATime) {
  ScriptedReader reader("ab", OkStatus());
  EXPECT_THAT(ReadAll(reader, 0), IsOkAndHolds(std::string("ab")));
  EXPECT_EQ(reader.sizes(), (std::vector<size_t>{1, 1, 1}));
}

// Says it filled one byte more than the buffer it was given (a broken reader).
class OverReportingReader final : public ObjectReader {
 public:
  Result<size_t> Read(std::span<char> out) override { return out.size() + 1; }
};

TEST(ReadAllTest, AReadClaimingMoreThanItsBufferIsInternal) {
  OverReportingReader reader;
  EXPECT_THAT(ReadAll(reader, 4),
              StatusIs(StatusCode::kInternal, ::testing::HasSubstr("5 bytes for a buffer of 4")));
}

}  // namespace
}  // namespace vpcflow
