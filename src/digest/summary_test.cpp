#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <set>

#include "testing/matchers.hpp"
#include "vpcflow/digest.hpp"

namespace vpcflow {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(LineOutcomeNameTest, EveryOutcomeHasAUniqueSnakeCaseName) {
  std::set<std::string_view> names;
  for (size_t i = 0; i < kLineOutcomeCount; ++i) {
    const std::string_view name = LineOutcomeName(static_cast<LineOutcome>(i));
    EXPECT_FALSE(name.empty());
    EXPECT_EQ(name.find_first_not_of("abcdefghijklmnopqrstuvwxyz_"), std::string_view::npos);
    names.insert(name);
  }
  EXPECT_EQ(names.size(), kLineOutcomeCount);
  EXPECT_EQ(LineOutcomeName(LineOutcome::kUsed), "used");
  EXPECT_EQ(LineOutcomeName(LineOutcome::kBadTokenCount), "bad_token_count");
  EXPECT_EQ(LineOutcomeName(LineOutcome::kStatusNoData), "status_nodata");
  EXPECT_EQ(LineOutcomeName(LineOutcome::kStatusSkipData), "status_skipdata");
  EXPECT_EQ(LineOutcomeName(LineOutcome::kOutsideWindow), "outside_window");
}

TEST(DigestFormatTest, ParsesAndNamesEveryFormat) {
  for (DigestFormat f : {DigestFormat::kFlowLog, DigestFormat::kNdjson, DigestFormat::kCsv}) {
    EXPECT_THAT(ParseDigestFormat(DigestFormatName(f)), IsOkAndHolds(f));
  }
  EXPECT_EQ(DigestFormatName(DigestFormat::kFlowLog), "flowlog");
  EXPECT_THAT(ParseDigestFormat("json"), StatusIs(StatusCode::kInvalidArgument, HasSubstr("json")));
  EXPECT_THAT(ParseDigestFormat(""), StatusIs(StatusCode::kInvalidArgument));
}

TEST(VersionTest, IsTheProjectVersion) { EXPECT_EQ(Version(), "0.1.0"); }

DigestSummary SampleSummary() {
  DigestSummary s;
  s.window = {1546300800, 1546304400};
  s.objects_listed = 10;
  s.objects_ignored = 1;
  s.objects_out_of_range = 2;
  s.objects_parquet = 1;
  s.objects_empty = 1;
  s.objects_read = 4;
  s.objects_failed = 1;
  s.objects_vanished = 1;
  s.objects_not_files = 1;
  s.list_requests = 7;
  s.bytes_compressed = 1234;
  s.bytes_uncompressed = 5678;
  s.lines[static_cast<size_t>(LineOutcome::kUsed)] = 100;
  s.lines[static_cast<size_t>(LineOutcome::kHeader)] = 4;
  s.lines[static_cast<size_t>(LineOutcome::kStatusNoData)] = 3;
  s.keys = 42;
  s.list_seconds = 0.5;
  s.read_seconds = 1.25;
  s.total_seconds = 2;
  s.problems.push_back({"AWSLogs/x.log.gz", "corrupt gzip: bad", ProblemKind::kCorrupt});
  s.problems.push_back({"AWSLogs/y.log.gz", "deleted since it was listed", ProblemKind::kVanished});
  s.problems.push_back({"AWSLogs/z.log.gz", "a FIFO", ProblemKind::kNotAFile});
  return s;
}

TEST(DigestSummaryTest, CountsLines) {
  const DigestSummary s = SampleSummary();
  EXPECT_EQ(s.lines_total(), 107u);
  EXPECT_EQ(s.line_count(LineOutcome::kStatusNoData), 3u);
  EXPECT_EQ(DigestSummary().lines_total(), 0u);
}

TEST(DigestSummaryTest, JsonHasEveryField) {
  const auto j = nlohmann::json::parse(SampleSummary().ToJson());
  EXPECT_EQ(j["window"]["start"], "2019-01-01T00:00:00Z");
  EXPECT_EQ(j["window"]["stop"], "2019-01-01T01:00:00Z");
  EXPECT_EQ(j["objects_listed"], 10);
  EXPECT_EQ(j["objects_ignored"], 1);
  EXPECT_EQ(j["objects_out_of_range"], 2);
  EXPECT_EQ(j["objects_parquet"], 1);
  EXPECT_EQ(j["objects_empty"], 1);
  EXPECT_EQ(j["objects_read"], 4);
  EXPECT_EQ(j["objects_failed"], 1);
  EXPECT_EQ(j["objects_vanished"], 1);
  EXPECT_EQ(j["objects_not_files"], 1);
  EXPECT_EQ(j["list_requests"], 7);
  EXPECT_EQ(j["bytes_compressed"], 1234);
  EXPECT_EQ(j["bytes_uncompressed"], 5678);
  EXPECT_EQ(j["lines"].size(), kLineOutcomeCount);
  EXPECT_EQ(j["lines"]["used"], 100);
  EXPECT_EQ(j["lines"]["status_nodata"], 3);
  EXPECT_EQ(j["lines"]["outside_window"], 0);
  EXPECT_EQ(j["lines_total"], 107);
  EXPECT_EQ(j["keys"], 42);
  EXPECT_DOUBLE_EQ(j["read_seconds"].get<double>(), 1.25);
  EXPECT_DOUBLE_EQ(j["total_seconds"].get<double>(), 2.0);
  ASSERT_EQ(j["problems"].size(), 3u);
  EXPECT_EQ(j["problems"][0]["key"], "AWSLogs/x.log.gz");
  EXPECT_EQ(j["problems"][0]["kind"], "corrupt");
  EXPECT_EQ(j["problems"][0]["reason"], "corrupt gzip: bad");
  EXPECT_EQ(j["problems"][1]["kind"], "vanished");
  EXPECT_EQ(j["problems"][2]["kind"], "not_a_file");
}

TEST(DigestSummaryTest, JsonSurvivesInvalidUtf8InKeys) {
  DigestSummary s;
  s.problems.push_back({"bad\xff", "x"});
  const auto j = nlohmann::json::parse(s.ToJson());
  EXPECT_EQ(j["problems"].size(), 1u);
}

TEST(DigestSummaryTest, TextNamesTheNonZeroCountsAndTheProblems) {
  const std::string text = SampleSummary().ToText();
  EXPECT_THAT(text, HasSubstr("2019-01-01T00:00:00Z"));
  EXPECT_THAT(text, HasSubstr("4 read (1 Parquet), 1 failed, 1 vanished, 1 not files, 1 empty"));
  EXPECT_THAT(text, HasSubstr("used 100"));
  EXPECT_THAT(text, HasSubstr("status_nodata 3"));
  EXPECT_THAT(text, Not(HasSubstr("outside_window")));
  EXPECT_THAT(text, HasSubstr("keys     42"));
  EXPECT_THAT(text, HasSubstr("AWSLogs/x.log.gz: corrupt: corrupt gzip: bad"));
  EXPECT_THAT(text, HasSubstr("AWSLogs/z.log.gz: not_a_file: a FIFO"));
}

}  // namespace
}  // namespace vpcflow
