#pragma once
/// Helpers for tests against the real Ceph RGW started by scripts/rgw.sh (CTest fixture "rgw"):
/// an S3Client with the fixture's keys, fresh buckets, and uploads of whole directories. Header
/// only: link vpcflow_s3 too.

#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "s3/credentials.hpp"
#include "s3/s3_client.hpp"
#include "testing/files.hpp"
#include "testing/rgw_env.hpp"

namespace vpcflow {

/// A client of the fixture's RGW (path-style, its region, its keys; `secret` overrides the
/// secret key), with a short retry policy so failure tests end quickly. `http` null = curl.
inline std::shared_ptr<S3Client> NewRgwClient(const RgwEnv& env, std::string secret = "",
                                              RetryPolicy retry = {.max_attempts = 3,
                                                                   .base_delay_ms = 50,
                                                                   .max_delay_ms = 500},
                                              std::shared_ptr<HttpClient> http = nullptr) {
  AwsCredentials credentials;
  credentials.keys.access_key_id = env.access_key;
  credentials.keys.secret_access_key = secret.empty() ? env.secret_key : std::move(secret);
  S3ClientOptions options;
  options.region = env.region;
  options.endpoint = env.endpoint;
  options.retry = retry;
  return std::make_shared<S3Client>(
      std::move(options), NewStaticCredentialsProvider(std::move(credentials), "rgw test keys"),
      std::move(http));
}

/// A bucket name that is the same for the same `dir` (a test's scratch directory) in this
/// process, and unlike any other test's.
inline std::string BucketForDir(std::string_view stem, const std::string& dir) {
  const size_t h = std::hash<std::string>()(dir);
  char suffix[40];
  std::snprintf(suffix, sizeof(suffix), "-%d-%016zx", static_cast<int>(::getpid()), h);
  return std::string(stem) + suffix;
}

/// Uploads every regular file under `dir` as `<prefix><relative path>`, on 4 threads.
inline Status UploadDirectory(S3Client& client, const std::string& bucket, const std::string& dir,
                              const std::string& prefix = "") {
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) files.push_back(e.path());
  }
  std::atomic<size_t> next{0};
  std::mutex mu;
  Status first_error;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (size_t i = next++; i < files.size(); i = next++) {
        const std::string key = prefix + std::filesystem::relative(files[i], dir).generic_string();
        Status st = client.PutObject(bucket, key, ReadFile(files[i]));
        if (!st.ok()) {
          std::lock_guard lock(mu);
          if (first_error.ok()) first_error = st;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();
  return first_error;
}

}  // namespace vpcflow
