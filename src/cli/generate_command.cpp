// `generate`: a sample corpus (commands.hpp).

#include <chrono>
#include <cinttypes>
#include <cstdio>

#include "cli/commands.hpp"
#include "generate/generator.hpp"
#include "vpcflow/status.hpp"
#include "vpcflow/window.hpp"

namespace vpcflow {
namespace {

// `generate` accepts windows up to a year; the digest uses DIGEST_MAX_WINDOW.
constexpr int64_t kMaxGenerateWindowSeconds = 366LL * 24 * 3600;

using Clock = std::chrono::steady_clock;
double SecondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

}  // namespace

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
                          .parquet_codec = *codec,
                          .shape = args.shape};
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

}  // namespace vpcflow
