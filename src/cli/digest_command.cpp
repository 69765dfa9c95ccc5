// The digest of a window (commands.hpp).

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "cli/commands.hpp"
#include "cli/interrupt.hpp"
#include "cli/output_file.hpp"
#include "cli/progress_bar.hpp"
#include "cli/report.hpp"
#include "common/aws_names.hpp"
#include "common/byte_size.hpp"
#include "query/query.hpp"
#include "query/row_file.hpp"
#include "query/row_source.hpp"
#include "s3/s3_client.hpp"
#include "service/config.hpp"
#include "vpcflow/byte_sink.hpp"
#include "vpcflow/digest.hpp"
#include "vpcflow/object_source.hpp"
#include "vpcflow/s3.hpp"
#include "vpcflow/status.hpp"
#include "vpcflow/window.hpp"

namespace vpcflow {
namespace {

constexpr size_t kMaxProblemLines = 10;

// Destroys `digest` on a helper thread, joined with the returned thread: its memory (the rows,
// most of the run's peak) is given back while the caller finishes the output (the last
// chunks' deflate, the sync and the rename), not after it. Without a thread, destroys it here.
std::jthread ReleaseOnHelper(Digest digest) {
  try {
    return std::jthread([owned = std::move(digest)] {});  // destroyed with the callable
  } catch (const std::system_error&) {
    return {};
  }
}

// Every item of an option's list must be `valid` (the predicate the configuration uses for
// the same setting); `what` says what it must be.
Status CheckEach(const std::vector<std::string>& items, bool (*valid)(std::string_view),
                 const char* option, const char* what) {
  for (const std::string& item : items) {
    if (!valid(item)) {
      return InvalidArgumentError(std::string(option) + ": \"" + item + "\" is not " + what);
    }
  }
  return OkStatus();
}

// An S3 source with the AWS SDK conventions of the environment (credentials chain, AWS_REGION,
// AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL); --region, --role and the prefetch options win.
Result<ObjectSourcePtr> OpenS3Source(const S3Url& url, const DigestArgs& args) {
  VPCFLOW_ASSIGN_OR_RETURN(Config config, S3AccessFromEnvironment(EnvironmentMap()));
  config.max_bytes_prefetch = args.prefetch_bytes;
  config.max_concurrent_prefetch = args.prefetch_concurrency;
  std::string prefix = url.prefix;
  if (!prefix.empty() && !prefix.ends_with('/')) prefix += '/';
  // The factory's HEAD of the bucket answers early, and clearly, for a missing bucket or refused
  // credentials; the module outlives the factory.
  return S3ModuleFactory(config).NewObjectSource(
      {.bucket = url.bucket, .region = args.region, .role = args.role, .prefix = prefix});
}

// The rows sidecar of `digest` (query/row_file.hpp) into the file at `path`.
Status WriteRowsSidecar(const Digest& digest, const std::string& path) {
  VPCFLOW_ASSIGN_OR_RETURN(ByteSinkPtr file, NewFileSink(path));
  RowSourcePtr rows = NewDigestRowSource(digest);
  Status st = WriteRowFile(*rows, *file);
  if (st.ok()) st = file->Close();
  std::error_code ec;
  if (!st.ok()) std::filesystem::remove(path, ec);
  return st;
}

// The flowlog text into `text` and the rows sidecar into the file at `path`, from one walk of
// the rows (query/row_file.hpp); the sidecar file is removed when either fails.
Status WriteDigestAndRowsSidecar(const Digest& digest, ByteSink& text, const std::string& path) {
  VPCFLOW_ASSIGN_OR_RETURN(ByteSinkPtr file, NewFileSink(path));
  Status st = WriteFlowLogAndRowFile(digest, text, *file);
  if (st.ok()) st = file->Close();
  std::error_code ec;
  if (!st.ok()) std::filesystem::remove(path, ec);
  return st;
}

}  // namespace

int RunDigestCommand(const DigestArgs& args, QueryArgs query) {
  if (args.source.empty()) return Fail(kExitUsage, "--source is required (see --help)");
  if (args.start.empty()) return Fail(kExitUsage, "--start is required (see --help)");
  if (args.stop.empty()) return Fail(kExitUsage, "--stop is required (see --help)");
  Result<int64_t> max_window = MaxWindowFromEnvironment(EnvironmentMap());
  if (!max_window.ok()) return Fail(kExitUsage, max_window.status().message());
  Result<Window> window = MakeWindow(args.start, args.stop, *max_window);
  if (!window.ok()) return Fail(kExitUsage, window.status().message());
  query.format = args.format;
  Result<QuerySpec> spec = ParseQuery(query.Params());
  if (!spec.ok()) return Fail(kExitUsage, OptionMessage(spec.status()));
  if (Status st = CheckEach(args.accounts, IsAwsAccountId, "--accounts", "a 12-digit account id");
      !st.ok()) {
    return Fail(kExitUsage, st.message());
  }
  if (Status st = CheckEach(args.regions, IsAwsRegionName, "--regions", "a region name");
      !st.ok()) {
    return Fail(kExitUsage, st.message());
  }
  Result<ObjectSourcePtr> source = ObjectSourcePtr();
  if (args.source.starts_with("s3://")) {
    Result<S3Url> url = ParseS3Url(args.source);
    if (!url.ok()) return Fail(kExitUsage, "--source: " + url.status().message());
    source = OpenS3Source(*url, args);
    if (!source.ok()) return Fail(kExitFailure, "--source: " + source.status().message());
  } else {
    source = NewLocalDirSource(args.source, {.follow_links = args.follow_links});
    if (!source.ok()) {
      return Fail(kExitUsage, "--source: \"" + args.source + "\" is not a directory");
    }
  }

  Result<uint64_t> memory_limit = ParseByteSize(args.memory_limit);
  if (!memory_limit.ok() || *memory_limit < kMinMemoryLimit) {
    return Fail(kExitUsage,
                "--memory-limit: " + (memory_limit.ok() ? std::string("at least 1M")
                                                        : memory_limit.status().message()));
  }

  OutputFile output;
  if (Status st = output.Open(args.output); !st.ok()) {
    return Fail(IsInvalidArgument(st) ? kExitUsage : kExitFailure, st.message());
  }

  ProgressBar progress(args.progress, isatty(STDERR_FILENO) != 0);
  DigestOptions options;
  options.scan.accounts = args.accounts;
  options.scan.regions = args.regions;
  options.scan.prefix = args.prefix;
  options.threads = args.threads;
  options.memory_limit = *memory_limit;
  options.spill_dir = args.spill_dir;
  options.on_spill_dir = [](const std::string& dir) {
    if (Status st = RegisterSpillDirectory(dir); !st.ok()) Fail(0, st.message());
  };
  if (progress.enabled()) {
    options.on_progress = [&progress](const DigestProgress& p) { progress.Report(p); };
  }
  Result<DigestRun> run = RunDigest(**source, *window, options);
  progress.Finish();
  if (!run.ok()) return Fail(kExitFailure, "digest failed: " + run.status().ToString());
  const auto output_start = std::chrono::steady_clock::now();

  bool rows_written = false;  // the sidecar, written in the same walk as the digest
  if (spec->plain()) {
    const DigestFormat format =
        ParseDigestFormat(args.format.empty() ? "flowlog" : args.format).value();
    Status st;
    if (format == DigestFormat::kFlowLog && !args.rows_output.empty()) {
      st = WriteDigestAndRowsSidecar(run->digest, output.sink(), args.rows_output);
      rows_written = st.ok();
    } else {
      st = run->digest.Encode(format, output.sink());
    }
    if (!st.ok()) return Fail(kExitFailure, "writing the digest failed: " + st.ToString());
  } else {
    RowSourcePtr rows = NewDigestRowSource(run->digest);
    if (Status st = RunQuery(*rows, *spec, output.sink()); !st.ok()) return QueryFailure(st);
  }
  if (!args.rows_output.empty() && !rows_written) {
    // Before the output is committed: a failed sidecar leaves no digest either.
    if (Status st = WriteRowsSidecar(run->digest, args.rows_output); !st.ok()) {
      return Fail(kExitFailure, "writing the rows sidecar failed: " + st.ToString());
    }
  }
  const std::jthread releasing = ReleaseOnHelper(std::move(run->digest));
  if (Status st = output.Commit(); !st.ok()) {
    std::error_code ec;
    if (!args.rows_output.empty()) std::filesystem::remove(args.rows_output, ec);
    return Fail(kExitFailure, "writing the digest failed: " + st.ToString());
  }

  // Objects that contributed nothing: named on stderr (the summary lists them all).
  const DigestSummary& summary = run->summary;
  if (args.summary) {
    // The output phase (rendering, compressing, writing and syncing the digest and sidecar)
    // follows the summary's "total", which ends when the digest is ready.
    const std::chrono::duration<double> output_seconds =
        std::chrono::steady_clock::now() - output_start;
    std::fprintf(stderr, "%soutput   %.3f s\n", summary.ToText().c_str(), output_seconds.count());
  } else {
    for (size_t i = 0; i < summary.problems.size() && i < kMaxProblemLines; ++i) {
      Fail(0, "skipped " + summary.problems[i].key + ": " + summary.problems[i].reason);
    }
    if (summary.problems.size() > kMaxProblemLines) {
      Fail(0, "skipped " + std::to_string(summary.problems.size() - kMaxProblemLines) +
                  " more objects (see --summary)");
    }
  }
  return 0;
}

}  // namespace vpcflow
