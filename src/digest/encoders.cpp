// Output order and encodings of a finished digest.
//
// DigestTable::Finish orders rows by bytes only. Rows with equal bytes (a "tie group", often
// thousands of small flows) are ordered here by their flowlog line: each line of the group is
// formatted once into a scratch buffer and the lines are sorted by 8-byte big-endian chunks
// (an MSD radix-style string sort whose comparisons stay in a compact array), so a large group
// costs neither O(n log n) formatting nor O(n log n) random memcmp. The flowlog encoder then
// copies those lines as they are.
#include <algorithm>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "digest/digest_table.hpp"
#include "flowlog/address.hpp"
#include "vpcflow/digest.hpp"

namespace vpcflow {
namespace {

// A growable char buffer written through raw pointers (no zero-filling as std::string::resize).
class CharBuffer {
 public:
  explicit CharBuffer(size_t capacity) : data_(new char[capacity]), capacity_(capacity) {}
  // Room for `n` more bytes; returns where to write them.
  char* Reserve(size_t n) {
    if (size_ + n > capacity_) Grow(size_ + n);
    return data_.get() + size_;
  }
  void Commit(char* end) { size_ = static_cast<size_t>(end - data_.get()); }
  void Append(std::string_view s) { Commit(Put(Reserve(s.size()), s)); }
  const char* data() const { return data_.get(); }
  size_t size() const { return size_; }
  size_t capacity() const { return capacity_; }
  void Clear() { size_ = 0; }

  static char* Put(char* out, std::string_view s) {
    std::memcpy(out, s.data(), s.size());
    return out + s.size();
  }

 private:
  void Grow(size_t need) {
    size_t cap = std::max(need, capacity_ * 2);
    std::unique_ptr<char[]> bigger(new char[cap]);
    std::memcpy(bigger.get(), data_.get(), size_);
    data_ = std::move(bigger);
    capacity_ = cap;
  }

  std::unique_ptr<char[]> data_;
  size_t capacity_;
  size_t size_ = 0;
};

// Formatted output in ~1 MiB chunks appended to the sink; the first error sticks. Once a chunk
// fills, a helper thread appends the chunks while the caller formats the next one (the sink is
// typically a gzip compressor, as costly as the formatting), so the sink still sees one thread
// at a time.
class ChunkWriter {
 public:
  static constexpr size_t kChunkBytes = size_t{1} << 20;
  static constexpr size_t kChunkCapacity = kChunkBytes + 64 * 1024;

  explicit ChunkWriter(ByteSink& sink)
      : sink_(sink), buffer_(kChunkCapacity), in_flight_(kChunkCapacity) {}
  ~ChunkWriter() { StopHelper(); }

  char* Reserve(size_t n) {
    if (buffer_.size() + n > buffer_.capacity()) HandOff();
    return buffer_.Reserve(n);
  }
  void Commit(char* end) {
    buffer_.Commit(end);
    if (buffer_.size() >= kChunkBytes) HandOff();
  }
  void Append(std::string_view s) { Commit(CharBuffer::Put(Reserve(s.size()), s)); }
  bool ok() const { return !failed_.load(std::memory_order_relaxed); }

  Status Finish() {
    if (!helper_.joinable()) {  // small output: no thread was needed
      if (buffer_.size() > 0)
        Record(sink_.Append(std::string_view(buffer_.data(), buffer_.size())));
      buffer_.Clear();
    } else {
      HandOff();
      StopHelper();
    }
    std::lock_guard lock(mu_);
    return status_;
  }

 private:
  void HandOff() {
    if (buffer_.size() == 0) return;
    if (!helper_.joinable()) helper_ = std::thread([this] { HelperLoop(); });
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return !has_work_; });
    std::swap(buffer_, in_flight_);
    has_work_ = true;
    cv_.notify_all();
    lock.unlock();
    buffer_.Clear();
  }

  void HelperLoop() {
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait(lock, [this] { return has_work_ || closing_; });
      if (!has_work_) return;
      const bool skip = !status_.ok();
      lock.unlock();
      Status s =
          skip ? OkStatus() : sink_.Append(std::string_view(in_flight_.data(), in_flight_.size()));
      lock.lock();
      if (!s.ok() && status_.ok()) {
        status_ = std::move(s);
        failed_ = true;
      }
      in_flight_.Clear();
      has_work_ = false;
      cv_.notify_all();
    }
  }

  void StopHelper() {
    if (!helper_.joinable()) return;
    {
      std::lock_guard lock(mu_);
      closing_ = true;
      cv_.notify_all();
    }
    helper_.join();
  }

  void Record(Status s) {
    std::lock_guard lock(mu_);
    if (!s.ok() && status_.ok()) {
      status_ = std::move(s);
      failed_ = true;
    }
  }

  ByteSink& sink_;
  CharBuffer buffer_;     // being formatted (caller thread)
  CharBuffer in_flight_;  // being appended (helper thread while has_work_)
  std::mutex mu_;
  std::condition_variable cv_;
  bool has_work_ = false;
  bool closing_ = false;
  Status status_;
  std::atomic<bool> failed_{false};
  std::thread helper_;
};

inline char* PutU64(char* out, uint64_t v) { return std::to_chars(out, out + 20, v).ptr; }
inline char* PutI64(char* out, int64_t v) { return std::to_chars(out, out + 20, v).ptr; }
inline char* PutAddr(char* out, const IpAddress& a) { return out + FormatIpAddress(a, out); }

// Room a row needs in any encoding: its owner strings, escaped at worst six bytes per byte
// ("\u00ff"), plus addresses, numbers and names.
inline size_t RowRoom(const DigestTable& table, const DigestEntry& row) {
  return 512 +
         6 * (table.account_id(row.key.owner).size() + table.interface_id(row.key.owner).size());
}

char* FormatFlowLine(char* p, const DigestTable& table, const DigestEntry& row) {
  const DigestKey& k = row.key;
  const DigestValue& v = row.value;
  p = CharBuffer::Put(p, "2 ");
  p = CharBuffer::Put(p, table.account_id(k.owner));
  *p++ = ' ';
  p = CharBuffer::Put(p, table.interface_id(k.owner));
  *p++ = ' ';
  p = PutAddr(p, k.srcaddr());
  *p++ = ' ';
  p = PutAddr(p, k.dstaddr());
  *p++ = ' ';
  p = PutU64(p, k.srcport);
  *p++ = ' ';
  p = PutU64(p, k.dstport);
  *p++ = ' ';
  p = PutU64(p, k.protocol);
  *p++ = ' ';
  p = PutU64(p, v.packets);
  *p++ = ' ';
  p = PutU64(p, v.bytes);
  *p++ = ' ';
  p = PutI64(p, v.start);
  *p++ = ' ';
  p = PutI64(p, v.end);
  *p++ = ' ';
  p = CharBuffer::Put(p, ActionName(k.action()));
  return CharBuffer::Put(p, " OK\n");
}

// One line of a tie group in the scratch buffer, with the 8 bytes at the current depth.
struct LineRef {
  uint64_t chunk;
  size_t offset;
  uint32_t length;  // without the '\n'
  const DigestEntry* row;
};

inline uint64_t LoadChunk(const char* line, size_t length, size_t depth) {
  uint64_t v = 0;
  if (depth + 8 <= length) {
    std::memcpy(&v, line + depth, 8);
  } else if (depth < length) {
    std::memcpy(&v, line + depth, length - depth);
  }
  return __builtin_bswap64(v);
}

// Sorts lines by their bytes (unsigned, a proper prefix first), comparing 8 bytes at a time
// from `depth`; all lines in [first, last) share their first `depth` bytes.
void SortLines(LineRef* first, LineRef* last, const char* base, size_t depth) {
  while (last - first > 1) {
    bool all_same = true;
    for (LineRef* r = first; r != last; ++r) {
      r->chunk = LoadChunk(base + r->offset, r->length, depth);
      all_same = all_same && r->chunk == first->chunk && r->length > depth + 8;
    }
    if (all_same) {
      depth += 8;
      continue;
    }
    // With equal chunks, a line ending within them is a prefix of the others: it goes first.
    const size_t cap = depth + 9;
    std::sort(first, last, [cap](const LineRef& a, const LineRef& b) {
      if (a.chunk != b.chunk) return a.chunk < b.chunk;
      return std::min<size_t>(a.length, cap) < std::min<size_t>(b.length, cap);
    });
    for (LineRef* run = first; run != last;) {
      LineRef* run_end = run + 1;
      while (run_end != last && run_end->chunk == run->chunk) ++run_end;
      LineRef* longer = run;
      while (longer != run_end && longer->length <= depth + 8) ++longer;
      if (run_end - longer > 1) SortLines(longer, run_end, base, depth + 8);
      run = run_end;
    }
    return;
  }
}

// Calls fn(row, line) for every row in output order, where `line` is the row's flowlog line
// (with '\n') when it was formatted to break a tie, else empty. Stops when fn returns false.
//
// Rows and owners are scattered over hundreds of MB, so a row read while formatting is a cache
// miss that the formatting work cannot hide. Instead, the rows (then their owners) of the next
// kWarmRows positions are loaded in a tight loop first: those loads are independent, so the
// core keeps many of them in flight, and the formatting then finds them in cache.
template <typename Fn>
void WalkInOrder(const DigestTable& table, Fn&& fn) {
  constexpr size_t kWarmRows = 256;
  const size_t n = table.size();
  size_t warm_end = 0;
  auto warm = [&](size_t until) {
    if (until <= warm_end) return;
    const size_t end = std::min(n, std::max(until, warm_end + kWarmRows));
    uint32_t owners[kWarmRows * 2];
    size_t count = 0;
    for (size_t k = warm_end; k < end && count < std::size(owners); ++k) {
      owners[count++] = table.row(k).key.owner;
    }
    uint64_t sink = 0;
    for (size_t k = 0; k < count; ++k) sink += table.account_id(owners[k]).size();
    asm volatile("" : : "r"(sink));  // keep the loads
    warm_end = end;
  };
  CharBuffer text(1 << 16);
  std::vector<LineRef> refs;
  for (size_t i = 0; i < n;) {
    size_t j = i + 1;
    while (j < n && table.row_bytes(j) == table.row_bytes(i)) ++j;
    if (j == i + 1) {
      warm(i + 1);
      if (!fn(table.row(i), std::string_view())) return;
      i = j;
      continue;
    }
    text.Clear();
    refs.clear();
    for (size_t r = i; r < j; ++r) {
      warm(r + 1);
      const DigestEntry& row = table.row(r);
      const size_t offset = text.size();
      text.Commit(FormatFlowLine(text.Reserve(RowRoom(table, row)), table, row));
      refs.push_back({0, offset, static_cast<uint32_t>(text.size() - offset - 1), &row});
    }
    SortLines(refs.data(), refs.data() + refs.size(), text.data(), 0);
    for (size_t k = 0; k < refs.size(); ++k) {
      const LineRef& ref = refs[k];
      if (!fn(*ref.row, std::string_view(text.data() + ref.offset, ref.length + 1))) return;
    }
    i = j;
  }
}

// JSON string contents: quotes, backslashes and control characters escaped; bytes that are not
// valid UTF-8 escaped as the code point of the same value (so the output stays valid JSON).
char* PutJsonEscaped(char* p, std::string_view s) {
  if (std::all_of(s.begin(), s.end(), [](char ch) {
        const auto c = static_cast<unsigned char>(ch);
        return c >= 0x20 && c < 0x80 && c != '"' && c != '\\';
      })) {
    return CharBuffer::Put(p, s);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') {
      *p++ = '\\';
      *p++ = static_cast<char>(c);
      ++i;
      continue;
    }
    size_t len = 0;
    if (c >= 0x20 && c < 0x80) {
      len = 1;
    } else if ((c & 0xE0) == 0xC0 && c >= 0xC2) {
      len = 2;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
    } else if ((c & 0xF8) == 0xF0 && c <= 0xF4) {
      len = 4;
    }
    bool valid = len > 0 && i + len <= s.size();
    for (size_t k = 1; valid && k < len; ++k) {
      valid = (static_cast<unsigned char>(s[i + k]) & 0xC0) == 0x80;
    }
    if (valid) {
      p = CharBuffer::Put(p, s.substr(i, len));
      i += len;
    } else {
      p = CharBuffer::Put(p, "\\u00");
      *p++ = kHex[c >> 4];
      *p++ = kHex[c & 15];
      ++i;
    }
  }
  return p;
}

// RFC 4180: quoted when it contains a comma, a quote or a line break.
char* PutCsvField(char* p, std::string_view s) {
  if (std::none_of(s.begin(), s.end(),
                   [](char c) { return c == ',' || c == '"' || c == '\r' || c == '\n'; })) {
    return CharBuffer::Put(p, s);
  }
  *p++ = '"';
  for (char c : s) {
    if (c == '"') *p++ = '"';
    *p++ = c;
  }
  *p++ = '"';
  return p;
}

constexpr std::string_view kCsvHeader =
    "account_id,interface_id,srcaddr,dstaddr,srcport,dstport,protocol,action,packets,bytes,"
    "flows,start,end\n";

Status EncodeFlowLog(const DigestTable& table, ByteSink& sink) {
  ChunkWriter out(sink);
  WalkInOrder(table, [&](const DigestEntry& row, std::string_view line) {
    if (!line.empty()) {
      out.Append(line);
    } else {
      out.Commit(FormatFlowLine(out.Reserve(RowRoom(table, row)), table, row));
    }
    return out.ok();
  });
  return out.Finish();
}

Status EncodeNdjson(const DigestTable& table, ByteSink& sink) {
  ChunkWriter out(sink);
  WalkInOrder(table, [&](const DigestEntry& row, std::string_view) {
    const DigestKey& k = row.key;
    const DigestValue& v = row.value;
    char* p = CharBuffer::Put(out.Reserve(RowRoom(table, row)), "{\"account_id\":\"");
    p = PutJsonEscaped(p, table.account_id(k.owner));
    p = CharBuffer::Put(p, "\",\"interface_id\":\"");
    p = PutJsonEscaped(p, table.interface_id(k.owner));
    p = CharBuffer::Put(p, "\",\"srcaddr\":\"");
    p = PutAddr(p, k.srcaddr());
    p = CharBuffer::Put(p, "\",\"dstaddr\":\"");
    p = PutAddr(p, k.dstaddr());
    p = CharBuffer::Put(p, "\",\"srcport\":");
    p = PutU64(p, k.srcport);
    p = CharBuffer::Put(p, ",\"dstport\":");
    p = PutU64(p, k.dstport);
    p = CharBuffer::Put(p, ",\"protocol\":");
    p = PutU64(p, k.protocol);
    p = CharBuffer::Put(p, ",\"action\":\"");
    p = CharBuffer::Put(p, ActionName(k.action()));
    p = CharBuffer::Put(p, "\",\"packets\":");
    p = PutU64(p, v.packets);
    p = CharBuffer::Put(p, ",\"bytes\":");
    p = PutU64(p, v.bytes);
    p = CharBuffer::Put(p, ",\"flows\":");
    p = PutU64(p, v.flows);
    p = CharBuffer::Put(p, ",\"start\":");
    p = PutI64(p, v.start);
    p = CharBuffer::Put(p, ",\"end\":");
    p = PutI64(p, v.end);
    out.Commit(CharBuffer::Put(p, "}\n"));
    return out.ok();
  });
  return out.Finish();
}

Status EncodeCsv(const DigestTable& table, ByteSink& sink) {
  ChunkWriter out(sink);
  out.Append(kCsvHeader);
  WalkInOrder(table, [&](const DigestEntry& row, std::string_view) {
    const DigestKey& k = row.key;
    const DigestValue& v = row.value;
    char* p = PutCsvField(out.Reserve(RowRoom(table, row)), table.account_id(k.owner));
    *p++ = ',';
    p = PutCsvField(p, table.interface_id(k.owner));
    *p++ = ',';
    p = PutAddr(p, k.srcaddr());
    *p++ = ',';
    p = PutAddr(p, k.dstaddr());
    *p++ = ',';
    p = PutU64(p, k.srcport);
    *p++ = ',';
    p = PutU64(p, k.dstport);
    *p++ = ',';
    p = PutU64(p, k.protocol);
    *p++ = ',';
    p = CharBuffer::Put(p, ActionName(k.action()));
    *p++ = ',';
    p = PutU64(p, v.packets);
    *p++ = ',';
    p = PutU64(p, v.bytes);
    *p++ = ',';
    p = PutU64(p, v.flows);
    *p++ = ',';
    p = PutI64(p, v.start);
    *p++ = ',';
    p = PutI64(p, v.end);
    *p++ = '\n';
    out.Commit(p);
    return out.ok();
  });
  return out.Finish();
}

}  // namespace

void Digest::ForEachRow(const std::function<void(const DigestRow&)>& fn) const {
  if (!table_) return;
  char src[kMaxIpTextLength];
  char dst[kMaxIpTextLength];
  WalkInOrder(*table_, [&](const DigestEntry& row, std::string_view) {
    const DigestKey& k = row.key;
    const DigestValue& v = row.value;
    DigestRow out;
    out.account_id = table_->account_id(k.owner);
    out.interface_id = table_->interface_id(k.owner);
    out.srcaddr = std::string_view(src, FormatIpAddress(k.srcaddr(), src));
    out.dstaddr = std::string_view(dst, FormatIpAddress(k.dstaddr(), dst));
    out.srcport = k.srcport;
    out.dstport = k.dstport;
    out.protocol = k.protocol;
    out.action = ActionName(k.action());
    out.packets = v.packets;
    out.bytes = v.bytes;
    out.flows = v.flows;
    out.start = v.start;
    out.end = v.end;
    fn(out);
    return true;
  });
}

Status Digest::Encode(DigestFormat format, ByteSink& sink) const {
  if (!table_) {
    return format == DigestFormat::kCsv ? sink.Append(kCsvHeader) : OkStatus();
  }
  switch (format) {
    case DigestFormat::kFlowLog:
      return EncodeFlowLog(*table_, sink);
    case DigestFormat::kNdjson:
      return EncodeNdjson(*table_, sink);
    case DigestFormat::kCsv:
      return EncodeCsv(*table_, sink);
  }
  return InvalidArgumentError("unknown digest format");
}

}  // namespace vpcflow
