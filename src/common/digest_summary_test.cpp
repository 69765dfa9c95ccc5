#include "vpcflow/digest_summary.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <set>

#include "common/json_parse.hpp"
#include "testing/matchers.hpp"

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

std::string Str(const boost::json::value& v) { return std::string(v.as_string()); }
uint64_t Num(const boost::json::value& v) { return v.to_number<uint64_t>(); }

TEST(DigestSummaryTest, JsonHasEveryField) {
  Result<boost::json::value> parsed = ParseJsonStrict(SampleSummary().ToJson());
  ASSERT_OK(parsed);
  const boost::json::object& j = parsed->as_object();
  EXPECT_EQ(Str(j.at("window").at("start")), "2019-01-01T00:00:00Z");
  EXPECT_EQ(Str(j.at("window").at("stop")), "2019-01-01T01:00:00Z");
  EXPECT_EQ(Num(j.at("objects_listed")), 10u);
  EXPECT_EQ(Num(j.at("objects_ignored")), 1u);
  EXPECT_EQ(Num(j.at("objects_out_of_range")), 2u);
  EXPECT_EQ(Num(j.at("objects_parquet")), 1u);
  EXPECT_EQ(Num(j.at("objects_empty")), 1u);
  EXPECT_EQ(Num(j.at("objects_read")), 4u);
  EXPECT_EQ(Num(j.at("objects_failed")), 1u);
  EXPECT_EQ(Num(j.at("objects_vanished")), 1u);
  EXPECT_EQ(Num(j.at("objects_not_files")), 1u);
  EXPECT_EQ(Num(j.at("list_requests")), 7u);
  EXPECT_EQ(Num(j.at("bytes_compressed")), 1234u);
  EXPECT_EQ(Num(j.at("bytes_uncompressed")), 5678u);
  EXPECT_EQ(j.at("lines").as_object().size(), kLineOutcomeCount);
  EXPECT_EQ(Num(j.at("lines").at("used")), 100u);
  EXPECT_EQ(Num(j.at("lines").at("status_nodata")), 3u);
  EXPECT_EQ(Num(j.at("lines").at("outside_window")), 0u);
  EXPECT_EQ(Num(j.at("lines_total")), 107u);
  EXPECT_EQ(Num(j.at("keys")), 42u);
  EXPECT_DOUBLE_EQ(j.at("read_seconds").to_number<double>(), 1.25);
  EXPECT_DOUBLE_EQ(j.at("total_seconds").to_number<double>(), 2.0);
  const boost::json::array& problems = j.at("problems").as_array();
  ASSERT_EQ(problems.size(), 3u);
  EXPECT_EQ(Str(problems[0].at("key")), "AWSLogs/x.log.gz");
  EXPECT_EQ(Str(problems[0].at("kind")), "corrupt");
  EXPECT_EQ(Str(problems[0].at("reason")), "corrupt gzip: bad");
  EXPECT_EQ(Str(problems[1].at("kind")), "vanished");
  EXPECT_EQ(Str(problems[2].at("kind")), "not_a_file");
}

TEST(DigestSummaryTest, JsonSurvivesInvalidUtf8InKeysAndKeepsValidUtf8) {
  DigestSummary s;
  s.problems.push_back({"bad\xff", "x"});
  s.problems.push_back({"caf\xc3\xa9", "x"});
  Result<boost::json::value> parsed = ParseJsonStrict(s.ToJson());
  ASSERT_OK(parsed);
  const boost::json::array& problems = parsed->at("problems").as_array();
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(Str(problems[0].at("key")), "bad\xef\xbf\xbd");
  EXPECT_EQ(Str(problems[1].at("key")), "caf\xc3\xa9");
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
