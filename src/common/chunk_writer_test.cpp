#include "common/chunk_writer.hpp"

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

#include "testing/matchers.hpp"

namespace vpcflow {
namespace {

// Counts the appends a plain sink receives.
class CountingSink final : public ByteSink {
 public:
  Status Append(std::string_view bytes) override {
    if (fail_) return UnavailableError("disk gone");
    data_.append(bytes);
    sizes_.push_back(bytes.size());
    return OkStatus();
  }
  Status Close() override { return OkStatus(); }
  std::string data_;
  std::vector<size_t> sizes_;
  bool fail_ = false;
};

// Lends pieces of its own string (4 KiB past a cut of 1000 bytes) and records what it got.
class StringLender final : public ByteSink {
 public:
  Result<Lent> Exchange(size_t used) override {
    ++exchanges_;
    data_.append(memory_.data(), used);
    return Lent{memory_.data(), 1000};
  }
  Status Append(std::string_view bytes) override {
    data_.append(bytes);
    ++appends_;
    return OkStatus();
  }
  Status Close() override { return OkStatus(); }
  std::string memory_ = std::string(1000 + kLendSlackBytes, '\0');
  std::string data_;
  int exchanges_ = 0;
  int appends_ = 0;
};

std::string Text(size_t bytes) {
  std::string out;
  for (size_t i = 0; out.size() < bytes; ++i) out += "line " + std::to_string(i) + "\n";
  out.resize(bytes);
  return out;
}

void WriteLines(ChunkWriter& writer, std::string_view text) {
  for (size_t i = 0; i < text.size(); i += 37) {
    const std::string_view piece = text.substr(i, 37);
    writer.Commit(CharBuffer::Put(writer.Reserve(piece.size()), piece));
  }
}

TEST(ChunkWriterTest, WritesIntoALendersMemoryWithoutAppending) {
  StringLender lender;
  const std::string text = Text(100000);
  ChunkWriter writer(lender);
  WriteLines(writer, text);
  EXPECT_OK(writer.Finish());
  EXPECT_EQ(lender.data_, text);
  EXPECT_EQ(lender.appends_, 0);
  EXPECT_GE(lender.exchanges_, 90);  // handed back at each cut of 1000 bytes (1036 here)
}

TEST(ChunkWriterTest, AnAppendLargerThanAReservationGoesToTheSinkInOrder) {
  StringLender lender;
  const std::string big(ChunkWriter::kMaxReserve + 1, 'x');
  ChunkWriter writer(lender);
  writer.Append("a\n");
  writer.Append(big);
  writer.Append("b\n");
  EXPECT_OK(writer.Finish());
  EXPECT_EQ(lender.data_, "a\n" + big + "b\n");
  EXPECT_EQ(lender.appends_, 1);
}

// A reservation above kMaxReserve (a row with very long owner strings, escaped) gets room for
// all of it, in a lender's stream and a plain sink's, between in-place writes.
TEST(ChunkWriterTest, AReservationLargerThanTheSlackGetsAllItsRoom) {
  const size_t large = 5 * ChunkWriter::kMaxReserve;
  const std::string before = Text(1500);
  const std::string big(large, 'y');
  const std::string after = Text(2500);
  auto write = [&](ChunkWriter& writer) {
    WriteLines(writer, before);
    char* p = writer.Reserve(large);
    std::memset(p, 'y', large);  // every byte reserved is written (ASan checks the room)
    writer.Commit(p + large);
    WriteLines(writer, after);
    return writer.Finish();
  };
  StringLender lender;
  ChunkWriter to_lender(lender);
  EXPECT_OK(write(to_lender));
  EXPECT_EQ(lender.data_, before + big + after);
  CountingSink sink;
  ChunkWriter to_sink(sink);
  EXPECT_OK(write(to_sink));
  EXPECT_EQ(sink.data_, before + big + after);
}

TEST(ChunkWriterTest, APlainSinkGetsChunksOfAboutAMebibyte) {
  CountingSink sink;
  const std::string text = Text(3 << 20);
  ChunkWriter writer(sink);
  WriteLines(writer, text);
  EXPECT_OK(writer.Finish());
  EXPECT_EQ(sink.data_, text);
  ASSERT_EQ(sink.sizes_.size(), 3u);
  EXPECT_GE(sink.sizes_[0], size_t{1} << 20);
  EXPECT_LT(sink.sizes_[0], (size_t{1} << 20) + 37);
}

TEST(ChunkWriterTest, ThePlainSinksFirstErrorSticks) {
  CountingSink sink;
  sink.fail_ = true;
  ChunkWriter writer(sink);
  WriteLines(writer, Text(2 << 20));
  EXPECT_FALSE(writer.ok());
  EXPECT_THAT(writer.Finish(), StatusIs(StatusCode::kUnavailable, "disk gone"));
  EXPECT_TRUE(sink.data_.empty());
}

}  // namespace
}  // namespace vpcflow
