// Parquet objects digest exactly as their text twins (the same records, converted by
// FlowLogTextToParquet): random objects with bad values and every writer variant, and
// generated corpora. A Parquet object has no header line; every other count is equal.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <random>

#include "digest/test_records.hpp"
#include "flowlog/format.hpp"
#include "generate/generator.hpp"
#include "generate/parquet_convert.hpp"
#include "testing/flow_log_builder.hpp"
#include "testing/matchers.hpp"
#include "testing/memory_object_source.hpp"
#include "testing/scratch_dir.hpp"
#include "vpcflow/digest.hpp"

namespace vpcflow {
namespace {

constexpr int64_t kT0 = 1546300800;  // 2019-01-01T00:00:00Z

// Digests `source` and expects the same rows and counts as `text_run` (less the header lines).
void ExpectSameAsText(const DigestRun& text_run, ObjectSource& source, const Window& window) {
  DigestOptions options;
  options.threads = 2;
  Result<DigestRun> run = RunDigest(source, window, options);
  ASSERT_OK(run);
  EXPECT_EQ(testing_records::EncodeToString(run->digest, DigestFormat::kFlowLog),
            testing_records::EncodeToString(text_run.digest, DigestFormat::kFlowLog));
  std::array<uint64_t, kLineOutcomeCount> expected = text_run.summary.lines;
  expected[static_cast<size_t>(LineOutcome::kHeader)] = 0;
  EXPECT_EQ(run->summary.lines, expected);
  EXPECT_EQ(run->summary.objects_read, text_run.summary.objects_read);
  EXPECT_EQ(run->summary.objects_parquet, run->summary.objects_read);
  EXPECT_EQ(run->summary.objects_failed, 0u);
  EXPECT_EQ(run->summary.keys, text_run.summary.keys);
}

// Random records of random formats, with bad values of every kind (but no line Parquet cannot
// hold: every line has the format's token count).
std::string RandomText(std::mt19937_64& rng) {
  std::vector<Field> fields = FlowFormat::Default().columns();
  std::shuffle(fields.begin(), fields.end(), rng);
  for (Field optional : {Field::kAccountId, Field::kInterfaceId, Field::kPackets, Field::kBytes,
                         Field::kAction, Field::kLogStatus, Field::kVersion}) {
    if (rng() % 4 == 0) fields.erase(std::find(fields.begin(), fields.end(), optional));
  }
  for (Field extra : {Field::kTcpFlags, Field::kVpcId, Field::kTrafficPath, Field::kRejectReason,
                      Field::kEncryptionStatus, Field::kInstanceTag}) {
    if (rng() % 3 == 0) fields.insert(fields.begin() + rng() % fields.size(), extra);
  }
  FlowLogBuilder b(fields);
  auto pick = [&](std::initializer_list<const char*> options) {
    return std::string(options.begin()[rng() % options.size()]);
  };
  const int records = 1 + static_cast<int>(rng() % 400);
  const bool bad_ports = rng() % 3 == 0;  // some objects get words among their numbers
  for (int i = 0; i < records; ++i) {
    const int64_t start = kT0 - 400 + static_cast<int64_t>(rng() % 4400);
    std::map<Field, std::string> v = {
        {Field::kAccountId, pick({"123456789012", "210987654321", "-"})},
        {Field::kInterfaceId, pick({"eni-1", "eni-22", "eni-0a1b2c3d", "-"})},
        {Field::kSrcAddr, pick({"10.0.0.1", "10.0.0.10", "2001:db8::1", "2001:DB8:0:0:0:0:0:1",
                                "::ffff:10.0.0.1", "172.16.3.4", "-", "10.0.0.300"})},
        {Field::kDstAddr, pick({"10.0.0.2", "2a02:cf40::", "2a02:cf40:0:0:0:0:0:0", "8.8.8.8"})},
        {Field::kSrcPort, bad_ports ? pick({"443", "x", "70000"}) : pick({"443", "53", "50000"})},
        {Field::kDstPort, pick({"443", "53", "61000", "0", "3389"})},
        {Field::kProtocol, pick({"6", "17", "1", "300"})},
        {Field::kPackets, std::to_string(rng() % 20)},
        {Field::kBytes, rng() % 10 == 0 ? "-" : std::to_string(rng() % 5 * 40)},
        {Field::kStart, std::to_string(start)},
        {Field::kEnd, std::to_string(start + static_cast<int64_t>(rng() % 120) - 5)},
        {Field::kAction, pick({"ACCEPT", "REJECT", "-", "ACCEPT", "DROP"})},
        {Field::kLogStatus, pick({"OK", "OK", "OK", "NODATA", "SKIPDATA", "-", "LATE"})},
        {Field::kTcpFlags, pick({"2", "19", "-"})},
        {Field::kVpcId, pick({"vpc-1", "-"})},
        {Field::kTrafficPath, pick({"1", "8", "-"})},
        {Field::kRejectReason, pick({"BPA", "EC", "-"})},
        {Field::kEncryptionStatus, pick({"0", "3", "-"})},
        {Field::kInstanceTag, pick({"web", "-"})},
    };
    b.Add(v);
  }
  return b.Text();
}

parquet::WriterOptions RandomWriterOptions(std::mt19937_64& rng) {
  const parquet::Codec codecs[] = {parquet::Codec::kUncompressed, parquet::Codec::kGzip,
                                   parquet::Codec::kSnappy, parquet::Codec::kZstd};
  const parquet::Encoding plains[] = {
      parquet::Encoding::kPlain, parquet::Encoding::kDeltaBinaryPacked,
      parquet::Encoding::kDeltaLengthByteArray, parquet::Encoding::kDeltaByteArray};
  return {.codec = codecs[rng() % 4],
          .data_page_v2 = rng() % 2 == 0,
          .dictionary = rng() % 3 != 0,
          .dictionary_max_bytes = 64 + rng() % 400,
          .plain_encoding = plains[rng() % 4],
          .page_rows = 20 + rng() % 200,
          .row_group_rows = static_cast<int64_t>(50 + rng() % 300)};
}

TEST(ParquetTwinTest, RandomObjectsDigestAsTheirTextTwins) {
  for (uint64_t seed : {21u, 22u, 23u, 24u, 25u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    std::mt19937_64 rng(seed);
    MemoryObjectSource text_source;
    MemoryObjectSource parquet_source;
    for (int i = 0; i < 20; ++i) {
      char name[160];
      std::snprintf(name, sizeof(name),
                    "AWSLogs/123456789012/vpcflowlogs/eu-west-1/2019/01/01/"
                    "123456789012_vpcflowlogs_eu-west-1_fl-%d_20190101T00%02dZ_%08x",
                    i % 3, static_cast<int>(rng() % 12) * 5, i);
      const std::string text = RandomText(rng);
      Result<std::string> parquet = FlowLogTextToParquet(text, RandomWriterOptions(rng));
      ASSERT_OK(parquet);
      text_source.Put(std::string(name) + ".log.gz", GzipForTest(text));
      parquet_source.Put(std::string(name) + ".log.parquet", *parquet);
    }
    for (const Window& window : {Window{kT0, kT0 + 3600}, Window{kT0 + 600, kT0 + 1200}}) {
      DigestOptions options;
      options.threads = 2;
      Result<DigestRun> text_run = RunDigest(text_source, window, options);
      ASSERT_OK(text_run);
      EXPECT_GT(text_run->summary.line_count(LineOutcome::kUsed), 0u);
      ExpectSameAsText(*text_run, parquet_source, window);
    }
  }
}

TEST(ParquetTwinTest, GeneratedCorporaDigestAsTheirTextTwins) {
  for (parquet::Codec codec : {parquet::Codec::kGzip, parquet::Codec::kSnappy}) {
    ScratchDir text_dir;
    ScratchDir parquet_dir;
    GenerateOptions g;
    g.window = {kT0 + 23 * 3600, kT0 + 25 * 3600};
    g.size_mb = 2;
    g.accounts = 2;
    g.hosts = 300;
    g.layout = GenerateLayout::kHive;
    g.threads = 2;
    g.out_dir = text_dir.path();
    Result<GenerateReport> text_report = GenerateCorpus(g);
    ASSERT_OK(text_report);
    g.out_dir = parquet_dir.path();
    g.format = GenerateFormat::kParquet;
    g.parquet_codec = codec;
    Result<GenerateReport> parquet_report = GenerateCorpus(g);
    ASSERT_OK(parquet_report);
    EXPECT_EQ(parquet_report->records, text_report->records);
    EXPECT_EQ(parquet_report->objects, text_report->objects);

    Result<ObjectSourcePtr> text_source = NewLocalDirSource(text_dir.path());
    Result<ObjectSourcePtr> parquet_source = NewLocalDirSource(parquet_dir.path());
    ASSERT_OK(text_source);
    ASSERT_OK(parquet_source);
    const Window window{kT0 + 23 * 3600 + 420, kT0 + 24 * 3600 + 60};
    DigestOptions options;
    options.threads = 2;
    Result<DigestRun> text_run = RunDigest(**text_source, window, options);
    ASSERT_OK(text_run);
    EXPECT_GT(text_run->summary.keys, 100u);
    ExpectSameAsText(*text_run, **parquet_source, window);
  }
}

}  // namespace
}  // namespace vpcflow
