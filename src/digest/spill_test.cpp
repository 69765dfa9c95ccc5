// The bounded-memory path against the unbounded one: any memory limit gives byte-identical
// output (every encoding) and the same summary; spill files go when the digest goes; a full
// spill directory is a clear failure that leaves nothing behind.
#include "digest/spill.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "digest/test_records.hpp"
#include "generate/generator.hpp"
#include "testing/matchers.hpp"
#include "testing/scratch_dir.hpp"
#include "vpcflow/digest.hpp"

namespace vpcflow {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;
using testing_records::EncodeToString;

constexpr int64_t kT0 = 1546300800;  // 2019-01-01T00:00:00Z

size_t FilesIn(const std::string& dir) {
  std::error_code ec;
  size_t n = 0;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it); ++it) ++n;
  return n;
}

void ExpectSameSummary(const DigestSummary& a, const DigestSummary& b) {
  EXPECT_EQ(a.window, b.window);
  EXPECT_EQ(a.objects_listed, b.objects_listed);
  EXPECT_EQ(a.objects_read, b.objects_read);
  EXPECT_EQ(a.objects_parquet, b.objects_parquet);
  EXPECT_EQ(a.bytes_compressed, b.bytes_compressed);
  EXPECT_EQ(a.bytes_uncompressed, b.bytes_uncompressed);
  EXPECT_EQ(a.lines, b.lines);
  EXPECT_EQ(a.keys, b.keys);
}

struct Case {
  uint64_t seed;
  GenerateFormat format;
  int hosts;
};

class SpillPropertyTest : public ::testing::TestWithParam<Case> {};

TEST_P(SpillPropertyTest, AnyMemoryLimitGivesTheUnboundedOutput) {
  const Case& c = GetParam();
  ScratchDir corpus;
  ScratchDir spill;
  GenerateOptions g;
  g.out_dir = corpus.path();
  g.window = {kT0 + 23 * 3600, kT0 + 25 * 3600};
  g.size_mb = 4;
  g.accounts = 3;
  g.hosts = c.hosts;
  g.layout = GenerateLayout::kHourly;
  g.format = c.format;
  g.seed = c.seed;
  g.threads = 2;
  ASSERT_OK(GenerateCorpus(g));
  Result<ObjectSourcePtr> source = NewLocalDirSource(corpus.path());
  ASSERT_OK(source);

  for (const Window& window : {g.window, Window{kT0 + 23 * 3600 + 420, kT0 + 24 * 3600 + 60}}) {
    DigestOptions unbounded;
    unbounded.threads = 2;
    Result<DigestRun> want = RunDigest(**source, window, unbounded);
    ASSERT_OK(want);
    ASSERT_GT(want->summary.keys, 5000u);
    const std::string want_flowlog = EncodeToString(want->digest, DigestFormat::kFlowLog);
    const std::string want_ndjson = EncodeToString(want->digest, DigestFormat::kNdjson);
    const std::string want_csv = EncodeToString(want->digest, DigestFormat::kCsv);

    // 1 MiB spills every few thousand keys and merges two runs at a time; the larger limits
    // spill fewer times, or not at all (the in-memory path) for the smaller corpora.
    for (uint64_t limit : {kMinMemoryLimit, uint64_t{3} << 19, uint64_t{3} << 20}) {
      SCOPED_TRACE("memory limit " + std::to_string(limit));
      DigestOptions bounded = unbounded;
      bounded.threads = 1 + static_cast<int>(limit % 3);
      bounded.memory_limit = limit;
      bounded.spill_dir = spill.path();
      std::string spill_dir;
      bounded.on_spill_dir = [&](const std::string& dir) { spill_dir = dir; };
      {
        Result<DigestRun> got = RunDigest(**source, window, bounded);
        ASSERT_OK(got);
        if (limit == kMinMemoryLimit) {
          EXPECT_FALSE(spill_dir.empty()) << "no spill";
        }
        EXPECT_EQ(got->digest.size(), want->digest.size());
        ExpectSameSummary(got->summary, want->summary);
        const std::string flowlog = EncodeToString(got->digest, DigestFormat::kFlowLog);
        ASSERT_EQ(flowlog.size(), want_flowlog.size());
        EXPECT_TRUE(flowlog == want_flowlog);
        EXPECT_TRUE(EncodeToString(got->digest, DigestFormat::kNdjson) == want_ndjson);
        EXPECT_TRUE(EncodeToString(got->digest, DigestFormat::kCsv) == want_csv);
        std::vector<uint64_t> flows;
        ASSERT_OK(got->digest.ForEachRow([&](const DigestRow& r) { flows.push_back(r.flows); }));
        EXPECT_EQ(flows.size(), want->digest.size());
      }
      EXPECT_EQ(FilesIn(spill.path()), 0u) << "spill files left behind";
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Corpora, SpillPropertyTest,
                         ::testing::Values(Case{1, GenerateFormat::kText, 300},
                                           Case{2, GenerateFormat::kText, 2000},
                                           Case{3, GenerateFormat::kParquet, 500}));

TEST(SpillTest, KeyedMergeSumsEqualKeysAcrossRuns) {
  Result<std::shared_ptr<SpillDir>> dir = SpillDir::Create("");
  ASSERT_OK(dir);
  DigestKey a;
  a.srcport = 1;
  a.flags = DigestKey::Flags(Action::kAccept, true, true);
  DigestKey b = a;
  b.srcport = 2;
  auto write = [&](std::vector<KeyedRow> rows, uint64_t objects) {
    DigestSummary summary;
    summary.objects_read = objects;
    return WriteKeyedRunFile(
        **dir,
        [&](PartialWriter& w) -> Status {
          for (const KeyedRow& r : rows) VPCFLOW_RETURN_IF_ERROR(w.Add(r));
          return OkStatus();
        },
        summary);
  };
  Result<std::string> one =
      write({{"1", "eni-1", a, {1, 10, 1, 100, 200}}, {"1", "eni-1", b, {2, 20, 1, 50, 60}}}, 3);
  Result<std::string> two =
      write({{"1", "eni-1", b, {3, 30, 2, 40, 70}}, {"1", "eni-2", a, {4, 40, 1, 1, 2}}}, 4);
  ASSERT_OK(one);
  ASSERT_OK(two);
  std::vector<std::unique_ptr<PartialReader>> runs;
  for (const std::string& path : {*one, *two}) {
    auto reader = OpenRunFile(path, PartialKind::kKeyed);
    ASSERT_OK(reader);
    runs.push_back(std::move(reader).value());
  }
  KeyedMerge merge(std::move(runs));
  KeyedRow row;
  std::vector<std::tuple<std::string, uint16_t, uint64_t, uint64_t, int64_t, int64_t>> got;
  for (;;) {
    Result<bool> more = merge.Next(&row);
    ASSERT_OK(more);
    if (!*more) break;
    got.emplace_back(std::string(row.interface), row.key.srcport, row.value.bytes, row.value.flows,
                     row.value.start, row.value.end);
  }
  EXPECT_THAT(got, ::testing::ElementsAre(std::make_tuple("eni-1", 1, 10u, 1u, 100, 200),
                                          std::make_tuple("eni-1", 2, 50u, 3u, 40, 70),
                                          std::make_tuple("eni-2", 1, 40u, 1u, 1, 2)));
  EXPECT_EQ(merge.summary().objects_read, 7u);
}

// Mounting a 1 MiB tmpfs needs CAP_SYS_ADMIN: root, or root of a user namespace of its own.
class SmallTmpfs {
 public:
  SmallTmpfs() {
    if (dir_.path().empty()) return;
    mounted_ = ::mount("tmpfs", dir_.path().c_str(), "tmpfs", 0, "size=1m") == 0;
  }
  ~SmallTmpfs() {
    if (mounted_) ::umount2(dir_.path().c_str(), MNT_DETACH);
  }
  bool mounted() const { return mounted_; }
  const std::string& path() const { return dir_.path(); }

 private:
  ScratchDir dir_;
  bool mounted_ = false;
};

// Set in the copy of the test binary run as root of its own user and mount namespaces.
constexpr char kInNamespaceEnv[] = "VPCFLOW_SPILL_TEST_IN_NAMESPACE";

// Runs `command` (through sh) and returns its exit code and output (stdout and stderr).
std::pair<int, std::string> RunCommand(const std::string& command) {
  std::string out;
  FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return {-1, "popen failed"};
  std::array<char, 4096> buffer{};
  while (size_t n = std::fread(buffer.data(), 1, buffer.size(), pipe)) out.append(buffer.data(), n);
  const int status = ::pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

void ExpectFullSpillDirectoryFailsClearly(const std::string& spill_dir) {
  ScratchDir corpus;
  GenerateOptions g;
  g.out_dir = corpus.path();
  g.window = {kT0, kT0 + 3600};
  g.size_mb = 12;
  g.accounts = 3;
  g.hosts = 4000;
  g.threads = 2;
  ASSERT_OK(GenerateCorpus(g));
  Result<ObjectSourcePtr> source = NewLocalDirSource(corpus.path());
  ASSERT_OK(source);
  DigestOptions options;
  options.threads = 2;
  options.memory_limit = kMinMemoryLimit;
  options.spill_dir = spill_dir;
  Result<DigestRun> run = RunDigest(**source, g.window, options);
  EXPECT_THAT(run, StatusIs(StatusCode::kUnavailable, HasSubstr("No space left on device")));
  EXPECT_THAT(run.status().message(), HasSubstr("spilling to " + spill_dir));
  EXPECT_EQ(FilesIn(spill_dir), 0u);
}

// A real full disk: a 1 MiB tmpfs. Without root the test runs itself again as root of a user
// and mount namespace of its own (`unshare --user --map-root-user --mount`), where it may mount
// one; it skips only where the kernel forbids such namespaces.
TEST(SpillTest, FullSpillDirectoryFailsClearlyAndLeavesNothing) {
  SmallTmpfs tmpfs;
  if (tmpfs.mounted()) {
    ExpectFullSpillDirectoryFailsClearly(tmpfs.path());
    return;
  }
  ASSERT_EQ(std::getenv(kInNamespaceEnv), nullptr)
      << "cannot mount a tmpfs as root of a user namespace: " << std::strerror(errno);
  auto [probe, why] = RunCommand("unshare --user --map-root-user --mount true");
  if (probe != 0) {
    GTEST_SKIP() << "no root, and unprivileged user namespaces are forbidden here (" << why
                 << "): the full-disk case is not tested";
  }
  const std::string self = fs::read_symlink("/proc/self/exe");
  const std::string name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
  auto [code, out] =
      RunCommand(std::string(kInNamespaceEnv) + "=1 unshare --user --map-root-user --mount '" +
                 self + "' --gtest_filter=SpillTest." + name);
  EXPECT_EQ(code, 0) << out;
  EXPECT_THAT(out, HasSubstr("[  PASSED  ] 1 test")) << out;
  EXPECT_THAT(out, Not(HasSubstr("SKIPPED"))) << out;
}

TEST(SpillTest, MissingSpillDirectoryIsAClearError) {
  ScratchDir corpus;
  GenerateOptions g;
  g.out_dir = corpus.path();
  g.window = {kT0, kT0 + 3600};
  g.size_mb = 2;
  g.threads = 2;
  g.hosts = 2000;
  ASSERT_OK(GenerateCorpus(g));
  Result<ObjectSourcePtr> source = NewLocalDirSource(corpus.path());
  ASSERT_OK(source);
  DigestOptions options;
  options.memory_limit = kMinMemoryLimit;
  options.spill_dir = corpus.Sub("no/such/dir");
  EXPECT_THAT(RunDigest(**source, g.window, options),
              StatusIs(StatusCode::kNotFound, HasSubstr("no/such/dir")));
}

// A process killed while it spills leaves its directory; the next spill in the same base
// removes it, and leaves alone what is alive or not ours.
TEST(SpillTest, TheNextSpillRemovesTheDirectoryOfAKilledProcessOnly) {
  ScratchDir base;
  ASSERT_FALSE(base.path().empty());
  // A child process makes a spill directory with a run file in it, says where, and is killed.
  int pipe_fds[2];
  ASSERT_EQ(::pipe(pipe_fds), 0);
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(pipe_fds[0]);
    Result<std::shared_ptr<SpillDir>> dir = SpillDir::Create(base.path());
    if (!dir.ok()) ::_exit(2);
    std::FILE* f = std::fopen((*dir)->NewFilePath().c_str(), "w");
    if (f == nullptr || std::fputs("rows", f) < 0 || std::fclose(f) != 0) ::_exit(3);
    const std::string& path = (*dir)->path();
    if (::write(pipe_fds[1], path.data(), path.size()) != static_cast<ssize_t>(path.size())) {
      ::_exit(4);
    }
    ::raise(SIGKILL);
  }
  ::close(pipe_fds[1]);
  std::string killed_dir;
  char buffer[512];
  for (ssize_t n; (n = ::read(pipe_fds[0], buffer, sizeof(buffer))) > 0;)
    killed_dir.append(buffer, n);
  ::close(pipe_fds[0]);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "child status " << status;
  ASSERT_TRUE(std::filesystem::is_directory(killed_dir)) << killed_dir;

  // Alive in this process; not ours (no owner file, as an older version's); a link.
  Result<std::shared_ptr<SpillDir>> created = SpillDir::Create(base.path());
  ASSERT_OK(created);
  std::shared_ptr<SpillDir> alive = std::move(*created);
  EXPECT_FALSE(std::filesystem::exists(killed_dir)) << "Create sweeps the killed one";
  const std::string foreign = base.Sub("vpcflow-spill-older");
  std::filesystem::create_directory(foreign);
  const std::string target = base.Sub("elsewhere");
  std::filesystem::create_directory(target);
  std::filesystem::create_directory_symlink(target, base.Sub("vpcflow-spill-link"));

  EXPECT_EQ(SweepStaleSpillDirs(base.path()), 0u);
  EXPECT_TRUE(std::filesystem::is_directory(alive->path()));
  EXPECT_TRUE(std::filesystem::is_directory(foreign));
  EXPECT_TRUE(std::filesystem::is_symlink(base.Sub("vpcflow-spill-link")));
  EXPECT_TRUE(std::filesystem::is_directory(target));

  // Destroyed normally: nothing is left.
  const std::string alive_path = alive->path();
  alive.reset();
  EXPECT_FALSE(std::filesystem::exists(alive_path));
}

TEST(SpillTest, ASweepRemovesADirectoryWhoseCreatorWasKilledBeforeItsOwnerFileWasLocked) {
  ScratchDir base;
  ASSERT_FALSE(base.path().empty());
  namespace fs = std::filesystem;
  const auto old = fs::file_time_type::clock::now() - std::chrono::minutes(2);
  // Killed right after mkdtemp, and while locking the owner file: both a while ago.
  const std::string empty = base.Sub("vpcflow-spill-aaaaaa");
  const std::string locking = base.Sub("vpcflow-spill-bbbbbb");
  // Being created now; an older version's (a run file, no owner file), a while ago.
  const std::string fresh = base.Sub("vpcflow-spill-cccccc");
  const std::string older = base.Sub("vpcflow-spill-dddddd");
  for (const std::string& dir : {empty, locking, fresh, older})
    ASSERT_TRUE(fs::create_directory(dir));
  std::ofstream(locking + "/.owner-locking").put('x');
  std::ofstream(fresh + "/.owner-locking").put('x');
  std::ofstream(older + "/0.run") << "rows";
  for (const std::string& dir : {empty, locking, older}) fs::last_write_time(dir, old);

  EXPECT_EQ(SweepStaleSpillDirs(base.path()), 2u);
  EXPECT_FALSE(fs::exists(empty));
  EXPECT_FALSE(fs::exists(locking));
  EXPECT_TRUE(fs::is_directory(fresh));
  EXPECT_TRUE(fs::exists(older + "/0.run"));
}

}  // namespace
}  // namespace vpcflow
