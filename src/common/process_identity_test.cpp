#include "common/process_identity.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

namespace vpcflow {
namespace {

// A child that exited at once, reaped: its identity (taken while it was a zombie) names a
// process that is gone.
ProcessIdentity GoneChild() {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ProcessIdentity gone = ThisProcess();
  gone.pid = child;
  gone.start_ticks = ProcessStartTicks(child).value_or(0);  // a zombie until reaped
  int status = 0;
  while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
  }
  return gone;
}

TEST(ProcessIdentityTest, KnowsThisProcess) {
  const ProcessIdentity& self = ThisProcess();
  EXPECT_FALSE(self.host.empty());
  EXPECT_EQ(self.pid, ::getpid());
  EXPECT_GT(self.start_ticks, 0);
  EXPECT_EQ(ProcessStartTicks(self.pid), self.start_ticks);
  EXPECT_EQ(LivenessOf(self), Liveness::kAlive);
}

TEST(ProcessIdentityTest, AProcessThatExitedIsGone) {
  const ProcessIdentity gone = GoneChild();
  EXPECT_GT(gone.start_ticks, 0);
  EXPECT_EQ(ProcessStartTicks(gone.pid), std::nullopt);
  EXPECT_EQ(LivenessOf(gone), Liveness::kGone);
}

TEST(ProcessIdentityTest, ThePidOfAnotherProcessStartedLaterIsNoProofOfLife) {
  ProcessIdentity reused = ThisProcess();
  reused.start_ticks -= 1;  // same pid, another start time: the pid was reused
  EXPECT_EQ(LivenessOf(reused), Liveness::kGone);
}

TEST(ProcessIdentityTest, AnotherBootOfThisHostIsGoneAnotherHostUnknown) {
  ProcessIdentity rebooted = ThisProcess();
  rebooted.boot_id = "00000000-0000-0000-0000-000000000000";
  EXPECT_EQ(LivenessOf(rebooted), Liveness::kGone);
  ProcessIdentity elsewhere = GoneChild();
  elsewhere.host = "another-host";
  EXPECT_EQ(LivenessOf(elsewhere), Liveness::kUnknown);
  ProcessIdentity container = GoneChild();
  container.pid_namespace = "pid:[1]";  // another container of this host: its pids are not ours
  EXPECT_EQ(LivenessOf(container), Liveness::kUnknown);
}

TEST(ProcessIdentityTest, TagsNameTheProcessForFileNames) {
  const std::string tag = ProcessTag(ThisProcess());
  EXPECT_EQ(tag.find_first_of("./-"), std::string::npos) << tag;
  EXPECT_EQ(LivenessOfTag(tag), Liveness::kAlive);
  EXPECT_EQ(LivenessOfTag(ProcessTag(GoneChild())), Liveness::kGone);
  ProcessIdentity elsewhere = ThisProcess();
  elsewhere.host = "another-host";
  EXPECT_EQ(LivenessOfTag(ProcessTag(elsewhere)), Liveness::kUnknown);
  for (const char* bad : {"", "12345", "0123456789abcdef_12", "0123456789abcdef_x_1", "a_1_2"}) {
    EXPECT_EQ(LivenessOfTag(bad), Liveness::kUnknown) << bad;
  }
}

}  // namespace
}  // namespace vpcflow
