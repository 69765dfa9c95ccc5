#include "testing/rgw_env.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>

namespace vpcflow {

Result<RgwEnv> LoadRgwEnv() {
  const char* path = std::getenv(kRgwEnvVariable);
  if (path == nullptr || *path == '\0') {
    return FailedPreconditionError(
        std::string(kRgwEnvVariable) +
        " is not set: run this test with ctest (it needs the \"rgw\" fixture) or start a gateway "
        "with `scripts/rgw.sh start DIR` and set " +
        kRgwEnvVariable + "=DIR/env");
  }
  return LoadRgwEnvFile(path);
}

Result<RgwEnv> LoadRgwEnvFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return NotFoundError("cannot read the RGW env file " + path +
                         " (did the rgw_start fixture fail?)");
  }
  RgwEnv env;
  const std::pair<std::string_view, std::string*> fields[] = {
      {"VPCFLOW_RGW_ENDPOINT", &env.endpoint},
      {"VPCFLOW_RGW_ACCESS_KEY", &env.access_key},
      {"VPCFLOW_RGW_SECRET_KEY", &env.secret_key},
      {"VPCFLOW_RGW_REGION", &env.region},
  };
  std::string line;
  while (std::getline(in, line)) {
    const size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    const std::string_view key = std::string_view(line).substr(0, eq);
    for (const auto& [name, field] : fields) {
      if (key == name) *field = line.substr(eq + 1);
    }
  }
  for (const auto& [name, field] : fields) {
    if (field->empty()) {
      return InvalidArgumentError(std::string(name) + " is missing from " + path);
    }
  }
  while (!env.endpoint.empty() && env.endpoint.back() == '/') env.endpoint.pop_back();
  return env;
}

std::string UniqueBucketName(std::string_view stem) {
  static std::atomic<uint64_t> counter{0};
  thread_local std::mt19937_64 random(std::random_device{}());

  char suffix[64];
  std::snprintf(suffix, sizeof(suffix), "-%ld-%llu-%06llx", static_cast<long>(::getpid()),
                static_cast<unsigned long long>(counter.fetch_add(1)) + 1,
                static_cast<unsigned long long>(random() & 0xffffff));
  const size_t max_stem = 63 - std::char_traits<char>::length(suffix);

  std::string name;
  for (char c : stem) {
    if (name.size() == max_stem) break;
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (ok) {
      name += c;
    } else if (!name.empty() && name.back() != '-') {
      name += '-';  // runs of other characters become one '-'; never a leading one
    }
  }
  while (!name.empty() && name.back() == '-') name.pop_back();
  if (name.empty()) name = "bucket";
  return name + suffix;
}

}  // namespace vpcflow
