#include "query/row_file.hpp"

#include <array>
#include <bit>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "common/chunk_writer.hpp"
#include "common/crc32c.hpp"
#include "common/parallel_gzip_sink.hpp"
#include "digest/digest_table.hpp"

namespace vpcflow {
namespace {

constexpr uint32_t kKindBlock = 1;
constexpr uint32_t kKindEnd = 2;
constexpr size_t kColumns = 12;
constexpr size_t kRecordHeaderBytes = 16;
constexpr size_t kFileHeaderBytes = 16;
enum Column {
  kFlags,
  kOwner,
  kSrc,
  kDst,
  kSrcPort,
  kDstPort,
  kProto,
  kPackets,
  kBytes,
  kFlows,
  kStart,
  kEnd
};

void PutU32(std::string& out, uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<char>(v >> (8 * i));
  out.append(b, 4);
}
void PutU64(std::string& out, uint64_t v) {
  PutU32(out, static_cast<uint32_t>(v));
  PutU32(out, static_cast<uint32_t>(v >> 32));
}
// The LEB128 bytes of `v` at `out` (at most 10, and `out` must have room for 10); returns their
// end. Below 2^56 (every count but the largest) without a branch on the value: its 7-bit groups
// spread over the bytes of one word, the continuation bit set on all but the last byte used,
// the word stored whole (the bytes past the end are scratch for the next value).
inline char* PutVarintAt(char* out, uint64_t v) {
  if (v < (uint64_t{1} << 56)) {
    const int n = (70 - std::countl_zero(v | 1)) / 7;  // bytes: ceil(significant bits / 7)
    uint64_t w = 0;
    for (int k = 0; k < 8; ++k) w |= (v << k) & (uint64_t{0x7f} << (8 * k));
    w |= 0x8080808080808080ULL & ((uint64_t{1} << (8 * (n - 1))) - 1);
    std::memcpy(out, &w, 8);
    return out + n;
  }
  while (v >= 0x80) {
    *out++ = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  *out++ = static_cast<char>(v);
  return out;
}
void PutVarint(std::string& out, uint64_t v) {
  char b[10];  // PutVarintAt's room
  out.append(b, static_cast<size_t>(PutVarintAt(b, v) - b));
}
// An address's bytes as the file keeps them: 4 for IPv4, else 16.
inline std::string_view AddressBytes(const IpAddress& a) {
  return {reinterpret_cast<const char*>(a.bytes.data()), a.v4 ? size_t{4} : size_t{16}};
}

uint64_t ZigZag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
int64_t UnZigZag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }
uint32_t GetU32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= uint32_t{static_cast<unsigned char>(p[i])} << (8 * i);
  return v;
}
uint64_t GetU64(const char* p) { return GetU32(p) | uint64_t{GetU32(p + 4)} << 32; }
uint16_t GetU16(const char* p) {
  return static_cast<uint16_t>(static_cast<unsigned char>(p[0]) | static_cast<unsigned char>(p[1])
                                                                      << 8);
}

// A gzip sink must not close the caller's sink (WriteRowFile leaves it open).
class BorrowedSink final : public ByteSink {
 public:
  explicit BorrowedSink(ByteSink& target) : target_(target) {}
  Status Append(std::string_view bytes) override { return target_.Append(bytes); }
  Status Close() override { return OkStatus(); }

 private:
  ByteSink& target_;
};

// The most bytes one row adds to each column (kColumns, in Column's order): addresses 16,
// a varint 10 (an owner's 5), plus PutVarintAt's 8-byte store past the last one.
constexpr std::array<size_t, kColumns> kColumnRowBytes = {1, 5,  16, 16, 2,  2,
                                                          1, 10, 10, 10, 10, 10};
constexpr size_t kColumnSlackBytes = 8;

class RowFileWriter {
 public:
  explicit RowFileWriter(ByteSink& out) : out_(out) {
    for (size_t c = 0; c < kColumns; ++c) {
      col_[c].reset(new char[size_t{kRowFileBlockRows} * kColumnRowBytes[c] + kColumnSlackBytes]);
      at_[c] = col_[c].get();
    }
  }

  Status Begin() {
    std::string header(kRowFileMagic);
    PutU32(header, kRowFileVersion);
    PutU32(header, 0);
    return out_.Append(header);
  }

  Status Add(const RowView& row) {
    const FlowRecord& r = row.record;
    // Rows come in output order, where a tie group is sorted by its line, which starts with the
    // owner: 83% of the rows of the bench's high corpus have the owner of the row before, so
    // comparing with it is cheaper than hashing and probing the interner for each row. Compared
    // by content: a view may point into a buffer the row source reuses (a spilled digest).
    if (!have_last_ || r.account_id != last_account_ || r.interface_id != last_interface_) {
      const uint32_t id =
          owners_.Intern(r.account_id, r.interface_id, HashOwner(r.account_id, r.interface_id));
      if (owners_.size() > owner_count_) {
        owners_.set_extra(id, owner_count_++);
        ++new_owners_;
        PutVarint(owner_bytes_, r.account_id.size());
        owner_bytes_.append(r.account_id);
        PutVarint(owner_bytes_, r.interface_id.size());
        owner_bytes_.append(r.interface_id);
      }
      last_account_.assign(r.account_id);
      last_interface_.assign(r.interface_id);
      last_owner_ = owners_.extra(id);
      have_last_ = true;
    }
    // The columns' write positions in locals: a byte stored through a char* may alias any
    // member, so positions kept in members were reloaded and stored back around every byte
    // (half of Add's time). A block has room for its rows (kColumnRowBytes), so no check.
    std::array<char*, kColumns> at = at_;
    *at[kFlags]++ = static_cast<char>(DigestKey::Flags(r.action, r.srcaddr.v4, r.dstaddr.v4));
    at[kOwner] = PutVarintAt(at[kOwner], last_owner_);
    at[kSrc] = PutAddress(at[kSrc], r.srcaddr);
    at[kDst] = PutAddress(at[kDst], r.dstaddr);
    *at[kSrcPort]++ = static_cast<char>(r.srcport);
    *at[kSrcPort]++ = static_cast<char>(r.srcport >> 8);
    *at[kDstPort]++ = static_cast<char>(r.dstport);
    *at[kDstPort]++ = static_cast<char>(r.dstport >> 8);
    *at[kProto]++ = static_cast<char>(r.protocol);
    at[kPackets] = PutVarintAt(at[kPackets], r.packets);
    at[kBytes] = PutVarintAt(at[kBytes], r.bytes);
    at[kFlows] = PutVarintAt(at[kFlows], row.flows);
    at[kStart] = PutVarintAt(at[kStart], ZigZag(r.start - previous_start_));
    previous_start_ = r.start;
    at[kEnd] = PutVarintAt(at[kEnd], static_cast<uint64_t>(r.end - r.start));
    at_ = at;
    if (++block_rows_ == kRowFileBlockRows) return Flush();
    return OkStatus();
  }

  Status Finish() {
    VPCFLOW_RETURN_IF_ERROR(Flush());
    std::string payload;
    PutU64(payload, rows_);
    PutU64(payload, blocks_);
    return Record(kKindEnd, 0, payload);
  }

 private:
  static char* PutAddress(char* out, const IpAddress& a) {
    const std::string_view bytes = AddressBytes(a);
    std::memcpy(out, bytes.data(), bytes.size());
    return out + bytes.size();
  }

  Status Flush() {
    if (block_rows_ == 0) return OkStatus();
    payload_.clear();
    PutVarint(payload_, new_owners_);
    payload_ += owner_bytes_;
    for (size_t c = 0; c < kColumns; ++c) {
      PutU32(payload_, static_cast<uint32_t>(at_[c] - col_[c].get()));
    }
    for (size_t c = 0; c < kColumns; ++c) {
      payload_.append(col_[c].get(), at_[c]);
      at_[c] = col_[c].get();
    }
    VPCFLOW_RETURN_IF_ERROR(Record(kKindBlock, block_rows_, payload_));
    rows_ += block_rows_;
    ++blocks_;
    block_rows_ = 0;
    new_owners_ = 0;
    owner_bytes_.clear();
    previous_start_ = 0;
    return OkStatus();
  }

  Status Record(uint32_t kind, uint32_t rows, const std::string& payload) {
    std::string header;
    PutU32(header, kind);
    PutU32(header, static_cast<uint32_t>(payload.size()));
    PutU32(header, rows);
    PutU32(header, Crc32c(payload));
    VPCFLOW_RETURN_IF_ERROR(out_.Append(header));
    return out_.Append(payload);
  }

  ByteSink& out_;
  OwnerInterner owners_;
  uint32_t owner_count_ = 0;
  // The owner of the previous row and its number.
  bool have_last_ = false;
  std::string last_account_;
  std::string last_interface_;
  uint32_t last_owner_ = 0;
  uint32_t new_owners_ = 0;
  std::string owner_bytes_;
  // Each column of the block being written (kColumns), with room for a whole block, and where
  // its next byte goes.
  std::array<std::unique_ptr<char[]>, kColumns> col_;
  std::array<char*, kColumns> at_{};
  std::string payload_;
  uint32_t block_rows_ = 0;
  int64_t previous_start_ = 0;
  uint64_t rows_ = 0;
  uint64_t blocks_ = 0;
};

// Bounds-checked reading of one column (or the owners section) of a block.
class Cursor {
 public:
  Cursor() = default;
  Cursor(const char* p, const char* end) : p_(p), end_(end) {}
  bool Varint(uint64_t* out) {
    uint64_t v = 0;
    for (int shift = 0; shift < 70 && p_ < end_; shift += 7) {
      const auto b = static_cast<unsigned char>(*p_++);
      v |= uint64_t{b & 0x7fu} << shift;
      if ((b & 0x80) == 0) {
        *out = v;
        return true;
      }
    }
    return false;
  }
  bool Bytes(size_t n, const char** out) {
    if (static_cast<size_t>(end_ - p_) < n) return false;
    *out = p_;
    p_ += n;
    return true;
  }
  bool done() const { return p_ == end_; }
  const char* position() const { return p_; }

 private:
  const char* p_ = nullptr;
  const char* end_ = nullptr;
};

class RowFileSource final : public RowSource {
 public:
  RowFileSource(std::unique_ptr<TextStream> text, ObjectReaderPtr keep_alive)
      : keep_alive_(std::move(keep_alive)), text_(std::move(text)) {}

  bool has_flows() const override { return true; }

  Status ForEach(const std::function<bool(const RowView&)>& fn) override {
    char header[kFileHeaderBytes];
    VPCFLOW_ASSIGN_OR_RETURN(size_t n, ReadFully(header, sizeof(header)));
    if (n < sizeof(header) || std::string_view(header, 8) != kRowFileMagic) {
      return DataLossError("not a rows file (bad header)");
    }
    if (GetU32(header + 8) != kRowFileVersion) {
      return FailedPreconditionError("rows file version " + std::to_string(GetU32(header + 8)) +
                                     " is newer than this reader's (" +
                                     std::to_string(kRowFileVersion) + ")");
    }
    uint64_t rows = 0;
    uint64_t blocks = 0;
    bool go_on = true;
    for (;;) {
      char record[kRecordHeaderBytes];
      VPCFLOW_ASSIGN_OR_RETURN(n, ReadFully(record, sizeof(record)));
      if (n < sizeof(record)) return DataLossError("rows file truncated (no end record)");
      const uint32_t kind = GetU32(record);
      const uint32_t size = GetU32(record + 4);
      const uint32_t count = GetU32(record + 8);
      if ((kind != kKindBlock && kind != kKindEnd) || size > kRowFileMaxPayload ||
          (kind == kKindEnd && size != 16) || count > kRowFileBlockRows) {
        return DataLossError("rows file: bad record header after block " + std::to_string(blocks));
      }
      payload_.resize(size);
      VPCFLOW_ASSIGN_OR_RETURN(n, ReadFully(payload_.data(), size));
      if (n < size) return DataLossError("rows file truncated in block " + std::to_string(blocks));
      if (Crc32c(std::string_view(payload_.data(), size)) != GetU32(record + 12)) {
        return DataLossError("rows file: checksum mismatch in block " + std::to_string(blocks));
      }
      if (kind == kKindEnd) {
        if (GetU64(payload_.data()) != rows || GetU64(payload_.data() + 8) != blocks) {
          return DataLossError("rows file: the end record does not match the blocks");
        }
        char extra;
        VPCFLOW_ASSIGN_OR_RETURN(n, ReadFully(&extra, 1));
        if (n != 0) return DataLossError("rows file: bytes after the end record");
        return OkStatus();
      }
      VPCFLOW_RETURN_IF_ERROR(DecodeBlock(count, blocks, fn, &go_on));
      if (!go_on) return OkStatus();  // the caller has what it wanted
      rows += count;
      ++blocks;
    }
  }

 private:
  Result<size_t> ReadFully(char* out, size_t size) { return vpcflow::ReadFully(*text_, out, size); }

  Status DecodeBlock(uint32_t count, uint64_t block, const std::function<bool(const RowView&)>& fn,
                     bool* go_on) {
    auto corrupt = [block] {
      return DataLossError("rows file: block " + std::to_string(block) + " is corrupt");
    };
    const char* begin = payload_.data();
    const char* end = begin + payload_.size();
    Cursor head(begin, end);
    uint64_t new_owners = 0;
    if (!head.Varint(&new_owners) || new_owners > payload_.size()) return corrupt();
    for (uint64_t i = 0; i < new_owners; ++i) {
      uint64_t len = 0;
      const char* account = nullptr;
      const char* interface = nullptr;
      if (!head.Varint(&len) || !head.Bytes(len, &account)) return corrupt();
      const size_t account_len = len;
      if (!head.Varint(&len) || !head.Bytes(len, &interface)) return corrupt();
      owners_.emplace_back(std::string(account, account_len), std::string(interface, len));
    }
    const char* sizes = nullptr;
    if (!head.Bytes(4 * kColumns, &sizes)) return corrupt();
    std::array<Cursor, kColumns> col;
    const char* p = head.position();
    for (size_t c = 0; c < kColumns; ++c) {
      const uint32_t size = GetU32(sizes + 4 * c);
      if (static_cast<size_t>(end - p) < size) return corrupt();
      col[c] = Cursor(p, p + size);
      p += size;
    }
    if (p != end) return corrupt();

    RowView row;
    FlowRecord& r = row.record;
    int64_t previous_start = 0;
    for (uint32_t i = 0; i < count; ++i) {
      const char* flags = nullptr;
      const char* bytes = nullptr;
      uint64_t owner = 0, start_delta = 0, duration = 0;
      if (!col[kFlags].Bytes(1, &flags) || (*flags & 3) == 3 || (*flags & 0xf0) != 0)
        return corrupt();
      if (!col[kOwner].Varint(&owner) || owner >= owners_.size()) return corrupt();
      r.action = static_cast<Action>(*flags & 3);
      r.account_id = owners_[owner].first;
      r.interface_id = owners_[owner].second;
      r.srcaddr = IpAddress{};
      r.srcaddr.v4 = (*flags & DigestKey::kSrcV4) != 0;
      if (!col[kSrc].Bytes(r.srcaddr.v4 ? 4 : 16, &bytes)) return corrupt();
      std::memcpy(r.srcaddr.bytes.data(), bytes, r.srcaddr.v4 ? 4 : 16);
      r.dstaddr = IpAddress{};
      r.dstaddr.v4 = (*flags & DigestKey::kDstV4) != 0;
      if (!col[kDst].Bytes(r.dstaddr.v4 ? 4 : 16, &bytes)) return corrupt();
      std::memcpy(r.dstaddr.bytes.data(), bytes, r.dstaddr.v4 ? 4 : 16);
      if (!col[kSrcPort].Bytes(2, &bytes)) return corrupt();
      r.srcport = GetU16(bytes);
      if (!col[kDstPort].Bytes(2, &bytes)) return corrupt();
      r.dstport = GetU16(bytes);
      if (!col[kProto].Bytes(1, &bytes)) return corrupt();
      r.protocol = static_cast<uint8_t>(*bytes);
      if (!col[kPackets].Varint(&r.packets) || !col[kBytes].Varint(&r.bytes) ||
          !col[kFlows].Varint(&row.flows) || !col[kStart].Varint(&start_delta) ||
          !col[kEnd].Varint(&duration)) {
        return corrupt();
      }
      r.start = static_cast<int64_t>(static_cast<uint64_t>(previous_start) +
                                     static_cast<uint64_t>(UnZigZag(start_delta)));
      previous_start = r.start;
      r.end = static_cast<int64_t>(static_cast<uint64_t>(r.start) + duration);
      if (!fn(row)) {
        *go_on = false;
        return OkStatus();
      }
    }
    for (const Cursor& c : col) {
      if (!c.done()) return corrupt();
    }
    return OkStatus();
  }

  ObjectReaderPtr keep_alive_;
  std::unique_ptr<TextStream> text_;
  std::vector<char> payload_;
  std::vector<std::pair<std::string, std::string>> owners_;
};

}  // namespace

Status WriteRowFile(RowSource& rows, ByteSink& sink) {
  BorrowedSink borrowed(sink);
  ByteSinkPtr gzip = NewParallelGzipSink(&borrowed, {.level = 1});
  RowFileWriter writer(*gzip);
  VPCFLOW_RETURN_IF_ERROR(writer.Begin());
  Status added;
  VPCFLOW_RETURN_IF_ERROR(rows.ForEach([&](const RowView& row) {
    added = writer.Add(row);
    return added.ok();
  }));
  VPCFLOW_RETURN_IF_ERROR(added);
  VPCFLOW_RETURN_IF_ERROR(writer.Finish());
  return gzip->Close();
}

Status WriteFlowLogAndRowFile(const Digest& digest, ByteSink& text, ByteSink& rows) {
  BorrowedSink borrowed(rows);
  ByteSinkPtr gzip = NewParallelGzipSink(&borrowed, {.level = 1});
  Status rows_status;
  {
    RowFileWriter writer(*gzip);
    ChunkWriter out(text);
    rows_status = writer.Begin();
    // The line is the one Digest::Encode writes for the row (row_format.hpp's formatter); the
    // walk already holds it for the rows of a tie group (96% of high's rows) and a spilled
    // digest's.
    Status walked = digest.ForEachRowViewAndLine([&](const RowView& row, std::string_view line) {
      if (!line.empty()) {
        out.Append(line);
      } else {
        out.Commit(PutFlowLogLine(out.Reserve(RowRoom(row)), row));
      }
      if (rows_status.ok()) rows_status = writer.Add(row);
      return rows_status.ok() && out.ok();
    });
    Status text_status = out.Finish();
    if (rows_status.ok()) rows_status = writer.Finish();
    VPCFLOW_RETURN_IF_ERROR(walked);
    VPCFLOW_RETURN_IF_ERROR(text_status);
    VPCFLOW_RETURN_IF_ERROR(rows_status);
  }
  return gzip->Close();
}

RowSourcePtr NewRowFileSource(std::unique_ptr<TextStream> text, ObjectReaderPtr keep_alive) {
  return std::make_unique<RowFileSource>(std::move(text), std::move(keep_alive));
}

}  // namespace vpcflow
