#include "common/subprocess.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "testing/matchers.hpp"

namespace vpcflow {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(RunProgramTest, PassesInputAndCollectsOutput) {
  std::string input;
  for (int i = 0; i < 200000; ++i) input += "line " + std::to_string(i) + "\n";  // > pipe size
  Result<ProgramResult> run = RunProgram({"cat"}, input);
  ASSERT_THAT(run, IsOk());
  EXPECT_EQ(run->exit_code, 0);
  EXPECT_EQ(run->out, input);
}

TEST(RunProgramTest, ReportsTheExitCodeAndStderr) {
  Result<ProgramResult> run = RunProgram({"sh", "-c", "echo oops >&2; exit 3"}, "");
  ASSERT_THAT(run, IsOk());
  EXPECT_EQ(run->exit_code, 3);
  EXPECT_EQ(run->err, "oops\n");
}

TEST(RunProgramTest, PassesNoSecretsInTheEnvironment) {
  setenv("AWS_SECRET_ACCESS_KEY", "do-not-pass", 1);
  Result<ProgramResult> run = RunProgram({"env"}, "");
  unsetenv("AWS_SECRET_ACCESS_KEY");
  ASSERT_THAT(run, IsOk());
  EXPECT_THAT(run->out, Not(HasSubstr("AWS_SECRET_ACCESS_KEY")));
  EXPECT_THAT(run->out, HasSubstr("PATH="));
}

TEST(RunProgramTest, MissingProgramIsNotFound) {
  EXPECT_THAT(RunProgram({"vpcflow-no-such-program"}, "x"), StatusIs(StatusCode::kNotFound));
}

TEST(RunProgramTest, KillsAProgramAtTheTimeLimit) {
  EXPECT_THAT(RunProgram({"sleep", "60"}, "", {.timeout_ms = 50}),
              StatusIs(StatusCode::kDeadlineExceeded, HasSubstr("50 ms")));
}

TEST(RunProgramTest, KillsAProgramThatClosesItsOutputButGoesOn) {
  EXPECT_THAT(RunProgram({"sh", "-c", "exec >&- 2>&-; sleep 60"}, "", {.timeout_ms = 50}),
              StatusIs(StatusCode::kDeadlineExceeded));
}

TEST(RunProgramTest, KillsAProgramThatWritesTooMuch) {
  EXPECT_THAT(RunProgram({"head", "-c", "10000000", "/dev/zero"}, "", {.max_output_bytes = 1000}),
              StatusIs(StatusCode::kResourceExhausted));
}

TEST(RunProgramTest, AProgramThatIgnoresItsInputDoesNotSignalUs) {
  // Writing to a pipe nobody reads raises SIGPIPE; it must not end the test process.
  Result<ProgramResult> run = RunProgram({"true"}, std::string(8 << 20, 'x'));
  ASSERT_THAT(run, IsOk());
  EXPECT_EQ(run->exit_code, 0);
}

}  // namespace
}  // namespace vpcflow
