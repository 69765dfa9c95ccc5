// Parquet written by independent writers (DuckDB; Arrow's Rust writer through parquet-wasm) in
// every variant tests/parquet/write_twins.mjs makes, each digested and compared with the text
// twin of the same records; and our own writer's corpus with its text twin. The files are
// written at test time by the fixture test parquet_writers_generate (node, npm packages of
// tests/parquet/package-lock.json) into VPCFLOW_PARQUET_TWINS_DIR.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "digest/test_records.hpp"
#include "testing/matchers.hpp"
#include "vpcflow/digest.hpp"
#include "vpcflow/object_source.hpp"

namespace vpcflow {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kT0 = 1546300800;  // 2019-01-01T00:00:00Z

Result<DigestRun> Digest(const fs::path& dir, const Window& window) {
  VPCFLOW_ASSIGN_OR_RETURN(ObjectSourcePtr source, NewLocalDirSource(dir.string()));
  DigestOptions options;
  options.threads = 2;
  return RunDigest(*source, window, options);
}

void ExpectSameAsText(const fs::path& text_dir, const fs::path& parquet_dir, const Window& window,
                      uint64_t expected_objects) {
  Result<DigestRun> text = Digest(text_dir, window);
  Result<DigestRun> parquet = Digest(parquet_dir, window);
  ASSERT_OK(text);
  ASSERT_OK(parquet);
  EXPECT_EQ(parquet->summary.objects_parquet, expected_objects);
  EXPECT_EQ(parquet->summary.objects_failed, 0u);
  for (const ObjectProblem& p : parquet->summary.problems)
    ADD_FAILURE() << p.key << ": " << p.reason;
  EXPECT_GT(text->summary.keys, 100u);
  EXPECT_EQ(testing_records::EncodeToString(parquet->digest, DigestFormat::kFlowLog),
            testing_records::EncodeToString(text->digest, DigestFormat::kFlowLog));
  std::array<uint64_t, kLineOutcomeCount> expected = text->summary.lines;
  expected[static_cast<size_t>(LineOutcome::kHeader)] = 0;
  EXPECT_EQ(parquet->summary.lines, expected);
}

std::vector<std::string> Variants() {
  std::vector<std::string> out;
  const char* dir = std::getenv("VPCFLOW_PARQUET_TWINS_DIR");
  if (dir == nullptr) return out;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name.starts_with("duckdb-") || name.starts_with("arrow-")) out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

fs::path TwinsDir() {
  const char* dir = std::getenv("VPCFLOW_PARQUET_TWINS_DIR");
  return dir == nullptr ? fs::path() : fs::path(dir);
}

// One test over every variant directory the script wrote (they are known only at test time).
TEST(ParquetWritersTest, EveryVariantDigestsAsTheTextTwin) {
  const fs::path dir = TwinsDir();
  ASSERT_FALSE(dir.empty()) << "VPCFLOW_PARQUET_TWINS_DIR is not set";
  const std::vector<std::string> variants = Variants();
  EXPECT_GE(std::count_if(variants.begin(), variants.end(),
                          [](const std::string& v) { return v.starts_with("duckdb-"); }),
            8);
  EXPECT_GE(std::count_if(variants.begin(), variants.end(),
                          [](const std::string& v) { return v.starts_with("arrow-"); }),
            5);
  for (const std::string& variant : variants) {
    SCOPED_TRACE(variant);
    ExpectSameAsText(dir / "text", dir / variant, Window{kT0, kT0 + 3600}, 4);
    ExpectSameAsText(dir / "text", dir / variant, Window{kT0 + 600, kT0 + 1500}, 4);
  }
}

TEST(ParquetWritersTest, OurWritersCorpusDigestsAsItsTextTwin) {
  const fs::path dir = TwinsDir();
  ASSERT_FALSE(dir.empty());
  Result<DigestRun> text = Digest(dir / "own-text", Window{kT0, kT0 + 1800});
  ASSERT_OK(text);
  ExpectSameAsText(dir / "own-text", dir / "own-parquet", Window{kT0, kT0 + 1800},
                   text->summary.objects_read);
}

}  // namespace
}  // namespace vpcflow
