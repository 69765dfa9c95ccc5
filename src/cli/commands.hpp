#pragma once
/// The commands of the command-line tool vpcflow-digest (apps/vpcflow_digest_main.cpp parses the
/// arguments into these structs and calls one): the digest of a window, `view` and `diff` of
/// stored digests, and `generate`. Each returns the process's exit status and reports every
/// error as one line on stderr starting with "vpcflow-digest: ".
///
/// Exit codes: 0 success, 1 the digest or the output failed, 2 bad arguments (130/143 for
/// SIGINT/SIGTERM come from cli/interrupt.hpp).

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "generate/generator.hpp"
#include "query/query.hpp"

namespace vpcflow {

inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

/// Writes "vpcflow-digest: <message>" on stderr and returns `code`.
int Fail(int code, std::string_view message);

/// The options of the digest command (see --help).
struct DigestArgs {
  std::string source;
  std::string start;
  std::string stop;
  std::vector<std::string> accounts;
  std::vector<std::string> regions;
  std::string prefix;
  std::string format;
  std::string output;
  int threads = 0;
  std::string memory_limit = "4G";  // DigestOptions::memory_limit
  std::string spill_dir;            // "" = $TMPDIR
  bool summary = false;
  bool progress = false;
  std::string rows_output;  // the rows sidecar, when given
  bool follow_links = false;
  std::string region;                  // s3:// only
  std::string role;                    // s3:// only
  int64_t prefetch_bytes = 150000000;  // s3:// only
  int prefetch_concurrency = 2;        // s3:// only
};

/// The query options of the digest command, `view` and `diff` (see ParseQuery).
struct QueryArgs {
  std::string format;
  std::string filter;
  std::string group_by;
  bool conversation = false;
  std::string top;
  std::string by;
  std::string change;
  std::string output;

  QueryParams Params() const {
    return {.filter = filter,
            .group_by = group_by,
            .conversation = conversation ? "true" : "",
            .top = top,
            .by = by,
            .format = format,
            .change = change};
  }
};

/// The options of `generate`.
struct GenerateArgs {
  std::string out;
  std::string start;
  std::string stop;
  double size_mb = 100;
  int accounts = 3;
  int hosts = 2000;
  std::string layout = "daily";
  uint64_t seed = 1;
  int threads = 0;
  std::string prefix;
  std::string format = "text";
  std::string parquet_codec = "gzip";
  GenerateShape shape;
};

/// Digests the window of `args` (a directory or s3:// URL) into the output, applying `query`
/// (its format is args.format).
int RunDigestCommand(const DigestArgs& args, QueryArgs query);
/// Runs the query `q` over a stored digest or rows sidecar (FILE, or "-" for stdin).
int RunViewCommand(const std::string& input, const QueryArgs& q);
/// The diff of two stored digests.
int RunDiffCommand(const std::string& base_path, const std::string& current_path,
                   const QueryArgs& q);
/// Writes a sample corpus.
int RunGenerateCommand(const GenerateArgs& args);

}  // namespace vpcflow
