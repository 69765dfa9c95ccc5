#include "cli/output_file.hpp"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <thread>

#include "common/gzip_reader.hpp"
#include "testing/files.hpp"
#include "testing/matchers.hpp"
#include "testing/memory_object_source.hpp"
#include "testing/scratch_dir.hpp"

namespace vpcflow {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

struct stat Lstat(const std::string& path) {
  struct stat st = {};
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st;
}

// The names in `dir` (hidden ones too).
std::vector<std::string> Names(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename());
  std::sort(names.begin(), names.end());
  return names;
}

Status WriteAll(const std::string& path, std::string_view bytes) {
  OutputFile out;
  VPCFLOW_RETURN_IF_ERROR(out.Open(path));
  VPCFLOW_RETURN_IF_ERROR(out.sink().Append(bytes));
  return out.Commit();
}

class OutputFileTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(scratch_.path().empty()); }
  std::string Path(const std::string& name) const { return scratch_.Sub(name); }

  ScratchDir scratch_;
};

TEST_F(OutputFileTest, ANewFileAppearsOnlyAtCommit) {
  OutputFile out;
  ASSERT_OK(out.Open(Path("digest.log")));
  EXPECT_EQ(out.mode(), OutputFile::Mode::kReplace);
  ASSERT_OK(out.sink().Append("hello\n"));
  // Until Commit only the hidden temporary file exists, beside the target.
  EXPECT_FALSE(fs::exists(Path("digest.log")));
  EXPECT_THAT(out.temporary(), StartsWith(scratch_.path() + "/.digest.log."));
  EXPECT_TRUE(fs::exists(out.temporary()));
  ASSERT_OK(out.Commit());
  EXPECT_EQ(ReadFile(Path("digest.log")), "hello\n");
  EXPECT_THAT(Names(scratch_.path()), ElementsAre("digest.log"));
  // Created with 0666 minus the umask.
  const mode_t mask = ::umask(0);
  ::umask(mask);
  EXPECT_EQ(Lstat(Path("digest.log")).st_mode & 07777, 0666 & ~mask);
}

TEST_F(OutputFileTest, ARelativeNameIsWrittenInTheWorkingDirectory) {
  const fs::path cwd = fs::current_path();
  fs::current_path(scratch_.path());
  Status st = WriteAll("relative.log", "x");
  fs::current_path(cwd);
  ASSERT_OK(st);
  EXPECT_EQ(ReadFile(Path("relative.log")), "x");
}

TEST_F(OutputFileTest, AnExistingFileKeepsItsModeAndOwner) {
  WriteFile(Path("secret.log"), "old");
  ASSERT_EQ(::chmod(Path("secret.log").c_str(), 0600), 0);
  // As root, give it another owner: it must stay theirs.
  const bool root = ::geteuid() == 0;
  if (root) {
    ASSERT_EQ(::chown(Path("secret.log").c_str(), 65534, 65534), 0);
  }
  const struct stat before = Lstat(Path("secret.log"));

  OutputFile out;
  ASSERT_OK(out.Open(Path("secret.log")));
  // The temporary file is as closed as the target from the start.
  const struct stat temporary = Lstat(out.temporary());
  EXPECT_EQ(temporary.st_mode & 07777, 0600u);
  ASSERT_OK(out.sink().Append("new"));
  ASSERT_OK(out.Commit());

  const struct stat after = Lstat(Path("secret.log"));
  EXPECT_EQ(ReadFile(Path("secret.log")), "new");
  EXPECT_TRUE(S_ISREG(after.st_mode));
  EXPECT_EQ(after.st_mode & 07777, 0600u);
  EXPECT_EQ(after.st_uid, before.st_uid);
  EXPECT_EQ(after.st_gid, before.st_gid);
  EXPECT_NE(after.st_ino, before.st_ino);  // replaced, not rewritten
}

TEST_F(OutputFileTest, AnUnusualModeIsKept) {
  WriteFile(Path("shared.csv"), "old");
  ASSERT_EQ(::chmod(Path("shared.csv").c_str(), 0664), 0);
  ASSERT_OK(WriteAll(Path("shared.csv"), "new"));
  EXPECT_EQ(Lstat(Path("shared.csv")).st_mode & 07777, 0664u);
}

TEST_F(OutputFileTest, ASymlinkIsFollowedAndStaysALink) {
  fs::create_directories(Path("real"));
  WriteFile(Path("real/target.log"), "old");
  ASSERT_EQ(::chmod(Path("real/target.log").c_str(), 0640), 0);
  fs::create_symlink("real/target.log", Path("relative-link"));  // relative to its directory
  fs::create_symlink(Path("relative-link"), Path("link-to-link"));

  OutputFile out;
  ASSERT_OK(out.Open(Path("link-to-link")));
  EXPECT_EQ(out.mode(), OutputFile::Mode::kReplace);
  EXPECT_EQ(out.target(), scratch_.path() + "/real/target.log");
  EXPECT_THAT(out.temporary(), StartsWith(scratch_.path() + "/real/.target.log."));
  ASSERT_OK(out.sink().Append("new"));
  ASSERT_OK(out.Commit());

  EXPECT_TRUE(S_ISLNK(Lstat(Path("link-to-link")).st_mode));
  EXPECT_TRUE(S_ISLNK(Lstat(Path("relative-link")).st_mode));
  EXPECT_EQ(fs::read_symlink(Path("relative-link")), "real/target.log");
  EXPECT_EQ(ReadFile(Path("real/target.log")), "new");
  EXPECT_EQ(Lstat(Path("real/target.log")).st_mode & 07777, 0640u);
  EXPECT_THAT(Names(Path("real")), ElementsAre("target.log"));
}

TEST_F(OutputFileTest, ADanglingSymlinkCreatesItsTarget) {
  fs::create_symlink(Path("made.log"), Path("dangling"));
  ASSERT_OK(WriteAll(Path("dangling"), "new"));
  EXPECT_TRUE(S_ISLNK(Lstat(Path("dangling")).st_mode));
  EXPECT_EQ(ReadFile(Path("made.log")), "new");
}

TEST_F(OutputFileTest, ALinkLoopIsAnError) {
  fs::create_symlink(Path("b"), Path("a"));
  fs::create_symlink(Path("a"), Path("b"));
  EXPECT_THAT(WriteAll(Path("a"), "x"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("symbolic links")));
  EXPECT_TRUE(S_ISLNK(Lstat(Path("a")).st_mode));
  EXPECT_THAT(Names(scratch_.path()), ElementsAre("a", "b"));
}

TEST_F(OutputFileTest, AFifoIsWrittenInPlace) {
  ASSERT_EQ(::mkfifo(Path("fifo").c_str(), 0600), 0);
  std::string read;
  std::thread reader([&] {
    const int fd = ::open(Path("fifo").c_str(), O_RDONLY);  // waits for the writer
    ASSERT_GE(fd, 0);
    char buf[256];
    for (ssize_t n; (n = ::read(fd, buf, sizeof(buf))) > 0;) read.append(buf, n);
    ::close(fd);
  });
  OutputFile out;
  Status opened = out.Open(Path("fifo"));  // waits for the reader
  if (opened.ok()) {
    EXPECT_EQ(out.mode(), OutputFile::Mode::kInPlace);
    EXPECT_THAT(out.temporary(), IsEmpty());
    EXPECT_OK(out.sink().Append("through the pipe\n"));
    EXPECT_OK(out.Commit());
  }
  reader.join();
  ASSERT_OK(opened);
  EXPECT_EQ(read, "through the pipe\n");
  EXPECT_TRUE(S_ISFIFO(Lstat(Path("fifo")).st_mode));
  EXPECT_THAT(Names(scratch_.path()), ElementsAre("fifo"));
}

TEST_F(OutputFileTest, ACharacterDeviceIsWrittenInPlace) {
  // A null device of our own where the process may make one (root); /dev/null otherwise.
  std::string device = Path("null");
  if (::mknod(device.c_str(), S_IFCHR | 0666, makedev(1, 3)) != 0) device = "/dev/null";
  ASSERT_TRUE(S_ISCHR(Lstat(device).st_mode));
  OutputFile out;
  ASSERT_OK(out.Open(device));
  EXPECT_EQ(out.mode(), OutputFile::Mode::kInPlace);
  ASSERT_OK(out.sink().Append("gone"));
  ASSERT_OK(out.Commit());
  EXPECT_TRUE(S_ISCHR(Lstat(device).st_mode));
  EXPECT_EQ(Lstat(device).st_rdev, makedev(1, 3));
}

TEST_F(OutputFileTest, OurOwnDescriptorIsWrittenAsItIs) {
  // As with --output /dev/stdout >> file: the open file, appended to, never replaced.
  WriteFile(Path("stdout.txt"), "old;");
  const int fd = ::open(Path("stdout.txt").c_str(), O_WRONLY | O_APPEND);
  ASSERT_GE(fd, 0);
  const ino_t inode = Lstat(Path("stdout.txt")).st_ino;
  for (const std::string& name :
       {"/proc/self/fd/" + std::to_string(fd), "/dev/fd/" + std::to_string(fd),
        "/proc/" + std::to_string(::getpid()) + "/fd/" + std::to_string(fd)}) {
    OutputFile out;
    ASSERT_OK(out.Open(name));
    EXPECT_EQ(out.mode(), OutputFile::Mode::kInPlace);
    ASSERT_OK(out.sink().Append("new;"));
    ASSERT_OK(out.Commit());
  }
  EXPECT_NE(::fcntl(fd, F_GETFD), -1);  // still open: only copies were closed
  ::close(fd);
  EXPECT_EQ(ReadFile(Path("stdout.txt")), "old;new;new;new;");
  EXPECT_EQ(Lstat(Path("stdout.txt")).st_ino, inode);
}

TEST_F(OutputFileTest, AFileReachedThroughProcIsWrittenInPlace) {
  // Another process's open file: opened (and truncated) by its name, not replaced.
  WriteFile(Path("theirs.txt"), "old content");
  const ino_t inode = Lstat(Path("theirs.txt")).st_ino;
  int ready[2], hold[2];
  ASSERT_EQ(::pipe(ready), 0);
  ASSERT_EQ(::pipe(hold), 0);
  const pid_t child = ::fork();
  if (child == 0) {  // opens the file, says which descriptor, holds it until `hold` closes
    ::close(ready[0]);
    ::close(hold[1]);
    const int fd = ::open(Path("theirs.txt").c_str(), O_RDONLY);
    (void)!::write(ready[1], &fd, sizeof(fd));
    char c;
    (void)!::read(hold[0], &c, 1);
    _exit(0);
  }
  ::close(ready[1]);
  ::close(hold[0]);
  int theirs = -1;
  const bool told = ::read(ready[0], &theirs, sizeof(theirs)) == sizeof(theirs) && theirs >= 0;
  Status st =
      told ? WriteAll("/proc/" + std::to_string(child) + "/fd/" + std::to_string(theirs), "new")
           : InternalError("the child could not open the file");
  ::close(ready[0]);
  ::close(hold[1]);
  ::waitpid(child, nullptr, 0);
  ASSERT_OK(st);
  EXPECT_EQ(ReadFile(Path("theirs.txt")), "new");
  EXPECT_EQ(Lstat(Path("theirs.txt")).st_ino, inode);
}

TEST_F(OutputFileTest, ADotGzNameGetsGzip) {
  ASSERT_OK(WriteAll(Path("digest.log.gz"), "compressed\n"));
  MemoryObjectSource holder;
  holder.Put("x", ReadFile(Path("digest.log.gz")));
  Result<ObjectReaderPtr> reader = holder.Open("x");
  ASSERT_OK(reader.status());
  std::unique_ptr<TextStream> text = NewGzipTextStream(reader->get());
  char buf[64];
  Result<size_t> n = text->Read(buf, sizeof(buf));
  ASSERT_OK(n.status());
  EXPECT_EQ(std::string(buf, *n), "compressed\n");
}

TEST_F(OutputFileTest, DirectoriesAndMissingDirectoriesAreInvalid) {
  fs::create_directories(Path("dir"));
  fs::create_directory_symlink(Path("dir"), Path("dir-link"));
  for (const std::string& path :
       {Path("dir"), Path("dir") + "/", Path("dir-link"), Path("missing/out.log")}) {
    OutputFile out;
    EXPECT_THAT(out.Open(path), StatusIs(StatusCode::kInvalidArgument, StartsWith("--output: ")))
        << path;
  }
  EXPECT_THAT(Names(scratch_.path()), ElementsAre("dir", "dir-link"));
  EXPECT_THAT(Names(Path("dir")), IsEmpty());
}

TEST_F(OutputFileTest, DiscardLeavesTheTargetAsItWas) {
  WriteFile(Path("kept.log"), "old");
  {
    OutputFile out;
    ASSERT_OK(out.Open(Path("kept.log")));
    ASSERT_OK(out.sink().Append("half of it"));
    out.Discard();
    out.Discard();  // idempotent
  }
  {
    OutputFile out;  // destroyed without Commit
    ASSERT_OK(out.Open(Path("new.log")));
    ASSERT_OK(out.sink().Append("half of it"));
  }
  EXPECT_EQ(ReadFile(Path("kept.log")), "old");
  EXPECT_THAT(Names(scratch_.path()), ElementsAre("kept.log"));
}

TEST_F(OutputFileTest, AFailedRenameRemovesTheTemporaryFile) {
  OutputFile out;
  ASSERT_OK(out.Open(Path("target.log")));
  ASSERT_OK(out.sink().Append("x"));
  // The target became a non-empty directory in the meantime: rename fails.
  fs::create_directories(Path("target.log/inside"));
  EXPECT_THAT(out.Commit(), StatusIs(StatusCode::kUnavailable, HasSubstr("target.log")));
  EXPECT_THAT(Names(scratch_.path()), ElementsAre("target.log"));
  EXPECT_TRUE(fs::is_directory(Path("target.log")));
}

TEST_F(OutputFileTest, AnUnwritableDirectoryIsAnError) {
  if (::geteuid() == 0) GTEST_SKIP() << "root writes every directory";
  fs::create_directories(Path("locked"));
  ASSERT_EQ(::chmod(Path("locked").c_str(), 0500), 0);
  OutputFile out;
  EXPECT_THAT(out.Open(Path("locked/out.log")), StatusIs(StatusCode::kPermissionDenied));
  ASSERT_EQ(::chmod(Path("locked").c_str(), 0700), 0);
}

TEST_F(OutputFileTest, StdoutIsADash) {
  for (const char* path : {"", "-"}) {
    OutputFile out;
    ASSERT_OK(out.Open(path));
    EXPECT_EQ(out.mode(), OutputFile::Mode::kStdout);
    EXPECT_OK(out.Commit());
  }
}

}  // namespace
}  // namespace vpcflow
