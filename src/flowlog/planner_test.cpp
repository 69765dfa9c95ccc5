#include "flowlog/planner.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "common/civil_time.hpp"
#include "testing/matchers.hpp"
#include "testing/memory_object_source.hpp"

namespace vpcflow {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::ElementsAreArray;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

constexpr int64_t kMinute = 60;
constexpr int64_t kJune20 = 1529452800;  // 2018-06-20T00:00:00Z
constexpr int64_t kJune21 = kJune20 + 86400;
constexpr char kAccount[] = "123456789012";
constexpr char kOtherAccount[] = "210987654321";

enum class Layout { kDaily, kHourly, kHive, kHiveHourly, kLegacyHourly };

std::string Pad(int v, int width) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%0*d", width, v);
  return buf;
}

// A flow-log key of `layout` for a file stamped `stamp`.
std::string Key(Layout layout, int64_t stamp, std::string_view account = kAccount,
                std::string_view region = "us-east-1", std::string_view prefix = "",
                std::string_view ext = ".log.gz") {
  CivilTime c = FromUnixSeconds(stamp);
  std::string y = Pad(c.year, 4), m = Pad(c.month, 2), d = Pad(c.day, 2), h = Pad(c.hour, 2);
  std::string a(account), r(region);
  std::string folder;
  switch (layout) {
    case Layout::kDaily:
    case Layout::kHourly:
      folder = "AWSLogs/" + a + "/vpcflowlogs/" + r + "/" + y + "/" + m + "/" + d + "/";
      if (layout == Layout::kHourly) folder += h + "/";
      break;
    case Layout::kHive:
    case Layout::kHiveHourly:
    case Layout::kLegacyHourly:
      folder =
          "AWSLogs/aws-account-id=" + a +
          (layout == Layout::kLegacyHourly ? "/service=vpcflowlogs" : "/aws-service=vpcflowlogs") +
          "/aws-region=" + r + "/year=" + y + "/month=" + m + "/day=" + d + "/";
      if (layout != Layout::kHive) folder += "hour=" + h + "/";
      break;
  }
  std::string name = a + "_vpcflowlogs_" + r + "_fl-0a1b2c3d_" + y + m + d + "T" + h +
                     Pad(c.minute, 2) + "Z_abcdef01" + std::string(ext);
  return (prefix.empty() ? "" : std::string(prefix) + "/") + folder + name;
}

std::vector<std::string> Keys(const ObjectPlan& plan) {
  std::vector<std::string> keys;
  for (const ObjectInfo& o : plan.objects) keys.push_back(o.key);
  return keys;
}

// The prefixes listed, sorted: day walks run concurrently, so the call order varies (sorted,
// a folder comes before the folders inside it, as in a walk one at a time).
std::vector<std::string> ListedPrefixes(const MemoryObjectSource& source) {
  std::vector<std::string> prefixes;
  for (const ListRequest& r : source.list_calls()) prefixes.push_back(r.prefix);
  std::sort(prefixes.begin(), prefixes.end());
  return prefixes;
}

// Every listing is one folder level deep under AWSLogs/: never the bucket, never recursive.
void ExpectBoundedListings(const MemoryObjectSource& source, std::string_view root = "AWSLogs/") {
  for (const ListRequest& r : source.list_calls()) {
    EXPECT_EQ(r.delimiter, "/") << r.prefix;
    EXPECT_TRUE(std::string_view(r.prefix).starts_with(root)) << r.prefix;
  }
}

TEST(StampRangeTest, FloorsStartAndAddsMargins) {
  Window w{.start = kJune20 + 10 * 3600 + 3 * kMinute, .stop = kJune20 + 11 * 3600};
  StampRange r = FileStampRange(w);
  EXPECT_EQ(r.begin, kJune20 + 9 * 3600 + 55 * kMinute);
  EXPECT_EQ(r.end, kJune20 + 11 * 3600 + 15 * kMinute);
  EXPECT_TRUE(r.Contains(r.begin));
  EXPECT_FALSE(r.Contains(r.begin - 1));
  EXPECT_TRUE(r.Contains(r.end - 1));
  EXPECT_FALSE(r.Contains(r.end));
  // A start on a 5-minute boundary is its own floor.
  EXPECT_EQ(FileStampRange({.start = kJune20, .stop = kJune20 + 60}).begin, kJune20 - 300);
}

TEST(StampRangeTest, DaysAndHoursTouched) {
  StampRange r{.begin = kJune20 + 23 * 3600 + 45 * kMinute, .end = kJune21 + 25 * kMinute};
  EXPECT_THAT(DaysTouched(r), ElementsAre(kJune20, kJune21));
  EXPECT_THAT(HoursTouched(r), ElementsAre(kJune20 + 23 * 3600, kJune21));
  // The end is exclusive: a range ending at midnight does not touch the next day.
  StampRange to_midnight{.begin = kJune20 + 3600, .end = kJune21};
  EXPECT_THAT(DaysTouched(to_midnight), ElementsAre(kJune20));
  EXPECT_EQ(HoursTouched(to_midnight).size(), 23u);
  EXPECT_EQ(HoursTouched(to_midnight).front(), kJune20 + 3600);
  StampRange one_second{.begin = kJune21 - 1, .end = kJune21};
  EXPECT_THAT(DaysTouched(one_second), ElementsAre(kJune20));
  EXPECT_THAT(HoursTouched(one_second), ElementsAre(kJune21 - 3600));
  EXPECT_THAT(DaysTouched(StampRange{.begin = 10, .end = 10}), IsEmpty());
  // Seven days and a bit: eight or nine days.
  StampRange week{.begin = kJune20 - 300, .end = kJune20 + 7 * 86400 + 900};
  EXPECT_EQ(DaysTouched(week).size(), 9u);
  EXPECT_EQ(HoursTouched(week).size(), 7u * 24 + 2);
}

TEST(PlannerTest, WindowAcrossMidnightDailyLayout) {
  MemoryObjectSource source;
  // Window [23:50, 00:10): stamps [23:45, 00:25) are read.
  Window w{.start = kJune20 + 23 * 3600 + 50 * kMinute, .stop = kJune21 + 10 * kMinute};
  const int64_t edge_begin = kJune20 + 23 * 3600 + 45 * kMinute;
  const int64_t edge_end = kJune21 + 25 * kMinute;
  for (int64_t t : {edge_begin - 300, edge_begin, edge_begin + 300, kJune21, edge_end - 300,
                    edge_end, edge_end + 300}) {
    source.Put(Key(Layout::kDaily, t), "x");
  }
  source.Put(Key(Layout::kDaily, kJune20 - 86400), "x");  // a day that is not listed
  Result<ObjectPlan> plan = PlanObjects(source, w, ScanOptions{});
  ASSERT_OK(plan);
  EXPECT_THAT(Keys(*plan),
              ElementsAre(Key(Layout::kDaily, edge_begin), Key(Layout::kDaily, edge_begin + 300),
                          Key(Layout::kDaily, kJune21), Key(Layout::kDaily, edge_end - 300)));
  EXPECT_EQ(plan->listed, 7u);
  EXPECT_EQ(plan->out_of_range, 3u);
  EXPECT_EQ(plan->ignored, 0u);
  EXPECT_THAT(ListedPrefixes(source),
              ElementsAre("AWSLogs/", "AWSLogs/123456789012/", "AWSLogs/123456789012/vpcflowlogs/",
                          "AWSLogs/123456789012/vpcflowlogs/us-east-1/2018/06/20/",
                          "AWSLogs/123456789012/vpcflowlogs/us-east-1/2018/06/21/"));
  EXPECT_EQ(plan->list_requests, 5u);
  ExpectBoundedListings(source);
}

TEST(PlannerTest, HourFoldersOnlyTouchedHoursAreListed) {
  MemoryObjectSource source;
  Window w{.start = kJune20 + 23 * 3600 + 50 * kMinute, .stop = kJune21 + 10 * kMinute};
  for (int64_t t : {kJune20 + 22 * 3600 + 55 * kMinute, kJune20 + 23 * 3600 + 40 * kMinute,
                    kJune20 + 23 * 3600 + 45 * kMinute, kJune21 + 20 * kMinute,
                    kJune21 + 25 * kMinute, kJune21 + 3600}) {
    source.Put(Key(Layout::kHourly, t), "x");
  }
  Result<ObjectPlan> plan = PlanObjects(source, w, ScanOptions{});
  ASSERT_OK(plan);
  EXPECT_THAT(Keys(*plan), ElementsAre(Key(Layout::kHourly, kJune20 + 23 * 3600 + 45 * kMinute),
                                       Key(Layout::kHourly, kJune21 + 20 * kMinute)));
  EXPECT_EQ(plan->out_of_range, 2u);  // 23:40 and 00:25 are in listed hours but out of range
  std::vector<std::string> listed = ListedPrefixes(source);
  const std::string region = "AWSLogs/123456789012/vpcflowlogs/us-east-1/";
  EXPECT_THAT(listed,
              ElementsAre("AWSLogs/", "AWSLogs/123456789012/", "AWSLogs/123456789012/vpcflowlogs/",
                          region + "2018/06/20/", region + "2018/06/20/23/", region + "2018/06/21/",
                          region + "2018/06/21/00/"));
  ExpectBoundedListings(source);
}

TEST(PlannerTest, HiveLayoutsAndMixedBucket) {
  MemoryObjectSource source;
  Window w{.start = kJune20 + 10 * 3600, .stop = kJune20 + 11 * 3600};
  const int64_t t = kJune20 + 10 * 3600 + 30 * kMinute;
  std::vector<std::string> expected = {
      Key(Layout::kDaily, t),
      Key(Layout::kHourly, t, kOtherAccount),
      Key(Layout::kHive, t, kAccount, "eu-west-1"),
      Key(Layout::kHiveHourly, t),
      Key(Layout::kLegacyHourly, t, kOtherAccount),
  };
  for (const std::string& k : expected) source.Put(k, "data");
  Result<ObjectPlan> plan = PlanObjects(source, w, ScanOptions{});
  ASSERT_OK(plan);
  std::sort(expected.begin(), expected.end());
  EXPECT_THAT(Keys(*plan), ElementsAreArray(expected));
  EXPECT_EQ(plan->objects.front().size, 4u);
  ExpectBoundedListings(source);
}

TEST(PlannerTest, ScanListsFilterAccountsAndRegions) {
  MemoryObjectSource source;
  Window w{.start = kJune20 + 10 * 3600, .stop = kJune20 + 11 * 3600};
  const int64_t t = kJune20 + 10 * 3600 + 30 * kMinute;
  source.Put(Key(Layout::kDaily, t, kAccount, "us-east-1"), "x");
  source.Put(Key(Layout::kDaily, t, kAccount, "eu-west-1"), "x");
  source.Put(Key(Layout::kDaily, t, kOtherAccount, "us-east-1"), "x");
  source.Put(Key(Layout::kHive, t, kOtherAccount, "eu-west-1"), "x");
  ScanOptions scan{.accounts = {kAccount}, .regions = {"us-east-1"}, .prefix = ""};
  Result<ObjectPlan> plan = PlanObjects(source, w, scan);
  ASSERT_OK(plan);
  EXPECT_THAT(Keys(*plan), ElementsAre(Key(Layout::kDaily, t, kAccount, "us-east-1")));
  for (const std::string& prefix : ListedPrefixes(source)) {
    EXPECT_EQ(prefix.find(kOtherAccount), std::string::npos) << prefix;
    EXPECT_EQ(prefix.find("eu-west-1"), std::string::npos) << prefix;
  }
  // Hive spellings are filtered by the same lists.
  scan = ScanOptions{.accounts = {kOtherAccount}, .regions = {"eu-west-1"}, .prefix = ""};
  plan = PlanObjects(source, w, scan);
  ASSERT_OK(plan);
  EXPECT_THAT(Keys(*plan), ElementsAre(Key(Layout::kHive, t, kOtherAccount, "eu-west-1")));
}

TEST(PlannerTest, UserPrefixWithAndWithoutSlash) {
  MemoryObjectSource source;
  Window w{.start = kJune20 + 10 * 3600, .stop = kJune20 + 11 * 3600};
  const int64_t t = kJune20 + 10 * 3600 + 30 * kMinute;
  const std::string k = Key(Layout::kDaily, t, kAccount, "us-east-1", "flow/logs");
  source.Put(k, "x");
  source.Put(Key(Layout::kDaily, t), "x");  // not under the prefix
  source.Put(Key(Layout::kDaily, t, kAccount, "us-east-1", "other"), "x");
  for (std::string prefix : {"flow/logs", "flow/logs/"}) {
    Result<ObjectPlan> plan =
        PlanObjects(source, w, ScanOptions{.accounts = {}, .regions = {}, .prefix = prefix});
    ASSERT_OK(plan);
    EXPECT_THAT(Keys(*plan), ElementsAre(k)) << prefix;
  }
  ExpectBoundedListings(source, "flow/logs/AWSLogs/");
}

TEST(PlannerTest, PlansParquetAndCountsIgnoredEmptyAndOtherServices) {
  MemoryObjectSource source;
  Window w{.start = kJune20 + 10 * 3600, .stop = kJune20 + 11 * 3600};
  const int64_t t = kJune20 + 10 * 3600 + 30 * kMinute;
  const std::string good = Key(Layout::kDaily, t);
  source.Put(good, "x");
  const std::string parquet = Key(Layout::kDaily, t + 300, kAccount, "us-east-1", "", ".parquet");
  source.Put(parquet, "x");
  source.Put(Key(Layout::kDaily, t + 600), "");                                          // empty
  source.Put(Key(Layout::kDaily, t + 900, kAccount, "us-east-1", "", ".parquet"), "");   // empty
  source.Put(Key(Layout::kDaily, kJune20, kAccount, "us-east-1", "", ".parquet"), "x");  // out
  source.Put("AWSLogs/123456789012/vpcflowlogs/us-east-1/2018/06/20/notes.txt", "x");
  // The name says another day: the folder contradicts it.
  std::string misplaced = Key(Layout::kDaily, t - 86400);
  misplaced.replace(misplaced.find("/2018/06/19/"), 12, "/2018/06/20/");
  source.Put(misplaced, "x");
  source.Put("AWSLogs/readme.txt", "x");
  source.Put("AWSLogs/123456789012/CloudTrail/us-east-1/2018/06/20/trail.json.gz", "x");
  source.Put("AWSLogs/123456789012/vpcflowlogs/us-east-1/2018/06/20/99/x.log.gz", "x");
  Result<ObjectPlan> plan = PlanObjects(source, w, ScanOptions{});
  ASSERT_OK(plan);
  EXPECT_THAT(Keys(*plan), ElementsAre(good, parquet));
  EXPECT_EQ(plan->parquet, 1u);
  EXPECT_EQ(plan->empty, 2u);
  EXPECT_EQ(plan->out_of_range, 1u);
  EXPECT_EQ(plan->ignored, 3u);  // notes.txt, the misplaced name, AWSLogs/readme.txt
  EXPECT_EQ(plan->listed, 8u);
  EXPECT_EQ(plan->listed, plan->objects.size() + plan->ignored + plan->out_of_range + plan->empty);
  for (const std::string& prefix : ListedPrefixes(source)) {
    EXPECT_EQ(prefix.find("CloudTrail"), std::string::npos);
    EXPECT_EQ(prefix.find("/99/"), std::string::npos);
  }
}

TEST(PlannerTest, ListFailurePropagates) {
  MemoryObjectSource source;
  Window w{.start = kJune20 + 10 * 3600, .stop = kJune20 + 11 * 3600};
  source.Put(Key(Layout::kDaily, kJune20 + 10 * 3600), "x");
  source.FailList("AWSLogs/123456789012/vpcflowlogs/us-east-1/2018/",
                  UnavailableError("connection reset"));
  EXPECT_THAT(PlanObjects(source, w, ScanOptions{}),
              StatusIs(StatusCode::kUnavailable, ::testing::HasSubstr("connection reset")));

  MemoryObjectSource denied;
  denied.FailList("", PermissionDeniedError("no"));
  EXPECT_THAT(PlanObjects(denied, w, ScanOptions{}), StatusIs(StatusCode::kPermissionDenied));
}

// Should-fix of issue 12: a forgotten or wrong prefix was an empty digest and exit 0.
TEST(PlannerTest, NoAwsLogsFolderIsAnErrorNamingWhatIsThere) {
  const Window w{.start = kJune20, .stop = kJune20 + 3600};
  MemoryObjectSource source;
  source.Put(Key(Layout::kDaily, kJune20, kAccount, "us-east-1", "team"), "x");
  source.Put("notes.txt", "x");
  source.PutNotAnObject("elsewhere", "a symbolic link leaving the source directory");
  EXPECT_THAT(PlanObjects(source, w, ScanOptions{}),
              StatusIs(StatusCode::kNotFound,
                       AllOf(HasSubstr("no AWSLogs/ folder found at the root"),
                             HasSubstr("\"elsewhere\" (a symbolic link leaving the source "
                                       "directory), \"notes.txt\", \"team/\""),
                             HasSubstr("is the prefix right?"))));

  // A prefix that holds something else; a prefix that holds nothing: the root is shown.
  source.Put("logs/2018/readme", "x");
  EXPECT_THAT(
      PlanObjects(source, w, ScanOptions{.prefix = "logs"}),
      StatusIs(StatusCode::kNotFound, AllOf(HasSubstr("under \"logs/\", which holds \"2018/\""),
                                            Not(HasSubstr("team/")))));
  EXPECT_THAT(
      PlanObjects(source, w, ScanOptions{.prefix = "wrong/"}),
      StatusIs(StatusCode::kNotFound,
               HasSubstr("under \"wrong/\", which is empty; the root holds \"elsewhere\"")));
  // The right prefix plans.
  EXPECT_THAT(PlanObjects(source, w, ScanOptions{.prefix = "team"}), IsOk());
}

TEST(PlannerTest, NoAwsLogsNamesOnlyTheFirstFewEntries) {
  MemoryObjectSource source;
  for (char c = 'a'; c <= 'h'; ++c) source.Put(std::string(1, c) + "/x", "x");
  Result<ObjectPlan> plan =
      PlanObjects(source, Window{.start = kJune20, .stop = kJune20 + 3600}, ScanOptions{});
  EXPECT_THAT(plan, StatusIs(StatusCode::kNotFound,
                             AllOf(HasSubstr("\"a/\", \"b/\", \"c/\", \"d/\", \"e/\", ..."),
                                   Not(HasSubstr("\"f/\"")))));
}

TEST(PlannerTest, AnEmptySourceIsAnError) {
  MemoryObjectSource source;
  EXPECT_THAT(PlanObjects(source, Window{.start = kJune20, .stop = kJune20 + 3600}, ScanOptions{}),
              StatusIs(StatusCode::kNotFound, HasSubstr("the source is empty")));
  EXPECT_THAT(PlanObjects(source, Window{.start = kJune20, .stop = kJune20 + 3600},
                          ScanOptions{.prefix = "p/"}),
              StatusIs(StatusCode::kNotFound, HasSubstr("under \"p/\": the source is empty")));
}

TEST(PlannerTest, AwsLogsWithNothingForTheWindowIsAnEmptyPlan) {
  MemoryObjectSource source;
  source.Put(Key(Layout::kDaily, kJune21 + 5 * 86400), "x");  // another day
  source.Put(Key(Layout::kDaily, kJune20, kOtherAccount), "x");
  Window w{.start = kJune20 + 10 * 3600, .stop = kJune20 + 11 * 3600};
  Result<ObjectPlan> plan = PlanObjects(source, w, ScanOptions{});
  ASSERT_OK(plan);
  EXPECT_THAT(plan->objects, IsEmpty());
  // Only other accounts, or only other regions, are empty plans too.
  plan = PlanObjects(source, w, ScanOptions{.accounts = {"111111111111"}});
  ASSERT_OK(plan);
  EXPECT_THAT(plan->objects, IsEmpty());
  plan = PlanObjects(source, w, ScanOptions{.regions = {"eu-west-1"}});
  ASSERT_OK(plan);
  EXPECT_THAT(plan->objects, IsEmpty());
}

TEST(PlannerTest, FlowLogNamesThatAreNotObjectsAreProblems) {
  MemoryObjectSource source;
  const int64_t t = kJune20 + 10 * 3600;
  Window w{.start = t, .stop = t + 3600};
  source.Put(Key(Layout::kDaily, t), "x");
  source.PutNotAnObject(Key(Layout::kDaily, t + 300), "a FIFO");
  source.PutNotAnObject(Key(Layout::kHourly, t + 600), "a dangling symbolic link");
  source.PutNotAnObject(Key(Layout::kDaily, t + 5 * 3600), "a FIFO");  // out of range
  source.PutNotAnObject(
      Key(Layout::kDaily, t).substr(0, Key(Layout::kDaily, t).rfind('/')) + "/notes.fifo",
      "a FIFO");  // not a flow-log name
  // A folder named like an object, in the day folder and in an hour folder.
  source.Put(Key(Layout::kDaily, t + 900) + "/inside", "x");
  source.Put(Key(Layout::kHiveHourly, t + 1200) + "/inside", "x");
  Result<ObjectPlan> plan = PlanObjects(source, w, ScanOptions{});
  ASSERT_OK(plan);
  EXPECT_THAT(Keys(*plan), ElementsAre(Key(Layout::kDaily, t)));
  ASSERT_EQ(plan->problems.size(), 4u);
  std::vector<std::pair<std::string, std::string>> problems;
  for (const ObjectProblem& p : plan->problems) {
    EXPECT_EQ(p.kind, ProblemKind::kNotAFile);
    problems.emplace_back(p.key, p.reason);
  }
  EXPECT_THAT(
      problems,
      ElementsAre(std::pair<std::string, std::string>{Key(Layout::kHourly, t + 600),
                                                      "a dangling symbolic link"},
                  std::pair<std::string, std::string>{Key(Layout::kDaily, t + 300), "a FIFO"},
                  std::pair<std::string, std::string>{Key(Layout::kDaily, t + 900),
                                                      "a folder, not an object"},
                  std::pair<std::string, std::string>{Key(Layout::kHiveHourly, t + 1200),
                                                      "a folder, not an object"}));
  EXPECT_EQ(plan->out_of_range, 1u);
  EXPECT_EQ(plan->ignored, 1u);
}

TEST(PlannerTest, PagesAreCountedAsRequests) {
  MemoryObjectSource source;
  source.SetMaxPageSize(1);
  Window w{.start = kJune20 + 10 * 3600, .stop = kJune20 + 11 * 3600};
  std::vector<std::string> expected;
  for (int i = 0; i < 4; ++i) {
    expected.push_back(Key(Layout::kDaily, kJune20 + 10 * 3600 + i * 300));
    source.Put(expected.back(), "x");
  }
  Result<ObjectPlan> plan = PlanObjects(source, w, ScanOptions{});
  ASSERT_OK(plan);
  EXPECT_THAT(Keys(*plan), ElementsAreArray(expected));
  EXPECT_EQ(plan->list_requests, source.list_calls().size());
  EXPECT_GT(plan->list_requests, 4u);
}

TEST(PlannerTest, ObjectsInKeyOrderWithoutDuplicates) {
  MemoryObjectSource source;
  Window w{.start = kJune20 + 10 * 3600, .stop = kJune20 + 11 * 3600};
  std::vector<std::string> expected;
  for (int i = 11; i >= 0; --i) {
    for (const char* region : {"us-west-2", "eu-west-1", "us-east-1"}) {
      expected.push_back(Key(Layout::kDaily, kJune20 + 10 * 3600 + i * 300, kAccount, region));
      source.Put(expected.back(), "x");
    }
  }
  std::sort(expected.begin(), expected.end());
  ScanOptions scan{
      .accounts = {}, .regions = {"us-west-2", "eu-west-1", "us-east-1"}, .prefix = ""};
  Result<ObjectPlan> plan = PlanObjects(source, w, scan);
  ASSERT_OK(plan);
  EXPECT_THAT(Keys(*plan), ElementsAreArray(expected));
}

TEST(PlannerTest, ConcurrentDayWalksGiveTheSamePlanAsOneAtATime) {
  // 3 regions x 9 days (a week and a bit), hour folders in some: 27 day walks.
  Window w{.start = kJune20 + 10 * 3600, .stop = kJune20 + 7 * 86400 + 10 * 3600};
  MemoryObjectSource source;
  source.SetMaxPageSize(7);
  for (const char* region : {"us-west-2", "eu-west-1", "us-east-1"}) {
    for (int64_t t = kJune20 - 3600; t < w.stop + 3600; t += 1800) {
      source.Put(Key(Layout::kDaily, t, kAccount, region), "x");
      source.Put(Key(Layout::kHourly, t + 300, kAccount, region), "x");
    }
    source.Put(Key(Layout::kDaily, kJune20 + 86400, kAccount, region), "");  // empty
  }
  std::vector<ObjectPlan> plans;
  for (int concurrency : {1, 2, 8, 64}) {
    SCOPED_TRACE(concurrency);
    ScanOptions scan;
    scan.list_concurrency = concurrency;
    Result<ObjectPlan> plan = PlanObjects(source, w, scan);
    ASSERT_OK(plan);
    plans.push_back(*plan);
  }
  ASSERT_GT(plans[0].objects.size(), 900u);
  for (const ObjectPlan& plan : plans) {
    EXPECT_EQ(plan.objects, plans[0].objects);
    EXPECT_EQ(plan.listed, plans[0].listed);
    EXPECT_EQ(plan.out_of_range, plans[0].out_of_range);
    EXPECT_EQ(plan.empty, plans[0].empty);
    EXPECT_EQ(plan.ignored, plans[0].ignored);
    EXPECT_EQ(plan.list_requests, plans[0].list_requests);
  }
  EXPECT_EQ(plans[0].empty, 3u);

  // A day walk that fails fails the plan, at any concurrency.
  source.FailList("AWSLogs/123456789012/vpcflowlogs/eu-west-1/2018/06/23/",
                  UnavailableError("connection reset"));
  for (int concurrency : {1, 8}) {
    ScanOptions scan;
    scan.list_concurrency = concurrency;
    EXPECT_THAT(PlanObjects(source, w, scan),
                StatusIs(StatusCode::kUnavailable, ::testing::HasSubstr("2018/06/23/")));
  }
}

}  // namespace
}  // namespace vpcflow
