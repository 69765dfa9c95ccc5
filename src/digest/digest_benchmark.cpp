// Micro-benchmarks of the digest engine: aggregation at low and high cardinality, encoding, and
// a whole run over a small generated corpus (handy under callgrind).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <vector>

#include "digest/digest_table.hpp"
#include "digest/test_records.hpp"
#include "generate/generator.hpp"
#include "vpcflow/digest.hpp"

namespace vpcflow {
namespace {

using testing_records::Rec;
using testing_records::ToFlowRecord;

// `count` records over `keys` distinct conversations, in random order, as FlowRecords whose
// views point into `storage`.
std::vector<FlowRecord> MakeRecords(size_t count, size_t keys, std::vector<Rec>& storage) {
  std::mt19937_64 rng(42);
  storage.clear();
  storage.reserve(keys);
  for (size_t k = 0; k < keys; ++k) {
    Rec r;
    r.interface = "eni-" + std::to_string(k % 500);
    r.src = "10." + std::to_string(k >> 16 & 255) + "." + std::to_string(k >> 8 & 255) + "." +
            std::to_string(k & 255);
    r.dst = (k % 3 == 0) ? "2001:db8::" + std::to_string(k % 1000) : "172.16.0.1";
    r.dstport = static_cast<uint16_t>(k % 7);
    r.bytes = rng() % 100000;
    storage.push_back(r);
  }
  std::vector<FlowRecord> records;
  records.reserve(count);
  for (size_t i = 0; i < count; ++i) records.push_back(ToFlowRecord(storage[rng() % keys]));
  return records;
}

// Aggregation as the engine does it: records into a batch, merged every `per_object` records.
void BM_Aggregate(benchmark::State& state) {
  const size_t keys = static_cast<size_t>(state.range(0));
  constexpr size_t kRecords = 1 << 21;
  constexpr size_t kPerObject = 10000;
  std::vector<Rec> storage;
  const std::vector<FlowRecord> records = MakeRecords(kRecords, keys, storage);
  for (auto _ : state) {
    DigestTable table;
    RecordBatch partial;
    for (size_t i = 0; i < records.size(); ++i) {
      partial.Add(records[i]);
      if ((i + 1) % kPerObject == 0) table.Merge(partial);
    }
    table.Merge(partial);
    table.Finish();
    benchmark::DoNotOptimize(table.size());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kRecords));
}
BENCHMARK(BM_Aggregate)->Arg(1000)->Arg(100000)->Arg(1500000)->Unit(benchmark::kMillisecond);

// A record of issue 14's high corpus's shape: 95% of the sources IPv4, destinations IPv4, one
// service port, bytes at random.
FlowRecord HighShapedRecord(std::mt19937_64& rng, std::string_view account,
                            std::string_view interface) {
  FlowRecord f;
  f.account_id = account;
  f.interface_id = interface;
  const uint64_t r = rng();
  if (r % 20 == 0) {
    for (uint8_t& b : f.srcaddr.bytes) b = static_cast<uint8_t>(rng());
  } else {
    const auto a = static_cast<uint32_t>(r >> 8);
    std::memcpy(f.srcaddr.bytes.data(), &a, 4);
    f.srcaddr.v4 = true;
  }
  const auto d = static_cast<uint32_t>(rng());
  std::memcpy(f.dstaddr.bytes.data(), &d, 4);
  f.dstaddr.v4 = true;
  f.dstport = 443;
  f.protocol = 6;
  f.action = Action::kAccept;
  f.packets = 1;
  f.bytes = r % 100000;
  return f;
}

// The merge alone (DigestTable::Merge of whole objects, the batches filled outside the timing),
// shaped like issue 14's high corpus: objects of ~8.5 k records of one account and ~700
// interfaces, 4.5 records a key at random, 95% IPv4. Arg: distinct keys (400 k: the index fits
// the L3 cache; 1.9 M: high's, its index of 32 MB and rows of 124 MB do not).
void BM_Merge(benchmark::State& state) {
  const size_t keys = static_cast<size_t>(state.range(0));
  constexpr size_t kPerObject = 8500;
  constexpr size_t kInterfaces = 700;
  const size_t records = keys * 9 / 2;
  std::mt19937_64 rng(7);
  std::vector<std::string> interfaces;
  for (size_t i = 0; i < kInterfaces; ++i) interfaces.push_back("eni-" + std::to_string(rng()));
  const std::string account = "228571152142";
  std::vector<FlowRecord> table(keys);
  for (FlowRecord& f : table) f = HighShapedRecord(rng, account, interfaces[rng() % kInterfaces]);
  std::vector<uint32_t> picks(records);
  for (uint32_t& p : picks) p = static_cast<uint32_t>(rng() % keys);
  for (auto _ : state) {
    DigestTable digest;
    RecordBatch batch;
    for (size_t i = 0; i < records; i += kPerObject) {
      state.PauseTiming();
      for (size_t j = i; j < std::min(records, i + kPerObject); ++j) batch.Add(table[picks[j]]);
      state.ResumeTiming();
      digest.Merge(batch);
    }
    benchmark::DoNotOptimize(digest.rows_added());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * records));
}
BENCHMARK(BM_Merge)->Arg(400000)->Arg(1900000)->Unit(benchmark::kMillisecond);

// RecordBatch::Add over one object's records as issue 14's high corpus has them (one account,
// ~650 interfaces in random order, so the owner changes on about half the records), read in
// order as the worker hands them over.
void BM_BatchAdd(benchmark::State& state) {
  constexpr size_t kPerObject = 8500;
  constexpr size_t kInterfaces = 650;
  std::mt19937_64 rng(11);
  std::vector<std::string> interfaces;
  for (size_t i = 0; i < kInterfaces; ++i) {
    char text[32];
    std::snprintf(text, sizeof(text), "eni-%017llx",
                  static_cast<unsigned long long>(rng() >> 4));  // 21 bytes
    interfaces.emplace_back(text);
  }
  const std::string account = "228571152142";
  std::vector<FlowRecord> records(kPerObject);
  for (size_t i = 0; i < kPerObject; ++i) {
    // Half the records share the previous record's interface (the two directions of a flow).
    records[i] = HighShapedRecord(
        rng, account, i % 2 == 1 ? records[i - 1].interface_id : interfaces[rng() % kInterfaces]);
  }
  RecordBatch batch;
  for (auto _ : state) {
    for (const FlowRecord& f : records) batch.Add(f);
    benchmark::DoNotOptimize(batch.size());
    batch.Clear();
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kPerObject));
}
BENCHMARK(BM_BatchAdd);

class NullSink final : public ByteSink {
 public:
  Status Append(std::string_view bytes) override {
    bytes_ += bytes.size();
    return OkStatus();
  }
  Status Close() override { return OkStatus(); }
  uint64_t bytes_ = 0;
};

void BM_Encode(benchmark::State& state) {
  const auto format = static_cast<DigestFormat>(state.range(0));
  const size_t rows = static_cast<size_t>(state.range(1));
  std::vector<Rec> storage;
  MakeRecords(0, rows, storage);
  for (size_t i = 0; i < storage.size(); ++i) storage[i].bytes = i % 4000;  // large tie groups
  const Digest digest = testing_records::MakeDigest(storage);
  uint64_t out = 0;
  for (auto _ : state) {
    NullSink sink;
    if (!digest.Encode(format, sink).ok()) state.SkipWithError("encode failed");
    out = sink.bytes_;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * rows));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * out));
}
BENCHMARK(BM_Encode)
    ->Args({static_cast<int>(DigestFormat::kFlowLog), 500000})
    ->Args({static_cast<int>(DigestFormat::kNdjson), 500000})
    ->Args({static_cast<int>(DigestFormat::kCsv), 500000})
    ->Unit(benchmark::kMillisecond);

// A ~30 MB generated corpus, made on first use and removed at exit.
class BenchCorpus {
 public:
  BenchCorpus() {
    dir_ = (std::filesystem::temp_directory_path() /
            ("vpcflow_digest_bench_" + std::to_string(getpid())))
               .string();
    GenerateOptions g;
    g.out_dir = dir_;
    g.window = kWindow;
    g.size_mb = 30;
    g.hosts = 20000;
    ok_ = GenerateCorpus(g).ok();
  }
  ~BenchCorpus() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  bool ok() const { return ok_; }
  const std::string& dir() const { return dir_; }

  static constexpr Window kWindow{1546300800, 1546300800 + 3600};

 private:
  std::string dir_;
  bool ok_ = false;
};

void BM_RunDigest(benchmark::State& state) {
  static const BenchCorpus corpus;
  Result<ObjectSourcePtr> source = NewLocalDirSource(corpus.dir());
  if (!corpus.ok() || !source.ok()) {
    state.SkipWithError("no corpus");
    return;
  }
  DigestOptions options;
  options.threads = static_cast<int>(state.range(0));
  uint64_t bytes = 0;
  for (auto _ : state) {
    Result<DigestRun> run = RunDigest(**source, BenchCorpus::kWindow, options);
    if (!run.ok()) {
      state.SkipWithError("run failed");
      break;
    }
    NullSink sink;
    if (!run->digest.Encode(DigestFormat::kFlowLog, sink).ok()) state.SkipWithError("encode");
    bytes = run->summary.bytes_uncompressed;
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * bytes));
}
BENCHMARK(BM_RunDigest)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace
}  // namespace vpcflow

BENCHMARK_MAIN();
