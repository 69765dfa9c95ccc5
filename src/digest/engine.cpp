// RunDigest: plan, read objects on worker threads, aggregate, merge, order.
//
// Each worker claims the next object (an atomic index), appends its records to its own
// RecordBatch and merges that into the shared DigestTable only when the whole object was read:
// a skipped object contributes no rows and none of its line or byte counts (DESIGN.md "Digest
// rules"). A batch that fills its share of the memory limit is written as a pending run, which
// joins the aggregation with its object or is deleted with it. Bad content is skipped; a failed
// read fails the run (see RunDigest in digest.hpp).
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "common/gzip_reader.hpp"
#include "common/read_ahead_stream.hpp"
#include "common/run_on_threads.hpp"
#include "digest/aggregation.hpp"
#include "digest/digest_table.hpp"
#include "digest/spill.hpp"
#include "flowlog/format.hpp"
#include "flowlog/line_parser.hpp"
#include "flowlog/object_key.hpp"
#include "flowlog/parquet_flow_reader.hpp"
#include "flowlog/planner.hpp"
#include "vpcflow/digest.hpp"

namespace vpcflow {
namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// The threads a digest uses: DigestOptions::threads, 0 meaning one a core.
size_t DigestThreads(const DigestOptions& options) {
  return options.threads > 0 ? static_cast<size_t>(options.threads)
                             : std::max(1u, std::thread::hardware_concurrency());
}

// Objects hinted to the source each time a worker claims one.
constexpr size_t kPrefetchAhead = 32;
// Lines between checks of the stop token inside an object.
constexpr uint32_t kStopCheckLines = 1 << 14;
constexpr auto kProgressInterval = std::chrono::milliseconds(100);

// What one worker accumulated over the objects it read completely.
struct WorkerTotals {
  std::array<uint64_t, kLineOutcomeCount> lines{};
  uint64_t objects_read = 0;
  uint64_t objects_parquet = 0;
  uint64_t bytes_compressed = 0;
  uint64_t bytes_uncompressed = 0;
  std::vector<ObjectProblem> problems;
};

// Serialised, throttled progress reports.
class ProgressReporter {
 public:
  ProgressReporter(const DigestOptions& options, const std::vector<ObjectInfo>& objects)
      : fn_(options.on_progress), objects_total_(objects.size()) {
    for (const ObjectInfo& o : objects) bytes_total_ += o.size;
  }

  void ObjectDone(uint64_t size) {
    const uint64_t objects = objects_done_.fetch_add(1) + 1;
    const uint64_t bytes = bytes_done_.fetch_add(size) + size;
    if (!fn_) return;
    std::unique_lock lock(mu_, std::try_to_lock);
    if (!lock.owns_lock()) return;
    const auto now = Clock::now();
    if (now - last_ < kProgressInterval) return;
    last_ = now;
    fn_({objects, objects_total_, bytes, bytes_total_});
  }

  void Final() {
    if (!fn_) return;
    std::lock_guard lock(mu_);
    fn_({objects_done_.load(), objects_total_, bytes_done_.load(), bytes_total_});
  }

 private:
  const std::function<void(const DigestProgress&)>& fn_;
  const uint64_t objects_total_;
  uint64_t bytes_total_ = 0;
  std::atomic<uint64_t> objects_done_{0};
  std::atomic<uint64_t> bytes_done_{0};
  std::mutex mu_;
  Clock::time_point last_{};
};

bool IsParquet(std::string_view key) {
  const std::optional<FlowLogKey> parsed = ParseFlowLogKey(key);
  return parsed && parsed->kind == ObjectKind::kParquet;
}

// Remembers the error of the source's reader, so that a failed read (the object could not be
// read: the run fails) is told apart from bad content found by the decoder (skipped).
class ReadErrorRecorder final : public ObjectReader {
 public:
  explicit ReadErrorRecorder(ObjectReader* reader) : reader_(reader) {}
  Result<size_t> Read(std::span<char> buffer) override {
    Result<size_t> n = reader_->Read(buffer);
    if (!n.ok() && error_.ok()) error_ = n.status();
    return n;
  }
  std::optional<std::string_view> TakeInMemory() override { return reader_->TakeInMemory(); }
  const Status& error() const { return error_; }

 private:
  ObjectReader* reader_;
  Status error_;
};

// The same for a Parquet object, which the reader opens and reads by ranges through the source:
// the first error of the source (opening, or a ranged read) is remembered. A range past the end
// of the object (InvalidArgument) is the file's own fault (a size in it lies), not the source's.
class SourceErrorRecorder final : public ObjectSourceWrapper {
 public:
  explicit SourceErrorRecorder(ObjectSource* source) : ObjectSourceWrapper(source) {}
  Result<ObjectReaderPtr> Open(std::string_view key) override {
    Result<ObjectReaderPtr> opened = target()->Open(key);
    if (!opened.ok()) return Record(opened.status());
    return ObjectReaderPtr(std::make_unique<Reader>(std::move(opened).value(), this));
  }
  Result<RandomAccessObjectPtr> OpenRandomAccess(std::string_view key,
                                                 uint64_t tail_bytes) override {
    Result<RandomAccessObjectPtr> opened = target()->OpenRandomAccess(key, tail_bytes);
    if (!opened.ok()) {
      if (IsUnimplemented(opened.status())) return opened.status();  // read whole instead
      return Record(opened.status());
    }
    return RandomAccessObjectPtr(std::make_unique<Ranges>(std::move(opened).value(), this));
  }
  const Status& error() const { return error_; }

 private:
  class Reader final : public ObjectReader {
   public:
    Reader(ObjectReaderPtr reader, SourceErrorRecorder* recorder)
        : reader_(std::move(reader)), recorder_(recorder) {}
    Result<size_t> Read(std::span<char> buffer) override {
      Result<size_t> n = reader_->Read(buffer);
      if (!n.ok()) return recorder_->Record(n.status());
      return n;
    }
    std::optional<std::string_view> TakeInMemory() override { return reader_->TakeInMemory(); }

   private:
    ObjectReaderPtr reader_;
    SourceErrorRecorder* recorder_;
  };
  class Ranges final : public RandomAccessObject {
   public:
    Ranges(RandomAccessObjectPtr object, SourceErrorRecorder* recorder)
        : object_(std::move(object)), recorder_(recorder) {}
    uint64_t size() const override { return object_->size(); }
    Status ReadAt(uint64_t offset, std::span<char> out) override {
      Status st = object_->ReadAt(offset, out);
      if (!st.ok() && !IsInvalidArgument(st)) return recorder_->Record(st);
      return st;
    }

   private:
    RandomAccessObjectPtr object_;
    SourceErrorRecorder* recorder_;
  };
  Status Record(Status st) {
    if (error_.ok()) error_ = st;
    return st;
  }

  Status error_;
};

class Worker {
 public:
  // `read_ahead`: text objects are decompressed on a helper thread while this one parses (for
  // runs with more cores than objects, which would otherwise leave cores idle).
  Worker(ObjectSource& source, const Window& window, const std::stop_token& stop,
         Aggregation* table, size_t batch_bytes, bool read_ahead)
      : source_(source),
        window_(window),
        stop_(stop),
        table_(table),
        batch_(batch_bytes),
        read_ahead_(read_ahead) {}

  // Reads one object into the shared table. Returns Cancelled when a stop was requested and
  // the error of a failed read (the run fails); bad content and a vanished object are recorded
  // as problems of the object and return OK.
  Status Process(const ObjectInfo& object) {
    std::array<uint64_t, kLineOutcomeCount> lines{};
    uint64_t text_bytes = 0;
    const bool parquet = IsParquet(object.key);
    bool source_error = false;
    Status s = parquet ? ReadParquet(object, lines, text_bytes, source_error)
                       : Read(object, lines, text_bytes, source_error);
    if (!s.ok()) {
      // Nothing of the object remains: neither its records nor its pending runs.
      batch_.Clear();
      table_->DropPendingRuns(pending_);
      if (!spill_error_.ok()) return std::exchange(spill_error_, OkStatus());
      if (s.code() == StatusCode::kCancelled) return s;
      if (!source_error) {
        totals_.problems.push_back({object.key, Reason(s), ProblemKind::kCorrupt});
      } else if (IsNotFound(s)) {
        // Deleted between the listing and now: there is nothing to read, and a retry would
        // not find it either.
        totals_.problems.push_back({object.key, "deleted since it was listed (" + s.message() + ")",
                                    ProblemKind::kVanished});
      } else {
        return s.WithContext("reading " + object.key);
      }
      return OkStatus();
    }
    VPCFLOW_RETURN_IF_ERROR(table_->Merge(batch_, pending_));
    for (size_t i = 0; i < kLineOutcomeCount; ++i) totals_.lines[i] += lines[i];
    ++totals_.objects_read;
    totals_.objects_parquet += parquet ? 1 : 0;
    totals_.bytes_compressed += object.size;
    totals_.bytes_uncompressed += text_bytes;
    return OkStatus();
  }

  WorkerTotals& totals() { return totals_; }

 private:
  static std::string Reason(const Status& s) {
    if (s.code() == StatusCode::kDataLoss) return s.message();
    return s.ToString();
  }

  // Reads one object into batch_. `source_error` tells whether a failure came
  // from the source (opening or reading) rather than from the content.
  Status Read(const ObjectInfo& object, std::array<uint64_t, kLineOutcomeCount>& lines,
              uint64_t& text_bytes, bool& source_error) {
    Result<ObjectReaderPtr> opened = source_.Open(object.key);
    if (!opened.ok()) {
      source_error = true;
      return opened.status().WithContext("open");
    }
    ReadErrorRecorder reader(opened->get());
    const std::optional<FlowLogKey> key = ParseFlowLogKey(object.key);
    const bool gzip = key ? key->kind == ObjectKind::kGzipText : object.key.ends_with(".gz");
    std::unique_ptr<TextStream> stream =
        gzip ? NewGzipTextStream(&reader) : NewPlainTextStream(&reader);
    if (read_ahead_) stream = NewReadAheadTextStream(std::move(stream));
    LineReader line_reader(stream.get());

    std::string_view line;
    std::optional<FlowFormat> header;
    const FlowFormat* format = &FlowFormat::Default();
    uint32_t until_stop_check = kStopCheckLines;
    FlowRecord record;
    bool first = true;
    while (line_reader.Next(&line)) {
      if (first) {
        first = false;
        header = FlowFormat::FromHeader(line);
        if (header) {
          format = &*header;
          ++lines[static_cast<size_t>(LineOutcome::kHeader)];
          continue;
        }
      }
      if (--until_stop_check == 0) {
        if (stop_.stop_requested()) return CancelledError("digest cancelled");
        until_stop_check = kStopCheckLines;
      }
      ++lines[Keep(ParseFlowLine(*format, line, &record), record)];
      if (batch_.full()) [[unlikely]]
        VPCFLOW_RETURN_IF_ERROR(WritePendingRun());
    }
    if (!line_reader.status().ok()) {
      // The decoder passes the reader's error on as it is: report the source's own.
      source_error = !reader.error().ok();
      return source_error ? reader.error() : line_reader.status();
    }
    text_bytes = line_reader.text_bytes();
    return OkStatus();
  }

  // A Parquet object: each row is judged as a line would be (parquet_flow_reader.hpp).
  // `source_error` as for Read.
  Status ReadParquet(const ObjectInfo& object, std::array<uint64_t, kLineOutcomeCount>& lines,
                     uint64_t& text_bytes, bool& source_error) {
    SourceErrorRecorder source(&source_);
    Status st = ReadParquetRows(source, object, lines, text_bytes);
    if (!st.ok() && !source.error().ok()) {
      source_error = true;
      return source.error();
    }
    return st;
  }
  Status ReadParquetRows(ObjectSource& source, const ObjectInfo& object,
                         std::array<uint64_t, kLineOutcomeCount>& lines, uint64_t& text_bytes) {
    Result<std::unique_ptr<ParquetFlowReader>> reader = ParquetFlowReader::Open(source, object.key);
    if (!reader.ok()) return reader.status().WithContext("open");
    records_.resize(ParquetFlowReader::kMaxBatch);
    outcomes_.resize(ParquetFlowReader::kMaxBatch);
    for (;;) {
      if (stop_.stop_requested()) return CancelledError("digest cancelled");
      VPCFLOW_ASSIGN_OR_RETURN(const size_t n, (*reader)->Next(records_, outcomes_));
      if (n == 0) break;
      for (size_t i = 0; i < n; ++i) {
        ++lines[Keep(outcomes_[i], records_[i])];
        if (batch_.full()) [[unlikely]]
          VPCFLOW_RETURN_IF_ERROR(WritePendingRun());
      }
    }
    text_bytes = (*reader)->decompressed_bytes();
    return OkStatus();
  }

  // The batch is full: it goes to a pending run of the object. A failure is the spill
  // directory's (the run fails), told apart from the object's own by spill_error_.
  Status WritePendingRun() {
    spill_error_ = table_->WritePendingRun(batch_, pending_);
    return spill_error_;
  }

  // Digest rules 4 and 5: a valid record that overlaps the window is aggregated with its
  // ephemeral port folded (equal ports fold the source). Returns the line's final outcome.
  size_t Keep(LineOutcome outcome, FlowRecord& record) {
    if (outcome == LineOutcome::kUsed) {
      if (record.end >= window_.start && record.start < window_.stop) {
        if (record.srcport < record.dstport) {
          record.dstport = 0;
        } else {
          record.srcport = 0;
        }
        batch_.Add(record);
      } else {
        outcome = LineOutcome::kOutsideWindow;
      }
    }
    return static_cast<size_t>(outcome);
  }

  ObjectSource& source_;
  const Window window_;
  const std::stop_token& stop_;
  Aggregation* table_;
  RecordBatch batch_;
  const bool read_ahead_;
  std::vector<PendingRun> pending_;  // the pending runs of the object being read
  Status spill_error_;               // WritePendingRun's failure, for Process
  WorkerTotals totals_;
  std::vector<FlowRecord> records_;  // Parquet batches
  std::vector<LineOutcome> outcomes_;
};

// Hints the objects after `i` to the source. Parquet objects are left out: they are read by
// ranges (footer, then only the needed columns), not downloaded whole ahead of time.
void HintUpcoming(ObjectSource& source, const std::vector<ObjectInfo>& objects, size_t i) {
  std::vector<ObjectInfo> upcoming;
  for (size_t j = i + 1; j < objects.size() && j <= i + kPrefetchAhead; ++j) {
    if (!IsParquet(objects[j].key)) upcoming.push_back(objects[j]);
  }
  if (!upcoming.empty()) source.Prefetch(upcoming);
}

void AddPlan(const ObjectPlan& plan, DigestSummary& summary) {
  summary.objects_listed = plan.listed;
  summary.objects_ignored = plan.ignored;
  summary.objects_out_of_range = plan.out_of_range;
  summary.objects_empty = plan.empty;
  summary.list_requests = plan.list_requests;
}

}  // namespace

Aggregation::Aggregation(const DigestOptions& options)
    : options_(options),
      limit_(std::max(options.memory_limit, kMinMemoryLimit)),
      threshold_(limit_ / 2),
      table_(std::make_unique<DigestTable>()) {}

Aggregation::~Aggregation() = default;

size_t Aggregation::BatchBytes(size_t workers) const {
  return std::max<size_t>(limit_ / 4 / std::max<size_t>(1, workers), kMinBatchBytes);
}

void Aggregation::NotePeak(const RecordBatch& batch) {
  const size_t bytes = batch.memory_bytes();
  size_t peak = peak_batch_bytes_.load(std::memory_order_relaxed);
  while (bytes > peak && !peak_batch_bytes_.compare_exchange_weak(peak, bytes)) {
  }
}

Status Aggregation::Merge(RecordBatch& batch, std::vector<PendingRun>& pending) {
  NotePeak(batch);
  Status st = MergeBatch(batch);
  if (pending.empty()) return st;
  if (!st.ok()) {
    DropPendingRuns(pending);
    return st;
  }
  // The object's pending runs are read back into the table through the emptied batch (so
  // within the same share) when the table has never spilled and would stay below the spill
  // threshold with all their rows as new rows: the digest then stays in memory. Otherwise they
  // join the runs as they are (sorted and combined already: merged into a table that spills,
  // they would only be sorted and written again).
  uint64_t rows = 0;
  for (const PendingRun& run : pending) rows += run.rows;
  bool read_back;
  {
    std::shared_lock lock(mu_);
    read_back = failed_.ok() && runs_.empty() &&
                table_->memory_bytes() + rows * kReadBackRowBytes < threshold_;
  }
  if (read_back) {
    for (const PendingRun& run : pending) {
      st = MergePendingRun(run.path, batch);
      if (!st.ok()) break;
    }
    DropPendingRuns(pending);  // read back (or the run fails): their files go
    return st;
  }
  std::unique_lock lock(mu_);
  if (!failed_.ok()) {
    DropPendingRuns(pending);
    return failed_;
  }
  for (PendingRun& run : pending) runs_.push_back(std::move(run.path));
  pending.clear();
  return OkStatus();
}

Status Aggregation::MergePendingRun(const std::string& path, RecordBatch& batch) {
  VPCFLOW_ASSIGN_OR_RETURN(std::unique_ptr<PartialReader> run,
                           OpenRunFile(path, PartialKind::kKeyed));
  Status st;
  KeyedRow row;
  for (;;) {
    Result<bool> more = run->Next(&row);
    if (!more.ok()) {
      st = more.status();
      break;
    }
    if (*more) {
      batch.AddEntry(row.account, row.interface, DigestEntry{row.key, row.value});
      if (!batch.full()) continue;
    }
    // Every merge checks the stop first, the run's last one too: a run holds at most one batch,
    // so that one is often its only merge, and a stop then does not wait for every run.
    st = options_.stop.stop_requested() ? CancelledError("digest cancelled") : MergeBatch(batch);
    if (!st.ok() || !*more) break;
  }
  batch.Clear();  // empty after a merge; what an error left is dropped
  return st;
}

Status Aggregation::MergeBatch(RecordBatch& batch) {
  {
    std::shared_lock lock(mu_);
    // A failed spill leaves the table without its index: nothing may be added to it.
    if (!failed_.ok()) return failed_;
    table_->Merge(batch);
    if (table_->memory_bytes() < threshold_) return OkStatus();
  }
  std::unique_lock lock(mu_);
  if (!failed_.ok()) return failed_;
  if (table_->memory_bytes() < threshold_ || table_->rows_added() == 0) return OkStatus();
  failed_ = Spill();
  return failed_;
}

Status Aggregation::WritePendingRun(RecordBatch& batch, std::vector<PendingRun>& pending) {
  NotePeak(batch);
  std::shared_ptr<SpillDir> dir;
  {
    std::unique_lock lock(mu_);
    Status st = failed_.ok() ? MakeSpillDir() : failed_;
    if (!st.ok()) {
      batch.Clear();
      return st;
    }
    dir = dir_;
  }
  uint64_t rows = 0;
  Result<std::string> path = WriteKeyedRunFile(
      *dir,
      [&batch, &rows](PartialWriter& writer) {
        return batch.DrainInKeyOrder([&writer, &rows](std::string_view account,
                                                      std::string_view interface,
                                                      const DigestEntry& e) {
          ++rows;
          return writer.Add(KeyedRow{account, interface, e.key, e.value});
        });
      },
      DigestSummary{});
  batch.Clear();  // also when the file could not even be made
  if (!path.ok()) return path.status();
  pending.push_back(PendingRun{std::move(path).value(), rows});
  pending_runs_written_.fetch_add(1, std::memory_order_relaxed);
  return OkStatus();
}

void Aggregation::DropPendingRuns(std::vector<PendingRun>& pending) {
  for (const PendingRun& run : pending) ::unlink(run.path.c_str());
  pending.clear();
}

Status Aggregation::MakeSpillDir() {
  if (dir_) return OkStatus();
  VPCFLOW_ASSIGN_OR_RETURN(dir_, SpillDir::Create(options_.spill_dir));
  if (options_.on_spill_dir) options_.on_spill_dir(dir_->path());
  return OkStatus();
}

Status Aggregation::Spill() {
  VPCFLOW_RETURN_IF_ERROR(MakeSpillDir());
  DigestTable& t = *table_;
  VPCFLOW_ASSIGN_OR_RETURN(
      std::string path,
      WriteKeyedRunFile(
          *dir_, [&t](PartialWriter& writer) { return WriteRows(t, writer); }, DigestSummary{}));
  runs_.push_back(std::move(path));
  table_.reset();  // its memory goes before the next table takes any
  table_ = std::make_unique<DigestTable>();
  return OkStatus();
}

Status Aggregation::WriteRows(DigestTable& table, PartialWriter& writer) {
  return table.ForEachInKeyOrder([&](const DigestEntry& e) {
    return writer.Add(
        KeyedRow{table.account_id(e.key.owner), table.interface_id(e.key.owner), e.key, e.value});
  });
}

Result<std::vector<std::unique_ptr<PartialReader>>> Aggregation::OpenRuns() {
  if (table_->rows_added() > 0) VPCFLOW_RETURN_IF_ERROR(Spill());
  table_.reset();
  std::vector<std::unique_ptr<PartialReader>> readers;
  for (const std::string& path : runs_) {
    VPCFLOW_ASSIGN_OR_RETURN(auto reader, OpenRunFile(path, PartialKind::kKeyed));
    readers.push_back(std::move(reader));
  }
  return readers;
}

Result<Digest> Aggregation::Finish() {
  if (runs_.empty()) {
    table_->Finish(static_cast<int>(DigestThreads(options_)));
    return Digest(std::move(table_));
  }
  VPCFLOW_ASSIGN_OR_RETURN(auto readers, OpenRuns());
  VPCFLOW_ASSIGN_OR_RETURN(MergedRuns merged,
                           MergeKeyedRuns(std::move(readers), dir_, limit_, options_.stop));
  return std::move(merged.digest);
}

Result<uint64_t> Aggregation::WritePartial(ByteSink& out, const DigestSummary& summary) {
  PartialWriter writer(out, PartialKind::kKeyed);
  DigestSummary with_keys = summary;
  if (runs_.empty()) {
    with_keys.keys = table_->rows_added();
    VPCFLOW_RETURN_IF_ERROR(WriteRows(*table_, writer));
    VPCFLOW_RETURN_IF_ERROR(writer.Finish(with_keys));
    return writer.rows();
  }
  VPCFLOW_ASSIGN_OR_RETURN(auto readers, OpenRuns());
  KeyedMerge merge(std::move(readers));
  KeyedRow row;
  for (;;) {
    VPCFLOW_ASSIGN_OR_RETURN(const bool more, merge.Next(&row));
    if (!more) break;
    VPCFLOW_RETURN_IF_ERROR(writer.Add(row));
  }
  with_keys.keys = writer.rows();
  VPCFLOW_RETURN_IF_ERROR(writer.Finish(with_keys));
  return writer.rows();
}

namespace {

// Gives the heap's free pages back to the system once reading ends: the readers' freed memory
// (per object: Parquet's pages, dictionaries and caches) would otherwise be held through the
// output, whose buffers are the run's peak (a Parquet digest's peak RSS was ~1 MB over its text
// twin's). Not under ASan, whose allocator replaces glibc's: glibc's malloc_trim there sets up
// its unused arenas from the calling thread, which glibc then asserts on at thread exit.
void TrimHeap() {
#if !defined(__SANITIZE_ADDRESS__)
  malloc_trim(0);
#endif
}

}  // namespace

Result<std::unique_ptr<Aggregation>> ReadObjects(ObjectSource& source, const Window& window,
                                                 const std::vector<ObjectInfo>& objects,
                                                 const DigestOptions& options,
                                                 DigestSummary* summary) {
  const auto t_read = Clock::now();
  auto table = std::make_unique<Aggregation>(options);
  const size_t wanted = DigestThreads(options);
  const size_t threads = std::max<size_t>(1, std::min(wanted, objects.size()));
  // With fewer objects than threads, the spare cores decompress ahead of the workers.
  const bool read_ahead = objects.size() < wanted;

  ProgressReporter progress(options, objects);
  std::atomic<size_t> next{0};
  std::atomic<bool> cancelled{false};  // stop requested, or a read failed
  std::mutex failure_mu;
  Status failure;  // the first failed read
  std::vector<std::unique_ptr<Worker>> workers;
  const size_t batch_bytes = table->BatchBytes(threads);
  for (size_t i = 0; i < threads; ++i) {
    workers.push_back(std::make_unique<Worker>(source, window, options.stop, table.get(),
                                               batch_bytes, read_ahead));
  }
  auto read = [&](Worker& worker) {
    for (;;) {
      if (cancelled.load(std::memory_order_relaxed)) return;
      const size_t i = next.fetch_add(1);
      if (i >= objects.size()) return;
      if (options.stop.stop_requested()) {
        cancelled = true;
        return;
      }
      HintUpcoming(source, objects, i);
      if (Status st = worker.Process(objects[i]); !st.ok()) {
        if (st.code() != StatusCode::kCancelled) {
          std::lock_guard lock(failure_mu);
          if (failure.ok()) failure = std::move(st);
        }
        cancelled = true;
        return;
      }
      progress.ObjectDone(objects[i].size);
    }
  };
  // A thread done reading frees what its Parquet readers kept for the next ones.
  auto work = [&](Worker& worker) {
    read(worker);
    ParquetFlowReader::ReleaseThreadBuffers();
  };
  RunOnThreads(threads, [&](size_t i) { work(*workers[i]); });
  if (!failure.ok()) return failure;
  if (cancelled) return CancelledError("digest cancelled");
  progress.Final();

  for (auto& worker : workers) {
    WorkerTotals& t = worker->totals();
    for (size_t i = 0; i < kLineOutcomeCount; ++i) summary->lines[i] += t.lines[i];
    summary->objects_read += t.objects_read;
    summary->objects_parquet += t.objects_parquet;
    summary->bytes_compressed += t.bytes_compressed;
    summary->bytes_uncompressed += t.bytes_uncompressed;
    for (ObjectProblem& p : t.problems) {
      if (p.kind == ProblemKind::kCorrupt) ++summary->objects_failed;
      if (p.kind == ProblemKind::kVanished) ++summary->objects_vanished;
      summary->problems.push_back(std::move(p));
    }
  }
  workers.clear();  // their batches and buffers
  TrimHeap();
  std::sort(summary->problems.begin(), summary->problems.end(),
            [](const ObjectProblem& a, const ObjectProblem& b) { return a.key < b.key; });
  summary->read_seconds = SecondsSince(t_read);
  return table;
}

Result<DigestRun> RunDigest(ObjectSource& source, const Window& window,
                            const DigestOptions& options) {
  const auto t0 = Clock::now();
  if (window.start >= window.stop) {
    return InvalidArgumentError("the window's start must be before its stop");
  }
  if (options.stop.stop_requested()) return CancelledError("digest cancelled");

  DigestSummary summary;
  summary.window = window;
  Result<ObjectPlan> plan = PlanObjects(source, window, options.scan);
  if (!plan.ok()) return plan.status().WithContext("listing " + source.Describe());
  AddPlan(*plan, summary);
  summary.problems = std::move(plan->problems);
  summary.objects_not_files = summary.problems.size();
  summary.list_seconds = SecondsSince(t0);

  VPCFLOW_ASSIGN_OR_RETURN(std::unique_ptr<Aggregation> table,
                           ReadObjects(source, window, plan->objects, options, &summary));
  VPCFLOW_ASSIGN_OR_RETURN(Digest digest, table->Finish());
  summary.keys = digest.size();
  summary.total_seconds = SecondsSince(t0);
  return DigestRun{std::move(digest), std::move(summary)};
}

}  // namespace vpcflow
