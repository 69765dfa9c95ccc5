#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <mutex>
#include <sstream>
#include <stop_token>

#include "digest/test_records.hpp"
#include "flowlog/format.hpp"
#include "generate/parquet_convert.hpp"
#include "parquet/file_reader.hpp"
#include "testing/flow_log_builder.hpp"
#include "testing/matchers.hpp"
#include "testing/memory_object_source.hpp"
#include "testing/no_new_threads.hpp"
#include "vpcflow/digest.hpp"

namespace vpcflow {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing_records::EncodeToString;

constexpr int64_t kT0 = 1546300800;  // 2019-01-01T00:00:00Z
const Window kWindow{kT0, kT0 + 3600};

// A flow-log key of account 123456789012 in us-east-1, stamped 2019-01-01 00:<minute>.
std::string Key(int n, int minute = 5, std::string_view ext = ".log.gz") {
  char buf[200];
  std::snprintf(buf, sizeof(buf),
                "AWSLogs/123456789012/vpcflowlogs/us-east-1/2019/01/01/"
                "123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20190101T00%02dZ_%08x",
                minute, n);
  return std::string(buf) + std::string(ext);
}

Result<DigestRun> RunOn(ObjectSource& source, int threads = 2, Window window = kWindow) {
  DigestOptions options;
  options.threads = threads;
  return RunDigest(source, window, options);
}

std::string FlowLog(const DigestRun& run) {
  return EncodeToString(run.digest, DigestFormat::kFlowLog);
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

uint64_t Count(const DigestRun& run, LineOutcome o) { return run.summary.line_count(o); }

TEST(EngineTest, AggregatesAConversationAndFoldsTheEphemeralPort) {
  MemoryObjectSource source;
  FlowLogBuilder b;
  b.Add({{Field::kSrcPort, "443"}, {Field::kDstPort, "50001"}, {Field::kBytes, "100"}});
  b.Add({{Field::kSrcPort, "443"},
         {Field::kDstPort, "50002"},
         {Field::kBytes, "50"},
         {Field::kPackets, "4"},
         {Field::kStart, std::to_string(kT0 + 120)}});
  source.Put(Key(1), b.Gzip());
  Result<DigestRun> run = RunOn(source);
  ASSERT_OK(run);
  EXPECT_EQ(FlowLog(*run),
            "2 123456789012 eni-0a1b2c3d 10.0.0.1 10.0.0.2 443 0 6 5 150 1546300800 1546300980 "
            "ACCEPT OK\n");
  EXPECT_EQ(run->summary.keys, 1u);
  EXPECT_EQ(Count(*run, LineOutcome::kUsed), 2u);
  EXPECT_EQ(Count(*run, LineOutcome::kHeader), 1u);
  EXPECT_EQ(run->summary.objects_read, 1u);
  std::vector<uint64_t> flows;
  EXPECT_TRUE(run->digest.ForEachRow([&](const DigestRow& r) { flows.push_back(r.flows); }).ok());
  EXPECT_THAT(flows, ElementsAre(2u));
}

TEST(EngineTest, FoldRules) {
  MemoryObjectSource source;
  FlowLogBuilder b;
  b.Add({{Field::kSrcPort, "53"}, {Field::kDstPort, "53"}, {Field::kBytes, "3"}});  // equal
  b.Add({{Field::kSrcPort, "40000"}, {Field::kDstPort, "22"}, {Field::kBytes, "2"}});
  b.Add({{Field::kSrcPort, "22"}, {Field::kDstPort, "40000"}, {Field::kBytes, "1"}});
  b.Add({{Field::kSrcPort, "0"},
         {Field::kDstPort, "0"},
         {Field::kBytes, "0"},
         {Field::kProtocol, "1"}});
  source.Put(Key(1), b.Gzip());
  Result<DigestRun> run = RunOn(source);
  ASSERT_OK(run);
  std::vector<std::pair<uint32_t, uint32_t>> ports;
  EXPECT_TRUE(
      run->digest.ForEachRow([&](const DigestRow& r) { ports.emplace_back(r.srcport, r.dstport); })
          .ok());
  EXPECT_THAT(
      ports,
      ElementsAre(std::pair<uint32_t, uint32_t>{0, 53}, std::pair<uint32_t, uint32_t>{0, 22},
                  std::pair<uint32_t, uint32_t>{22, 0}, std::pair<uint32_t, uint32_t>{0, 0}));
}

TEST(EngineTest, WindowEdgesAreExact) {
  MemoryObjectSource source;
  FlowLogBuilder b;
  auto add = [&](int64_t start, int64_t end, const char* port) {
    b.Add({{Field::kStart, std::to_string(start)},
           {Field::kEnd, std::to_string(end)},
           {Field::kSrcPort, port}});
  };
  add(kT0 - 100, kT0, "1");          // ends exactly at the window's start: kept
  add(kT0 - 100, kT0 - 1, "2");      // ends just before: outside
  add(kT0 + 3599, kT0 + 3650, "3");  // starts in the last second: kept
  add(kT0 + 3600, kT0 + 3650, "4");  // starts at the stop: outside
  add(kT0 - 1000, kT0 + 5000, "5");  // spans the window: kept
  source.Put(Key(1), b.Gzip());
  Result<DigestRun> run = RunOn(source);
  ASSERT_OK(run);
  std::vector<uint32_t> ports;
  EXPECT_TRUE(run->digest.ForEachRow([&](const DigestRow& r) { ports.push_back(r.srcport); }).ok());
  std::sort(ports.begin(), ports.end());
  EXPECT_THAT(ports, ElementsAre(1, 3, 5));
  EXPECT_EQ(Count(*run, LineOutcome::kOutsideWindow), 2u);
  EXPECT_EQ(Count(*run, LineOutcome::kUsed), 3u);
}

TEST(EngineTest, DashCountsAreZeroButTheConversationIsKept) {
  MemoryObjectSource source;
  FlowLogBuilder b;
  b.Add({{Field::kPackets, "-"}, {Field::kBytes, "-"}, {Field::kAction, "REJECT"}});
  b.Add({{Field::kPackets, "-"}, {Field::kBytes, "-"}, {Field::kAction, "REJECT"}});
  source.Put(Key(1), b.Gzip());
  Result<DigestRun> run = RunOn(source);
  ASSERT_OK(run);
  EXPECT_EQ(FlowLog(*run),
            "2 123456789012 eni-0a1b2c3d 10.0.0.1 10.0.0.2 443 0 6 0 0 1546300800 1546300860 "
            "REJECT OK\n");
  EXPECT_EQ(Count(*run, LineOutcome::kUsed), 2u);
}

TEST(EngineTest, MissingAccountAndInterfaceColumnsAreDashes) {
  MemoryObjectSource source;
  FlowLogBuilder b({Field::kSrcAddr, Field::kDstAddr, Field::kSrcPort, Field::kDstPort,
                    Field::kProtocol, Field::kBytes, Field::kStart, Field::kEnd});
  b.Add({{Field::kBytes, "7"}});
  source.Put(Key(1), b.Gzip());
  Result<DigestRun> run = RunOn(source);
  ASSERT_OK(run);
  EXPECT_EQ(FlowLog(*run), "2 - - 10.0.0.1 10.0.0.2 443 0 6 0 7 1546300800 1546300860 - OK\n");
}

TEST(EngineTest, CustomFieldOrdersGiveTheSameDigest) {
  const std::map<Field, std::string> values = {
      {Field::kSrcAddr, "2001:DB8::0:1"}, {Field::kDstAddr, "192.0.2.7"}, {Field::kSrcPort, "8080"},
      {Field::kDstPort, "61000"},         {Field::kBytes, "1234"},        {Field::kPackets, "9"},
      {Field::kAction, "REJECT"},         {Field::kProtocol, "17"}};
  MemoryObjectSource a;
  a.Put(Key(1), FlowLogBuilder().Add(values).Gzip());
  MemoryObjectSource b;
  std::vector<Field> reversed = FlowFormat::Default().columns();
  std::reverse(reversed.begin(), reversed.end());
  reversed.insert(reversed.begin() + 3, Field::kVpcId);
  reversed.push_back(Field::kTcpFlags);
  b.Put(Key(1), FlowLogBuilder(reversed).Add(values).Gzip());
  Result<DigestRun> ra = RunOn(a);
  Result<DigestRun> rb = RunOn(b);
  ASSERT_OK(ra);
  ASSERT_OK(rb);
  EXPECT_EQ(FlowLog(*ra),
            "2 123456789012 eni-0a1b2c3d 2001:db8::1 192.0.2.7 8080 0 17 9 1234 1546300800 "
            "1546300860 REJECT OK\n");
  EXPECT_EQ(FlowLog(*rb), FlowLog(*ra));
}

TEST(EngineTest, AnObjectWithoutHeaderUsesTheDefaultFormat) {
  MemoryObjectSource source;
  source.Put(Key(1), FlowLogBuilder().WithoutHeader().Add({}).Add({}).Gzip());
  Result<DigestRun> run = RunOn(source);
  ASSERT_OK(run);
  EXPECT_EQ(Count(*run, LineOutcome::kHeader), 0u);
  EXPECT_EQ(Count(*run, LineOutcome::kUsed), 2u);
  EXPECT_EQ(run->summary.keys, 1u);
}

TEST(EngineTest, EveryLineIsCountedByOutcome) {
  MemoryObjectSource source;
  FlowLogBuilder b;
  b.Add({});
  b.AddRaw("2 123456789012 eni-1 - - - - - - - 1546300800 1546300860 - NODATA");
  b.AddRaw("2 123456789012 eni-1 - - - - - - - 1546300800 1546300860 - SKIPDATA");
  b.AddRaw("2 123456789012 eni-1 - - - - - - - 1546300800 1546300860 - SKIPDATA");
  b.AddRaw("");
  b.AddRaw("2 too few tokens");
  b.Add({{Field::kSrcAddr, "10.0.0.300"}});
  b.Add({{Field::kSrcPort, "70000"}});
  b.Add({{Field::kAction, "MAYBE"}});
  b.Add({{Field::kDstAddr, "-"}});
  source.Put(Key(1), b.Gzip());
  Result<DigestRun> run = RunOn(source);
  ASSERT_OK(run);
  EXPECT_EQ(Count(*run, LineOutcome::kHeader), 1u);
  EXPECT_EQ(Count(*run, LineOutcome::kUsed), 1u);
  EXPECT_EQ(Count(*run, LineOutcome::kStatusNoData), 1u);
  EXPECT_EQ(Count(*run, LineOutcome::kStatusSkipData), 2u);
  EXPECT_EQ(Count(*run, LineOutcome::kBlank), 1u);
  EXPECT_EQ(Count(*run, LineOutcome::kBadTokenCount), 1u);
  EXPECT_EQ(Count(*run, LineOutcome::kBadAddress), 1u);
  EXPECT_EQ(Count(*run, LineOutcome::kBadNumber), 1u);
  EXPECT_EQ(Count(*run, LineOutcome::kBadValue), 1u);
  EXPECT_EQ(Count(*run, LineOutcome::kIncomplete), 1u);
  EXPECT_EQ(run->summary.lines_total(), 11u);
}

TEST(EngineTest, ACorruptObjectContributesNothingAndIsNamed) {
  MemoryObjectSource source;
  const std::string good = FlowLogBuilder().Add({{Field::kBytes, "10"}}).Gzip();
  source.Put(Key(1), good);
  std::string truncated = FlowLogBuilder().Add({{Field::kBytes, "20"}}).Add({}).Gzip();
  truncated.resize(truncated.size() - 6);
  source.Put(Key(2), truncated);
  source.Put(Key(3), "not gzip at all, just text\n");
  Result<DigestRun> run = RunOn(source);
  ASSERT_OK(run);
  EXPECT_EQ(FlowLog(*run),
            "2 123456789012 eni-0a1b2c3d 10.0.0.1 10.0.0.2 443 0 6 1 10 1546300800 1546300860 "
            "ACCEPT OK\n");
  const DigestSummary& s = run->summary;
  EXPECT_EQ(s.objects_read, 1u);
  EXPECT_EQ(s.objects_failed, 2u);
  EXPECT_EQ(s.objects_vanished, 0u);
  EXPECT_EQ(s.lines_total(), 2u);  // the good object's header and record only
  EXPECT_EQ(s.bytes_compressed, good.size());
  ASSERT_EQ(s.problems.size(), 2u);
  EXPECT_EQ(s.problems[0].key, Key(2));
  EXPECT_THAT(s.problems[0].reason, HasSubstr("corrupt gzip"));
  EXPECT_EQ(s.problems[0].kind, ProblemKind::kCorrupt);
  EXPECT_EQ(s.problems[1].key, Key(3));
  EXPECT_EQ(s.problems[1].kind, ProblemKind::kCorrupt);
}

// With more threads than objects, text is decompressed ahead on a helper thread: objects of
// several read-ahead chunks (1 MiB of text each), one of them corrupt past its first chunk, give
// the run of one thread (which does not read ahead): the same digest, counts and problems.
TEST(EngineTest, TextReadAheadGivesTheSameRunAsReadingInline) {
  auto object = [](int salt) {
    FlowLogBuilder b;
    for (int r = 0; r < 15000; ++r) {
      b.Add({{Field::kSrcAddr, "10.1." + std::to_string(r % 200) + "." + std::to_string(salt)},
             {Field::kDstPort, std::to_string(1000 + r % 3000)},
             {Field::kBytes, std::to_string(r % 977)}});
    }
    return b.Gzip();
  };
  MemoryObjectSource source;
  source.Put(Key(1), object(1));
  std::string corrupt = object(2);
  corrupt.resize(corrupt.size() - 40);
  source.Put(Key(2), corrupt);
  Result<DigestRun> inline_run = RunOn(source, 1);
  Result<DigestRun> ahead = RunOn(source, 8);
  ASSERT_OK(inline_run);
  ASSERT_OK(ahead);
  EXPECT_EQ(inline_run->summary.keys, 200u);                             // 200 sources a salt
  EXPECT_GT(inline_run->summary.bytes_uncompressed, uint64_t{1} << 20);  // several chunks
  EXPECT_EQ(FlowLog(*ahead), FlowLog(*inline_run));
  const DigestSummary& a = ahead->summary;
  const DigestSummary& b = inline_run->summary;
  EXPECT_EQ(a.lines, b.lines);
  EXPECT_EQ(a.objects_read, 1u);
  EXPECT_EQ(a.objects_failed, 1u);
  EXPECT_EQ(a.bytes_uncompressed, b.bytes_uncompressed);
  ASSERT_EQ(a.problems.size(), 1u);
  ASSERT_EQ(b.problems.size(), 1u);
  EXPECT_EQ(a.problems[0].key, Key(2));
  EXPECT_EQ(a.problems[0].reason, b.problems[0].reason);
}

// A run on threads that cannot start (readers, read-ahead, Finish's ordering) is done on the
// caller's thread: the same digest and summary. More than 2^16 keys, so Finish would share out
// its ordering, and fewer objects than threads, so the readers would read ahead.
TEST(EngineTest, ARunWhoseThreadsCannotStartIsTheSame) {
  MemoryObjectSource source;
  for (int salt = 1; salt <= 3; ++salt) {
    FlowLogBuilder b;
    for (int r = 0; r < 30000; ++r) {
      b.Add({{Field::kSrcAddr, "10." + std::to_string(salt) + "." + std::to_string(r / 250) + "." +
                                   std::to_string(r % 250)},
             {Field::kDstPort, std::to_string(1000 + r % 7)},
             {Field::kBytes, std::to_string(r % 977 * salt)}});
    }
    source.Put(Key(salt), b.Gzip());
  }
  Result<DigestRun> threaded = RunOn(source, 8);
  ASSERT_OK(threaded);
  ASSERT_GT(threaded->summary.keys, 65536u);
  NoNewThreads no_threads;
  if (!no_threads.active()) GTEST_SKIP() << "cannot stop threads from starting here";
  Result<DigestRun> alone = RunOn(source, 8);
  ASSERT_OK(alone);
  EXPECT_EQ(FlowLog(*alone), FlowLog(*threaded));
  EXPECT_EQ(alone->summary.lines, threaded->summary.lines);
  EXPECT_EQ(alone->summary.keys, threaded->summary.keys);
  EXPECT_EQ(alone->summary.objects_read, 3u);
}

// Must-fix 5 of issue 12: an object that could not be read is not a corrupt object. The run
// fails with the source's code and names the object, so the job is retried rather than stored
// without it.
TEST(EngineTest, AnObjectThatCannotBeReadFailsTheRun) {
  struct Case {
    const char* name;
    Status status;
    bool on_open;
  };
  const std::vector<Case> cases = {
      {"permission denied", PermissionDeniedError("open /logs/x: Permission denied"), true},
      {"I/O error", UnavailableError("read /logs/x: Input/output error"), false},
      {"S3 after retries", UnavailableError("S3 GetObject s3://b/x: failed 3 attempts"), true},
      {"replaced mid-read", FailedPreconditionError("the object changed while it was read"), false},
      {"short transfer", DataLossError("bytes 0-99 came back as 50 bytes"), false},
      {"internal", InternalError("bug"), true},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    for (int threads : {1, 3, 8}) {  // 8: more threads than objects, so read ahead
      MemoryObjectSource source;
      const std::string good = FlowLogBuilder().Add({}).Gzip();
      for (int i = 1; i <= 6; ++i) source.Put(Key(i), good);
      source.FailObject(Key(4), c.status, c.on_open);
      EXPECT_THAT(RunOn(source, threads),
                  StatusIs(c.status.code(),
                           AllOf(HasSubstr("reading " + Key(4)), HasSubstr(c.status.message()))));
    }
  }
}

// A reader that holds its object in memory (a prefetched download) hands it over by
// TakeInMemory through the engine's error-recording wrappers: its Read is never called. A text
// object goes to the decoder so; a Parquet object from a source without random access is taken
// whole (OpenRandomAccessOrRead).
class HeldReader final : public ObjectReader {
 public:
  explicit HeldReader(std::string bytes) : bytes_(std::move(bytes)) {}
  Result<size_t> Read(std::span<char>) override {
    return InternalError("Read of an object held in memory");
  }
  std::optional<std::string_view> TakeInMemory() override { return bytes_; }

 private:
  std::string bytes_;
};

// Opens every key as a HeldReader of the target's bytes; no random access.
class HeldSource final : public ObjectSourceWrapper {
 public:
  explicit HeldSource(MemoryObjectSource* target) : ObjectSourceWrapper(target), target_(target) {}
  Result<ObjectReaderPtr> Open(std::string_view key) override {
    VPCFLOW_ASSIGN_OR_RETURN(ObjectReaderPtr reader, target_->Open(key));
    std::string bytes;
    std::vector<char> buffer(4096);
    for (;;) {
      VPCFLOW_ASSIGN_OR_RETURN(const size_t n, reader->Read(buffer));
      if (n == 0) break;
      bytes.append(buffer.data(), n);
    }
    return ObjectReaderPtr(std::make_unique<HeldReader>(std::move(bytes)));
  }
  Result<RandomAccessObjectPtr> OpenRandomAccess(std::string_view, uint64_t) override {
    return UnimplementedError("no random access");
  }

 private:
  MemoryObjectSource* target_;
};

// The summary of `plain`'s objects digested through a HeldSource, whose digest must equal the
// one read from `plain` directly.
DigestSummary ExpectHeldDigestsAsPlain(MemoryObjectSource& plain) {
  HeldSource held(&plain);
  Result<DigestRun> expected = RunOn(plain);
  Result<DigestRun> got = RunOn(held);
  EXPECT_OK(expected);
  EXPECT_OK(got);
  if (!expected.ok() || !got.ok()) return {};
  EXPECT_EQ(FlowLog(*got), FlowLog(*expected));
  return got->summary;
}

TEST(EngineTest, AnObjectHeldInMemoryIsDecodedWithoutBeingRead) {
  MemoryObjectSource plain;
  const std::string object = FlowLogBuilder().Add({}).Gzip();
  for (int i = 1; i <= 3; ++i) plain.Put(Key(i), object);
  EXPECT_EQ(ExpectHeldDigestsAsPlain(plain).objects_read, 3u);
}

TEST(EngineTest, AParquetObjectHeldInMemoryIsTakenWholeWithoutBeingRead) {
  FlowLogBuilder b;
  b.Add({{Field::kSrcPort, "443"}, {Field::kDstPort, "50001"}, {Field::kBytes, "100"}});
  Result<std::string> parquet = FlowLogTextToParquet(b.Text());
  ASSERT_OK(parquet);
  MemoryObjectSource plain;
  for (int i = 1; i <= 3; ++i) plain.Put(Key(i, 5, ".log.parquet"), *parquet);
  const DigestSummary s = ExpectHeldDigestsAsPlain(plain);
  EXPECT_EQ(s.objects_read, 3u);
  EXPECT_EQ(s.objects_parquet, 3u);
  EXPECT_TRUE(s.problems.empty());
}

// The same for a Parquet object, read by ranges: an error of the source (on open or on a ranged
// read) fails the run; a vanished Parquet object is counted as vanished, not as corrupt.
TEST(EngineTest, AParquetObjectThatCannotBeReadFailsTheRun) {
  Result<std::string> parquet = FlowLogTextToParquet(FlowLogBuilder().Add({}).Text());
  ASSERT_OK(parquet);
  for (bool on_open : {true, false}) {
    SCOPED_TRACE(on_open ? "on open" : "on a ranged read");
    MemoryObjectSource source;
    for (int i = 1; i <= 4; ++i) source.Put(Key(i, 5, ".log.parquet"), *parquet);
    source.FailObject(Key(3, 5, ".log.parquet"), UnavailableError("S3 GetObject: 3 attempts"),
                      on_open);
    EXPECT_THAT(RunOn(source), StatusIs(StatusCode::kUnavailable,
                                        AllOf(HasSubstr("reading " + Key(3, 5, ".log.parquet")),
                                              HasSubstr("3 attempts"))));

    MemoryObjectSource vanishing;
    for (int i = 1; i <= 2; ++i) vanishing.Put(Key(i, 5, ".log.parquet"), *parquet);
    vanishing.FailObject(Key(2, 5, ".log.parquet"), NotFoundError("no such key"), on_open);
    Result<DigestRun> run = RunOn(vanishing);
    ASSERT_OK(run);
    EXPECT_EQ(run->summary.objects_read, 1u);
    EXPECT_EQ(run->summary.objects_vanished, 1u);
    EXPECT_EQ(run->summary.objects_failed, 0u);
  }
}

TEST(EngineTest, AnObjectDeletedSinceTheListingIsCountedAsVanished) {
  MemoryObjectSource source;
  const std::string good = FlowLogBuilder().Add({}).Gzip();
  for (int i = 1; i <= 3; ++i) source.Put(Key(i), good);
  source.FailObject(Key(2), NotFoundError("no such key"), /*on_open=*/true);
  source.FailObject(Key(3), NotFoundError("gone mid-read"), /*on_open=*/false);
  Result<DigestRun> run = RunOn(source);
  ASSERT_OK(run);
  const DigestSummary& s = run->summary;
  EXPECT_EQ(s.objects_read, 1u);
  EXPECT_EQ(s.objects_vanished, 2u);
  EXPECT_EQ(s.objects_failed, 0u);
  ASSERT_EQ(s.problems.size(), 2u);
  EXPECT_EQ(s.problems[0].key, Key(2));
  EXPECT_EQ(s.problems[0].kind, ProblemKind::kVanished);
  EXPECT_THAT(s.problems[1].reason, HasSubstr("gone mid-read"));
}

TEST(EngineTest, EntriesThatAreNotObjectsAreNamedAndNeverOpened) {
  MemoryObjectSource source;
  source.Put(Key(1), FlowLogBuilder().Add({}).Gzip());
  source.PutNotAnObject(Key(2), "a FIFO");
  source.PutNotAnObject(Key(3, 5, ".log"), "a dangling symbolic link");
  Result<DigestRun> run = RunOn(source);
  ASSERT_OK(run);
  const DigestSummary& s = run->summary;
  EXPECT_EQ(s.objects_read, 1u);
  EXPECT_EQ(s.objects_not_files, 2u);
  ASSERT_EQ(s.problems.size(), 2u);
  EXPECT_EQ(s.problems[0].key, Key(2));
  EXPECT_EQ(s.problems[0].reason, "a FIFO");
  EXPECT_EQ(s.problems[0].kind, ProblemKind::kNotAFile);
  EXPECT_EQ(s.problems[1].key, Key(3, 5, ".log"));
  EXPECT_THAT(source.open_calls(), ElementsAre(Key(1)));
}

TEST(EngineTest, PlainTextObjectsAreRead) {
  MemoryObjectSource source;
  const std::string text = FlowLogBuilder().Add({}).Text();
  source.Put(Key(1, 5, ".log"), text);
  Result<DigestRun> run = RunOn(source);
  ASSERT_OK(run);
  EXPECT_EQ(run->summary.keys, 1u);
  EXPECT_EQ(run->summary.bytes_compressed, text.size());
  EXPECT_EQ(run->summary.bytes_uncompressed, text.size());
}

TEST(EngineTest, CorruptParquetEmptyIgnoredAndOutOfRangeObjectsAreCounted) {
  MemoryObjectSource source;
  const std::string gz = FlowLogBuilder().Add({}).Gzip();
  source.Put(Key(1), gz);
  source.Put(Key(2, 10, ".parquet"), "PAR1");
  source.Put(Key(3, 15), "");
  source.Put("AWSLogs/123456789012/vpcflowlogs/us-east-1/2019/01/01/notes.txt", "x");
  source.Put(
      "AWSLogs/123456789012/vpcflowlogs/us-east-1/2019/01/01/"
      "123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20190101T2300Z_00000009.log.gz",
      gz);
  Result<DigestRun> run = RunOn(source);
  ASSERT_OK(run);
  const DigestSummary& s = run->summary;
  EXPECT_EQ(s.objects_read, 1u);
  EXPECT_EQ(s.objects_parquet, 0u);
  EXPECT_EQ(s.objects_failed, 1u);
  ASSERT_EQ(s.problems.size(), 1u);
  EXPECT_EQ(s.problems[0].key, Key(2, 10, ".parquet"));
  EXPECT_THAT(s.problems[0].reason, HasSubstr("not a Parquet file"));
  EXPECT_EQ(s.objects_empty, 1u);
  EXPECT_EQ(s.objects_ignored, 1u);
  EXPECT_EQ(s.objects_out_of_range, 1u);
  EXPECT_EQ(s.objects_listed, 5u);
  EXPECT_GT(s.list_requests, 0u);
  EXPECT_EQ(s.bytes_compressed, gz.size());
  EXPECT_EQ(s.bytes_uncompressed, FlowLogBuilder().Add({}).Text().size());
  EXPECT_EQ(s.window, kWindow);
}

TEST(EngineTest, ReadsParquetObjectsLikeTheirTextTwins) {
  FlowLogBuilder b;
  b.Add({{Field::kSrcPort, "443"}, {Field::kDstPort, "50001"}, {Field::kBytes, "100"}});
  b.Add({{Field::kLogStatus, "NODATA"}, {Field::kSrcAddr, "-"}});
  b.Add({{Field::kStart, std::to_string(kT0 + 7200)}, {Field::kEnd, std::to_string(kT0 + 7260)}});
  Result<std::string> parquet = FlowLogTextToParquet(b.Text());
  ASSERT_OK(parquet);
  MemoryObjectSource text_source;
  text_source.Put(Key(1), b.Gzip());
  MemoryObjectSource parquet_source;
  parquet_source.Put(Key(1, 5, ".log.parquet"), *parquet);
  Result<DigestRun> text = RunOn(text_source);
  Result<DigestRun> run = RunOn(parquet_source);
  ASSERT_OK(text);
  ASSERT_OK(run);
  EXPECT_EQ(FlowLog(*run), FlowLog(*text));
  const DigestSummary& s = run->summary;
  EXPECT_EQ(s.objects_read, 1u);
  EXPECT_EQ(s.objects_parquet, 1u);
  EXPECT_EQ(text->summary.objects_parquet, 0u);
  EXPECT_EQ(Count(*run, LineOutcome::kUsed), 1u);
  EXPECT_EQ(Count(*run, LineOutcome::kStatusNoData), 1u);
  EXPECT_EQ(Count(*run, LineOutcome::kOutsideWindow), 1u);
  EXPECT_EQ(Count(*run, LineOutcome::kHeader), 0u);  // text: 1
  EXPECT_EQ(Count(*text, LineOutcome::kHeader), 1u);
  EXPECT_EQ(s.bytes_compressed, parquet->size());
  EXPECT_GT(s.bytes_uncompressed, 0u);
}

// Records the Prefetch hints.
class HintRecorder : public ObjectSourceWrapper {
 public:
  using ObjectSourceWrapper::ObjectSourceWrapper;
  void Prefetch(std::span<const ObjectInfo> upcoming) override {
    std::lock_guard lock(mu_);
    for (const ObjectInfo& o : upcoming) hinted_.push_back(o.key);
  }
  std::vector<std::string> hinted() {
    std::lock_guard lock(mu_);
    return hinted_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> hinted_;
};

TEST(EngineTest, ParquetObjectsAreNotHintedForPrefetch) {
  MemoryObjectSource memory;
  const std::string text = FlowLogBuilder().Add({}).Text();
  Result<std::string> parquet = FlowLogTextToParquet(text);
  ASSERT_OK(parquet);
  memory.Put(Key(1, 5), GzipForTest(text));
  memory.Put(Key(2, 5, ".log.parquet"), *parquet);
  memory.Put(Key(3, 10), GzipForTest(text));
  memory.Put(Key(4, 10, ".log.parquet"), *parquet);
  HintRecorder source(&memory);
  Result<DigestRun> run = RunOn(source, 1);
  ASSERT_OK(run);
  EXPECT_EQ(run->summary.objects_parquet, 2u);
  for (const std::string& key : source.hinted()) EXPECT_THAT(key, ::testing::EndsWith(".log.gz"));
  EXPECT_THAT(source.hinted(), ::testing::Contains(Key(3, 10)));
}

TEST(EngineTest, AParquetObjectThatFailsMidWayAddsNothing) {
  FlowLogBuilder b;
  for (int i = 0; i < 3000; ++i) b.Add({{Field::kSrcPort, std::to_string(1000 + i)}});
  Result<std::string> parquet = FlowLogTextToParquet(b.Text(), {.page_rows = 500});
  ASSERT_OK(parquet);
  // Damage a byte in the middle of the srcport chunk: some pages read, then one fails.
  RandomAccessObjectPtr object =
      NewMemoryRandomAccessObject(std::make_shared<std::string>(*parquet));
  Result<std::unique_ptr<parquet::FileReader>> file = parquet::FileReader::Open(object.get());
  ASSERT_OK(file);
  const parquet::ColumnChunkMeta& chunk = (*file)->metadata().row_groups[0].columns[5];
  ASSERT_EQ((*file)->metadata().fields[5], "srcport");
  const auto at = static_cast<size_t>(chunk.start_offset() + chunk.total_compressed_size / 2);
  std::string bad = *parquet;
  bad[at] = static_cast<char>(bad[at] ^ 0xff);
  MemoryObjectSource source;
  source.Put(Key(1, 5, ".log.parquet"), bad);
  Result<DigestRun> run = RunOn(source);
  ASSERT_OK(run);
  EXPECT_EQ(run->summary.objects_failed, 1u);
  EXPECT_EQ(run->summary.objects_parquet, 0u);
  EXPECT_EQ(run->summary.lines_total(), 0u);
  EXPECT_EQ(run->summary.keys, 0u);
}

TEST(EngineTest, ListingFailureFailsTheRun) {
  MemoryObjectSource source;
  source.Put(Key(1), FlowLogBuilder().Add({}).Gzip());
  source.FailList("", UnavailableError("bucket unreachable"));
  EXPECT_THAT(RunOn(source), StatusIs(StatusCode::kUnavailable, HasSubstr("bucket unreachable")));
}

TEST(EngineTest, BadWindowIsInvalidArgument) {
  MemoryObjectSource source;
  EXPECT_THAT(RunOn(source, 1, Window{kT0, kT0}), StatusIs(StatusCode::kInvalidArgument));
}

TEST(EngineTest, AnEmptyAwsLogsFolderForTheWindowIsAnEmptyDigest) {
  MemoryObjectSource source;
  source.Put("AWSLogs/123456789012/vpcflowlogs/us-east-1/2018/06/20/x.log.gz", "x");
  Result<DigestRun> run = RunOn(source);
  ASSERT_OK(run);
  EXPECT_EQ(run->digest.size(), 0u);
  EXPECT_EQ(run->summary.objects_read, 0u);
}

TEST(EngineTest, AStopRequestedBeforeTheRunCancelsIt) {
  MemoryObjectSource source;
  source.Put(Key(1), FlowLogBuilder().Add({}).Gzip());
  std::stop_source stop;
  stop.request_stop();
  DigestOptions options;
  options.stop = stop.get_token();
  EXPECT_THAT(RunDigest(source, kWindow, options), StatusIs(StatusCode::kCancelled));
}

// Requests a stop when the first object is opened.
class StopOnOpen : public ObjectSourceWrapper {
 public:
  StopOnOpen(ObjectSource* target, std::stop_source stop)
      : ObjectSourceWrapper(target), stop_(std::move(stop)) {}
  Result<ObjectReaderPtr> Open(std::string_view key) override {
    stop_.request_stop();
    return ObjectSourceWrapper::Open(key);
  }

 private:
  std::stop_source stop_;
};

TEST(EngineTest, AStopRequestedWhileReadingCancelsTheRun) {
  MemoryObjectSource memory;
  for (int i = 0; i < 20; ++i) memory.Put(Key(i), FlowLogBuilder().Add({}).Gzip());
  std::stop_source stop;
  StopOnOpen source(&memory, stop);
  DigestOptions options;
  options.threads = 2;
  options.stop = stop.get_token();
  EXPECT_THAT(RunDigest(source, kWindow, options), StatusIs(StatusCode::kCancelled));
  EXPECT_LT(memory.open_calls().size(), 20u);
}

// Records prefetch hints.
class RecordingPrefetch : public ObjectSourceWrapper {
 public:
  using ObjectSourceWrapper::ObjectSourceWrapper;
  void Prefetch(std::span<const ObjectInfo> upcoming) override {
    std::lock_guard lock(mu_);
    for (const ObjectInfo& o : upcoming) hinted_.insert(o.key);
  }
  std::set<std::string> hinted() {
    std::lock_guard lock(mu_);
    return hinted_;
  }

 private:
  std::mutex mu_;
  std::set<std::string> hinted_;
};

TEST(EngineTest, HintsUpcomingObjectsToTheSource) {
  MemoryObjectSource memory;
  for (int i = 0; i < 5; ++i) memory.Put(Key(i), FlowLogBuilder().Add({}).Gzip());
  RecordingPrefetch source(&memory);
  ASSERT_OK(RunOn(source, 1));
  // Every object but the first is hinted before it is opened.
  EXPECT_THAT(source.hinted(), ElementsAre(Key(1), Key(2), Key(3), Key(4)));
}

TEST(EngineTest, ReportsProgressAtTheEnd) {
  MemoryObjectSource source;
  uint64_t total_size = 0;
  for (int i = 0; i < 6; ++i) {
    std::string gz = FlowLogBuilder().Add({{Field::kDstPort, std::to_string(1000 + i)}}).Gzip();
    total_size += gz.size();
    source.Put(Key(i), std::move(gz));
  }
  std::vector<DigestProgress> reports;
  DigestOptions options;
  options.threads = 3;
  options.on_progress = [&](const DigestProgress& p) { reports.push_back(p); };
  ASSERT_OK(RunDigest(source, kWindow, options));
  ASSERT_FALSE(reports.empty());
  const DigestProgress& last = reports.back();
  EXPECT_EQ(last.objects_done, 6u);
  EXPECT_EQ(last.objects_total, 6u);
  EXPECT_EQ(last.bytes_done, total_size);
  EXPECT_EQ(last.bytes_total, total_size);
}

TEST(EngineTest, OneThreadAndFourThreadsGiveTheSameDigest) {
  MemoryObjectSource source;
  for (int o = 0; o < 40; ++o) {
    FlowLogBuilder b;
    for (int r = 0; r < 200; ++r) {
      b.Add({{Field::kInterfaceId, "eni-" + std::to_string(r % 9)},
             {Field::kSrcAddr, "10.0." + std::to_string(o % 4) + "." + std::to_string(r % 50)},
             {Field::kDstPort, std::to_string(50000 + (r * 7 + o) % 300)},
             {Field::kBytes, std::to_string((r * 31 + o) % 97)},
             {Field::kStart, std::to_string(kT0 + o * 60)}});
    }
    source.Put(Key(o, o % 12 * 5), b.Gzip());
  }
  Result<DigestRun> one = RunOn(source, 1);
  Result<DigestRun> four = RunOn(source, 4);
  ASSERT_OK(one);
  ASSERT_OK(four);
  EXPECT_GT(one->summary.keys, 500u);
  EXPECT_EQ(FlowLog(*one), FlowLog(*four));
  EXPECT_EQ(EncodeToString(one->digest, DigestFormat::kNdjson),
            EncodeToString(four->digest, DigestFormat::kNdjson));
  EXPECT_EQ(one->summary.lines, four->summary.lines);
  EXPECT_EQ(one->summary.bytes_uncompressed, four->summary.bytes_uncompressed);
}

TEST(EngineTest, SortsByBytesDescendingThenByLineText) {
  MemoryObjectSource source;
  FlowLogBuilder b;
  b.Add({{Field::kSrcAddr, "10.0.0.2"}, {Field::kBytes, "5"}});
  b.Add({{Field::kSrcAddr, "10.0.0.10"}, {Field::kBytes, "5"}});
  b.Add({{Field::kSrcAddr, "10.0.0.3"}, {Field::kBytes, "900"}});
  b.Add({{Field::kInterfaceId, "eni-0"}, {Field::kBytes, "5"}});
  b.Add({{Field::kSrcAddr, "10.0.0.4"}, {Field::kBytes, "6"}});
  source.Put(Key(1), b.Gzip());
  // Rows of every object take part in one order.
  source.Put(Key(2, 10),
             FlowLogBuilder().Add({{Field::kSrcAddr, "10.0.0.9"}, {Field::kBytes, "1"}}).Gzip());
  Result<DigestRun> run = RunOn(source);
  ASSERT_OK(run);
  const std::vector<std::string> lines = Lines(FlowLog(*run));
  ASSERT_EQ(lines.size(), 6u);
  EXPECT_THAT(lines[0], HasSubstr(" 10.0.0.3 "));
  EXPECT_THAT(lines[1], HasSubstr(" 10.0.0.4 "));
  EXPECT_THAT(lines[2], HasSubstr(" eni-0 "));      // "eni-0 " < "eni-0a1b2c3d"
  EXPECT_THAT(lines[3], HasSubstr(" 10.0.0.10 "));  // "10.0.0.10" < "10.0.0.2"
  EXPECT_THAT(lines[4], HasSubstr(" 10.0.0.2 "));
  EXPECT_THAT(lines[5], HasSubstr(" 10.0.0.9 "));
}

}  // namespace
}  // namespace vpcflow
