// Output order and encodings of a finished digest.
//
// DigestTable::Finish orders rows by bytes only. Rows with equal bytes (a "tie group", often
// thousands of small flows) are ordered here by their flowlog line: each line of the group is
// formatted once into a scratch buffer, the lines are sorted by their owner's rank (the order
// of "account interface ") and then, within one owner, by 8-byte big-endian chunks
// (an MSD radix-style string sort whose comparisons stay in a compact array), so a large group
// costs neither O(n log n) formatting nor O(n log n) random memcmp. The flowlog encoder then
// copies those lines as they are.
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "common/chunk_writer.hpp"
#include "digest/digest_table.hpp"
#include "digest/row_format.hpp"
#include "digest/spill.hpp"
#include "flowlog/address.hpp"
#include "flowlog/format.hpp"
#include "vpcflow/digest.hpp"

namespace vpcflow {
namespace {

// The row as the row writers see it (views into the table).
inline RowView MakeRowView(const DigestTable& table, RowRef row) {
  return row.Visit([&table](const auto& entry) {
    return MakeRowView(entry, table.account_id(entry.key.owner),
                       table.interface_id(entry.key.owner));
  });
}

// One line of a tie group in the scratch buffer, with the 8 bytes at the current depth.
struct LineRef {
  uint64_t chunk;
  size_t offset;
  uint32_t length;  // without the '\n'
  RowRef row;
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

// Sorts the lines of a tie group. Lines of different owners compare as the owners' ranks do
// (when the table says so), so the lines are sorted by rank first and only the lines of one
// owner by their text, past the "2 account interface " they share.
void SortTieGroup(const DigestTable& table, std::vector<LineRef>& refs, const char* text) {
  if (!table.owner_ranks_order_lines()) {
    SortLines(refs.data(), refs.data() + refs.size(), text, 0);
    return;
  }
  for (LineRef& ref : refs) ref.chunk = table.owner_rank(ref.row.owner());
  std::sort(refs.begin(), refs.end(),
            [](const LineRef& a, const LineRef& b) { return a.chunk < b.chunk; });
  for (size_t i = 0; i < refs.size();) {
    size_t j = i + 1;
    while (j < refs.size() && refs[j].chunk == refs[i].chunk) ++j;
    if (j - i > 1) {
      const uint32_t owner = refs[i].row.owner();
      const size_t shared = 4 + table.account_id(owner).size() + table.interface_id(owner).size();
      SortLines(refs.data() + i, refs.data() + j, text, shared);
    }
    i = j;
  }
}

// The scratch buffer for the lines of the largest tie group (about 115 bytes a line; a longer
// group still grows it). Sized once, as growing by doubling would first-touch about twice the
// memory, and each first touch of a page is a fault.
size_t TieBufferBytes(const DigestTable& table) {
  constexpr size_t kLineBytes = 128;
  size_t largest = 1;
  for (size_t i = 0, n = table.size(); i < n;) {
    size_t j = i + 1;
    while (j < n && table.row_bytes(j) == table.row_bytes(i)) ++j;
    largest = std::max(largest, j - i);
    i = j;
  }
  return std::max(size_t{1} << 16, largest * kLineBytes + 4096);
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
      // A row is one cache line (64 bytes, aligned) or spans two or three (88 bytes): both
      // ends are prefetched, then the owner loaded.
      const RowRef row = table.row(k);
      __builtin_prefetch(row.first_byte());
      __builtin_prefetch(row.last_byte());
      owners[count++] = row.owner();
    }
    uint64_t sink = 0;
    for (size_t k = 0; k < count; ++k) sink += table.account_id(owners[k]).size();
    asm volatile("" : : "r"(sink));  // keep the loads
    warm_end = end;
  };
  CharBuffer text(TieBufferBytes(table));
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
      const RowRef row = table.row(r);
      const size_t offset = text.size();
      const RowView view = MakeRowView(table, row);
      text.Commit(PutFlowLogLine(text.Reserve(RowRoom(view)), view));
      refs.push_back({0, offset, static_cast<uint32_t>(text.size() - offset - 1), row});
    }
    SortTieGroup(table, refs, text.data());
    for (const LineRef& ref : refs) {
      if (!fn(ref.row, std::string_view(text.data() + ref.offset, ref.length + 1))) return;
    }
    i = j;
  }
}

// The csv header line.
Status AppendCsvHeader(ByteSink& sink) {
  VPCFLOW_RETURN_IF_ERROR(sink.Append(kCsvColumns));
  return sink.Append("\n");
}

Status EncodeFlowLog(const DigestTable& table, ByteSink& sink) {
  ChunkWriter out(sink);
  WalkInOrder(table, [&](RowRef row, std::string_view line) {
    if (!line.empty()) {
      out.Append(line);
    } else {
      const RowView view = MakeRowView(table, row);
      out.Commit(PutFlowLogLine(out.Reserve(RowRoom(view)), view));
    }
    return out.ok();
  });
  return out.Finish();
}

Status EncodeNdjson(const DigestTable& table, ByteSink& sink) {
  ChunkWriter out(sink);
  WalkInOrder(table, [&](RowRef row, std::string_view) {
    const RowView view = MakeRowView(table, row);
    char* p = out.Reserve(RowRoom(view));
    *p++ = '{';
    p = PutNdjsonMembers(p, view);
    out.Commit(CharBuffer::Put(p, "}\n"));
    return out.ok();
  });
  return out.Finish();
}

Status EncodeCsv(const DigestTable& table, ByteSink& sink) {
  ChunkWriter out(sink);
  out.Append(kCsvColumns);
  out.Append("\n");
  WalkInOrder(table, [&](RowRef row, std::string_view) {
    const RowView view = MakeRowView(table, row);
    char* p = PutCsvColumns(out.Reserve(RowRoom(view)), view);
    *p++ = '\n';
    out.Commit(p);
    return out.ok();
  });
  return out.Finish();
}

// The row of a spilled digest: its flowlog line read back (the stored line is the default
// format's line), with the values the line cannot carry exactly (flows; times as they are).
Status ViewOfSortedRow(const OrderedRow& row, RowView* view) {
  std::string_view line = row.line;
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  if (ParseFlowLine(FlowFormat::Default(), line, &view->record) != LineOutcome::kUsed) {
    return DataLossError("a spilled row is not a flowlog line");
  }
  view->record.start = row.start;
  view->record.end = row.end;
  view->flows = row.flows;
  return OkStatus();
}

// Walks a spilled digest's rows as views with their lines; stops at fn's false or the first
// error.
Status WalkSorted(const SortedRows& rows,
                  const std::function<bool(const RowView&, std::string_view)>& fn) {
  Status bad;
  RowView view;
  Status st = rows.ForEach([&](const OrderedRow& row) {
    bad = ViewOfSortedRow(row, &view);
    return bad.ok() && fn(view, row.line);
  });
  return st.ok() ? bad : st;
}

Status EncodeSorted(const SortedRows& rows, DigestFormat format, ByteSink& sink) {
  ChunkWriter out(sink);
  if (format == DigestFormat::kFlowLog) {
    Status st = rows.ForEach([&](const OrderedRow& row) {
      out.Append(row.line);
      return out.ok();
    });
    Status finished = out.Finish();
    return st.ok() ? finished : st;
  }
  if (format == DigestFormat::kCsv) {
    out.Append(kCsvColumns);
    out.Append("\n");
  }
  Status st = WalkSorted(rows, [&](const RowView& view, std::string_view) {
    char* p = out.Reserve(RowRoom(view));
    if (format == DigestFormat::kNdjson) {
      *p++ = '{';
      p = PutNdjsonMembers(p, view);
      out.Commit(CharBuffer::Put(p, "}\n"));
    } else {
      p = PutCsvColumns(p, view);
      *p++ = '\n';
      out.Commit(p);
    }
    return out.ok();
  });
  Status finished = out.Finish();
  return st.ok() ? finished : st;
}

}  // namespace

Digest::Digest() = default;
Digest::Digest(std::unique_ptr<DigestTable> table) : table_(std::move(table)) {}
Digest::Digest(std::unique_ptr<SortedRows> rows) : sorted_(std::move(rows)) {}
Digest::Digest(Digest&&) noexcept = default;
Digest& Digest::operator=(Digest&&) noexcept = default;
Digest::~Digest() = default;

size_t Digest::size() const {
  if (sorted_) return sorted_->size();
  return table_ ? table_->size() : 0;
}

Status Digest::ForEachRowView(const std::function<bool(const RowView&)>& fn) const {
  return ForEachRowViewAndLine([&](const RowView& view, std::string_view) { return fn(view); });
}

Status Digest::ForEachRowViewAndLine(
    const std::function<bool(const RowView&, std::string_view)>& fn) const {
  if (sorted_) return WalkSorted(*sorted_, fn);
  if (!table_) return OkStatus();
  WalkInOrder(*table_, [&](RowRef row, std::string_view line) {
    return fn(MakeRowView(*table_, row), line);
  });
  return OkStatus();
}

Status Digest::ForEachRow(const std::function<void(const DigestRow&)>& fn) const {
  char src[kMaxIpTextLength];
  char dst[kMaxIpTextLength];
  return ForEachRowView([&](const RowView& view) {
    const FlowRecord& r = view.record;
    DigestRow out;
    out.account_id = r.account_id;
    out.interface_id = r.interface_id;
    out.srcaddr = std::string_view(src, FormatIpAddress(r.srcaddr, src));
    out.dstaddr = std::string_view(dst, FormatIpAddress(r.dstaddr, dst));
    out.srcport = r.srcport;
    out.dstport = r.dstport;
    out.protocol = r.protocol;
    out.action = ActionName(r.action);
    out.packets = r.packets;
    out.bytes = r.bytes;
    out.flows = view.flows;
    out.start = r.start;
    out.end = r.end;
    fn(out);
    return true;
  });
}

Status Digest::Encode(DigestFormat format, ByteSink& sink) const {
  if (sorted_) return EncodeSorted(*sorted_, format, sink);
  if (!table_) {
    return format == DigestFormat::kCsv ? AppendCsvHeader(sink) : OkStatus();
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
