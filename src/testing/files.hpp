#pragma once
/// Whole-file helpers for tests: ReadFile and WriteFile. Test code only (errors are not
/// reported: a missing file reads as ""; a test checks what it wrote by reading it back).

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

namespace vpcflow {

/// The bytes of the file at `path` ("" when it cannot be read).
inline std::string ReadFile(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Creates or truncates the file at `path` (and its missing parent folders) with `bytes`.
inline void WriteFile(const std::filesystem::path& path, std::string_view bytes) {
  std::error_code ec;
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

}  // namespace vpcflow
