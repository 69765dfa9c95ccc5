// vpcflow-digest: digests a directory laid out like the flow-log bucket for a window, or
// generates a sample corpus (`vpcflow-digest generate`), or queries stored digests (`view`,
// `diff`). See README.md, "CLI". This file only parses the arguments; the commands are in
// src/cli/commands.hpp (exit codes there).

#include <CLI/CLI.hpp>
#include <exception>
#include <string>

#include "cli/commands.hpp"
#include "cli/interrupt.hpp"
#include "vpcflow/digest.hpp"

namespace vpcflow {
namespace {

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
  // The shape of the corpus (GenerateShape): the defaults give earlier versions' corpus.
  GenerateShape& shape = g.shape;
  gen->add_option("--regions", shape.regions_per_account, "Regions per account (default 2)")
      ->type_name("N");
  gen->add_option("--flow-logs-per-region", shape.flow_logs_per_region,
                  "Flow logs per region (default 0: 1 or 2 at random)")
      ->type_name("N");
  gen->add_flag("--default-format-only", shape.default_format_only,
                "Every flow log in the default format (default: a mix of four formats)");
  gen->add_option("--interfaces", shape.interfaces,
                  "Interfaces (ENIs) per account (default 0: a fifth of the hosts)")
      ->type_name("N");
  gen->add_option("--ipv6", shape.ipv6, "Share of hosts that are IPv6 (default 0.15)")
      ->type_name("F");
  gen->add_option("--nodata", shape.nodata, "Share of NODATA/SKIPDATA lines (default 0.004)")
      ->type_name("F");
  gen->add_option("--scans", shape.scans, "Share of refused scans (default 0.096)")->type_name("F");
  gen->add_option("--scanners", shape.scanners,
                  "Scanner addresses per account (default 0: the account's external hosts)")
      ->type_name("N");
  gen->add_option("--peers", shape.peers,
                  "Peers per interface (default 0: any host of the account, Zipf)")
      ->type_name("N");
  gen->add_option("--port-skew", shape.port_skew,
                  "Zipf exponent of the service ports (default 1.1)")
      ->type_name("F");
  gen->add_option("--ephemeral-min", shape.ephemeral_min,
                  "Lowest client port (default 32768; AWS's clients use 1024-65535)")
      ->type_name("PORT");
  gen->add_option("--stamp-minutes", shape.stamp_minutes,
                  "One object per flow log every N minutes (default 5)")
      ->type_name("N");
  gen->add_option("--gzip-level", shape.gzip_level, "gzip level of text objects (default 1)")
      ->type_name("N");
  gen->add_option("--interface-runs", shape.interface_runs,
                  "Chance that an event is on the previous event's interface (default 0)")
      ->type_name("F");
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
