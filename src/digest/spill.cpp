// The bounded-memory path: spill directory, keyed merge, external sort (spill.hpp).
#include "digest/spill.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "common/errno_status.hpp"
#include "digest/row_format.hpp"

namespace vpcflow {
namespace {

// Buffers of one open run: the read buffer, a stored and a raw block (PartialWriterOptions).
constexpr uint64_t kRunReadBytes = 512 << 10;
constexpr size_t kStopCheckRows = 1 << 16;

}  // namespace

// ---------------------------------------------------------------------------------------------
// SpillDir

namespace {

std::string SpillBase(std::string_view base) {
  if (!base.empty()) return std::string(base);
  const char* tmp = std::getenv("TMPDIR");
  return tmp != nullptr && *tmp != '\0' ? tmp : "/tmp";
}

constexpr std::string_view kSpillPrefix = "vpcflow-spill-";
// The owner file under the name it has while Create locks it.
constexpr std::string_view kOwnerLockingFile = ".owner-locking";
// How long a spill directory without an owner file may stay empty before a sweep takes it for
// one whose creator was killed while creating it.
constexpr std::chrono::seconds kCreationGrace{60};

}  // namespace

Result<std::shared_ptr<SpillDir>> SpillDir::Create(std::string_view base) {
  const std::string dir = SpillBase(base);
  SweepStaleSpillDirs(dir);
  std::string pattern = dir + "/" + std::string(kSpillPrefix) + "XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    return ErrnoStatus("creating a spill directory in " + dir, errno);
  }
  // The owner file is locked under a temporary name and then renamed, so a sweep never finds
  // an owner file that is not locked yet.
  const std::string locking = pattern + "/" + std::string(kOwnerLockingFile);
  const std::string owner = pattern + "/" + std::string(kSpillOwnerFile);
  const int fd = ::open(locking.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
  if (fd < 0 || ::flock(fd, LOCK_EX | LOCK_NB) != 0 ||
      ::rename(locking.c_str(), owner.c_str()) != 0) {
    const int err = errno;
    if (fd >= 0) ::close(fd);
    (void)RemoveSpillDirectory(pattern);
    return ErrnoStatus("creating a spill directory in " + dir, err);
  }
  return std::shared_ptr<SpillDir>(new SpillDir(std::move(pattern), fd));
}

SpillDir::~SpillDir() {
  (void)RemoveSpillDirectory(path_);
  ::close(owner_fd_);
}

namespace {

// Whether the spill directory open as `dir`, which has no owner file, is one whose creator was
// killed between mkdtemp and the rename of its locked owner file: it holds nothing but the
// owner file being locked, and has not changed for kCreationGrace (Create takes microseconds
// there). A directory with any other file (an older version's, which did not lock) is not.
bool IsAbandonedInCreation(int dir, const timespec& now) {
  struct stat st {};
  if (::fstat(dir, &st) != 0 || now.tv_sec - st.st_mtim.tv_sec < kCreationGrace.count()) {
    return false;
  }
  const int again = ::dup(dir);
  if (again < 0) return false;
  DIR* d = ::fdopendir(again);
  if (d == nullptr) {
    ::close(again);
    return false;
  }
  bool only_creation_files = true;
  while (const dirent* e = ::readdir(d)) {
    const std::string_view name = e->d_name;
    if (name != "." && name != ".." && name != kOwnerLockingFile) only_creation_files = false;
  }
  ::closedir(d);
  return only_creation_files;
}

}  // namespace

size_t SweepStaleSpillDirs(std::string_view base) {
  const std::string dir = SpillBase(base);
  timespec now{};
  ::clock_gettime(CLOCK_REALTIME, &now);
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return 0;
  std::vector<std::string> stale;
  while (const dirent* e = ::readdir(d)) {
    const std::string_view name = e->d_name;
    if (!name.starts_with(kSpillPrefix)) continue;
    // O_NOFOLLOW and O_DIRECTORY: a link or a plain file of that name is not ours to remove.
    const int sub =
        ::openat(::dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (sub < 0) continue;
    const int fd =
        ::openat(sub, std::string(kSpillOwnerFile).c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      if (IsAbandonedInCreation(sub, now)) stale.emplace_back(dir + "/" + std::string(name));
      ::close(sub);
      continue;
    }
    ::close(sub);
    if (::flock(fd, LOCK_EX | LOCK_NB) == 0) stale.emplace_back(dir + "/" + std::string(name));
    ::close(fd);  // drops the lock taken just now
  }
  ::closedir(d);
  size_t removed = 0;
  for (const std::string& path : stale) {
    if (RemoveSpillDirectory(path).ok()) ++removed;
  }
  return removed;
}

std::string SpillDir::NewFilePath() {
  return path_ + "/" + std::to_string(next_.fetch_add(1)) + ".run";
}

Status RemoveSpillDirectory(const std::string& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) {
    if (errno == ENOENT) return OkStatus();
    return ErrnoStatus("opening " + dir, errno);
  }
  Status status;
  while (const dirent* e = ::readdir(d)) {
    const std::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    if (::unlinkat(::dirfd(d), e->d_name, 0) != 0 && errno != ENOENT && status.ok()) {
      status = ErrnoStatus("removing " + dir + "/" + std::string(name), errno);
    }
  }
  ::closedir(d);
  if (::rmdir(dir.c_str()) != 0 && errno != ENOENT && status.ok()) {
    status = ErrnoStatus("removing " + dir, errno);
  }
  return status;
}

Result<std::string> WriteKeyedRunFile(SpillDir& dir,
                                      const std::function<Status(PartialWriter&)>& rows,
                                      const DigestSummary& summary) {
  std::string path = dir.NewFilePath();
  VPCFLOW_ASSIGN_OR_RETURN(ByteSinkPtr sink, NewFileSink(path));
  PartialWriter writer(*sink, PartialKind::kKeyed);
  Status st = rows(writer);
  if (st.ok()) st = writer.Finish(summary);
  if (Status closed = sink->Close(); st.ok()) st = closed;
  if (!st.ok()) {
    ::unlink(path.c_str());
    return st.WithContext("spilling to " + dir.path());
  }
  return path;
}

Result<std::unique_ptr<PartialReader>> OpenRunFile(const std::string& path, PartialKind kind) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open " + path, errno);
  return PartialReader::Open(NewFdReader(fd, path), kind);
}

size_t FanInFor(uint64_t memory_limit) {
  return static_cast<size_t>(std::clamp<uint64_t>(memory_limit / 4 / kRunReadBytes, 2, 64));
}

// ---------------------------------------------------------------------------------------------
// KeyedMerge

KeyedMerge::KeyedMerge(std::vector<std::unique_ptr<PartialReader>> runs)
    : runs_(std::move(runs)), current_(runs_.size()) {}

bool KeyedMerge::Greater(size_t a, size_t b) const {
  const int c = CompareRowKeys(current_[a], current_[b]);
  return c != 0 ? c > 0 : a > b;
}

Status KeyedMerge::Advance(size_t run) {
  Result<bool> more = runs_[run]->Next(&current_[run]);
  if (!more.ok()) return more.status().WithContext("partial " + std::to_string(run));
  if (*more) {
    heap_.push_back(run);
    std::push_heap(heap_.begin(), heap_.end(),
                   [this](size_t a, size_t b) { return Greater(a, b); });
  } else {
    AddSummary(summary_, runs_[run]->summary());
  }
  return OkStatus();
}

Result<bool> KeyedMerge::Next(KeyedRow* row) {
  auto greater = [this](size_t a, size_t b) { return Greater(a, b); };
  if (!started_) {
    started_ = true;
    for (size_t i = 0; i < runs_.size(); ++i) VPCFLOW_RETURN_IF_ERROR(Advance(i));
  }
  if (heap_.empty()) return false;
  std::pop_heap(heap_.begin(), heap_.end(), greater);
  const size_t first = heap_.back();
  heap_.pop_back();
  KeyedRow out = current_[first];
  if (out.account != account_) account_.assign(out.account);
  if (out.interface != interface_) interface_.assign(out.interface);
  out.account = account_;
  out.interface = interface_;
  VPCFLOW_RETURN_IF_ERROR(Advance(first));
  while (!heap_.empty() && CompareRowKeys(current_[heap_.front()], out) == 0) {
    std::pop_heap(heap_.begin(), heap_.end(), greater);
    const size_t same = heap_.back();
    heap_.pop_back();
    out.value.Add(current_[same].value);
    VPCFLOW_RETURN_IF_ERROR(Advance(same));
  }
  *row = out;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Sorted rows

namespace {

// Every row in one sorted chunk in memory: rows whose lines are (offset, length) in `text`.
class MemorySortedRows final : public SortedRows {
 public:
  MemorySortedRows(std::string text, std::vector<SortedLineRef> rows)
      : text_(std::move(text)), rows_(std::move(rows)) {}
  size_t size() const override { return rows_.size(); }
  Status ForEach(const std::function<bool(const OrderedRow&)>& fn) const override {
    for (const SortedLineRef& r : rows_) {
      if (!fn({r.bytes, r.flows, r.start, r.end,
               std::string_view(text_.data() + r.offset, r.length)})) {
        break;
      }
    }
    return OkStatus();
  }

 private:
  std::string text_;
  std::vector<SortedLineRef> rows_;
};

// Sorted runs on disk, merged on each walk.
class FileSortedRows final : public SortedRows {
 public:
  FileSortedRows(std::shared_ptr<SpillDir> dir, std::vector<std::string> runs, size_t rows)
      : dir_(std::move(dir)), runs_(std::move(runs)), rows_(rows) {}
  size_t size() const override { return rows_; }
  Status ForEach(const std::function<bool(const OrderedRow&)>& fn) const override {
    std::vector<std::unique_ptr<PartialReader>> readers;
    for (const std::string& path : runs_) {
      VPCFLOW_ASSIGN_OR_RETURN(auto reader, OpenRunFile(path, PartialKind::kOrdered));
      readers.push_back(std::move(reader));
    }
    return MergeOrdered(readers, fn);
  }

  // The k-way merge of ordered runs (rows are distinct: no ties across runs).
  static Status MergeOrdered(std::vector<std::unique_ptr<PartialReader>>& readers,
                             const std::function<bool(const OrderedRow&)>& fn) {
    std::vector<OrderedRow> current(readers.size());
    std::vector<size_t> heap;
    auto greater = [&](size_t a, size_t b) { return OutputOrderLess(current[b], current[a]); };
    auto advance = [&](size_t i) -> Status {
      VPCFLOW_ASSIGN_OR_RETURN(const bool more, readers[i]->Next(&current[i]));
      if (more) {
        heap.push_back(i);
        std::push_heap(heap.begin(), heap.end(), greater);
      }
      return OkStatus();
    };
    for (size_t i = 0; i < readers.size(); ++i) VPCFLOW_RETURN_IF_ERROR(advance(i));
    while (!heap.empty()) {
      std::pop_heap(heap.begin(), heap.end(), greater);
      const size_t i = heap.back();
      heap.pop_back();
      if (!fn(current[i])) return OkStatus();
      VPCFLOW_RETURN_IF_ERROR(advance(i));
    }
    return OkStatus();
  }

 private:
  std::shared_ptr<SpillDir> dir_;
  std::vector<std::string> runs_;
  size_t rows_;
};

}  // namespace

// ---------------------------------------------------------------------------------------------
// OutputSorter

OutputSorter::OutputSorter(std::shared_ptr<SpillDir> dir, SorterOptions options)
    : dir_(std::move(dir)), options_(options) {}

OutputSorter::~OutputSorter() = default;

Status OutputSorter::Add(const KeyedRow& row) {
  if (++rows_ % kStopCheckRows == 0 && options_.stop.stop_requested()) {
    return CancelledError("digest cancelled");
  }
  if (text_.capacity() == 0) {
    // Reserved whole once: growing by doubling would copy, and hold twice the budget meanwhile.
    // Pages are only taken as they are written.
    text_.reserve(options_.budget_bytes + 4096);
    refs_.reserve(options_.budget_bytes / (sizeof(Ref) + 48) + 1);
  }
  DigestEntry entry{row.key, row.value};
  const RowView view = MakeRowView(entry, row.account, row.interface);
  const size_t offset = text_.size();
  text_.resize(offset + RowRoom(view));
  char* end = PutFlowLogLine(text_.data() + offset, view);
  text_.resize(static_cast<size_t>(end - text_.data()));
  refs_.push_back({row.value.bytes, row.value.flows, row.value.start, row.value.end, offset,
                   text_.size() - offset});
  if (text_.size() + refs_.size() * sizeof(Ref) >= options_.budget_bytes) return SpillChunk();
  return OkStatus();
}

void OutputSorter::SortChunk() {
  const char* base = text_.data();
  std::sort(refs_.begin(), refs_.end(), [base](const Ref& a, const Ref& b) {
    if (a.bytes != b.bytes) return a.bytes > b.bytes;
    return std::string_view(base + a.offset, a.length) <
           std::string_view(base + b.offset, b.length);
  });
}

Status OutputSorter::SpillChunk() {
  SortChunk();
  std::string path = dir_->NewFilePath();
  VPCFLOW_ASSIGN_OR_RETURN(ByteSinkPtr sink, NewFileSink(path));
  PartialWriter writer(*sink, PartialKind::kOrdered);
  Status st;
  for (const Ref& r : refs_) {
    st = writer.Add(OrderedRow{r.bytes, r.flows, r.start, r.end,
                               std::string_view(text_.data() + r.offset, r.length)});
    if (!st.ok()) break;
  }
  if (st.ok()) st = writer.Finish(DigestSummary{});
  if (Status closed = sink->Close(); st.ok()) st = closed;
  if (!st.ok()) {
    ::unlink(path.c_str());
    return st.WithContext("spilling to " + dir_->path());
  }
  runs_.push_back(std::move(path));
  text_.clear();  // the memory is kept for the next chunk
  refs_.clear();
  return OkStatus();
}

Result<std::unique_ptr<SortedRows>> OutputSorter::Finish() {
  if (runs_.empty()) {
    SortChunk();
    return std::unique_ptr<SortedRows>(
        std::make_unique<MemorySortedRows>(std::move(text_), std::move(refs_)));
  }
  if (!refs_.empty()) VPCFLOW_RETURN_IF_ERROR(SpillChunk());
  // Too many runs to merge at once: merge the first ones into one until few enough remain.
  while (runs_.size() > options_.max_fan_in) {
    std::vector<std::unique_ptr<PartialReader>> readers;
    const size_t take = std::min(options_.max_fan_in, runs_.size() - options_.max_fan_in + 1);
    for (size_t i = 0; i < take; ++i) {
      VPCFLOW_ASSIGN_OR_RETURN(auto reader, OpenRunFile(runs_[i], PartialKind::kOrdered));
      readers.push_back(std::move(reader));
    }
    std::string path = dir_->NewFilePath();
    VPCFLOW_ASSIGN_OR_RETURN(ByteSinkPtr sink, NewFileSink(path));
    PartialWriter writer(*sink, PartialKind::kOrdered);
    Status write_status;
    Status st = FileSortedRows::MergeOrdered(readers, [&](const OrderedRow& r) {
      write_status = writer.Add(r);
      return write_status.ok();
    });
    if (st.ok()) st = write_status;
    if (st.ok()) st = writer.Finish(DigestSummary{});
    if (Status closed = sink->Close(); st.ok()) st = closed;
    if (!st.ok()) return st.WithContext("spilling to " + dir_->path());
    for (size_t i = 0; i < take; ++i) ::unlink(runs_[i].c_str());
    runs_.erase(runs_.begin(), runs_.begin() + static_cast<std::ptrdiff_t>(take));
    runs_.push_back(std::move(path));
  }
  return std::unique_ptr<SortedRows>(
      std::make_unique<FileSortedRows>(dir_, std::move(runs_), rows_));
}

// ---------------------------------------------------------------------------------------------
// MergeKeyedRuns

Result<MergedRuns> MergeKeyedRuns(std::vector<std::unique_ptr<PartialReader>> runs,
                                  std::shared_ptr<SpillDir> dir, uint64_t memory_limit,
                                  const std::stop_token& stop) {
  const size_t fan_in = FanInFor(memory_limit);
  DigestSummary pre_merged;  // summaries of runs merged in earlier passes
  while (runs.size() > fan_in) {
    const size_t take = std::min(fan_in, runs.size() - fan_in + 1);
    std::vector<std::unique_ptr<PartialReader>> group;
    for (size_t i = 0; i < take; ++i) group.push_back(std::move(runs[i]));
    runs.erase(runs.begin(), runs.begin() + static_cast<std::ptrdiff_t>(take));
    KeyedMerge merge(std::move(group));
    VPCFLOW_ASSIGN_OR_RETURN(std::string path, WriteKeyedRunFile(
                                                   *dir,
                                                   [&](PartialWriter& writer) -> Status {
                                                     KeyedRow row;
                                                     for (;;) {
                                                       VPCFLOW_ASSIGN_OR_RETURN(const bool more,
                                                                                merge.Next(&row));
                                                       if (!more) return OkStatus();
                                                       VPCFLOW_RETURN_IF_ERROR(writer.Add(row));
                                                     }
                                                   },
                                                   DigestSummary{}));
    AddSummary(pre_merged, merge.summary());
    VPCFLOW_ASSIGN_OR_RETURN(auto reader, OpenRunFile(path, PartialKind::kKeyed));
    runs.push_back(std::move(reader));
    if (stop.stop_requested()) return CancelledError("digest cancelled");
  }
  KeyedMerge merge(std::move(runs));
  OutputSorter sorter(
      dir,
      {.budget_bytes = static_cast<size_t>(memory_limit / 2), .max_fan_in = fan_in, .stop = stop});
  KeyedRow row;
  for (;;) {
    VPCFLOW_ASSIGN_OR_RETURN(const bool more, merge.Next(&row));
    if (!more) break;
    VPCFLOW_RETURN_IF_ERROR(sorter.Add(row));
  }
  VPCFLOW_ASSIGN_OR_RETURN(std::unique_ptr<SortedRows> sorted, sorter.Finish());
  MergedRuns out;
  out.summary = merge.summary();
  AddSummary(out.summary, pre_merged);
  out.summary.keys = sorted->size();
  out.digest = Digest(std::move(sorted));
  return out;
}

}  // namespace vpcflow
