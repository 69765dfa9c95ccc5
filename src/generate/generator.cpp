#include "generate/generator.hpp"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

#include "common/civil_time.hpp"
#include "generate/layout.hpp"
#include "generate/object_writer.hpp"
#include "generate/parquet_convert.hpp"
#include "generate/random.hpp"
#include "generate/traffic_model.hpp"
#include "vpcflow/byte_sink.hpp"

namespace vpcflow {
namespace {

using generate::Account;
using generate::BuildCorpus;
using generate::Corpus;
using generate::FileName;
using generate::FlowLog;
using generate::Mix;
using generate::ObjectDir;
using generate::Rng;
using generate::TextBuffer;
using generate::WriteObjectText;

namespace fs = std::filesystem;

// One object to write.
struct ObjectSpec {
  uint32_t flow_log = 0;
  int64_t stamp = 0;
};

// Writes `bytes` to `path` through a temporary name, gzipped at `gzip_level` unless it is 0.
Status WriteFileAtomically(const fs::path& path, std::string_view bytes, int gzip_level,
                           uint64_t* written) {
  fs::path tmp = path.parent_path() / ("." + path.filename().string() + ".tmp");
  {
    VPCFLOW_ASSIGN_OR_RETURN(ByteSinkPtr file, NewFileSink(tmp.string()));
    ByteSinkPtr sink = gzip_level > 0 ? NewGzipSink(std::move(file), gzip_level) : std::move(file);
    Status st = sink->Append(bytes);
    if (st.ok()) st = sink->Close();
    if (!st.ok()) {
      std::error_code ec;
      fs::remove(tmp, ec);
      return st;
    }
  }
  std::error_code ec;
  *written = fs::file_size(tmp, ec);
  if (!ec) fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    return UnavailableError("cannot write " + path.string() + ": " + ec.message());
  }
  return OkStatus();
}

}  // namespace

Result<GenerateLayout> ParseGenerateLayout(std::string_view name) {
  if (name == "daily") return GenerateLayout::kDaily;
  if (name == "hourly") return GenerateLayout::kHourly;
  if (name == "hive") return GenerateLayout::kHive;
  return InvalidArgumentError("unknown layout \"" + std::string(name) +
                              "\" (expected daily, hourly or hive)");
}

Result<GenerateFormat> ParseGenerateFormat(std::string_view name) {
  if (name == "text") return GenerateFormat::kText;
  if (name == "parquet") return GenerateFormat::kParquet;
  return InvalidArgumentError("unknown format \"" + std::string(name) +
                              "\" (expected text or parquet)");
}

Result<parquet::Codec> ParseParquetCodec(std::string_view name) {
  if (name == "gzip") return parquet::Codec::kGzip;
  if (name == "snappy") return parquet::Codec::kSnappy;
  if (name == "zstd") return parquet::Codec::kZstd;
  if (name == "none") return parquet::Codec::kUncompressed;
  return InvalidArgumentError("unknown codec \"" + std::string(name) +
                              "\" (expected gzip, snappy, zstd or none)");
}

Result<GenerateReport> GenerateCorpus(const GenerateOptions& options) {
  if (!(options.size_mb > 0) || options.size_mb > 1e6) {
    return InvalidArgumentError("size must be above 0 MB (and at most 1 TB)");
  }
  if (options.accounts < 1 || options.accounts > 10000) {
    return InvalidArgumentError("accounts must be between 1 and 10000");
  }
  if (options.hosts < 2 || options.hosts > 20000000) {
    return InvalidArgumentError("hosts must be between 2 and 20000000");
  }
  if (options.window.start >= options.window.stop) {
    return InvalidArgumentError("the window is empty (start must be before stop)");
  }
  if (options.out_dir.empty()) return InvalidArgumentError("no output directory");
  const GenerateShape& shape = options.shape;
  if (shape.regions_per_account < 1 || shape.regions_per_account > 10 ||
      shape.flow_logs_per_region < 0 || shape.flow_logs_per_region > 4) {
    return InvalidArgumentError("regions per account must be 1..10, flow logs per region 0..4");
  }
  if (shape.interfaces < 0 || shape.scanners < 0 || shape.peers < 0 ||
      !(shape.port_skew > 0 && shape.port_skew <= 10) || !(shape.ipv6 >= 0 && shape.ipv6 <= 1) ||
      !(shape.nodata >= 0 && shape.scans >= 0 && shape.nodata + shape.scans <= 1) ||
      !(shape.interface_runs >= 0 && shape.interface_runs < 1)) {
    return InvalidArgumentError(
        "interfaces, scanners and peers must be >= 0, the port skew in (0, 10], the IPv6, NODATA "
        "and scan shares in 0..1 (summing to <= 1), the interface runs in [0, 1)");
  }
  if (shape.ephemeral_min < 1 || shape.ephemeral_min > 65535 || shape.stamp_minutes < 1 ||
      shape.stamp_minutes > 60 || shape.gzip_level < 1 || shape.gzip_level > 9) {
    return InvalidArgumentError(
        "ephemeral ports must start in 1..65535, stamp minutes be 1..60, gzip level 1..9");
  }
  const int64_t stamp_seconds = 60LL * shape.stamp_minutes;

  const Corpus corpus = BuildCorpus(options);
  std::vector<ObjectSpec> specs;
  for (int64_t t = FloorTo(options.window.start, stamp_seconds); t < options.window.stop;
       t += stamp_seconds) {
    for (uint32_t f = 0; f < corpus.flow_logs.size(); ++f) specs.push_back({f, t});
  }
  const double bytes_per_object = options.size_mb * 1e6 / static_cast<double>(specs.size());

  // Directories first (single-threaded), then the objects on the worker threads.
  std::vector<std::string> dirs(specs.size());
  {
    std::string last;
    for (size_t i = 0; i < specs.size(); ++i) {
      const FlowLog& fl = corpus.flow_logs[specs[i].flow_log];
      dirs[i] = ObjectDir(options, corpus.accounts[fl.account], fl, specs[i].stamp);
      if (dirs[i] == last) continue;
      last = dirs[i];
      std::error_code ec;
      fs::create_directories(fs::path(options.out_dir) / dirs[i], ec);
      if (ec) {
        return UnavailableError("cannot create " + (fs::path(options.out_dir) / dirs[i]).string() +
                                ": " + ec.message());
      }
    }
  }

  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mu;
  Status first_error;
  GenerateReport total;
  auto work = [&] {
    GenerateReport mine;
    TextBuffer text;
    while (!failed.load(std::memory_order_relaxed)) {
      size_t i = next.fetch_add(1);
      if (i >= specs.size()) break;
      const ObjectSpec& spec = specs[i];
      const FlowLog& fl = corpus.flow_logs[spec.flow_log];
      const Account& account = corpus.accounts[fl.account];
      Rng rng(Mix(options.seed, 0x6f626a00 + i));
      text.Clear();
      mine.records += WriteObjectText(account, fl, shape, spec.stamp,
                                      static_cast<size_t>(bytes_per_object), rng, text);
      uint64_t compressed = 0;
      fs::path path = fs::path(options.out_dir) / dirs[i] /
                      FileName(account, fl, spec.stamp, rng.Next() & 0xffffffff, options.format);
      Status st;
      if (options.format == GenerateFormat::kParquet) {
        Result<std::string> parquet =
            FlowLogTextToParquet(text.view(), {.codec = options.parquet_codec});
        st = parquet.ok() ? WriteFileAtomically(path, *parquet, /*gzip_level=*/0, &compressed)
                          : parquet.status();
      } else {
        st = WriteFileAtomically(path, text.view(), shape.gzip_level, &compressed);
      }
      if (!st.ok()) {
        std::lock_guard lock(mu);
        if (first_error.ok()) first_error = st;
        failed = true;
        break;
      }
      mine.objects++;
      mine.bytes_uncompressed += text.size();
      mine.bytes_compressed += compressed;
    }
    std::lock_guard lock(mu);
    total.objects += mine.objects;
    total.records += mine.records;
    total.bytes_uncompressed += mine.bytes_uncompressed;
    total.bytes_compressed += mine.bytes_compressed;
  };
  int threads = options.threads > 0
                    ? options.threads
                    : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  threads = static_cast<int>(std::min<size_t>(threads, specs.size()));
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  if (!first_error.ok()) return first_error;
  return total;
}

}  // namespace vpcflow
