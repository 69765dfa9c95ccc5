#include "generate/generator.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "common/gzip_reader.hpp"
#include "flowlog/format.hpp"
#include "flowlog/line_parser.hpp"
#include "flowlog/object_key.hpp"
#include "generate/traffic_model.hpp"
#include "testing/files.hpp"
#include "testing/matchers.hpp"
#include "testing/scratch_dir.hpp"
#include "vpcflow/object_source.hpp"

namespace vpcflow {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr int64_t kT0 = 1793491200;  // 2026-11-01T00:00:00Z

class GeneratorTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(scratch_.path().empty()); }

  GenerateOptions Options(const std::string& name) const {
    return GenerateOptions{.out_dir = (root_ / name).string(),
                           .window = {kT0, kT0 + 1800},
                           .size_mb = 2,
                           .accounts = 2,
                           .hosts = 200,
                           .layout = GenerateLayout::kDaily,
                           .seed = 11,
                           .threads = 2,
                           .prefix = ""};
  }

  // Relative key -> file bytes.
  static std::map<std::string, std::string> Tree(const fs::path& dir) {
    std::map<std::string, std::string> tree;
    for (const auto& e : fs::recursive_directory_iterator(dir)) {
      if (!e.is_regular_file()) continue;
      tree[fs::relative(e.path(), dir).string()] = ReadFile(e.path());
    }
    return tree;
  }

  // The decompressed lines of one object.
  static std::vector<std::string> ObjectLines(ObjectSource& source, const std::string& key) {
    std::vector<std::string> lines;
    auto reader = source.Open(key);
    EXPECT_THAT(reader, IsOk());
    if (!reader.ok()) return lines;
    auto stream = NewGzipTextStream(reader->get());
    LineReader line_reader(stream.get());
    std::string_view line;
    while (line_reader.Next(&line)) lines.emplace_back(line);
    EXPECT_THAT(line_reader.status(), IsOk()) << key;
    return lines;
  }

  ScratchDir scratch_;
  fs::path root_ = scratch_.path();
};

TEST_F(GeneratorTest, SameOptionsGiveTheSameBytesOnAnyThreadCount) {
  GenerateOptions a = Options("a"), b = Options("b");
  a.threads = 1;
  b.threads = 2;
  auto ra = GenerateCorpus(a);
  auto rb = GenerateCorpus(b);
  ASSERT_THAT(ra, IsOk());
  ASSERT_THAT(rb, IsOk());
  EXPECT_EQ(ra->records, rb->records);
  EXPECT_EQ(ra->bytes_compressed, rb->bytes_compressed);
  auto ta = Tree(root_ / "a"), tb = Tree(root_ / "b");
  EXPECT_EQ(ta.size(), ra->objects);
  EXPECT_TRUE(ta == tb);
}

TEST_F(GeneratorTest, AnotherSeedGivesAnotherCorpus) {
  GenerateOptions a = Options("a"), b = Options("b");
  b.seed = 12;
  ASSERT_THAT(GenerateCorpus(a), IsOk());
  ASSERT_THAT(GenerateCorpus(b), IsOk());
  EXPECT_FALSE(Tree(root_ / "a") == Tree(root_ / "b"));
}

TEST_F(GeneratorTest, EveryLineIsAValidRecordOfItsFileInterval) {
  GenerateOptions o = Options("c");
  auto report = GenerateCorpus(o);
  ASSERT_THAT(report, IsOk());
  // Within a few percent of the requested size, one object per flow log and 5-minute stamp.
  EXPECT_NEAR(static_cast<double>(report->bytes_uncompressed), o.size_mb * 1e6,
              o.size_mb * 1e6 * 0.05);
  EXPECT_LT(report->bytes_compressed, report->bytes_uncompressed / 3);
  EXPECT_EQ(report->objects % 6, 0u);  // 6 stamps in 30 minutes

  auto source = NewLocalDirSource(o.out_dir);
  ASSERT_THAT(source, IsOk());
  auto listing = ListAll(**source, ListRequest{});
  ASSERT_THAT(listing, IsOk());
  ASSERT_EQ(listing->objects.size(), report->objects);

  std::set<std::string> headers, accounts, spellings;
  std::map<LineOutcome, int> outcomes;
  std::set<int> protocols;
  uint64_t records = 0;
  int missing_counts = 0, rejects = 0, upper = 0, full_form = 0, early_start = 0;
  std::set<int64_t> stamps;
  for (const ObjectInfo& info : listing->objects) {
    auto key = ParseFlowLogKey(info.key);
    ASSERT_TRUE(key.has_value()) << info.key;
    EXPECT_EQ(key->layout, KeyLayout::kDefault);
    EXPECT_FALSE(key->hourly);
    EXPECT_EQ(key->kind, ObjectKind::kGzipText);
    accounts.insert(std::string(key->account));
    stamps.insert(key->file_time);
    std::vector<std::string> lines = ObjectLines(**source, info.key);
    ASSERT_GE(lines.size(), 2u);
    auto format = FlowFormat::FromHeader(lines[0]);
    ASSERT_TRUE(format.has_value()) << lines[0];
    headers.insert(lines[0]);
    for (size_t i = 1; i < lines.size(); ++i) {
      FlowRecord rec;
      LineOutcome outcome = ParseFlowLine(*format, lines[i], &rec);
      outcomes[outcome]++;
      records++;
      ASSERT_TRUE(outcome == LineOutcome::kUsed || outcome == LineOutcome::kStatusNoData ||
                  outcome == LineOutcome::kStatusSkipData)
          << "outcome " << static_cast<int>(outcome) << ": " << lines[i];
      if (outcome != LineOutcome::kUsed) continue;
      // Records end in the file's 5 minutes; some started in the previous interval.
      EXPECT_GE(rec.end, key->file_time) << lines[i];
      EXPECT_LT(rec.end, key->file_time + 300) << lines[i];
      EXPECT_GE(rec.start, rec.end - 600) << lines[i];
      early_start += rec.start < key->file_time - 300;
      EXPECT_EQ(rec.srcaddr.v4, rec.dstaddr.v4) << lines[i];
      protocols.insert(rec.protocol);
      rejects += rec.action == Action::kReject;
      missing_counts += lines[i].find(" - - ") != std::string::npos;
      upper += lines[i].find_first_of("ABCDEF") != std::string::npos;
      full_form += lines[i].find(":0000:") != std::string::npos;
    }
  }
  EXPECT_EQ(records, report->records);
  EXPECT_EQ(accounts.size(), 2u);
  EXPECT_EQ(stamps.size(), 6u);
  EXPECT_GE(headers.size(), 3u);  // several formats
  EXPECT_GT(outcomes[LineOutcome::kStatusNoData], 0);
  EXPECT_GT(outcomes[LineOutcome::kStatusSkipData], 0);
  EXPECT_GT(rejects, 0);
  EXPECT_GT(missing_counts, 0);
  EXPECT_GT(upper, 0);
  EXPECT_GT(full_form, 0);
  EXPECT_GT(early_start, 0);
  EXPECT_EQ(protocols, (std::set<int>{1, 6, 17, 58}));
}

TEST_F(GeneratorTest, HourlyAndHiveLayoutsWithAPrefix) {
  for (GenerateLayout layout : {GenerateLayout::kHourly, GenerateLayout::kHive}) {
    GenerateOptions o = Options(layout == GenerateLayout::kHive ? "hive" : "hourly");
    o.layout = layout;
    o.prefix = "team/logs";
    o.size_mb = 0.2;
    ASSERT_THAT(GenerateCorpus(o), IsOk());
    auto tree = Tree(o.out_dir);
    ASSERT_FALSE(tree.empty());
    for (const auto& [path, bytes] : tree) {
      auto key = ParseFlowLogKey(path);
      ASSERT_TRUE(key.has_value()) << path;
      EXPECT_EQ(key->user_prefix, "team/logs");
      if (layout == GenerateLayout::kHive) {
        EXPECT_EQ(key->layout, KeyLayout::kHive) << path;
        EXPECT_THAT(path, HasSubstr("/aws-account-id="));
      } else {
        EXPECT_EQ(key->layout, KeyLayout::kDefault) << path;
        EXPECT_TRUE(key->hourly) << path;
      }
    }
  }
}

TEST_F(GeneratorTest, HostsBoundTheDistinctAddressesOfAnAccount) {
  auto distinct = [&](int hosts) {
    GenerateOptions o = Options("h" + std::to_string(hosts));
    o.accounts = 1;
    o.hosts = hosts;
    EXPECT_THAT(GenerateCorpus(o), IsOk());
    auto source = NewLocalDirSource(o.out_dir);
    auto listing = ListAll(**source, ListRequest{});
    std::set<std::string> addresses;
    for (const ObjectInfo& info : listing->objects) {
      std::vector<std::string> lines = ObjectLines(**source, info.key);
      auto format = FlowFormat::FromHeader(lines[0]);
      for (size_t i = 1; i < lines.size(); ++i) {
        FlowRecord rec;
        if (ParseFlowLine(*format, lines[i], &rec) != LineOutcome::kUsed) continue;
        char text[kMaxIpTextLength];
        addresses.emplace(text, FormatIpAddress(rec.srcaddr, text));
        addresses.emplace(text, FormatIpAddress(rec.dstaddr, text));
      }
    }
    return addresses.size();
  };
  size_t few = distinct(20), many = distinct(2000);
  EXPECT_LE(few, 20u);
  EXPECT_GE(few, 15u);
  EXPECT_LE(many, 2000u);
  EXPECT_GT(many, 500u);
}

TEST_F(GeneratorTest, ShapeSetsStreamsFormatInterfacesPeersScansPortsAndStamps) {
  GenerateOptions o = Options("shape");
  o.accounts = 3;
  o.hosts = 400;
  o.shape = GenerateShape{.regions_per_account = 1,
                          .flow_logs_per_region = 1,
                          .default_format_only = true,
                          .interfaces = 7,
                          .ipv6 = 0,
                          .nodata = 0,
                          .scans = 0.3,
                          .scanners = 1000000,
                          .peers = 3,
                          .ephemeral_min = 1024,
                          .stamp_minutes = 10,
                          .gzip_level = 6};
  auto report = GenerateCorpus(o);
  ASSERT_THAT(report, IsOk());
  EXPECT_EQ(report->objects, 3u * 3u);  // one stream per account, 3 stamps in 30 minutes
  auto source = NewLocalDirSource(o.out_dir);
  ASSERT_THAT(source, IsOk());
  auto listing = ListAll(**source, ListRequest{});
  ASSERT_THAT(listing, IsOk());
  std::map<std::string, std::set<std::string>> enis;     // account -> interfaces
  std::map<std::string, int> scanners;                   // REJECTed source -> records
  std::map<std::string, std::set<std::string>> talkers;  // interface -> addresses it accepted
  int records = 0, low_client_ports = 0, rejects = 0;
  for (const ObjectInfo& info : listing->objects) {
    auto key = ParseFlowLogKey(info.key);
    ASSERT_TRUE(key.has_value()) << info.key;
    EXPECT_EQ(key->file_time % 600, 0) << info.key;
    std::vector<std::string> lines = ObjectLines(**source, info.key);
    ASSERT_GE(lines.size(), 2u);
    auto format = FlowFormat::FromHeader(lines[0]);
    ASSERT_TRUE(format.has_value());
    EXPECT_EQ(lines[0], generate::kFormats[0].header);
    for (size_t i = 1; i < lines.size(); ++i) {
      FlowRecord rec;
      ASSERT_EQ(ParseFlowLine(*format, lines[i], &rec), LineOutcome::kUsed) << lines[i];
      ++records;
      EXPECT_TRUE(rec.srcaddr.v4) << lines[i];
      EXPECT_GE(rec.end, key->file_time) << lines[i];
      EXPECT_LT(rec.end, key->file_time + 600) << lines[i];
      enis[std::string(key->account)].insert(std::string(rec.interface_id));
      const uint16_t client = std::max(rec.srcport, rec.dstport);
      low_client_ports += client > 0 && client < 32768;
      char src[kMaxIpTextLength], dst[kMaxIpTextLength];
      const std::string src_text(src, FormatIpAddress(rec.srcaddr, src));
      const std::string dst_text(dst, FormatIpAddress(rec.dstaddr, dst));
      if (rec.action == Action::kReject) {
        ++rejects;
        scanners[src_text]++;
      } else {
        talkers[std::string(rec.interface_id)].insert({src_text, dst_text});
      }
    }
  }
  EXPECT_EQ(enis.size(), 3u);
  for (const auto& [account, set] : enis) EXPECT_LE(set.size(), 7u) << account;
  EXPECT_GT(low_client_ports, records / 4);  // half the client ports are below 32768
  // Scans come from fresh addresses: nearly every REJECT has its own source.
  EXPECT_GT(rejects, records / 8);  // 30% of events, most others being two lines
  EXPECT_GT(scanners.size(), static_cast<size_t>(rejects) * 8 / 10);
  // Three peers per interface: its own address and at most three others.
  ASSERT_FALSE(talkers.empty());
  for (const auto& [eni, addresses] : talkers) EXPECT_LE(addresses.size(), 4u) << eni;
}

TEST_F(GeneratorTest, InterfaceRunsGroupAnInterfacesRecordsAndCompressBetter) {
  // The share of records on the same interface as the record before them, the records and the
  // compressed bytes of a corpus.
  struct Measured {
    double repeats = 0;
    uint64_t records = 0, compressed = 0;
    std::set<std::string> interfaces;
  };
  auto measure = [this](double runs, const std::string& name) {
    GenerateOptions o = Options(name);
    o.shape = GenerateShape{.regions_per_account = 1,
                            .flow_logs_per_region = 1,
                            .default_format_only = true,
                            .interfaces = 50,
                            .stamp_minutes = 10,
                            .gzip_level = 6,
                            .interface_runs = runs};
    Measured m;
    auto report = GenerateCorpus(o);
    EXPECT_THAT(report, IsOk());
    if (!report.ok()) return m;
    m.records = report->records;
    m.compressed = report->bytes_compressed;
    auto source = NewLocalDirSource(o.out_dir);
    EXPECT_THAT(source, IsOk());
    auto listing = ListAll(**source, ListRequest{});
    EXPECT_THAT(listing, IsOk());
    uint64_t pairs = 0, same = 0;
    for (const ObjectInfo& info : listing->objects) {
      std::vector<std::string> lines = ObjectLines(**source, info.key);
      std::string previous;
      for (size_t i = 1; i < lines.size(); ++i) {
        std::istringstream fields(lines[i]);
        std::string version, account, eni;
        fields >> version >> account >> eni;
        m.interfaces.insert(eni);
        pairs += !previous.empty();
        same += !previous.empty() && eni == previous;
        previous = eni;
      }
    }
    m.repeats = pairs == 0 ? 0 : static_cast<double>(same) / static_cast<double>(pairs);
    return m;
  };
  const Measured fresh = measure(0, "fresh"), runs = measure(0.75, "runs");
  // An event is one or two lines: the second is always on the same interface.
  EXPECT_LT(fresh.repeats, 0.6);
  EXPECT_GT(runs.repeats, 0.8);
  // The same interfaces and about as many records, in fewer compressed bytes.
  EXPECT_EQ(runs.interfaces, fresh.interfaces);
  EXPECT_NEAR(static_cast<double>(runs.records), static_cast<double>(fresh.records),
              0.05 * static_cast<double>(fresh.records));
  EXPECT_LT(runs.compressed, fresh.compressed * 97 / 100);
}

TEST_F(GeneratorTest, RejectsBadOptions) {
  GenerateOptions o = Options("bad");
  o.size_mb = 0;
  EXPECT_THAT(GenerateCorpus(o), StatusIs(StatusCode::kInvalidArgument));
  o = Options("bad");
  o.accounts = 0;
  EXPECT_THAT(GenerateCorpus(o), StatusIs(StatusCode::kInvalidArgument));
  o = Options("bad");
  o.hosts = 1;
  EXPECT_THAT(GenerateCorpus(o), StatusIs(StatusCode::kInvalidArgument));
  o = Options("bad");
  o.shape.stamp_minutes = 0;
  EXPECT_THAT(GenerateCorpus(o), StatusIs(StatusCode::kInvalidArgument));
  o = Options("bad");
  o.shape.scans = 0.999;
  EXPECT_THAT(GenerateCorpus(o), StatusIs(StatusCode::kInvalidArgument));
  o = Options("bad");
  o.shape.gzip_level = 10;
  EXPECT_THAT(GenerateCorpus(o), StatusIs(StatusCode::kInvalidArgument));
  for (double runs : {-0.1, 1.0}) {
    o = Options("bad");
    o.shape.interface_runs = runs;
    EXPECT_THAT(GenerateCorpus(o), StatusIs(StatusCode::kInvalidArgument)) << runs;
  }
  o = Options("bad");
  o.window.stop = o.window.start;
  EXPECT_THAT(GenerateCorpus(o), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_FALSE(fs::exists(root_ / "bad"));
}

TEST(GenerateLayoutTest, ParsesTheThreeNames) {
  EXPECT_THAT(ParseGenerateLayout("daily"), IsOkAndHolds(GenerateLayout::kDaily));
  EXPECT_THAT(ParseGenerateLayout("hourly"), IsOkAndHolds(GenerateLayout::kHourly));
  EXPECT_THAT(ParseGenerateLayout("hive"), IsOkAndHolds(GenerateLayout::kHive));
  EXPECT_THAT(ParseGenerateLayout("weekly"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("weekly")));
}

}  // namespace
}  // namespace vpcflow
