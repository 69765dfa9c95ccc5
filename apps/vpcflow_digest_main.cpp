// vpcflow-digest: digests a directory laid out like the flow-log bucket for a window, or
// generates a sample corpus (`vpcflow-digest generate`). See README.md, "CLI".
//
// Exit codes: 0 success, 1 the digest or the output failed, 2 bad arguments, 130 interrupted.
// Every error is one line on stderr starting with "vpcflow-digest: ".

#include <signal.h>
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

#include "generate/generator.hpp"
#include "s3/credentials.hpp"
#include "s3/s3_client.hpp"
#include "s3/s3_modules.hpp"
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
constexpr int kExitInterrupted = 130;
// `generate` accepts windows up to a year; the digest uses DIGEST_MAX_WINDOW.
constexpr int64_t kMaxGenerateWindowSeconds = 366LL * 24 * 3600;
// With stderr on a terminal, the progress bar appears once a run has taken this long.
constexpr double kAutoProgressAfterSeconds = 1.0;
constexpr size_t kMaxProblemLines = 10;

int Fail(int code, std::string_view message) {
  std::fprintf(stderr, "vpcflow-digest: %.*s\n", static_cast<int>(message.size()), message.data());
  return code;
}

using Clock = std::chrono::steady_clock;
double SecondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

Result<int64_t> MaxWindowFromEnv() {
  const char* env = std::getenv("DIGEST_MAX_WINDOW");
  if (env == nullptr || *env == '\0') return kDefaultMaxWindowSeconds;
  Result<int64_t> seconds = ParseDurationSeconds(env);
  if (!seconds.ok()) return seconds.status().WithContext("DIGEST_MAX_WINDOW");
  return seconds;
}

Status CheckAccounts(const std::vector<std::string>& accounts) {
  for (const auto& a : accounts) {
    bool ok = a.size() == 12;
    for (char c : a) ok = ok && c >= '0' && c <= '9';
    if (!ok) return InvalidArgumentError("--accounts: \"" + a + "\" is not a 12-digit account id");
  }
  return OkStatus();
}

Status CheckRegions(const std::vector<std::string>& regions) {
  for (const auto& r : regions) {
    bool ok = !r.empty();
    for (char c : r) ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-');
    if (!ok) return InvalidArgumentError("--regions: \"" + r + "\" is not a region name");
  }
  return OkStatus();
}

// The temporary output file, removed by the SIGINT/SIGTERM handler (unlink is
// async-signal-safe) so that an interrupted run leaves no partial file.
char g_tmp_path[4096] = {0};

extern "C" void OnSignal(int) {
  if (g_tmp_path[0] != '\0') unlink(g_tmp_path);
  _exit(kExitInterrupted);
}

// The output: stdout, or FILE written under a temporary name in FILE's directory and renamed
// into place by Commit() (so a failed run leaves no partial file).
class Output {
 public:
  ~Output() { Discard(); }

  Status Open(const std::string& path) {
    if (path.empty() || path == "-") {
      sink_ = NewStdioSink(stdout);
      return OkStatus();
    }
    namespace fs = std::filesystem;
    fs::path final_path(path);
    if (final_path.filename().empty()) {
      return InvalidArgumentError("--output: \"" + path + "\" names a directory");
    }
    std::error_code ec;
    const fs::path dir = final_path.parent_path().empty() ? "." : final_path.parent_path();
    if (!fs::is_directory(dir, ec)) {
      return InvalidArgumentError("--output: directory \"" + dir.string() + "\" does not exist");
    }
    fs::path tmp = final_path.parent_path() /
                   ("." + final_path.filename().string() + ".tmp-" + std::to_string(getpid()));
    if (tmp.string().size() >= sizeof(g_tmp_path)) {
      return InvalidArgumentError("--output: path too long");
    }
    Result<ByteSinkPtr> file = NewFileSink(tmp.string());
    if (!file.ok()) return file.status().WithContext("--output: cannot create the file");
    final_ = path;
    tmp_ = tmp.string();
    std::snprintf(g_tmp_path, sizeof(g_tmp_path), "%s", tmp_.c_str());
    const bool gzip = path.size() > 3 && path.compare(path.size() - 3, 3, ".gz") == 0;
    sink_ = gzip ? NewGzipSink(std::move(file).value(), 1) : std::move(file).value();
    return OkStatus();
  }

  ByteSink& sink() { return *sink_; }

  Status Commit() {
    Status st = sink_->Close();
    if (!st.ok() || tmp_.empty()) return st;
    std::error_code ec;
    std::filesystem::rename(tmp_, final_, ec);
    if (ec)
      return UnavailableError("cannot rename the output into " + final_ + ": " + ec.message());
    tmp_.clear();
    g_tmp_path[0] = '\0';
    return OkStatus();
  }

  void Discard() {
    if (tmp_.empty()) return;
    if (sink_) (void)sink_->Close();
    std::error_code ec;
    std::filesystem::remove(tmp_, ec);
    tmp_.clear();
    g_tmp_path[0] = '\0';
  }

 private:
  ByteSinkPtr sink_;
  std::string final_;
  std::string tmp_;
};

// A one-line progress bar on stderr: objects, MB, percent. On a terminal the line is redrawn
// in place; otherwise (only with --progress) a line at most every few seconds.
class ProgressBar {
 public:
  ProgressBar(bool forced, bool terminal)
      : forced_(forced), terminal_(terminal), t0_(Clock::now()) {}

  bool enabled() const { return forced_ || terminal_; }

  void Report(const DigestProgress& p) {
    const double elapsed = SecondsSince(t0_);
    const bool final = p.objects_done == p.objects_total;
    if (!forced_ && elapsed < kAutoProgressAfterSeconds) return;
    if (!terminal_ && !final && elapsed - last_line_ < 2.0) return;
    last_line_ = elapsed;
    const double fraction =
        p.bytes_total > 0 ? static_cast<double>(p.bytes_done) / static_cast<double>(p.bytes_total)
        : p.objects_total > 0
            ? static_cast<double>(p.objects_done) / static_cast<double>(p.objects_total)
            : 1.0;
    constexpr int kWidth = 24;
    char bar[kWidth + 1];
    const int filled = static_cast<int>(fraction * kWidth);
    for (int i = 0; i < kWidth; ++i) bar[i] = i < filled ? '#' : '-';
    bar[kWidth] = '\0';
    std::fprintf(stderr, "%s[%s] %3d%%  %" PRIu64 "/%" PRIu64 " objects  %.1f/%.1f MB  %.1f s%s",
                 terminal_ ? "\r" : "", bar, static_cast<int>(fraction * 100), p.objects_done,
                 p.objects_total, static_cast<double>(p.bytes_done) / 1e6,
                 static_cast<double>(p.bytes_total) / 1e6, elapsed, terminal_ ? "" : "\n");
    drawn_ = true;
    if (terminal_ && final) Finish();
  }

  // Ends the in-place line so that later messages start on their own line.
  void Finish() {
    if (terminal_ && drawn_) std::fputc('\n', stderr);
    drawn_ = false;
  }

 private:
  bool forced_;
  bool terminal_;
  Clock::time_point t0_;
  double last_line_ = -1e9;
  bool drawn_ = false;
};

struct DigestArgs {
  std::string source;
  std::string start;
  std::string stop;
  std::vector<std::string> accounts;
  std::vector<std::string> regions;
  std::string prefix;
  std::string format = "flowlog";
  std::string output;
  int threads = 0;
  bool summary = false;
  bool progress = false;
  std::string region;                  // s3:// only
  std::string role;                    // s3:// only
  int64_t prefetch_bytes = 150000000;  // s3:// only
  int prefetch_concurrency = 2;        // s3:// only
};

// An S3 source with the AWS SDK conventions of the environment (credentials chain, AWS_REGION,
// AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL); --region, --role and the prefetch options win.
Result<ObjectSourcePtr> OpenS3Source(const S3Url& url, const DigestArgs& args) {
  const std::map<std::string, std::string> env = EnvironmentMap();
  const CredentialsSettings settings = CredentialsSettingsFromEnvironment(env);
  std::shared_ptr<HttpClient> http = NewCurlHttpClient({.ca_file = CaFileFromEnvironment(env)});
  ClockPtr clock = SystemClock();
  ASSIGN_OR_RETURN(CredentialsProviderPtr base, NewDefaultCredentialsChain(settings, http, clock));
  auto env_or = [&env](const char* a, const char* b) {
    auto it = env.find(a);
    if (it != env.end() && !it->second.empty()) return it->second;
    it = env.find(b);
    return it != env.end() ? it->second : std::string();
  };
  ASSIGN_OR_RETURN(
      std::shared_ptr<S3Client> client,
      NewS3ClientForBucket({.region = args.region,
                            .role_arn = args.role,
                            .endpoint = env_or("AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL")},
                           std::move(base), settings, std::move(http), clock));
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

int RunDigestCommand(const DigestArgs& args) {
  if (args.source.empty()) return Fail(kExitUsage, "--source is required (see --help)");
  if (args.start.empty()) return Fail(kExitUsage, "--start is required (see --help)");
  if (args.stop.empty()) return Fail(kExitUsage, "--stop is required (see --help)");
  Result<int64_t> max_window = MaxWindowFromEnv();
  if (!max_window.ok()) return Fail(kExitUsage, max_window.status().message());
  Result<Window> window = MakeWindow(args.start, args.stop, *max_window);
  if (!window.ok()) return Fail(kExitUsage, window.status().message());
  Result<DigestFormat> format = ParseDigestFormat(args.format);
  if (!format.ok()) return Fail(kExitUsage, "--format: " + format.status().message());
  if (Status st = CheckAccounts(args.accounts); !st.ok()) return Fail(kExitUsage, st.message());
  if (Status st = CheckRegions(args.regions); !st.ok()) return Fail(kExitUsage, st.message());
  Result<ObjectSourcePtr> source = ObjectSourcePtr();
  if (args.source.starts_with("s3://")) {
    Result<S3Url> url = ParseS3Url(args.source);
    if (!url.ok()) return Fail(kExitUsage, "--source: " + url.status().message());
    source = OpenS3Source(*url, args);
    if (!source.ok()) return Fail(kExitFailure, "--source: " + source.status().message());
  } else {
    source = NewLocalDirSource(args.source);
    if (!source.ok()) {
      return Fail(kExitUsage, "--source: \"" + args.source + "\" is not a directory");
    }
  }

  Output output;
  if (Status st = output.Open(args.output); !st.ok()) return Fail(kExitUsage, st.message());

  ProgressBar progress(args.progress, isatty(STDERR_FILENO) != 0);
  DigestOptions options;
  options.scan.accounts = args.accounts;
  options.scan.regions = args.regions;
  options.scan.prefix = args.prefix;
  options.threads = args.threads;
  if (progress.enabled()) {
    options.on_progress = [&progress](const DigestProgress& p) { progress.Report(p); };
  }
  Result<DigestRun> run = RunDigest(**source, *window, options);
  progress.Finish();
  if (!run.ok()) return Fail(kExitFailure, "digest failed: " + run.status().ToString());

  if (Status st = run->digest.Encode(*format, output.sink()); !st.ok()) {
    return Fail(kExitFailure, "writing the digest failed: " + st.ToString());
  }
  if (Status st = output.Commit(); !st.ok()) {
    return Fail(kExitFailure, "writing the digest failed: " + st.ToString());
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
};

int RunGenerateCommand(const GenerateArgs& args) {
  Result<Window> window = MakeWindow(args.start, args.stop, kMaxGenerateWindowSeconds);
  if (!window.ok()) return Fail(kExitUsage, window.status().message());
  Result<GenerateLayout> layout = ParseGenerateLayout(args.layout);
  if (!layout.ok()) return Fail(kExitUsage, "--layout: " + layout.status().message());
  GenerateOptions options{.out_dir = args.out,
                          .window = *window,
                          .size_mb = args.size_mb,
                          .accounts = args.accounts,
                          .hosts = args.hosts,
                          .layout = *layout,
                          .seed = args.seed,
                          .threads = args.threads,
                          .prefix = args.prefix};
  const auto t0 = Clock::now();
  Result<GenerateReport> report = GenerateCorpus(options);
  if (!report.ok()) {
    return Fail(IsInvalidArgument(report.status()) ? kExitUsage : kExitFailure,
                "generate: " + report.status().message());
  }
  std::fprintf(
      stderr,
      "vpcflow-digest: generated %" PRIu64 " objects, %" PRIu64
      " records, %.1f MB text, %.1f MB gzip in %.1f s into %s\n",
      report->objects, report->records, static_cast<double>(report->bytes_uncompressed) / 1e6,
      static_cast<double>(report->bytes_compressed) / 1e6, SecondsSince(t0), args.out.c_str());
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
  app.add_option("--format", d.format, "Output encoding: flowlog (default), ndjson or csv")
      ->type_name("FORMAT");
  app.add_option("--output", d.output, "Write to FILE (gzip when it ends in .gz), not stdout")
      ->type_name("FILE");
  app.add_option("--threads", d.threads, "Reader threads (default 0: the number of cores)")
      ->check(kThreadRange)
      ->type_name("N");
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
  app.footer(
      "Exit status: 0 success, 1 the digest or its output failed, 2 bad arguments.\n"
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

  struct sigaction sa = {};
  sa.sa_handler = OnSignal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);

  if (gen->parsed()) return RunGenerateCommand(g);
  return RunDigestCommand(d);
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
