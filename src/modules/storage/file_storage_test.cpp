#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <set>

#include "common/process_identity.hpp"
#include "testing/files.hpp"
#include "testing/matchers.hpp"
#include "testing/memory_storage.hpp"
#include "testing/scratch_dir.hpp"
#include "testing/storage_conformance.hpp"
#include "vpcflow/storage.hpp"

namespace vpcflow {
namespace {

INSTANTIATE_TEST_SUITE_P(File, StorageConformanceTest,
                         ::testing::Values(StorageFactory(&NewFileStorage)));
INSTANTIATE_TEST_SUITE_P(Memory, StorageConformanceTest,
                         ::testing::Values(StorageFactory([](const std::string&) {
                           return Result<StoragePtr>(std::make_unique<MemoryStorage>());
                         })));

std::set<std::string> Names(const std::string& dir) {
  std::set<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    names.insert(entry.path().filename().string());
  }
  return names;
}

// Another process, alive until Stop(): it blocks reading a pipe, and exits when it closes.
class ChildProcess {
 public:
  ChildProcess() {
    int fds[2];
    if (::pipe(fds) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::close(fds[1]);
      char byte;
      while (::read(fds[0], &byte, 1) < 0 && errno == EINTR) {
      }
      ::_exit(0);
    }
    ::close(fds[0]);
    write_end_ = fds[1];
  }
  ~ChildProcess() { Stop(); }
  // Its identity as a ProcessTag names it.
  ProcessIdentity Identity() const {
    ProcessIdentity child = ThisProcess();
    child.pid = pid_;
    child.start_ticks = ProcessStartTicks(pid_).value_or(0);
    return child;
  }
  void Stop() {
    if (write_end_ < 0) return;
    ::close(write_end_);
    write_end_ = -1;
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }

 private:
  pid_t pid_ = -1;
  int write_end_ = -1;
};

TEST(FileStorageTest, RemovesTemporariesOfKilledWritersAtStartUpNeverThoseOfLiveOnes) {
  ScratchDir dir;
  ChildProcess writer;  // another process writing into the store
  const ProcessIdentity alive = writer.Identity();
  ASSERT_GT(alive.start_ticks, 0);
  ProcessIdentity killed = alive;
  killed.start_ticks += 1;  // its pid, another start time: a process that is gone
  ProcessIdentity remote = alive;
  remote.host = "another-host";
  const std::string id = "9740a140-ba85-5600-8b93-7b46eec77617";
  auto temp = [&](const ProcessIdentity& p, const std::string& n) {
    return dir.Sub("." + id + ".log.gz." + n + "-1." + ProcessTag(p) + ".tmp");
  };
  const std::string of_killed = temp(killed, "1");
  const std::string of_alive = temp(alive, "2");
  const std::string of_remote = temp(remote, "3");
  const std::string older_name = dir.Sub("." + id + ".log.gz.4242-0-99.tmp");  // older version
  for (const std::string& path : {of_killed, of_alive, of_remote, older_name}) {
    std::ofstream(path) << "partial";
  }
  ASSERT_OK(NewFileStorage(dir.path()).status());
  EXPECT_FALSE(std::filesystem::exists(of_killed));
  EXPECT_TRUE(std::filesystem::exists(of_alive));
  EXPECT_TRUE(std::filesystem::exists(of_remote));  // recent: may be written right now
  EXPECT_TRUE(std::filesystem::exists(older_name));

  // Once the writer is gone, its temporary goes at the end of the next job; others unmodified
  // for an hour go too.
  writer.Stop();
  const auto old = std::filesystem::file_time_type::clock::now() - std::chrono::hours(2);
  std::filesystem::last_write_time(of_remote, old);
  std::filesystem::last_write_time(older_name, old);
  Result<StoragePtr> storage = NewFileStorage(dir.path());
  ASSERT_OK(storage.status());
  Result<StorageUploadPtr> upload = (*storage)->Begin(id);
  ASSERT_OK(upload.status());
  ASSERT_OK((*upload)->Commit("{}"));
  EXPECT_EQ(Names(dir.path()), (std::set<std::string>{id + ".log.gz", id + ".manifest.json"}));
}

TEST(ValidateDigestIdTest, AcceptsOnlyLowerCaseCanonicalUuids) {
  EXPECT_OK(ValidateDigestId("9740a140-ba85-5600-8b93-7b46eec77617"));
  EXPECT_THAT(ValidateDigestId("9740a140-ba85-5600-8b93-7b46eec7761g"),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ValidateDigestId(std::string(1000, 'a')),
              StatusIs(StatusCode::kInvalidArgument, ::testing::SizeIs(::testing::Lt(120))));
}

TEST(FileStorageTest, WritesTheKeysOfTheOlderService) {
  ScratchDir scratch;
  Result<StoragePtr> storage = NewFileStorage(scratch.Sub("digests"));
  ASSERT_OK(storage);
  std::string id = "9740a140-ba85-5600-8b93-7b46eec77617";
  Result<StorageUploadPtr> upload = (*storage)->Begin(id);
  ASSERT_OK(upload);
  ASSERT_OK((*upload)->body().Append("gzip bytes"));
  ASSERT_OK((*upload)->Commit(R"({"window":1})"));
  EXPECT_EQ(Names(scratch.Sub("digests")),
            (std::set<std::string>{id + ".log.gz", id + ".manifest.json"}));
  EXPECT_EQ(ReadFile(scratch.Sub("digests/" + id + ".log.gz")), "gzip bytes");
  EXPECT_EQ(ReadFile(scratch.Sub("digests/" + id + ".manifest.json")), R"({"window":1})");
  EXPECT_EQ((*storage)->Describe(), "dir:" + scratch.Sub("digests"));
}

TEST(FileStorageTest, UploadsUseHiddenTemporaryFilesAndAbortRemovesThem) {
  ScratchDir scratch;
  Result<StoragePtr> storage = NewFileStorage(scratch.path());
  ASSERT_OK(storage);
  {
    Result<StorageUploadPtr> upload = (*storage)->Begin(TestDigestId(1));
    ASSERT_OK(upload);
    ASSERT_OK((*upload)->body().Append(std::string(600000, 'x')));
    // The digest's temporary and the rows sidecar's.
    std::set<std::string> names = Names(scratch.path());
    ASSERT_EQ(names.size(), 2u);
    for (const std::string& name : names) {
      EXPECT_EQ(name.front(), '.');
      EXPECT_NE(name.find(TestDigestId(1)), std::string::npos);
    }
  }
  EXPECT_TRUE(Names(scratch.path()).empty());
}

TEST(FileStorageTest, ReadyLeavesNothingBehind) {
  ScratchDir scratch;
  Result<StoragePtr> storage = NewFileStorage(scratch.path());
  ASSERT_OK(storage);
  ASSERT_OK((*storage)->Ready());
  EXPECT_TRUE(Names(scratch.path()).empty());
}

TEST(FileStorageTest, CreatesMissingDirectories) {
  ScratchDir scratch;
  ASSERT_OK(NewFileStorage(scratch.Sub("a/b/c/")));
  EXPECT_TRUE(std::filesystem::is_directory(scratch.Sub("a/b/c")));
}

TEST(FileStorageTest, FailsNamingTheDirectoryWhenItIsAFile) {
  ScratchDir scratch;
  std::ofstream(scratch.Sub("file")) << "x";
  EXPECT_THAT(NewFileStorage(scratch.Sub("file")),
              StatusIs(StatusCode::kNotFound, ::testing::HasSubstr(scratch.Sub("file"))));
  EXPECT_THAT(NewFileStorage(""), StatusIs(StatusCode::kInvalidArgument));
}

TEST(FileStorageTest, FailedCommitLeavesNothingVisible) {
  ScratchDir scratch;
  Result<StoragePtr> storage = NewFileStorage(scratch.path());
  ASSERT_OK(storage);
  std::string id = TestDigestId(2);
  // A directory where the manifest goes makes its rename fail.
  std::filesystem::create_directory(scratch.Sub(id + ".manifest.json"));
  Result<StorageUploadPtr> upload = (*storage)->Begin(id);
  ASSERT_OK(upload);
  ASSERT_OK((*upload)->body().Append("bytes"));
  EXPECT_THAT((*upload)->Commit("{}"),
              StatusIs(StatusCode::kUnavailable, ::testing::HasSubstr(id + ".manifest.json")));
  EXPECT_THAT((*storage)->Exists(id), IsOkAndHolds(false));
  EXPECT_EQ(Names(scratch.path()), (std::set<std::string>{id + ".manifest.json"}));
}

}  // namespace
}  // namespace vpcflow
