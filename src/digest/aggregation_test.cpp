// The Aggregation's bound on what a worker holds for the object it reads: an object larger than
// a worker's share of the memory limit goes part by part to pending runs, which join the digest
// when the object ends well (read back into the table, or kept as runs once it spilled) and are
// deleted when it turns out corrupt or the run stops.
#include "digest/aggregation.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <stop_token>
#include <string>
#include <utility>

#include "digest/test_records.hpp"
#include "flowlog/planner.hpp"
#include "testing/flow_log_builder.hpp"
#include "testing/matchers.hpp"
#include "testing/memory_object_source.hpp"
#include "testing/scratch_dir.hpp"
#include "vpcflow/digest.hpp"

namespace vpcflow {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using testing_records::EncodeToString;

constexpr int64_t kT0 = 1546300800;  // 2019-01-01T00:00:00Z
const Window kWindow{kT0, kT0 + 3600};
constexpr uint64_t kLimit = uint64_t{4} << 20;

// A flow-log key of account 123456789012, stamped 2019-01-01 00:05.
std::string Key(int n, std::string_view ext = ".log.gz") {
  char buf[200];
  std::snprintf(buf, sizeof(buf),
                "AWSLogs/123456789012/vpcflowlogs/us-east-1/2019/01/01/"
                "123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20190101T0005Z_%08x",
                n);
  return std::string(buf) + std::string(ext);
}

// `records` records of `keys` keys over three interfaces, each key's records spread over the
// whole object (so they fall into different pending runs), with a header.
std::string BigFlowLog(int records, int keys) {
  std::string text =
      "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes "
      "start end action log-status\n";
  char line[200];
  for (int i = 0; i < records; ++i) {
    const int k = i % keys;
    const long long start = kT0 + i % 600;
    std::snprintf(
        line, sizeof(line),
        "2 123456789012 eni-%d 10.%d.%d.%d 172.16.0.1 443 %d 6 %d %d %lld %lld ACCEPT OK\n", k % 3,
        (k >> 16) & 255, (k >> 8) & 255, k & 255, 40000 + k % 7, 1 + i % 5, 100 + i, start,
        start + 60);
    text += line;
  }
  return text;
}

// A small object of its own keys.
std::string SmallObject(int n) {
  FlowLogBuilder b;
  for (int i = 0; i < 5; ++i) {
    b.Add({{Field::kSrcAddr, "192.168." + std::to_string(n) + "." + std::to_string(i)},
           {Field::kBytes, std::to_string(1000 + n)}});
  }
  return b.Gzip();
}

std::string UnboundedDigest(ObjectSource& source) {
  DigestOptions options;
  options.threads = 2;
  Result<DigestRun> run = RunDigest(source, kWindow, options);
  EXPECT_OK(run);
  return run.ok() ? EncodeToString(run->digest, DigestFormat::kFlowLog) : "";
}

Result<std::unique_ptr<Aggregation>> Read(ObjectSource& source, const DigestOptions& options,
                                          DigestSummary* summary) {
  VPCFLOW_ASSIGN_OR_RETURN(ObjectPlan plan, PlanObjects(source, kWindow, options.scan));
  return ReadObjects(source, kWindow, plan.objects, options, summary);
}

// Options of `threads` workers under `limit`, spilling under `spill_dir`; the spill directory
// made is written to `*dir`.
DigestOptions SpillingOptions(int threads, uint64_t limit, const std::string& spill_dir,
                              std::string* dir) {
  DigestOptions options;
  options.threads = threads;
  options.memory_limit = limit;
  options.spill_dir = spill_dir;
  options.on_spill_dir = [dir](const std::string& path) { *dir = path; };
  return options;
}

size_t FilesIn(const std::string& dir) {
  std::error_code ec;
  size_t n = 0;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it); ++it) ++n;
  return n;
}

size_t RunFilesIn(const std::string& dir) {
  size_t n = 0;
  std::error_code ec;
  for (auto it = fs::directory_iterator(dir, ec); !ec && it != fs::end(it); ++it) {
    n += it->path().extension() == ".run" ? 1 : 0;
  }
  return n;
}

TEST(AggregationTest, ABigObjectUnderASmallLimitGivesTheUnboundedDigestWithinItsShare) {
  MemoryObjectSource source;
  constexpr int kRecords = 60000;
  source.Put(Key(1, ".log"), BigFlowLog(kRecords, 20000));
  source.Put(Key(2), SmallObject(2));
  const std::string want = UnboundedDigest(source);
  ASSERT_FALSE(want.empty());

  ScratchDir spill;
  const std::pair<uint64_t, int> cases[] = {{kLimit / 2, 2}, {kLimit, 1}, {kLimit, 2}};
  for (const auto& [limit, threads] : cases) {
    SCOPED_TRACE("limit " + std::to_string(limit) + ", threads " + std::to_string(threads));
    DigestOptions options;
    options.threads = threads;
    options.memory_limit = limit;
    options.spill_dir = spill.path();
    DigestSummary summary;
    Result<std::unique_ptr<Aggregation>> aggregation = Read(source, options, &summary);
    ASSERT_OK(aggregation);
    Aggregation& a = **aggregation;
    EXPECT_EQ(summary.objects_read, 2u);
    // The big object went to pending runs, and no worker held more than its share, which is
    // far below what the object's records take at once.
    const size_t share = a.BatchBytes(static_cast<size_t>(threads));
    EXPECT_LE(share, limit / 4 / threads + kMinBatchBytes);
    EXPECT_GE(a.pending_runs_written(), 3u);
    EXPECT_GT(a.peak_batch_bytes(), 0u);
    EXPECT_LE(a.peak_batch_bytes(), share);
    EXPECT_LT(share, kRecords * RecordBatch::kRecordBytes / 4);
    {
      Result<Digest> digest = a.Finish();
      ASSERT_OK(digest);
      EXPECT_TRUE(EncodeToString(*digest, DigestFormat::kFlowLog) == want);
      aggregation->reset();
    }
    EXPECT_EQ(FilesIn(spill.path()), 0u) << "spill files left behind";
  }
}

// The pending runs of an object that ends well are read back into the table when it has never
// spilled and their rows fit below its threshold: a big object of few keys leaves the digest in
// memory (no run, no file left once it is merged). Runs that would not fit join the spilled
// runs as they are.
TEST(AggregationTest, PendingRunsAreReadBackIntoTheTableWhenTheyFit) {
  struct Case {
    int keys;
    uint64_t limit;
    bool spills;
  };
  for (const Case& c : {Case{2000, 2 * kLimit, false}, Case{20000, kLimit / 2, true}}) {
    for (const int threads : {1, 2}) {
      SCOPED_TRACE(std::to_string(c.keys) + " keys, threads " + std::to_string(threads));
      MemoryObjectSource source;
      source.Put(Key(1, ".log"), BigFlowLog(60000, c.keys));
      source.Put(Key(2), SmallObject(2));
      const std::string want = UnboundedDigest(source);
      ASSERT_FALSE(want.empty());
      ScratchDir spill;
      std::string dir;
      const DigestOptions options = SpillingOptions(threads, c.limit, spill.path(), &dir);
      DigestSummary summary;
      Result<std::unique_ptr<Aggregation>> aggregation = Read(source, options, &summary);
      ASSERT_OK(aggregation);
      Aggregation& a = **aggregation;
      EXPECT_EQ(summary.objects_read, 2u);
      EXPECT_GE(a.pending_runs_written(), 3u);
      ASSERT_FALSE(dir.empty());
      if (c.spills) {
        EXPECT_GE(a.spills(), 1u);
      } else {
        EXPECT_EQ(a.spills(), 0u);
        EXPECT_EQ(RunFilesIn(dir), 0u) << "pending runs left after they were read back";
      }
      EXPECT_EQ(RunFilesIn(dir), a.spills());
      Result<Digest> digest = a.Finish();
      ASSERT_OK(digest);
      EXPECT_TRUE(EncodeToString(*digest, DigestFormat::kFlowLog) == want);
    }
  }
}

TEST(AggregationTest, AnOverflowingObjectThatTurnsOutCorruptAddsNoRowsAndLeavesNoRun) {
  MemoryObjectSource good;
  good.Put(Key(2), SmallObject(2));
  good.Put(Key(3), SmallObject(3));
  const std::string want = UnboundedDigest(good);
  ASSERT_FALSE(want.empty());

  MemoryObjectSource source;
  source.Put(Key(2), SmallObject(2));
  source.Put(Key(3), SmallObject(3));
  std::string big = GzipForTest(BigFlowLog(60000, 20000));
  big[big.size() - 8] ^= 0x55;  // the CRC of the trailer: found bad only after every record
  source.Put(Key(1), big);

  ScratchDir spill;
  for (const int threads : {1, 2}) {
    SCOPED_TRACE("threads " + std::to_string(threads));
    std::string dir;
    const DigestOptions options = SpillingOptions(threads, kLimit, spill.path(), &dir);
    DigestSummary summary;
    Result<std::unique_ptr<Aggregation>> aggregation = Read(source, options, &summary);
    ASSERT_OK(aggregation);
    Aggregation& a = **aggregation;
    EXPECT_EQ(summary.objects_read, 2u);
    EXPECT_EQ(summary.objects_failed, 1u);
    ASSERT_EQ(summary.problems.size(), 1u);
    EXPECT_EQ(summary.problems[0].key, Key(1));
    EXPECT_THAT(summary.problems[0].reason, HasSubstr("gzip"));
    // It overflowed into pending runs before the bad end was found; none of them is left.
    EXPECT_GE(a.pending_runs_written(), 3u);
    ASSERT_FALSE(dir.empty());
    EXPECT_EQ(RunFilesIn(dir), 0u);
    EXPECT_EQ(a.spills(), 0u);
    Result<Digest> digest = a.Finish();
    ASSERT_OK(digest);
    EXPECT_EQ(EncodeToString(*digest, DigestFormat::kFlowLog), want);
  }
  EXPECT_EQ(FilesIn(spill.path()), 0u);
}

// A pending run that cannot be read back (its spill file damaged while the object was read)
// fails the run with the file's error, and no file is left.
// Calls `at_end` each time one of its objects has been read to its end (its reader returned 0):
// after an overflowing object's pending runs were written, before they are read back.
class AtEndSource final : public ObjectSourceWrapper {
 public:
  AtEndSource(ObjectSource* target, std::function<void()> at_end)
      : ObjectSourceWrapper(target), at_end_(std::move(at_end)) {}
  Result<ObjectReaderPtr> Open(std::string_view key) override {
    VPCFLOW_ASSIGN_OR_RETURN(ObjectReaderPtr reader, target()->Open(key));
    return ObjectReaderPtr(std::make_unique<Reader>(std::move(reader), &at_end_));
  }

 private:
  class Reader final : public ObjectReader {
   public:
    Reader(ObjectReaderPtr reader, const std::function<void()>* at_end)
        : reader_(std::move(reader)), at_end_(at_end) {}
    Result<size_t> Read(std::span<char> buffer) override {
      Result<size_t> n = reader_->Read(buffer);
      if (n.ok() && *n == 0) (*at_end_)();
      return n;
    }

   private:
    ObjectReaderPtr reader_;
    const std::function<void()>* at_end_;
  };
  std::function<void()> at_end_;
};

TEST(AggregationTest, APendingRunThatCannotBeReadBackFailsTheRunAndLeavesNoFiles) {
  MemoryObjectSource plain;
  plain.Put(Key(1, ".log"), BigFlowLog(60000, 2000));  // its runs fit: they are read back
  ScratchDir spill;
  std::string dir;
  const DigestOptions options = SpillingOptions(1, 2 * kLimit, spill.path(), &dir);
  // Cuts every run file of the spill directory in half.
  AtEndSource source(&plain, [&dir] {
    if (dir.empty()) return;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      if (entry.path().extension() == ".run") {
        fs::resize_file(entry.path(), fs::file_size(entry.path()) / 2);
      }
    }
  });
  DigestSummary summary;
  Result<std::unique_ptr<Aggregation>> aggregation = Read(source, options, &summary);
  EXPECT_THAT(aggregation, StatusIs(StatusCode::kDataLoss));
  EXPECT_FALSE(dir.empty()) << "the object never overflowed";
  EXPECT_EQ(FilesIn(spill.path()), 0u);
}

// A stop requested while an object's pending runs are read back (they hold more rows than the
// worker's batch, which is merged and checks the stop each time it is full): the run is
// Cancelled and no file is left. With one object, nothing after the read-back checks the stop,
// so the run would end well if the read-back did not.
TEST(AggregationTest, AStopWhilePendingRunsAreReadBackCancelsAndLeavesNoFiles) {
  MemoryObjectSource plain;
  // Four pending runs of 6000 keys each, read back (24000 rows fit below half the limit) through
  // a batch of about 13000 records.
  plain.Put(Key(1, ".log"), BigFlowLog(60000, 6000));
  {
    ScratchDir spill;
    std::string dir;
    DigestSummary summary;
    Result<std::unique_ptr<Aggregation>> a =
        Read(plain, SpillingOptions(1, 2 * kLimit, spill.path(), &dir), &summary);
    ASSERT_OK(a);
    ASSERT_GE((*a)->pending_runs_written(), 3u);
    ASSERT_EQ((*a)->spills(), 0u) << "the pending runs were not read back";
  }
  ScratchDir spill;
  std::string dir;
  std::stop_source stop;
  DigestOptions options = SpillingOptions(1, 2 * kLimit, spill.path(), &dir);
  options.stop = stop.get_token();
  AtEndSource source(&plain, [&] {
    if (!dir.empty()) stop.request_stop();
  });
  DigestSummary summary;
  EXPECT_THAT(Read(source, options, &summary), StatusIs(StatusCode::kCancelled));
  EXPECT_FALSE(dir.empty()) << "the object never overflowed";
  EXPECT_EQ(FilesIn(spill.path()), 0u);
}

TEST(AggregationTest, AStopDuringAnOverflowingObjectLeavesNoFiles) {
  MemoryObjectSource source;
  source.Put(Key(1, ".log"), BigFlowLog(60000, 20000));
  source.Put(Key(2), SmallObject(2));
  ScratchDir spill;
  std::stop_source stop;
  DigestOptions options;
  options.threads = 2;
  options.memory_limit = kLimit;
  options.spill_dir = spill.path();
  options.stop = stop.get_token();
  // The first pending run makes the spill directory: stop then, with the object half read.
  std::string dir;
  options.on_spill_dir = [&](const std::string& path) {
    dir = path;
    stop.request_stop();
  };
  DigestSummary summary;
  EXPECT_THAT(Read(source, options, &summary), StatusIs(StatusCode::kCancelled));
  EXPECT_FALSE(dir.empty()) << "the object never overflowed";
  EXPECT_FALSE(fs::exists(dir));
  EXPECT_EQ(FilesIn(spill.path()), 0u);
}

TEST(AggregationTest, APendingRunThatCannotBeWrittenFailsTheRunNamingTheDirectory) {
  MemoryObjectSource source;
  source.Put(Key(1, ".log"), BigFlowLog(60000, 200));  // too few keys for the table to spill
  ScratchDir spill;
  DigestOptions options;
  options.threads = 1;
  options.memory_limit = kLimit;
  options.spill_dir = spill.Sub("missing");
  DigestSummary summary;
  Result<std::unique_ptr<Aggregation>> aggregation = Read(source, options, &summary);
  // Not a corrupt object: the spill directory's failure fails the run.
  EXPECT_THAT(aggregation, StatusIs(StatusCode::kNotFound));
  if (!aggregation.ok()) {
    EXPECT_THAT(aggregation.status().message(), HasSubstr("missing"));
  }
  EXPECT_EQ(summary.objects_failed, 0u);
}

}  // namespace
}  // namespace vpcflow
