#pragma once
/// ScratchDir: a fresh temporary directory for one test, removed with everything in it when the
/// object is destroyed. Also TestDigestId(n): distinct valid digest ids for tests.

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <system_error>

namespace vpcflow {

class ScratchDir {
 public:
  ScratchDir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern =
        std::string(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp") + "/vpcflow-test-XXXXXX";
    if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~ScratchDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  /// The directory ("" when it could not be created).
  const std::string& path() const { return path_; }
  /// path() + "/" + name.
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

/// A valid digest id (a version 5 UUID shape) that differs for every `n`.
inline std::string TestDigestId(unsigned n) {
  char buffer[40];
  std::snprintf(buffer, sizeof(buffer), "0000abcd-0000-5000-8000-%012x", n);
  return buffer;
}

}  // namespace vpcflow
