#include "common/read_ahead_stream.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "testing/matchers.hpp"
#include "testing/no_new_threads.hpp"

namespace vpcflow {
namespace {

// A source of `text` in reads of at most `step` bytes, failing with `error` at its end when
// that is not OK.
class ScriptedStream final : public TextStream {
 public:
  ScriptedStream(std::string text, size_t step, Status error = OkStatus())
      : text_(std::move(text)), step_(step), error_(std::move(error)) {}
  Result<size_t> Read(char* out, size_t size) override {
    if (pos_ == text_.size()) {
      if (!error_.ok()) return error_;
      return size_t{0};
    }
    const size_t n = std::min({size, step_, text_.size() - pos_});
    text_.copy(out, n, pos_);
    pos_ += n;
    return n;
  }
  uint64_t compressed_bytes() const override { return pos_ / 2; }

 private:
  std::string text_;
  size_t step_;
  Status error_;
  size_t pos_ = 0;
};

std::string Pattern(size_t n) {
  std::string s(n, '\0');
  for (size_t i = 0; i < n; ++i) s[i] = static_cast<char>('a' + (i * 7919) % 26);
  return s;
}

Result<std::string> ReadAll(TextStream& stream, size_t read_size) {
  std::string out;
  std::string buf(read_size, '\0');
  for (;;) {
    VPCFLOW_ASSIGN_OR_RETURN(size_t n, stream.Read(buf.data(), buf.size()));
    if (n == 0) return out;
    out.append(buf.data(), n);
  }
}

// What a stream gives before it ends, and how it ends (OK at its end, else its error).
struct BytesAndEnd {
  std::string bytes;
  Status end;
};
BytesAndEnd ReadToTheEnd(TextStream& stream) {
  BytesAndEnd out;
  char buf[1000];
  for (;;) {
    Result<size_t> n = stream.Read(buf, sizeof(buf));
    if (!n.ok()) {
      out.end = n.status();
      return out;
    }
    if (*n == 0) return out;
    out.bytes.append(buf, *n);
  }
}

TEST(ReadAheadTextStreamTest, GivesTheSourcesBytesInOrder) {
  const std::string text = Pattern(300007);
  for (size_t chunk : {size_t{7}, size_t{4096}, size_t{1} << 20}) {
    for (size_t read_size : {size_t{1} << 16, size_t{333}}) {
      std::unique_ptr<TextStream> stream =
          NewReadAheadTextStream(std::make_unique<ScriptedStream>(text, 5000), chunk, 2);
      EXPECT_THAT(ReadAll(*stream, read_size), IsOkAndHolds(text)) << chunk << " " << read_size;
      EXPECT_EQ(stream->compressed_bytes(), text.size() / 2);
      EXPECT_THAT(stream->Read(nullptr, 0), IsOkAndHolds(0u));  // and stays at the end
    }
  }
}

// A stream whose helper cannot start reads its source on the caller's thread: the same bytes,
// and the source's error after them.
TEST(ReadAheadTextStreamTest, WithoutAHelperReadsOnTheCallersThread) {
  const std::string text = Pattern(100003);
  NoNewThreads no_threads;
  if (!no_threads.active()) GTEST_SKIP() << "cannot stop threads from starting here";
  std::unique_ptr<TextStream> stream =
      NewReadAheadTextStream(std::make_unique<ScriptedStream>(text, 5000), 4096, 2);
  EXPECT_THAT(ReadAll(*stream, 333), IsOkAndHolds(text));
  EXPECT_EQ(stream->compressed_bytes(), text.size() / 2);  // the source's own count
  std::unique_ptr<TextStream> failing = NewReadAheadTextStream(
      std::make_unique<ScriptedStream>(text, 5000, DataLossError("truncated")), 4096, 2);
  const BytesAndEnd read = ReadToTheEnd(*failing);
  EXPECT_EQ(read.bytes, text);
  EXPECT_THAT(read.end, StatusIs(StatusCode::kDataLoss, ::testing::HasSubstr("truncated")));
}

TEST(ReadAheadTextStreamTest, AnEmptySourceIsEmpty) {
  std::unique_ptr<TextStream> stream =
      NewReadAheadTextStream(std::make_unique<ScriptedStream>("", 10));
  EXPECT_THAT(ReadAll(*stream, 100), IsOkAndHolds(""));
}

TEST(ReadAheadTextStreamTest, TheSourcesErrorComesAfterItsBytes) {
  const std::string text = Pattern(10000);
  std::unique_ptr<TextStream> stream = NewReadAheadTextStream(
      std::make_unique<ScriptedStream>(text, 700, DataLossError("bad block")), 4096, 3);
  const BytesAndEnd read = ReadToTheEnd(*stream);
  EXPECT_EQ(read.bytes, text);
  EXPECT_THAT(read.end, StatusIs(StatusCode::kDataLoss, ::testing::HasSubstr("bad block")));
  char buf[16];
  EXPECT_THAT(stream->Read(buf, sizeof(buf)), StatusIs(StatusCode::kDataLoss));
}

TEST(ReadAheadTextStreamTest, DestroyingItEarlyStopsTheHelper) {
  std::unique_ptr<TextStream> stream = NewReadAheadTextStream(
      std::make_unique<ScriptedStream>(Pattern(1 << 22), 1 << 12), 1 << 12, 2);
  char buf[10];
  EXPECT_THAT(stream->Read(buf, sizeof(buf)), IsOkAndHolds(10u));
  stream.reset();  // must return: the helper waits for a free buffer and sees the stop
}

}  // namespace
}  // namespace vpcflow
