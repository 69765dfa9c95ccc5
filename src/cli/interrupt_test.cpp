#include "cli/interrupt.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "testing/scratch_dir.hpp"

namespace vpcflow {
namespace {

namespace fs = std::filesystem;

// The handler runs in a child (it ends the process): the registered temporary file and spill
// directory, with the files in it, are gone and the exit status is the signal's.
TEST(InterruptTest, SignalsRemoveTheTemporaryFileAndTheSpillDirectory) {
  for (const auto& [signal_number, status] : {std::pair{SIGINT, 130}, std::pair{SIGTERM, 143}}) {
    ScratchDir scratch;
    const std::string temp = scratch.Sub(".out.tmp");
    const std::string spill = scratch.Sub("vpcflow-spill-test");
    fs::create_directories(spill);
    for (int i = 0; i < 300; ++i) std::ofstream(spill + "/" + std::to_string(i) + ".run") << i;
    std::ofstream(temp) << "partial output";
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      InstallInterruptHandlers();
      if (!RegisterTemporaryFile(temp).ok() || !RegisterSpillDirectory(spill).ok()) _exit(1);
      ::raise(signal_number);
      _exit(2);  // not reached
    }
    int wstatus = 0;
    ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
    ASSERT_TRUE(WIFEXITED(wstatus));
    EXPECT_EQ(WEXITSTATUS(wstatus), status);
    EXPECT_FALSE(fs::exists(temp));
    EXPECT_FALSE(fs::exists(spill));
    EXPECT_TRUE(fs::exists(scratch.path()));
  }
}

TEST(InterruptTest, TooLongASpillPathIsRefused) {
  EXPECT_FALSE(RegisterSpillDirectory(std::string(5000, 'x')).ok());
}

}  // namespace
}  // namespace vpcflow
