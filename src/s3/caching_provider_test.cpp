#include "s3/caching_provider.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "s3/sts.hpp"
#include "testing/aws_stand_ins.hpp"
#include "testing/gate.hpp"

namespace vpcflow {
namespace {

// Runs Get() on 8 threads while the stand-in holds the first STS request; returns the key ids.
std::vector<Result<AwsCredentials>> GetOnEightThreads(CredentialsProvider& provider,
                                                      TestHttpServer& server, size_t before,
                                                      Gate& gate) {
  std::vector<Result<AwsCredentials>> results(8, Result<AwsCredentials>(InternalError("unset")));
  std::vector<std::thread> threads;
  for (size_t i = 0; i < results.size(); ++i) {
    threads.emplace_back([&, i] { results[i] = provider.Get(); });
  }
  EXPECT_TRUE(server.WaitForRequests(before + 1));
  gate.Open();
  for (std::thread& t : threads) t.join();
  return results;
}

TEST(CachingConcurrencyTest, EightThreadsShareOneRefreshWhenNothingIsCached) {
  auto clock = std::make_shared<FakeClock>();
  Gate gate;
  std::atomic<int> n{0};
  auto server = StartServer([&](const TestHttpRequest&) {
    gate.Enter();
    return TestHttpReply{.body = StsXml("AssumeRoleWithWebIdentity", "ASIA" + std::to_string(++n),
                                        clock->NowUnixMillis() + kHourMs)};
  });
  ASSERT_NE(server, nullptr);
  ScratchDir dir;
  CredentialsProviderPtr provider =
      NewWebIdentityProvider(WebIdentitySettings(dir, server->url()), Curl(), clock);

  for (const Result<AwsCredentials>& got : GetOnEightThreads(*provider, *server, 0, gate)) {
    ASSERT_OK(got);
    EXPECT_EQ(got->keys.access_key_id, "ASIA1");
  }
  EXPECT_EQ(server->request_count(), 1u);
}

TEST(CachingConcurrencyTest, EightThreadsAcrossARefreshMakeOneRequest) {
  auto clock = std::make_shared<FakeClock>();
  auto gate = std::make_shared<Gate>();
  std::atomic<int> n{0};
  auto server = StartServer([&](const TestHttpRequest&) {
    if (n.load() > 0) gate->Enter();  // the first answer comes at once, the refresh is held
    return TestHttpReply{.body = StsXml("AssumeRole", "ASIA" + std::to_string(++n),
                                        clock->NowUnixMillis() + kHourMs)};
  });
  ASSERT_NE(server, nullptr);
  CredentialsSettings settings;
  settings.sts_endpoint = server->url();
  CredentialsProviderPtr provider = NewAssumeRoleProvider(
      NewStaticCredentialsProvider({.keys = {"AKIDBASE", kSecret, ""}}, "environment"), kRoleArn,
      settings, Curl(), clock);
  ASSERT_OK(provider->Get());
  clock->AdvanceMillis(57 * kMinuteMs);  // inside the margin, still valid

  for (const Result<AwsCredentials>& got : GetOnEightThreads(*provider, *server, 1, *gate)) {
    ASSERT_OK(got);  // the cached ASIA1 while the refresh runs, or ASIA2
  }
  EXPECT_EQ(server->request_count(), 2u);
  Result<AwsCredentials> after = provider->Get();
  ASSERT_OK(after);
  EXPECT_EQ(after->keys.access_key_id, "ASIA2");
  EXPECT_EQ(server->request_count(), 2u);
}

}  // namespace
}  // namespace vpcflow
