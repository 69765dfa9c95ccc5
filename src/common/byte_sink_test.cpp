#include "vpcflow/byte_sink.hpp"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>

#include "common/gzip_reader.hpp"
#include "testing/files.hpp"
#include "testing/matchers.hpp"
#include "testing/scratch_dir.hpp"

namespace vpcflow {
namespace {

using ::testing::HasSubstr;

class ByteSinkTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(dir_.empty()); }

  // A new file at `path` written by a sink synced on close, which owns its descriptor `*fd`.
  static Result<ByteSinkPtr> CreateSyncedSink(const std::string& path, int* fd) {
    *fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (*fd < 0) return UnavailableError("cannot create " + path);
    return NewFdSink(*fd, path, /*sync_on_close=*/true);
  }

  // Decompresses with the system's gzip, the reference decoder.
  static std::string SystemGunzip(const std::string& path) {
    std::string out;
    std::FILE* p = ::popen(("gzip -dc '" + path + "'").c_str(), "r");
    if (p == nullptr) return "<popen failed>";
    char buf[65536];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
    if (::pclose(p) != 0) out += "<gzip failed>";
    return out;
  }

  ScratchDir scratch_;
  const std::string dir_ = scratch_.path();
};

std::string Text(size_t bytes) {
  std::string out;
  for (size_t i = 0; out.size() < bytes; ++i) {
    out += "2 123456789012 eni-0a1b2c3d 10.0." + std::to_string(i % 251) + ".1 10.0.0.2 443 " +
           std::to_string(i % 65536) + " 6 1 " + std::to_string(i * 7) + "\n";
  }
  out.resize(bytes);
  return out;
}

// A sink that fails every Append after `ok_appends`, and Close when told to.
class FailingSink final : public ByteSink {
 public:
  explicit FailingSink(int ok_appends) : ok_appends_(ok_appends) {}
  Status Append(std::string_view) override {
    return ok_appends_-- > 0 ? OkStatus() : UnavailableError("disk gone");
  }
  Status Close() override {
    ++closes_;
    return OkStatus();
  }
  int closes_ = 0;

 private:
  int ok_appends_;
};

TEST_F(ByteSinkTest, StringSinkCollects) {
  StringSink sink;
  EXPECT_OK(sink.Append("ab"));
  EXPECT_OK(sink.Append("c"));
  EXPECT_OK(sink.Close());
  EXPECT_EQ(sink.data(), "abc");
  EXPECT_EQ(sink.Release(), "abc");
}

TEST_F(ByteSinkTest, FileSinkWritesTheFile) {
  const std::string path = dir_ + "/out.txt";
  Result<ByteSinkPtr> sink = NewFileSink(path);
  ASSERT_THAT(sink, IsOk());
  const std::string big = Text(3 << 20);
  EXPECT_OK((*sink)->Append("hello\n"));
  EXPECT_OK((*sink)->Append(big));
  EXPECT_OK((*sink)->Close());
  EXPECT_OK((*sink)->Close());  // idempotent
  EXPECT_EQ(ReadFile(path), "hello\n" + big);
  EXPECT_THAT((*sink)->Append("more"), StatusIs(StatusCode::kFailedPrecondition));
}

TEST_F(ByteSinkTest, FileSinkTruncatesAnExistingFile) {
  const std::string path = dir_ + "/out.txt";
  std::ofstream(path) << "old content that is long";
  Result<ByteSinkPtr> sink = NewFileSink(path);
  ASSERT_THAT(sink, IsOk());
  EXPECT_OK((*sink)->Append("new"));
  EXPECT_OK((*sink)->Close());
  EXPECT_EQ(ReadFile(path), "new");
}

TEST_F(ByteSinkTest, FileSinkNamesThePathItCannotCreate) {
  EXPECT_THAT(NewFileSink(dir_ + "/missing/out.txt"),
              StatusIs(StatusCode::kNotFound, HasSubstr(dir_ + "/missing/out.txt")));
  EXPECT_THAT(NewFileSink(dir_), StatusIs(StatusCode::kUnavailable, HasSubstr(dir_)));
}

TEST_F(ByteSinkTest, FileSinkReportsAFullDisk) {
  if (!std::filesystem::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  Result<ByteSinkPtr> sink = NewFileSink("/dev/full");
  ASSERT_THAT(sink, IsOk());
  Status s = (*sink)->Append(Text(4 << 20));
  if (s.ok()) s = (*sink)->Close();
  EXPECT_THAT(s, StatusIs(StatusCode::kUnavailable, HasSubstr("/dev/full")));
}

TEST_F(ByteSinkTest, FdSinkWritesAndClosesItsDescriptor) {
  const std::string path = dir_ + "/fd.txt";
  int fd = -1;
  Result<ByteSinkPtr> sink = CreateSyncedSink(path, &fd);
  ASSERT_THAT(sink, IsOk());
  ASSERT_OK((*sink)->Append("synced"));
  ASSERT_OK((*sink)->Close());
  EXPECT_EQ(ReadFile(path), "synced");
  EXPECT_EQ(::fcntl(fd, F_GETFD), -1);  // closed by the sink
}

// A file synced on close starts its write-back every few MiB while it is written: every byte
// still lands in order, and a device that cannot take them still fails the sink.
TEST_F(ByteSinkTest, FdSinkSyncedOnCloseWritesALargeFileWhole) {
  const std::string path = dir_ + "/large.txt";
  int fd = -1;
  Result<ByteSinkPtr> sink = CreateSyncedSink(path, &fd);
  ASSERT_THAT(sink, IsOk());
  const std::string text = Text(20 << 20);  // past the write-back step twice
  for (size_t at = 0; at < text.size(); at += 4099) {
    ASSERT_OK((*sink)->Append(std::string_view(text).substr(at, 4099)));
  }
  ASSERT_OK((*sink)->Close());
  EXPECT_TRUE(ReadFile(path) == text);

  if (!std::filesystem::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  const int full = ::open("/dev/full", O_WRONLY | O_CLOEXEC);
  ASSERT_GE(full, 0);
  Result<ByteSinkPtr> synced = NewFdSink(full, "the full output", /*sync_on_close=*/true);
  ASSERT_THAT(synced, IsOk());
  Status s;
  for (size_t at = 0; s.ok() && at < text.size(); at += 1 << 20) {
    s = (*synced)->Append(std::string_view(text).substr(at, 1 << 20));
  }
  if (s.ok()) s = (*synced)->Close();
  EXPECT_THAT(s, StatusIs(StatusCode::kUnavailable, HasSubstr("the full output")));
}

TEST_F(ByteSinkTest, FdSinkNamesItsFileInErrors) {
  if (!std::filesystem::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  const int fd = ::open("/dev/full", O_WRONLY | O_CLOEXEC);
  ASSERT_GE(fd, 0);
  Result<ByteSinkPtr> sink = NewFdSink(fd, "the output");
  ASSERT_THAT(sink, IsOk());
  Status s = (*sink)->Append(Text(4 << 20));
  if (s.ok()) s = (*sink)->Close();
  EXPECT_THAT(s, StatusIs(StatusCode::kUnavailable, HasSubstr("the output")));
  // A descriptor that cannot be wrapped is an error, and is closed.
  EXPECT_THAT(NewFdSink(-1, "nothing"), StatusIs(StatusCode::kUnavailable, HasSubstr("nothing")));
}

TEST_F(ByteSinkTest, StdioSinkFlushesOnClose) {
  std::FILE* f = std::tmpfile();
  ASSERT_NE(f, nullptr);
  ByteSinkPtr sink = NewStdioSink(f);
  EXPECT_OK(sink->Append("abc"));
  EXPECT_OK(sink->Append("def"));
  EXPECT_OK(sink->Close());
  std::rewind(f);
  char buf[16] = {};
  EXPECT_EQ(std::fread(buf, 1, sizeof(buf), f), 6u);
  EXPECT_EQ(std::string(buf), "abcdef");
  std::fclose(f);  // not owned by the sink
}

TEST_F(ByteSinkTest, GzipSinkOutputIsReadableByGzip) {
  const std::string text = Text(5 << 20);
  for (int level : {0, 1, 2, 3}) {
    SCOPED_TRACE(level);
    const std::string path = dir_ + "/out" + std::to_string(level) + ".gz";
    Result<ByteSinkPtr> file = NewFileSink(path);
    ASSERT_THAT(file, IsOk());
    ByteSinkPtr gzip = NewGzipSink(std::move(*file), level);
    // Many small appends, then one larger than the sink's chunk.
    for (size_t i = 0; i < text.size() / 2; i += 61) {
      ASSERT_OK(gzip->Append(
          std::string_view(text).substr(i, std::min<size_t>(61, text.size() / 2 - i))));
    }
    ASSERT_OK(gzip->Append(std::string_view(text).substr(text.size() / 2)));
    ASSERT_OK(gzip->Close());
    EXPECT_OK(gzip->Close());
    EXPECT_LT(std::filesystem::file_size(path), text.size() / 3);
    EXPECT_EQ(SystemGunzip(path), text);
  }
}

TEST_F(ByteSinkTest, GzipSinkOfNothingIsAnEmptyGzipFile) {
  const std::string path = dir_ + "/empty.gz";
  Result<ByteSinkPtr> file = NewFileSink(path);
  ASSERT_THAT(file, IsOk());
  ByteSinkPtr gzip = NewGzipSink(std::move(*file));
  ASSERT_OK(gzip->Close());
  const std::string bytes = ReadFile(path);
  ASSERT_GE(bytes.size(), 18u);
  EXPECT_EQ(bytes.substr(0, 2), "\x1f\x8b");
  EXPECT_EQ(SystemGunzip(path), "");
}

TEST_F(ByteSinkTest, GzipSinkClosesItsBorrowedTarget) {
  FailingSink target(1000);
  ByteSinkPtr gzip = NewGzipSink(&target, 1);
  EXPECT_OK(gzip->Append("x"));
  EXPECT_OK(gzip->Close());
  EXPECT_OK(gzip->Close());
  EXPECT_EQ(target.closes_, 1);
  EXPECT_THAT(gzip->Append("y"), StatusIs(StatusCode::kFailedPrecondition));
}

TEST_F(ByteSinkTest, GzipSinkPassesTargetErrorsOn) {
  FailingSink target(0);
  ByteSinkPtr gzip = NewGzipSink(&target, 1);
  Status s = gzip->Append(Text(2 << 20));
  EXPECT_THAT(s, StatusIs(StatusCode::kUnavailable, "disk gone"));
  EXPECT_THAT(gzip->Append("more"), StatusIs(StatusCode::kUnavailable));
  EXPECT_THAT(gzip->Close(), StatusIs(StatusCode::kUnavailable));
}

// The single-stream sink (the generator's flow logs, Parquet pages) matches across ISA-L's whole
// 32 KiB window: a block of 4 KiB of random bytes said eight times costs little more than once.
// (The digest's parallel sink uses a 1 KiB window, in which these repeats are out of reach:
// flow-log text would come out ~5% larger there.)
TEST_F(ByteSinkTest, GzipSinkMatchesAcrossTheWholeWindow) {
  std::mt19937_64 rng(7);
  std::string block(4 << 10, '\0');
  for (char& c : block) c = static_cast<char>(rng());
  for (int level : {1, 3}) {
    StringSink out;
    ByteSinkPtr gzip = NewGzipSink(&out, level);
    for (int i = 0; i < 8; ++i) ASSERT_OK(gzip->Append(block));
    ASSERT_OK(gzip->Close());
    EXPECT_LT(out.data().size(), block.size() * 2)
        << "level " << level << ": " << out.data().size();
  }
}

TEST_F(ByteSinkTest, GzipSinkClampsTheLevel) {
  for (int level : {-5, 9}) {
    StringSink out;
    ByteSinkPtr gzip = NewGzipSink(&out, level);
    ASSERT_OK(gzip->Append(Text(100000)));
    ASSERT_OK(gzip->Close());
    EXPECT_LT(out.data().size(), 50000u) << level;
  }
}

}  // namespace
}  // namespace vpcflow
