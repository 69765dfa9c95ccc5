#include "cli/progress_bar.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <string>

namespace vpcflow {
namespace {

using ::testing::AllOf;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

// What `report` printed.
template <typename Fn>
std::string Printed(Fn report) {
  std::FILE* f = std::tmpfile();
  EXPECT_NE(f, nullptr);
  if (f == nullptr) return "";
  report(f);
  std::fflush(f);
  std::rewind(f);
  std::string out;
  char buf[512];
  for (size_t n; (n = std::fread(buf, 1, sizeof(buf), f)) > 0;) out.append(buf, n);
  std::fclose(f);
  return out;
}

TEST(ProgressBarTest, ForcedOffATerminalPrintsTheLastReportAsALine) {
  const std::string out = Printed([](std::FILE* f) {
    ProgressBar bar(/*forced=*/true, /*terminal=*/false, f);
    EXPECT_TRUE(bar.enabled());
    bar.Report(
        {.objects_done = 4, .objects_total = 4, .bytes_done = 3000000, .bytes_total = 3000000});
    bar.Finish();
  });
  EXPECT_THAT(out, AllOf(HasSubstr("[########################] 100%"), HasSubstr("4/4 objects"),
                         HasSubstr("3.0/3.0 MB"), EndsWith("\n"), Not(HasSubstr("\r"))));
}

TEST(ProgressBarTest, OnATerminalTheLineIsRedrawnAndEnded) {
  const std::string out = Printed([](std::FILE* f) {
    ProgressBar bar(/*forced=*/true, /*terminal=*/true, f);
    bar.Report({.objects_done = 1, .objects_total = 2, .bytes_done = 50, .bytes_total = 100});
    bar.Report({.objects_done = 2, .objects_total = 2, .bytes_done = 100, .bytes_total = 100});
    bar.Finish();  // already ended by the last report: no second newline
  });
  EXPECT_THAT(out, AllOf(HasSubstr("\r[############------------]  50%"), HasSubstr("\r["),
                         HasSubstr("100%"), EndsWith("s\n")));
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1);
}

TEST(ProgressBarTest, NotForcedOffATerminalPrintsNothing) {
  const std::string out = Printed([](std::FILE* f) {
    ProgressBar bar(/*forced=*/false, /*terminal=*/false, f);
    EXPECT_FALSE(bar.enabled());
    bar.Report({.objects_done = 1, .objects_total = 1});
    bar.Finish();
  });
  EXPECT_THAT(out, IsEmpty());
}

TEST(ProgressBarTest, NothingToReadIsComplete) {
  const std::string out = Printed([](std::FILE* f) {
    ProgressBar bar(true, false, f);
    bar.Report({});
  });
  EXPECT_THAT(out, HasSubstr("100%  0/0 objects"));
}

}  // namespace
}  // namespace vpcflow
