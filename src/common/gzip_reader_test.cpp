#include "common/gzip_reader.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "testing/flow_log_builder.hpp"
#include "testing/matchers.hpp"
#include "vpcflow/byte_sink.hpp"

namespace vpcflow {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// Serves a string in reads of at most `chunk` bytes; fails with `error` once `fail_at` bytes
// have been served (when set). With set_in_memory(), it hands the rest over by TakeInMemory as
// a prefetched download does.
class StringReader final : public ObjectReader {
 public:
  explicit StringReader(std::string data, size_t chunk = 1 << 20, size_t fail_at = SIZE_MAX,
                        Status error = UnavailableError("connection reset"))
      : data_(std::move(data)), chunk_(chunk), fail_at_(fail_at), error_(std::move(error)) {}

  Result<size_t> Read(std::span<char> buffer) override {
    if (pos_ >= fail_at_) return error_;
    size_t n = std::min({buffer.size(), chunk_, data_.size() - pos_});
    if (fail_at_ != SIZE_MAX) n = std::min(n, fail_at_ - pos_);
    std::copy_n(data_.data() + pos_, n, buffer.data());
    pos_ += n;
    return n;
  }

  std::optional<std::string_view> TakeInMemory() override {
    if (!in_memory_) return std::nullopt;
    const std::string_view rest = std::string_view(data_).substr(pos_);
    pos_ = data_.size();
    return rest;
  }
  void set_in_memory() { in_memory_ = true; }

 private:
  bool in_memory_ = false;
  std::string data_;
  size_t chunk_;
  size_t fail_at_;
  Status error_;
  size_t pos_ = 0;
};

std::string Gzip(std::string_view text, int level = 1) {
  StringSink out;
  ByteSinkPtr gzip = NewGzipSink(&out, level);
  EXPECT_OK(gzip->Append(text));
  EXPECT_OK(gzip->Close());
  return out.Release();
}

// Everything a TextStream yields, read `size` bytes at a time.
Result<std::string> Drain(TextStream& stream, size_t size = 64 * 1024) {
  std::string out;
  std::vector<char> buf(size);
  for (;;) {
    Result<size_t> n = stream.Read(buf.data(), buf.size());
    if (!n.ok()) return n.status();
    if (*n == 0) return out;
    out.append(buf.data(), *n);
  }
}

// Decodes `compressed` read in chunks, and again from memory (TakeInMemory): both must give the
// same text or the same error.
Result<std::string> Gunzip(std::string compressed, size_t chunk = 1 << 20) {
  StringReader in_memory(compressed);
  in_memory.set_in_memory();
  Result<std::string> from_memory = Drain(*NewGzipTextStream(&in_memory));
  StringReader reader(std::move(compressed), chunk);
  Result<std::string> streamed = Drain(*NewGzipTextStream(&reader));
  EXPECT_EQ(from_memory.status().code(), streamed.status().code())
      << from_memory.status().ToString();
  if (streamed.ok() && from_memory.ok()) {
    EXPECT_TRUE(*from_memory == *streamed);
  }
  return streamed;
}

struct Lines {
  std::vector<std::string> lines;
  Status status;
};

Lines ReadLines(TextStream* stream, size_t buffer_bytes = 256 * 1024,
                size_t max_line_bytes = 64 * 1024) {
  LineReader reader(stream, buffer_bytes, max_line_bytes);
  Lines out;
  std::string_view line;
  while (reader.Next(&line)) out.lines.emplace_back(line);
  out.status = reader.status();
  return out;
}

Lines ReadPlainLines(std::string text, size_t buffer_bytes = 256 * 1024,
                     size_t max_line_bytes = 64 * 1024, size_t chunk = 1 << 20) {
  StringReader reader(std::move(text), chunk);
  auto stream = NewPlainTextStream(&reader);
  return ReadLines(stream.get(), buffer_bytes, max_line_bytes);
}

// The LineReader contract written the obvious way.
std::vector<std::string> ReferenceLines(const std::string& text, size_t max_line) {
  std::vector<std::string> out;
  size_t begin = 0;
  while (begin < text.size()) {
    size_t end = text.find('\n', begin);
    const size_t next = end == std::string::npos ? text.size() : end + 1;
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(begin, end - begin);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.size() > max_line) line.resize(max_line);
    out.push_back(std::move(line));
    begin = next;
  }
  return out;
}

std::string RandomText(size_t lines, size_t max_len, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string text;
  for (size_t i = 0; i < lines; ++i) {
    const size_t len = rng() % 4 == 0 ? rng() % (max_len + 1) : rng() % 120;
    for (size_t j = 0; j < len; ++j) text.push_back(static_cast<char>('a' + rng() % 26));
    if (rng() % 8 == 0) text.push_back('\r');
    text.push_back('\n');
  }
  return text;
}

std::string FlowLogText(int records) {
  FlowLogBuilder builder;
  for (int i = 0; i < records; ++i) {
    builder.Add({{Field::kSrcAddr, "10.0." + std::to_string(i % 256) + "." + std::to_string(i % 7)},
                 {Field::kBytes, std::to_string(i * 37)}});
  }
  return builder.Text();
}

TEST(GzipTextStreamTest, RoundTripsThroughGzipSinkAtEveryLevel) {
  const std::string text = FlowLogText(50000);
  for (int level = 0; level <= 3; ++level) {
    const std::string gz = Gzip(text, level);
    EXPECT_LT(gz.size(), text.size() / 3) << level;
    StringReader reader(gz);
    auto stream = NewGzipTextStream(&reader);
    EXPECT_THAT(Drain(*stream), IsOkAndHolds(text)) << level;
    EXPECT_EQ(stream->compressed_bytes(), gz.size());
  }
}

TEST(GzipTextStreamTest, HandlesAnyReadAndOutputSizes) {
  const std::string text = RandomText(500, 300, 1);
  const std::string gz = Gzip(text);
  for (size_t chunk : {size_t{1}, size_t{2}, size_t{7}, size_t{4096}}) {
    EXPECT_THAT(Gunzip(gz, chunk), IsOkAndHolds(text)) << "reader chunk " << chunk;
  }
  for (size_t out : {size_t{1}, size_t{3}, size_t{1000}}) {
    StringReader reader(gz, 5000);
    EXPECT_THAT(Drain(*NewGzipTextStream(&reader), out), IsOkAndHolds(text)) << "output " << out;
  }
}

TEST(GzipTextStreamTest, DecodesConcatenatedMembers) {
  const std::string a = "first member\nline 2\n";
  const std::string b = "second member\n";
  EXPECT_THAT(Gunzip(Gzip(a) + Gzip(b)), IsOkAndHolds(a + b));
  EXPECT_THAT(Gunzip(Gzip(a) + Gzip("") + Gzip(b) + Gzip(a)), IsOkAndHolds(a + b + a));
  // Member boundaries falling anywhere in the reads.
  for (size_t chunk : {size_t{1}, size_t{3}, size_t{17}}) {
    EXPECT_THAT(Gunzip(Gzip(a) + Gzip(b), chunk), IsOkAndHolds(a + b)) << chunk;
  }
  // Big members: the boundary lands in the middle of an input buffer.
  const std::string big = RandomText(20000, 200, 2);
  EXPECT_THAT(Gunzip(Gzip(big) + Gzip(big, 3)), IsOkAndHolds(big + big));
}

TEST(GzipTextStreamTest, IgnoresTrailingZeroPadding) {
  EXPECT_THAT(Gunzip(Gzip("x\n") + std::string(1000, '\0')), IsOkAndHolds("x\n"));
  EXPECT_THAT(Gunzip(Gzip("x\n") + std::string(3, '\0'), 1), IsOkAndHolds("x\n"));
}

TEST(GzipTextStreamTest, RefusesTrailingGarbage) {
  EXPECT_THAT(Gunzip(Gzip("x\n") + "garbage"), StatusIs(StatusCode::kDataLoss));
  EXPECT_THAT(Gunzip(Gzip("x\n") + std::string(10, '\0') + "junk"),
              StatusIs(StatusCode::kDataLoss, HasSubstr("zero padding")));
  EXPECT_THAT(Gunzip(Gzip("x\n") + "\x1f"), StatusIs(StatusCode::kDataLoss));
}

TEST(GzipTextStreamTest, EmptyObjectIsEmptyText) {
  EXPECT_THAT(Gunzip(""), IsOkAndHolds(""));
  EXPECT_THAT(Gunzip(Gzip("")), IsOkAndHolds(""));
}

TEST(GzipTextStreamTest, NotGzipIsDataLoss) {
  EXPECT_THAT(Gunzip("plain text, not gzip\n"),
              StatusIs(StatusCode::kDataLoss, HasSubstr("invalid gzip header")));
}

TEST(GzipTextStreamTest, EveryCorruptByteIsDataLoss) {
  const std::string text = RandomText(60, 100, 3);
  const std::string gz = Gzip(text);
  // Bytes 4-9 (mtime, extra flags, OS) carry no data; every other byte matters.
  for (size_t i = 0; i < gz.size(); ++i) {
    if (i >= 4 && i < 10) continue;
    std::string bad = gz;
    bad[i] = static_cast<char>(bad[i] ^ 0xff);
    EXPECT_THAT(Gunzip(bad), StatusIs(StatusCode::kDataLoss))
        << "byte " << i << " of " << gz.size();
  }
}

TEST(GzipTextStreamTest, TruncationAnywhereIsDataLoss) {
  const std::string gz = Gzip(RandomText(3000, 100, 4));
  for (size_t n = 1; n < gz.size(); n += (n < 64 || n > gz.size() - 64) ? 1 : 97) {
    EXPECT_THAT(Gunzip(gz.substr(0, n)), StatusIs(StatusCode::kDataLoss))
        << "truncated to " << n << " of " << gz.size();
  }
  EXPECT_THAT(Gunzip(gz.substr(0, gz.size() - 1)),
              StatusIs(StatusCode::kDataLoss, HasSubstr("truncated")));
  // A complete first member followed by a truncated second one.
  const std::string two = Gzip("a\n") + gz.substr(0, gz.size() / 2);
  EXPECT_THAT(Gunzip(two), StatusIs(StatusCode::kDataLoss, HasSubstr("member 2")));
}

TEST(GzipTextStreamTest, CrcAndLengthMismatchesAreDataLoss) {
  const std::string gz = Gzip("some text\n");
  std::string bad_crc = gz;
  bad_crc[gz.size() - 8] = static_cast<char>(bad_crc[gz.size() - 8] ^ 1);
  EXPECT_THAT(Gunzip(bad_crc), StatusIs(StatusCode::kDataLoss, HasSubstr("CRC32")));
  std::string bad_size = gz;
  bad_size[gz.size() - 4] = static_cast<char>(bad_size[gz.size() - 4] + 1);
  EXPECT_THAT(Gunzip(bad_size), StatusIs(StatusCode::kDataLoss));
}

TEST(GzipTextStreamTest, ErrorsAreSticky) {
  StringReader reader("not gzip at all");
  auto stream = NewGzipTextStream(&reader);
  char buf[16];
  EXPECT_THAT(stream->Read(buf, sizeof(buf)), StatusIs(StatusCode::kDataLoss));
  EXPECT_THAT(stream->Read(buf, sizeof(buf)), StatusIs(StatusCode::kDataLoss));
}

TEST(GzipTextStreamTest, PassesReaderErrorsThrough) {
  const std::string gz = Gzip(RandomText(5000, 100, 5));
  StringReader reader(gz, 1000, gz.size() / 2, UnavailableError("connection reset"));
  auto stream = NewGzipTextStream(&reader);
  EXPECT_THAT(Drain(*stream), StatusIs(StatusCode::kUnavailable, "connection reset"));
}

TEST(PlainTextStreamTest, PassesBytesAndErrorsThrough) {
  StringReader reader("abc\ndef");
  auto stream = NewPlainTextStream(&reader);
  EXPECT_THAT(Drain(*stream, 2), IsOkAndHolds("abc\ndef"));
  EXPECT_EQ(stream->compressed_bytes(), 7u);
  StringReader failing("abcdef", 2, 4, InternalError("boom"));
  EXPECT_THAT(Drain(*NewPlainTextStream(&failing)), StatusIs(StatusCode::kInternal, "boom"));
}

TEST(LineReaderTest, SplitsLinesAndStripsCarriageReturns) {
  Lines got = ReadPlainLines("a b\r\nc\n\r\n\nd\re\n");
  EXPECT_OK(got.status);
  EXPECT_THAT(got.lines, ElementsAre("a b", "c", "", "", "d\re"));
}

TEST(LineReaderTest, ReturnsALastLineWithoutNewline) {
  EXPECT_THAT(ReadPlainLines("a\nlast").lines, ElementsAre("a", "last"));
  EXPECT_THAT(ReadPlainLines("a\nlast\r").lines, ElementsAre("a", "last"));
  EXPECT_THAT(ReadPlainLines("only").lines, ElementsAre("only"));
}

TEST(LineReaderTest, EmptyTextHasNoLines) {
  Lines got = ReadPlainLines("");
  EXPECT_OK(got.status);
  EXPECT_THAT(got.lines, IsEmpty());
  EXPECT_THAT(ReadPlainLines("\n").lines, ElementsAre(""));
}

TEST(LineReaderTest, TruncatesOverLongLinesAndDropsTheirTail) {
  const std::string long_line(100, 'x');
  Lines got = ReadPlainLines("ab\n" + long_line + "\ncd\n" + std::string(17, 'y') + "\n" +
                                 std::string(16, 'z') + "\n" + long_line,
                             /*buffer_bytes=*/32, /*max_line_bytes=*/16);
  EXPECT_OK(got.status);
  EXPECT_THAT(got.lines, ElementsAre("ab", std::string(16, 'x'), "cd", std::string(16, 'y'),
                                     std::string(16, 'z'), std::string(16, 'x')));
}

TEST(LineReaderTest, MatchesTheReferenceForAnyBufferAndReadSize) {
  const std::string text = RandomText(600, 400, 6) + "tail without newline";
  for (size_t max_line : {size_t{16}, size_t{100}, size_t{1000}}) {
    const std::vector<std::string> want = ReferenceLines(text, max_line);
    for (size_t buffer : {size_t{1}, size_t{33}, size_t{250}, size_t{4096}}) {
      for (size_t chunk : {size_t{1}, size_t{13}, size_t{1 << 20}}) {
        Lines got = ReadPlainLines(text, buffer, max_line, chunk);
        EXPECT_OK(got.status);
        EXPECT_EQ(got.lines, want)
            << "max_line " << max_line << " buffer " << buffer << " chunk " << chunk;
      }
    }
  }
}

TEST(LineReaderTest, ReadsGzipLinesAndCountsBytes) {
  const std::string text = FlowLogText(20000);
  const std::string gz = Gzip(text);
  StringReader reader(gz, 100000);
  auto stream = NewGzipTextStream(&reader);
  LineReader lines(stream.get());
  std::string_view line;
  size_t n = 0;
  while (lines.Next(&line)) {
    if (n == 0) {
      EXPECT_THAT(std::string(line), HasSubstr("version account-id"));
    }
    ++n;
  }
  EXPECT_OK(lines.status());
  EXPECT_EQ(n, 20001u);
  EXPECT_EQ(lines.text_bytes(), text.size());
  EXPECT_EQ(stream->compressed_bytes(), gz.size());
}

TEST(LineReaderTest, StopsWithTheStreamError) {
  const std::string gz = Gzip(FlowLogText(20000));
  StringReader reader(gz.substr(0, gz.size() - 100));
  auto stream = NewGzipTextStream(&reader);
  Lines got = ReadLines(stream.get());
  EXPECT_THAT(got.status, StatusIs(StatusCode::kDataLoss, HasSubstr("truncated")));
  EXPECT_GT(got.lines.size(), 0u);
  LineReader after(stream.get());
  std::string_view line;
  EXPECT_FALSE(after.Next(&line));
  EXPECT_THAT(after.status(), StatusIs(StatusCode::kDataLoss));
}

}  // namespace
}  // namespace vpcflow
