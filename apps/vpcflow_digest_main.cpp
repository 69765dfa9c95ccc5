// vpcflow-digest: digests a directory laid out like the flow-log bucket for a window, or
// generates a sample corpus (`vpcflow-digest generate`). See README.md, "CLI".
//
// Exit codes: 0 success, 1 the digest or the output failed, 2 bad arguments, 130 interrupted
// (SIGINT), 143 terminated (SIGTERM).
// Every error is one line on stderr starting with "vpcflow-digest: ".

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cli/interrupt.hpp"
#include "cli/output_file.hpp"
#include "cli/progress_bar.hpp"
#include "common/aws_names.hpp"
#include "common/byte_size.hpp"
#include "generate/generator.hpp"
#include "query/query.hpp"
#include "query/row_file.hpp"
#include "query/row_source.hpp"
#include "s3/credentials.hpp"
#include "s3/s3_client.hpp"
#include "s3/s3_modules.hpp"
#include "service/config.hpp"
#include "vpcflow/byte_sink.hpp"
#include "vpcflow/clock.hpp"
#include "vpcflow/digest.hpp"
#include "vpcflow/http_client.hpp"
#include "vpcflow/object_source.hpp"
#include "vpcflow/service.hpp"
#include "vpcflow/status.hpp"
#include "vpcflow/window.hpp"

namespace vpcflow {
namespace {

constexpr int kExitFailure = 1;
constexpr int kExitUsage = 2;
// `generate` accepts windows up to a year; the digest uses DIGEST_MAX_WINDOW.
constexpr int64_t kMaxGenerateWindowSeconds = 366LL * 24 * 3600;
constexpr size_t kMaxProblemLines = 10;

int Fail(int code, std::string_view message) {
  std::fprintf(stderr, "vpcflow-digest: %.*s\n", static_cast<int>(message.size()), message.data());
  return code;
}

using Clock = std::chrono::steady_clock;
double SecondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
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

// The query options of the digest command, `view` and `diff` (see ParseQuery).
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

// The query options; `own_output`: also --format and --output (view and diff; the digest
// command has its own).
void AddQueryOptions(CLI::App* app, QueryArgs& q, bool diff, bool own_output = true) {
  if (own_output) {
    app->add_option("--format", q.format,
                    diff ? "Output encoding: ndjson (default), csv, json, dot or svg"
                         : "Output encoding: flowlog (default), ndjson, csv, json, dot or svg")
        ->type_name("FORMAT");
    app->add_option("--output", q.output, "Write to FILE (gzip when it ends in .gz), not stdout")
        ->type_name("FILE");
  }
  app->add_option("--filter", q.filter,
                  "Only rows that pass this expression, e.g. \"action=REJECT and dstport in "
                  "(22,3389)\"")
      ->type_name("EXPR");
  app->add_option("--group-by", q.group_by,
                  "Sum rows by these key fields, addresses cut to a prefix: srcaddr/24,dstport")
      ->type_name("FIELDS");
  app->add_flag("--conversation", q.conversation,
                "Merge A->B and B->A of the same ports into one row, with what each end sent");
  app->add_option("--top", q.top, "Only the N largest rows (an svg: 300 unless given)")
      ->type_name("N");
  app->add_option("--by", q.by, "What --top ranks by: bytes (default), packets or flows")
      ->type_name("WHAT");
  if (diff) {
    app->add_option("--change", q.change,
                    "Report rows whose bytes changed by more than this percent (default 50)")
        ->type_name("PERCENT");
  }
}

// A query parameter's message ("group_by: ...") naming the CLI option ("--group-by: ...").
std::string OptionMessage(const Status& st) {
  std::string message = "--" + st.message();
  for (size_t i = 2; i < message.size() && message[i] != ':'; ++i) {
    if (message[i] == '_') message[i] = '-';
  }
  return message;
}

// Exit code for a query that failed: 2 when the request itself cannot be answered.
int QueryFailure(const Status& st) {
  const bool usage =
      st.code() == StatusCode::kInvalidArgument || st.code() == StatusCode::kFailedPrecondition;
  return Fail(usage ? kExitUsage : kExitFailure, st.message());
}

// A stored digest (`<id>.log.gz`) or rows sidecar (`<id>.rows.gz`) from FILE, or stdin for "-".
Result<RowSourcePtr> OpenStoredInput(const std::string& path) {
  ObjectReaderPtr reader;
  if (path == "-") {
    reader = NewFdReader(dup(STDIN_FILENO), "stdin");
  } else {
    ASSIGN_OR_RETURN(reader, OpenFileReader(path));
  }
  Result<RowSourcePtr> rows = OpenStoredRows(std::move(reader));
  if (!rows.ok()) return rows.status().WithContext(path);
  return rows;
}

int RunViewCommand(const std::string& input, const QueryArgs& q) {
  Result<QuerySpec> spec = ParseQuery(q.Params());
  if (!spec.ok()) return Fail(kExitUsage, OptionMessage(spec.status()));
  Result<RowSourcePtr> rows = OpenStoredInput(input);
  if (!rows.ok()) return Fail(kExitFailure, rows.status().message());
  OutputFile output;
  if (Status st = output.Open(q.output); !st.ok()) {
    return Fail(IsInvalidArgument(st) ? kExitUsage : kExitFailure, st.message());
  }
  if (Status st = RunQuery(**rows, *spec, output.sink()); !st.ok()) return QueryFailure(st);
  if (Status st = output.Commit(); !st.ok()) return Fail(kExitFailure, st.ToString());
  return 0;
}

int RunDiffCommand(const std::string& base_path, const std::string& current_path,
                   const QueryArgs& q) {
  Result<QuerySpec> spec = ParseQuery(q.Params(), /*diff=*/true);
  if (!spec.ok()) return Fail(kExitUsage, OptionMessage(spec.status()));
  Result<RowSourcePtr> base = OpenStoredInput(base_path);
  if (!base.ok()) return Fail(kExitFailure, base.status().message());
  Result<RowSourcePtr> current = OpenStoredInput(current_path);
  if (!current.ok()) return Fail(kExitFailure, current.status().message());
  OutputFile output;
  if (Status st = output.Open(q.output); !st.ok()) {
    return Fail(IsInvalidArgument(st) ? kExitUsage : kExitFailure, st.message());
  }
  if (Status st = RunDiff(**base, **current, *spec, output.sink()); !st.ok()) {
    return QueryFailure(st);
  }
  if (Status st = output.Commit(); !st.ok()) return Fail(kExitFailure, st.ToString());
  return 0;
}

// An S3 source with the AWS SDK conventions of the environment (credentials chain, AWS_REGION,
// AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL); --region, --role and the prefetch options win.
Result<ObjectSourcePtr> OpenS3Source(const S3Url& url, const DigestArgs& args) {
  const std::map<std::string, std::string> env = EnvironmentMap();
  const CredentialsSettings settings = CredentialsSettingsFromEnvironment(env);
  std::shared_ptr<HttpClient> http = NewCurlHttpClient({.ca_file = CaFileFromEnvironment(env)});
  auto env_or = [&env](const char* a, const char* b) {
    auto it = env.find(a);
    if (it != env.end() && !it->second.empty()) return it->second;
    it = env.find(b);
    return it != env.end() ? it->second : std::string();
  };
  S3ClientFactory clients(settings, env_or("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"),
                          std::move(http), SystemClock());
  ASSIGN_OR_RETURN(std::shared_ptr<S3Client> client, clients.Make(args.region, args.role));
  std::string prefix = url.prefix;
  if (!prefix.empty() && !prefix.ends_with('/')) prefix += '/';
  // Listing the root answers early, and clearly, for a missing bucket or refused credentials.
  RETURN_IF_ERROR(client->ListObjectsV2(url.bucket, {.prefix = prefix, .max_keys = 1}).status());
  return NewS3ObjectSource(std::move(client),
                           {.bucket = url.bucket,
                            .prefix = std::move(prefix),
                            .max_bytes_prefetch = args.prefetch_bytes,
                            .max_concurrent_prefetch = args.prefetch_concurrency});
}

// The rows sidecar of `digest` (query/row_file.hpp) into the file at `path`.
Status WriteRowsSidecar(const Digest& digest, const std::string& path) {
  ASSIGN_OR_RETURN(ByteSinkPtr file, NewFileSink(path));
  RowSourcePtr rows = NewDigestRowSource(digest);
  Status st = WriteRowFile(*rows, *file);
  if (st.ok()) st = file->Close();
  std::error_code ec;
  if (!st.ok()) std::filesystem::remove(path, ec);
  return st;
}

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

  if (spec->plain()) {
    const DigestFormat format =
        ParseDigestFormat(args.format.empty() ? "flowlog" : args.format).value();
    if (Status st = run->digest.Encode(format, output.sink()); !st.ok()) {
      return Fail(kExitFailure, "writing the digest failed: " + st.ToString());
    }
  } else {
    RowSourcePtr rows = NewDigestRowSource(run->digest);
    if (Status st = RunQuery(*rows, *spec, output.sink()); !st.ok()) return QueryFailure(st);
  }
  if (Status st = output.Commit(); !st.ok()) {
    return Fail(kExitFailure, "writing the digest failed: " + st.ToString());
  }

  if (!args.rows_output.empty()) {
    if (Status st = WriteRowsSidecar(run->digest, args.rows_output); !st.ok()) {
      return Fail(kExitFailure, "writing the rows sidecar failed: " + st.ToString());
    }
  }

  // Objects that contributed nothing: named on stderr (the summary lists them all).
  const DigestSummary& summary = run->summary;
  if (args.summary) {
    std::fputs(summary.ToText().c_str(), stderr);
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
};

int RunGenerateCommand(const GenerateArgs& args) {
  Result<Window> window = MakeWindow(args.start, args.stop, kMaxGenerateWindowSeconds);
  if (!window.ok()) return Fail(kExitUsage, window.status().message());
  Result<GenerateLayout> layout = ParseGenerateLayout(args.layout);
  if (!layout.ok()) return Fail(kExitUsage, "--layout: " + layout.status().message());
  Result<GenerateFormat> format = ParseGenerateFormat(args.format);
  if (!format.ok()) return Fail(kExitUsage, "--format: " + format.status().message());
  Result<parquet::Codec> codec = ParseParquetCodec(args.parquet_codec);
  if (!codec.ok()) return Fail(kExitUsage, "--parquet-codec: " + codec.status().message());
  GenerateOptions options{.out_dir = args.out,
                          .window = *window,
                          .size_mb = args.size_mb,
                          .accounts = args.accounts,
                          .hosts = args.hosts,
                          .layout = *layout,
                          .seed = args.seed,
                          .threads = args.threads,
                          .prefix = args.prefix,
                          .format = *format,
                          .parquet_codec = *codec};
  const auto t0 = Clock::now();
  Result<GenerateReport> report = GenerateCorpus(options);
  if (!report.ok()) {
    return Fail(IsInvalidArgument(report.status()) ? kExitUsage : kExitFailure,
                "generate: " + report.status().message());
  }
  std::fprintf(
      stderr,
      "vpcflow-digest: generated %" PRIu64 " objects, %" PRIu64
      " records, %.1f MB text, %.1f MB %s in %.1f s into %s\n",
      report->objects, report->records, static_cast<double>(report->bytes_uncompressed) / 1e6,
      static_cast<double>(report->bytes_compressed) / 1e6,
      *format == GenerateFormat::kParquet ? "Parquet" : "gzip", SecondsSince(t0), args.out.c_str());
  return 0;
}

int Main(int argc, char** argv) {
  CLI::App app{"Digests AWS VPC flow logs for a time window: one line per conversation."};
  app.name("vpcflow-digest");
  const CLI::Validator kThreadRange = CLI::Range(0, 1024).description("");
  app.set_version_flag("--version", std::string("vpcflow-digest ") + std::string(Version()));

  DigestArgs d;
  app.add_option("--source", d.source,
                 "Directory laid out like the flow-log bucket, or s3://bucket[/prefix]")
      ->type_name("DIR|URL");
  app.add_option("--start", d.start, "Window start, RFC 3339 (truncated to the minute)")
      ->type_name("TIME");
  app.add_option("--stop", d.stop, "Window end (exclusive), RFC 3339")->type_name("TIME");
  app.add_option("--accounts", d.accounts, "Only these accounts (default: every one found)")
      ->delimiter(',')
      ->type_name("A,B");
  app.add_option("--regions", d.regions, "Only these regions (default: every one found)")
      ->delimiter(',')
      ->type_name("R,S");
  app.add_option("--prefix", d.prefix, "User prefix before AWSLogs/")->type_name("P");
  app.add_option("--format", d.format,
                 "Output encoding: flowlog (default), ndjson, csv, json, dot or svg")
      ->type_name("FORMAT");
  QueryArgs dq;
  AddQueryOptions(&app, dq, /*diff=*/false, /*own_output=*/false);
  app.add_option("--rows-output", d.rows_output,
                 "Also write the rows sidecar (flows included; `view` reads it fastest) to FILE")
      ->type_name("FILE");
  app.add_option("--output", d.output,
                 "Write to FILE (gzip when it ends in .gz), not stdout. A regular file is "
                 "replaced atomically, keeping its mode; links are followed; FIFOs and devices "
                 "are written in place")
      ->type_name("FILE");
  app.add_option("--threads", d.threads, "Reader threads (default 0: the number of cores)")
      ->check(kThreadRange)
      ->type_name("N");
  app.add_option("--memory-limit", d.memory_limit,
                 "Memory for the aggregation (default 4G); above it sorted runs are spilled to "
                 "--spill-dir and merged at the end, with the same output")
      ->type_name("SIZE");
  app.add_option("--spill-dir", d.spill_dir,
                 "Where runs are spilled (default: $TMPDIR, else /tmp); removed at the end")
      ->type_name("DIR");
  app.add_option("--region", d.region, "s3:// only: the bucket's region (default: AWS_REGION)")
      ->type_name("R");
  app.add_option("--role", d.role, "s3:// only: read with this IAM role (STS AssumeRole)")
      ->type_name("ARN");
  app.add_option("--prefetch-bytes", d.prefetch_bytes,
                 "s3:// only: object bytes downloaded ahead at most (default 150000000)")
      ->check(CLI::Range(int64_t{0}, int64_t{1} << 40))
      ->type_name("N");
  app.add_option("--prefetch-concurrency", d.prefetch_concurrency,
                 "s3:// only: downloads running ahead at once (default 2; 0 = none)")
      ->check(CLI::Range(0, 256))
      ->type_name("N");
  app.add_flag("--follow-links", d.follow_links,
               "Follow symbolic links that leave the source directory (default: listed as "
               "problems, not read)");
  app.add_flag("--summary", d.summary, "Print a summary of the run on stderr");
  app.add_flag("--progress", d.progress,
               "Show a progress bar on stderr (default: on a terminal, for long runs)");

  GenerateArgs g;
  CLI::App* gen = app.add_subcommand("generate", "Write a realistic, deterministic sample corpus");
  gen->add_option("--out", g.out, "Output directory (created)")->required()->type_name("DIR");
  gen->add_option("--start", g.start, "First file stamp, RFC 3339")->required()->type_name("TIME");
  gen->add_option("--stop", g.stop, "End of the file stamps (exclusive), RFC 3339")
      ->required()
      ->type_name("TIME");
  gen->add_option("--size-mb", g.size_mb, "Uncompressed text, MB (default 100)")->type_name("N");
  gen->add_option("--accounts", g.accounts, "Number of accounts (default 3)")->type_name("N");
  gen->add_option("--hosts", g.hosts,
                  "Distinct addresses per account: drives the key count (default 2000)")
      ->type_name("N");
  gen->add_option("--layout", g.layout, "Key layout: daily (default), hourly or hive")
      ->type_name("LAYOUT");
  gen->add_option("--seed", g.seed, "Random seed: same options, same bytes (default 1)")
      ->type_name("S");
  gen->add_option("--threads", g.threads, "Writer threads (default 0: the number of cores)")
      ->check(kThreadRange)
      ->type_name("N");
  gen->add_option("--prefix", g.prefix, "User prefix before AWSLogs/")->type_name("P");
  std::string view_input;
  QueryArgs vq;
  CLI::App* view = app.add_subcommand(
      "view", "Query a stored digest (<id>.log.gz) or its rows sidecar (<id>.rows.gz)");
  view->add_option("input", view_input, "The file, or - for stdin")->required()->type_name("FILE");
  AddQueryOptions(view, vq, /*diff=*/false);

  std::string diff_base, diff_current;
  QueryArgs fq;
  CLI::App* diff = app.add_subcommand(
      "diff", "Rows new in digest B, gone from it, or changed since digest A (stored files)");
  diff->add_option("base", diff_base, "The first (older) digest, or - for stdin")
      ->required()
      ->type_name("A");
  diff->add_option("current", diff_current, "The second digest")->required()->type_name("B");
  AddQueryOptions(diff, fq, /*diff=*/true);

  gen->add_option("--format", g.format,
                  "Objects as gzipped text (default: text) or as Parquet (parquet)")
      ->type_name("FORMAT");
  gen->add_option("--parquet-codec", g.parquet_codec,
                  "Parquet pages: gzip (default, as AWS), snappy, zstd or none")
      ->type_name("CODEC");
  app.footer(
      "Exit status: 0 success, 1 the digest or its output failed, 2 bad arguments, 130 SIGINT, "
      "143 SIGTERM.\n"
      "Environment: DIGEST_MAX_WINDOW, the longest window (seconds or e.g. 168h; default 7 "
      "days).");

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    return Fail(kExitUsage, std::string(e.what()) + " (see --help)");
  }

  InstallInterruptHandlers();

  if (gen->parsed()) return RunGenerateCommand(g);
  if (view->parsed()) return RunViewCommand(view_input, vq);
  if (diff->parsed()) return RunDiffCommand(diff_base, diff_current, fq);
  return RunDigestCommand(d, dq);
}

}  // namespace
}  // namespace vpcflow

int main(int argc, char** argv) {
  try {
    return vpcflow::Main(argc, argv);
  } catch (const std::exception& e) {  // a bug or out of memory: still one line, non-zero
    return vpcflow::Fail(vpcflow::kExitFailure, std::string("internal error: ") + e.what());
  }
}
