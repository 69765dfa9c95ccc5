#include "common/parallel_gzip_sink.hpp"

#include <gtest/gtest.h>
#include <zlib.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "common/chunk_writer.hpp"
#include "common/gzip_reader.hpp"
#include "testing/matchers.hpp"
#include "testing/no_new_threads.hpp"
#include "testing/scratch_dir.hpp"

namespace vpcflow {
namespace {

using ::testing::HasSubstr;

constexpr size_t kChunk = size_t{64} * 1024;

// Flowlog-shaped text (compressible, as the digest is).
std::string Lines(size_t bytes) {
  std::string out;
  for (size_t i = 0; out.size() < bytes; ++i) {
    out += "2 123456789012 eni-0a1b2c3d 10.0." + std::to_string(i % 251) + "." +
           std::to_string(i * 7 % 255) + " 10.0.0.2 443 " + std::to_string(i * 131 % 65536) +
           " 6 1 " + std::to_string(i * 7919 % 100000) + " 1762041600 1762041659 ACCEPT OK\n";
  }
  out.resize(bytes);
  return out;
}

// Incompressible bytes (every chunk's deflate stream is larger than its input).
std::string RandomBytes(size_t bytes, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string out(bytes, '\0');
  for (char& c : out) c = static_cast<char>(rng());
  return out;
}

// Decompresses with zlib and checks the data is exactly one gzip member.
std::string ZlibGunzipOneMember(const std::string& gz) {
  z_stream z{};
  if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) return "<inflateInit2 failed>";
  std::string out;
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(gz.data()));
  z.avail_in = static_cast<uInt>(gz.size());
  int ret = Z_OK;
  char buf[65536];
  while (ret == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof(buf);
    ret = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof(buf) - z.avail_out);
  }
  const bool whole = ret == Z_STREAM_END && z.avail_in == 0;
  inflateEnd(&z);
  return whole ? out
               : "<zlib: " + std::to_string(ret) + ", " + std::to_string(z.avail_in) +
                     " bytes after the member>";
}

std::string OurGunzip(const std::string& gz, size_t expected) {
  std::string out(expected + 1, '\0');
  Result<size_t> n = GunzipInto(gz, std::span<char>(out.data(), out.size()));
  if (!n.ok()) return "<" + n.status().ToString() + ">";
  out.resize(*n);
  return out;
}

std::string Compress(const std::string& text, ParallelGzipOptions options,
                     size_t piece = std::string::npos) {
  StringSink out;
  ByteSinkPtr gzip = NewParallelGzipSink(&out, options);
  for (size_t i = 0; i < text.size(); i += piece) {
    EXPECT_OK(gzip->Append(std::string_view(text).substr(i, piece)));
  }
  EXPECT_OK(gzip->Close());
  return out.Release();
}

// The same through a ChunkWriter formatting into the sink's lent memory: pieces of 1 to 400
// bytes written through Reserve/Commit (as a formatter writes its lines), and every 97th a
// piece of 100 KiB through Append (larger than a reservation may be).
std::string CompressLent(const std::string& text, ParallelGzipOptions options) {
  StringSink out;
  ByteSinkPtr gzip = NewParallelGzipSink(&out, options);
  {
    ChunkWriter writer(*gzip);
    std::mt19937 rng(5);
    for (size_t i = 0, k = 0; i < text.size(); ++k) {
      const size_t n =
          std::min<size_t>(text.size() - i, k % 97 == 96 ? 100 << 10 : 1 + rng() % 400);
      const std::string_view piece = std::string_view(text).substr(i, n);
      if (n > ChunkWriter::kMaxReserve) {
        writer.Append(piece);
      } else {
        writer.Commit(CharBuffer::Put(writer.Reserve(n), piece));
      }
      i += n;
    }
    EXPECT_OK(writer.Finish());
  }
  EXPECT_OK(gzip->Close());
  return out.Release();
}

// A target that fails every Append after `ok_appends` and counts its Closes.
class FailingSink final : public ByteSink {
 public:
  explicit FailingSink(int ok_appends) : ok_appends_(ok_appends) {}
  Status Append(std::string_view) override {
    return ok_appends_.fetch_sub(1) > 0 ? OkStatus() : UnavailableError("disk gone");
  }
  Status Close() override {
    ++closes_;
    return OkStatus();
  }
  int closes_ = 0;

 private:
  std::atomic<int> ok_appends_;
};

TEST(ParallelGzipSinkTest, RoundTripsEverySizeAroundTheChunk) {
  ScratchDir scratch;
  const std::vector<size_t> sizes = {0,          1,          kChunk - 1,          kChunk,
                                     kChunk + 1, 2 * kChunk, 11 * kChunk + 12345, 4 << 20};
  for (bool random : {false, true}) {
    for (size_t size : sizes) {
      SCOPED_TRACE(std::to_string(size) + (random ? " random" : " lines"));
      const std::string text = random ? RandomBytes(size, 7) : Lines(size);
      const std::string gz = Compress(text, {.level = 1, .threads = 3, .chunk_bytes = kChunk});
      ASSERT_GE(gz.size(), 18u);
      EXPECT_EQ(gz.substr(0, 3), "\x1f\x8b\x08");
      EXPECT_EQ(ZlibGunzipOneMember(gz), text);
      EXPECT_EQ(OurGunzip(gz, text.size()), text);
      if (!random && size > kChunk) {
        EXPECT_LT(gz.size(), text.size() / 3);
      }
      // The reference tool agrees.
      const std::string path = scratch.path() + "/t.gz";
      std::ofstream(path, std::ios::binary) << gz;
      EXPECT_EQ(std::system(("gzip -t '" + path + "'").c_str()), 0);
    }
  }
}

TEST(ParallelGzipSinkTest, RoundTripsSmallAppendsAndChunksSmallerThanTheWindow) {
  // 1000-byte chunks: each chunk's window spans many chunks before it.
  const std::string text = Lines(300000);
  for (size_t piece : {size_t{1}, size_t{61}, size_t{4096}, std::string::npos}) {
    SCOPED_TRACE(piece);
    const std::string gz = Compress(
        text,
        {.threads = 2, .chunk_bytes = 1000, .chunks_in_flight = 3, .allow_small_chunks = true},
        piece == 1 ? 1 : piece);
    EXPECT_EQ(ZlibGunzipOneMember(gz), text);
  }
}

TEST(ParallelGzipSinkTest, EveryLevelRoundTrips) {
  const std::string text = Lines(5 * kChunk + 77);
  for (int level : {-1, 0, 1, 2, 3, 9}) {
    SCOPED_TRACE(level);
    const std::string gz = Compress(text, {.level = level, .threads = 2, .chunk_bytes = kChunk});
    EXPECT_EQ(ZlibGunzipOneMember(gz), text);
    EXPECT_LT(gz.size(), text.size() / 3);
  }
}

TEST(ParallelGzipSinkTest, BytesAreTheSameWhateverTheThreads) {
  const std::string text = Lines(3 << 20) + RandomBytes(kChunk + 5, 3) + Lines(kChunk * 3 + 9);
  const std::string one = Compress(text, {.threads = 1, .chunk_bytes = kChunk}, 7001);
  for (int threads : {2, 3, 8}) {
    for (size_t in_flight : {size_t{2}, size_t{5}, size_t{16}}) {
      SCOPED_TRACE(std::to_string(threads) + " threads, " + std::to_string(in_flight));
      EXPECT_EQ(
          Compress(text, {.threads = threads, .chunk_bytes = kChunk, .chunks_in_flight = in_flight},
                   in_flight == 5 ? std::string::npos : 4096),
          one);
    }
  }
  EXPECT_EQ(ZlibGunzipOneMember(one), text);
}

// Deflaters that cannot start leave the chunks to the caller: the same bytes.
TEST(ParallelGzipSinkTest, WithoutItsThreadsTheCallerDeflatesTheSameBytes) {
  const std::string text = Lines(kChunk * 5 + 17);
  const std::string threaded = Compress(text, {.threads = 3, .chunk_bytes = kChunk}, 7001);
  NoNewThreads no_threads;
  if (!no_threads.active()) GTEST_SKIP() << "cannot stop threads from starting here";
  EXPECT_EQ(Compress(text, {.threads = 3, .chunk_bytes = kChunk}, 7001), threaded);
}

TEST(ParallelGzipSinkTest, TextWrittenIntoItsMemoryGivesTheBytesOfAppend) {
  const std::string text = Lines(3 << 20) + RandomBytes(kChunk + 5, 3) + Lines(kChunk * 3 + 9);
  const std::string appended = Compress(text, {.threads = 1, .chunk_bytes = kChunk}, 7001);
  for (int threads : {1, 2, 8}) {
    for (size_t in_flight : {size_t{2}, size_t{5}}) {
      SCOPED_TRACE(std::to_string(threads) + " threads, " + std::to_string(in_flight));
      EXPECT_EQ(
          CompressLent(text,
                       {.threads = threads, .chunk_bytes = kChunk, .chunks_in_flight = in_flight}),
          appended);
    }
  }
  // Chunks smaller than a reservation's slack: what is written past a chunk spans several.
  const std::string small = Lines(300000);
  const ParallelGzipOptions tiny = {
      .threads = 2, .chunk_bytes = 1000, .chunks_in_flight = 3, .allow_small_chunks = true};
  EXPECT_EQ(CompressLent(small, tiny), Compress(small, tiny, 4096));
  // Nothing written: an empty member.
  EXPECT_EQ(CompressLent("", {.threads = 2}), Compress("", {.threads = 2}));
}

TEST(ParallelGzipSinkTest, TheTargetsErrorReachesAWriterOfItsMemory) {
  FailingSink target(1);
  ByteSinkPtr gzip = NewParallelGzipSink(&target, {.threads = 2, .chunk_bytes = kChunk});
  const std::string text = RandomBytes(300, 1);
  {
    ChunkWriter writer(*gzip);
    for (int i = 0; i < 20000 && writer.ok(); ++i) {
      writer.Commit(CharBuffer::Put(writer.Reserve(text.size()), text));
    }
    EXPECT_FALSE(writer.ok());
    writer.Commit(CharBuffer::Put(writer.Reserve(text.size()), text));  // dropped
    EXPECT_THAT(writer.Finish(), StatusIs(StatusCode::kUnavailable, "disk gone"));
  }
  EXPECT_THAT(gzip->Close(), StatusIs(StatusCode::kUnavailable, "disk gone"));
  EXPECT_EQ(target.closes_, 1);
}

TEST(ParallelGzipSinkTest, TheTargetsFirstErrorSticksAndCloseReturnsIt) {
  for (int ok_appends : {0, 1, 3}) {
    SCOPED_TRACE(ok_appends);
    FailingSink target(ok_appends);
    ByteSinkPtr gzip = NewParallelGzipSink(&target, {.threads = 2, .chunk_bytes = kChunk});
    const std::string text = RandomBytes(kChunk, 1);
    Status st;
    for (int i = 0; i < 40 && st.ok(); ++i) st = gzip->Append(text);
    if (!st.ok()) {
      EXPECT_THAT(st, StatusIs(StatusCode::kUnavailable, "disk gone"));
      EXPECT_THAT(gzip->Append("more"), StatusIs(StatusCode::kUnavailable, "disk gone"));
    }
    EXPECT_THAT(gzip->Close(), StatusIs(StatusCode::kUnavailable, "disk gone"));
    EXPECT_THAT(gzip->Close(), StatusIs(StatusCode::kUnavailable, "disk gone"));
    EXPECT_EQ(target.closes_, 1);
  }
}

TEST(ParallelGzipSinkTest, CloseClosesTheTargetOnceAndLaterAppendsFail) {
  FailingSink target(1000);
  ByteSinkPtr gzip = NewParallelGzipSink(&target);
  EXPECT_OK(gzip->Append("x"));
  EXPECT_OK(gzip->Close());
  EXPECT_OK(gzip->Close());
  EXPECT_EQ(target.closes_, 1);
  EXPECT_THAT(gzip->Append("y"), StatusIs(StatusCode::kFailedPrecondition));
}

TEST(ParallelGzipSinkTest, DestructionWithoutCloseStopsItsThreadsAndLeavesNoTrailer) {
  const std::string text = Lines(kChunk);
  for (int chunks : {0, 1, 3, 20}) {
    SCOPED_TRACE(chunks);
    StringSink out;
    {
      ByteSinkPtr gzip = NewParallelGzipSink(&out, {.threads = 4, .chunk_bytes = kChunk});
      for (int i = 0; i < chunks; ++i) ASSERT_OK(gzip->Append(text));
    }  // joins the threads
    EXPECT_THAT(ZlibGunzipOneMember(out.data()), HasSubstr("<zlib"));
    // Owning its target: the target goes with the sink.
    auto owned = std::make_unique<StringSink>();
    ByteSinkPtr gzip = NewParallelGzipSink(std::move(owned), {.threads = 2, .chunk_bytes = kChunk});
    for (int i = 0; i < chunks; ++i) ASSERT_OK(gzip->Append(text));
    gzip.reset();
  }
}

}  // namespace
}  // namespace vpcflow
