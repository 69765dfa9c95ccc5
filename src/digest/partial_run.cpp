// The partial digest format (partial_run.hpp): a writer, a reader that trusts nothing it reads,
// and the summary carried in the trailer.
#include "digest/partial_run.hpp"

#include <zstd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cstring>

#include "common/crc32c.hpp"
#include "common/json_parse.hpp"
#include "common/little_endian.hpp"
#include "parquet/varint.hpp"

namespace vpcflow {
namespace {

using parquet::AppendVarint;
using parquet::ReadVarint;
using parquet::ZigZagDecode;
using parquet::ZigZagEncode;

constexpr uint32_t kBlockTag = 1;
constexpr uint32_t kTrailerTag = 2;
constexpr uint32_t kCodecNone = 0;
constexpr uint32_t kCodecZstd = 1;
constexpr size_t kHeaderBytes = 16;
constexpr size_t kBlockHeaderBytes = 24;
constexpr size_t kTrailerHeaderBytes = 16;
constexpr uint8_t kNewOwner = 0x80;
constexpr size_t kReadBufferBytes = 64 << 10;

void PutU32(std::string& out, uint32_t v) { AppendLittleEndian(v, 4, &out); }
void PutU64(std::string& out, uint64_t v) { AppendLittleEndian(v, 8, &out); }

int CompareKeyBytes(const DigestKey& a, const DigestKey& b) {
  DigestKey x = a;
  DigestKey y = b;
  x.owner = 0;
  y.owner = 0;
  return std::memcmp(&x, &y, sizeof(DigestKey));
}

int CompareOwners(std::string_view a_account, std::string_view a_interface,
                  std::string_view b_account, std::string_view b_interface) {
  if (const int c = a_account.compare(b_account); c != 0) return c;
  return a_interface.compare(b_interface);
}

// Bounds-checked decoding of one block's raw bytes.
class Cursor {
 public:
  Cursor(const std::string& raw, size_t pos)
      : p_(reinterpret_cast<const uint8_t*>(raw.data()) + pos),
        end_(reinterpret_cast<const uint8_t*>(raw.data()) + raw.size()) {}
  bool Varint(uint64_t* v) { return ReadVarint(p_, end_, v); }
  bool Bytes(size_t n, const uint8_t** out) {
    if (static_cast<size_t>(end_ - p_) < n) return false;
    *out = p_;
    p_ += n;
    return true;
  }
  bool Byte(uint8_t* v) {
    if (p_ == end_) return false;
    *v = *p_++;
    return true;
  }
  bool U16(uint16_t* v) {
    const uint8_t* b;
    if (!Bytes(2, &b)) return false;
    *v = static_cast<uint16_t>(b[0] | (b[1] << 8));
    return true;
  }
  size_t offset(const std::string& raw) const {
    return static_cast<size_t>(p_ - reinterpret_cast<const uint8_t*>(raw.data()));
  }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
};

Status Corrupt(std::string_view what) {
  return DataLossError("corrupt partial digest: " + std::string(what));
}

}  // namespace

int CompareRowKeys(const KeyedRow& a, const KeyedRow& b) {
  if (const int c = CompareOwners(a.account, a.interface, b.account, b.interface); c != 0) return c;
  return CompareKeyBytes(a.key, b.key);
}

// ---------------------------------------------------------------------------------------------
// Writer

PartialWriter::PartialWriter(ByteSink& sink, PartialKind kind, PartialWriterOptions options)
    : sink_(sink), kind_(kind), options_(options) {}

PartialWriter::~PartialWriter() = default;

Status PartialWriter::Write(std::string_view bytes) {
  if (!status_.ok()) return status_;
  status_ = sink_.Append(bytes);
  written_ += bytes.size();
  return status_;
}

Status PartialWriter::Add(const KeyedRow& row) {
  if (kind_ != PartialKind::kKeyed) return FailedPreconditionError("not a keyed run");
  VPCFLOW_RETURN_IF_ERROR(status_);
  const bool same_owner =
      rows_ > 0 && row.account == last_account_ && row.interface == last_interface_;
  if (rows_ > 0) {
    KeyedRow last = last_keyed_;
    last.account = last_account_;
    last.interface = last_interface_;
    if (CompareRowKeys(last, row) >= 0) {
      return FailedPreconditionError("partial rows out of key order");
    }
  }
  const bool new_owner = !same_owner || !owner_in_block_;
  const DigestKey& k = row.key;
  raw_.push_back(static_cast<char>((k.flags & 0x0f) | (new_owner ? kNewOwner : 0)));
  if (new_owner) {
    AppendVarint(row.account.size(), &raw_);
    raw_.append(row.account);
    AppendVarint(row.interface.size(), &raw_);
    raw_.append(row.interface);
    if (!same_owner) {
      last_account_.assign(row.account);
      last_interface_.assign(row.interface);
    }
    owner_in_block_ = true;
  }
  raw_.append(reinterpret_cast<const char*>(k.src.data()), (k.flags & DigestKey::kSrcV4) ? 4 : 16);
  raw_.append(reinterpret_cast<const char*>(k.dst.data()), (k.flags & DigestKey::kDstV4) ? 4 : 16);
  AppendLittleEndian(k.srcport, 2, &raw_);
  AppendLittleEndian(k.dstport, 2, &raw_);
  raw_.push_back(static_cast<char>(k.protocol));
  const DigestValue& v = row.value;
  AppendVarint(v.packets, &raw_);
  AppendVarint(v.bytes, &raw_);
  AppendVarint(v.flows, &raw_);
  AppendVarint(ZigZagEncode(v.start), &raw_);
  AppendVarint(ZigZagEncode(static_cast<int64_t>(static_cast<uint64_t>(v.end) -
                                                 static_cast<uint64_t>(v.start))),
               &raw_);
  last_keyed_ = row;
  ++block_rows_;
  ++rows_;
  if (raw_.size() >= options_.block_bytes) return FlushBlock();
  return OkStatus();
}

Status PartialWriter::Add(const OrderedRow& row) {
  if (kind_ != PartialKind::kOrdered) return FailedPreconditionError("not an ordered run");
  VPCFLOW_RETURN_IF_ERROR(status_);
  if (rows_ > 0 && !OutputOrderLess(OrderedRow{.bytes = last_bytes_, .line = last_line_}, row)) {
    return FailedPreconditionError("partial rows out of output order");
  }
  AppendVarint(row.bytes, &raw_);
  AppendVarint(row.flows, &raw_);
  AppendVarint(ZigZagEncode(row.start), &raw_);
  AppendVarint(ZigZagEncode(static_cast<int64_t>(static_cast<uint64_t>(row.end) -
                                                 static_cast<uint64_t>(row.start))),
               &raw_);
  AppendVarint(row.line.size(), &raw_);
  raw_.append(row.line);
  last_bytes_ = row.bytes;
  last_line_.assign(row.line);
  ++block_rows_;
  ++rows_;
  if (raw_.size() >= options_.block_bytes) return FlushBlock();
  return OkStatus();
}

Status PartialWriter::FlushBlock() {
  if (!started_) {
    started_ = true;
    std::string header(kPartialMagic);
    PutU32(header, kPartialVersion);
    PutU32(header, static_cast<uint32_t>(kind_));
    VPCFLOW_RETURN_IF_ERROR(Write(header));
  }
  if (block_rows_ == 0) return OkStatus();
  uint32_t codec = kCodecNone;
  std::string_view stored = raw_;
  if (options_.zstd_level > 0) {
    stored_.resize(ZSTD_compressBound(raw_.size()));
    const size_t n = ZSTD_compress(stored_.data(), stored_.size(), raw_.data(), raw_.size(),
                                   options_.zstd_level);
    if (ZSTD_isError(n)) return InternalError(std::string("zstd: ") + ZSTD_getErrorName(n));
    stored = std::string_view(stored_.data(), n);
    codec = kCodecZstd;
  }
  std::string header;
  PutU32(header, kBlockTag);
  PutU32(header, static_cast<uint32_t>(stored.size()));
  PutU32(header, static_cast<uint32_t>(raw_.size()));
  PutU32(header, block_rows_);
  PutU32(header, Crc32c(stored));
  PutU32(header, codec);
  VPCFLOW_RETURN_IF_ERROR(Write(header));
  VPCFLOW_RETURN_IF_ERROR(Write(stored));
  raw_.clear();
  block_rows_ = 0;
  owner_in_block_ = false;
  ++blocks_;
  return OkStatus();
}

Status PartialWriter::Finish(const DigestSummary& summary) {
  VPCFLOW_RETURN_IF_ERROR(FlushBlock());
  std::string payload;
  PutU64(payload, rows_);
  PutU64(payload, blocks_);
  payload += SummaryToTrailerJson(summary);
  if (payload.size() > kMaxPartialBlockBytes) {
    return FailedPreconditionError("partial summary too large");
  }
  std::string header;
  PutU32(header, kTrailerTag);
  PutU32(header, static_cast<uint32_t>(payload.size()));
  PutU32(header, 0);
  PutU32(header, Crc32c(payload));
  VPCFLOW_RETURN_IF_ERROR(Write(header));
  return Write(payload);
}

// ---------------------------------------------------------------------------------------------
// Reader

PartialReader::PartialReader(ObjectReaderPtr reader, PartialKind kind)
    : reader_(std::move(reader)), kind_(kind) {}

PartialReader::~PartialReader() = default;

Result<std::unique_ptr<PartialReader>> PartialReader::Open(ObjectReaderPtr reader,
                                                           PartialKind kind) {
  std::unique_ptr<PartialReader> r(new PartialReader(std::move(reader), kind));
  char header[kHeaderBytes];
  bool eof = false;
  VPCFLOW_RETURN_IF_ERROR(r->ReadExactly(header, sizeof(header), &eof));
  if (eof || std::string_view(header, 8) != kPartialMagic) {
    return Corrupt("not a partial digest (bad magic)");
  }
  const uint32_t version = LoadLittleEndian32(header + 8);
  if (version == 0) return Corrupt("version 0");
  if (version > kPartialVersion) {
    return FailedPreconditionError("partial digest version " + std::to_string(version) +
                                   " is newer than this program's (" +
                                   std::to_string(kPartialVersion) + ")");
  }
  const uint32_t file_kind = LoadLittleEndian32(header + 12);
  if (file_kind != static_cast<uint32_t>(kind)) {
    return Corrupt("kind " + std::to_string(file_kind) + " where " +
                   std::to_string(static_cast<uint32_t>(kind)) + " was expected");
  }
  return r;
}

// Reads exactly n bytes; *eof when the object ended before the first of them (then nothing was
// read); DataLoss when it ended in the middle.
Status PartialReader::ReadExactly(char* out, size_t n, bool* eof) {
  *eof = false;
  size_t done = 0;
  while (done < n) {
    if (in_pos_ == in_.size()) {
      in_.resize(kReadBufferBytes);
      VPCFLOW_ASSIGN_OR_RETURN(const size_t got,
                               reader_->Read(std::span<char>(in_.data(), in_.size())));
      in_.resize(got);
      in_pos_ = 0;
      if (got == 0) {
        if (done == 0) {
          *eof = true;
          return OkStatus();
        }
        return Corrupt("truncated");
      }
    }
    const size_t take = std::min(n - done, in_.size() - in_pos_);
    std::memcpy(out + done, in_.data() + in_pos_, take);
    in_pos_ += take;
    done += take;
  }
  return OkStatus();
}

Result<bool> PartialReader::NextBlock() {
  char tag_bytes[4];
  bool eof = false;
  VPCFLOW_RETURN_IF_ERROR(ReadExactly(tag_bytes, 4, &eof));
  if (eof) return Corrupt("truncated (no trailer)");
  const uint32_t tag = LoadLittleEndian32(tag_bytes);
  if (tag == kBlockTag) {
    char h[kBlockHeaderBytes - 4];
    VPCFLOW_RETURN_IF_ERROR(ReadExactly(h, sizeof(h), &eof));
    if (eof) return Corrupt("truncated block header");
    const uint32_t stored_bytes = LoadLittleEndian32(h);
    const uint32_t raw_bytes = LoadLittleEndian32(h + 4);
    const uint32_t rows = LoadLittleEndian32(h + 8);
    const uint32_t crc = LoadLittleEndian32(h + 12);
    const uint32_t codec = LoadLittleEndian32(h + 16);
    if (stored_bytes == 0 || stored_bytes > kMaxPartialBlockBytes || raw_bytes == 0 ||
        raw_bytes > kMaxPartialBlockBytes || rows == 0 || rows > raw_bytes ||
        (codec != kCodecNone && codec != kCodecZstd) ||
        (codec == kCodecNone && stored_bytes != raw_bytes)) {
      return Corrupt("bad block header");
    }
    stored_.resize(stored_bytes);
    VPCFLOW_RETURN_IF_ERROR(ReadExactly(stored_.data(), stored_bytes, &eof));
    if (eof) return Corrupt("truncated block");
    if (Crc32c(stored_) != crc) return Corrupt("block checksum mismatch");
    if (codec == kCodecNone) {
      raw_.swap(stored_);
    } else {
      const unsigned long long content = ZSTD_getFrameContentSize(stored_.data(), stored_.size());
      if (content != raw_bytes) return Corrupt("bad block size");
      raw_.resize(raw_bytes);
      const size_t n = ZSTD_decompress(raw_.data(), raw_.size(), stored_.data(), stored_.size());
      if (ZSTD_isError(n) || n != raw_bytes) return Corrupt("bad zstd block");
    }
    pos_ = 0;
    block_rows_left_ = rows;
    owner_in_block_ = false;
    ++blocks_;
    return true;
  }
  if (tag != kTrailerTag) return Corrupt("unknown record tag " + std::to_string(tag));
  char h[kTrailerHeaderBytes - 4];
  VPCFLOW_RETURN_IF_ERROR(ReadExactly(h, sizeof(h), &eof));
  if (eof) return Corrupt("truncated trailer");
  const uint32_t bytes = LoadLittleEndian32(h);
  const uint32_t crc = LoadLittleEndian32(h + 8);
  if (bytes < 16 || bytes > kMaxPartialBlockBytes || LoadLittleEndian32(h + 4) != 0) {
    return Corrupt("bad trailer header");
  }
  std::string payload(bytes, '\0');
  VPCFLOW_RETURN_IF_ERROR(ReadExactly(payload.data(), bytes, &eof));
  if (eof) return Corrupt("truncated trailer");
  if (Crc32c(payload) != crc) return Corrupt("trailer checksum mismatch");
  if (LoadLittleEndian64(payload.data()) != rows_ ||
      LoadLittleEndian64(payload.data() + 8) != blocks_) {
    return Corrupt("the trailer's counts differ from the rows read");
  }
  VPCFLOW_ASSIGN_OR_RETURN(summary_, SummaryFromTrailerJson(std::string_view(payload).substr(16)));
  char extra;
  VPCFLOW_RETURN_IF_ERROR(ReadExactly(&extra, 1, &eof));
  if (!eof) return Corrupt("bytes after the trailer");
  done_ = true;
  return false;
}

Result<bool> PartialReader::Next(KeyedRow* row) {
  if (kind_ != PartialKind::kKeyed) return FailedPreconditionError("not a keyed run");
  if (done_) return false;
  while (block_rows_left_ == 0) {
    if (pos_ != raw_.size()) return Corrupt("bytes after a block's rows");
    VPCFLOW_ASSIGN_OR_RETURN(const bool more, NextBlock());
    if (!more) return false;
  }
  Cursor c(raw_, pos_);
  uint8_t flags;
  if (!c.Byte(&flags)) return Corrupt("truncated row");
  if ((flags & 0x70) != 0 || (flags & 3) == 3) return Corrupt("bad row flags");
  bool new_owner_strings = false;
  if (flags & kNewOwner) {
    uint64_t n;
    const uint8_t* p;
    if (!c.Varint(&n) || n > kMaxPartialBlockBytes || !c.Bytes(n, &p)) return Corrupt("bad owner");
    std::string_view account(reinterpret_cast<const char*>(p), n);
    if (!c.Varint(&n) || n > kMaxPartialBlockBytes || !c.Bytes(n, &p)) return Corrupt("bad owner");
    std::string_view interface(reinterpret_cast<const char*>(p), n);
    if (!have_last_ || account != account_ || interface != interface_) {
      if (have_last_ && CompareOwners(account_, interface_, account, interface) > 0) {
        return Corrupt("rows out of key order");
      }
      new_owner_strings = true;
      account_.assign(account);
      interface_.assign(interface);
    }
    owner_in_block_ = true;
  } else if (!owner_in_block_) {
    return Corrupt("row without an owner");
  }
  DigestKey key;
  key.flags = flags & 0x0f;
  const uint8_t* p;
  const size_t src_size = (flags & DigestKey::kSrcV4) ? 4 : 16;
  const size_t dst_size = (flags & DigestKey::kDstV4) ? 4 : 16;
  if (!c.Bytes(src_size, &p)) return Corrupt("truncated row");
  std::memcpy(key.src.data(), p, src_size);
  if (!c.Bytes(dst_size, &p)) return Corrupt("truncated row");
  std::memcpy(key.dst.data(), p, dst_size);
  uint8_t protocol;
  if (!c.U16(&key.srcport) || !c.U16(&key.dstport) || !c.Byte(&protocol)) {
    return Corrupt("truncated row");
  }
  key.protocol = protocol;
  DigestValue v;
  uint64_t start;
  uint64_t span;
  if (!c.Varint(&v.packets) || !c.Varint(&v.bytes) || !c.Varint(&v.flows) || !c.Varint(&start) ||
      !c.Varint(&span)) {
    return Corrupt("truncated row");
  }
  v.start = ZigZagDecode(start);
  v.end = static_cast<int64_t>(static_cast<uint64_t>(v.start) +
                               static_cast<uint64_t>(ZigZagDecode(span)));
  if (have_last_ && !new_owner_strings && CompareKeyBytes(last_keyed_.key, key) >= 0) {
    return Corrupt("rows out of key order");
  }
  pos_ = c.offset(raw_);
  --block_rows_left_;
  ++rows_;
  have_last_ = true;
  last_keyed_.key = key;
  *row = KeyedRow{account_, interface_, key, v};
  return true;
}

Result<bool> PartialReader::Next(OrderedRow* row) {
  if (kind_ != PartialKind::kOrdered) return FailedPreconditionError("not an ordered run");
  if (done_) return false;
  while (block_rows_left_ == 0) {
    if (pos_ != raw_.size()) return Corrupt("bytes after a block's rows");
    VPCFLOW_ASSIGN_OR_RETURN(const bool more, NextBlock());
    if (!more) return false;
  }
  Cursor c(raw_, pos_);
  OrderedRow r;
  uint64_t n;
  uint64_t start;
  uint64_t span;
  const uint8_t* p;
  if (!c.Varint(&r.bytes) || !c.Varint(&r.flows) || !c.Varint(&start) || !c.Varint(&span) ||
      !c.Varint(&n) || n == 0 || n > kMaxPartialBlockBytes || !c.Bytes(n, &p)) {
    return Corrupt("truncated row");
  }
  r.start = ZigZagDecode(start);
  r.end = static_cast<int64_t>(static_cast<uint64_t>(r.start) +
                               static_cast<uint64_t>(ZigZagDecode(span)));
  r.line = std::string_view(reinterpret_cast<const char*>(p), n);
  if (r.line.back() != '\n') return Corrupt("a line without its end");
  if (have_last_ &&
      !OutputOrderLess(OrderedRow{.bytes = last_ordered_.bytes, .line = last_line_}, r)) {
    return Corrupt("rows out of order");
  }
  pos_ = c.offset(raw_);
  --block_rows_left_;
  ++rows_;
  have_last_ = true;
  last_ordered_.bytes = r.bytes;
  last_line_.assign(r.line);
  *row = r;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Summary

namespace {

// The summary's counters and timings, in the trailer's order: one list for writing, reading and
// adding them, so a field added to DigestSummary is added here once.
struct CountField {
  const char* name;
  uint64_t DigestSummary::*member;
};
constexpr CountField kCountFields[] = {
    {"objects_listed", &DigestSummary::objects_listed},
    {"objects_ignored", &DigestSummary::objects_ignored},
    {"objects_out_of_range", &DigestSummary::objects_out_of_range},
    {"objects_empty", &DigestSummary::objects_empty},
    {"objects_read", &DigestSummary::objects_read},
    {"objects_parquet", &DigestSummary::objects_parquet},
    {"objects_failed", &DigestSummary::objects_failed},
    {"objects_vanished", &DigestSummary::objects_vanished},
    {"objects_not_files", &DigestSummary::objects_not_files},
    {"list_requests", &DigestSummary::list_requests},
    {"bytes_compressed", &DigestSummary::bytes_compressed},
    {"bytes_uncompressed", &DigestSummary::bytes_uncompressed},
    {"keys", &DigestSummary::keys},
};
struct SecondsField {
  const char* name;
  double DigestSummary::*member;
};
constexpr SecondsField kSecondsFields[] = {
    {"list_seconds", &DigestSummary::list_seconds},
    {"read_seconds", &DigestSummary::read_seconds},
    {"total_seconds", &DigestSummary::total_seconds},
};

// A JSON number as a count: a non-negative integer.
bool AsCount(const boost::json::value& v, uint64_t* out) {
  if (v.is_uint64()) {
    *out = v.get_uint64();
    return true;
  }
  if (v.is_int64() && v.get_int64() >= 0) {
    *out = static_cast<uint64_t>(v.get_int64());
    return true;
  }
  return false;
}

// A JSON number as an int64_t.
bool AsInt64(const boost::json::value& v, int64_t* out) {
  if (v.is_int64()) {
    *out = v.get_int64();
    return true;
  }
  if (v.is_uint64() && v.get_uint64() <= INT64_MAX) {
    *out = static_cast<int64_t>(v.get_uint64());
    return true;
  }
  return false;
}

}  // namespace

std::string SummaryToTrailerJson(const DigestSummary& s) {
  boost::json::object o;
  o["window_start"] = s.window.start;
  o["window_stop"] = s.window.stop;
  for (const CountField& f : kCountFields) o[f.name] = s.*f.member;
  for (const SecondsField& f : kSecondsFields) o[f.name] = s.*f.member;
  boost::json::array lines;
  for (uint64_t n : s.lines) lines.emplace_back(n);
  o["lines"] = std::move(lines);
  boost::json::array problems;
  for (const ObjectProblem& p : s.problems) {
    problems.emplace_back(boost::json::object{
        {"key", p.key}, {"reason", p.reason}, {"kind", static_cast<int>(p.kind)}});
  }
  o["problems"] = std::move(problems);
  return boost::json::serialize(o);
}

Result<DigestSummary> SummaryFromTrailerJson(std::string_view json) {
  Result<boost::json::value> parsed = ParseJsonStrict(json);
  if (!parsed.ok()) return Corrupt("summary: " + parsed.status().message());
  const boost::json::object* o = parsed->if_object();
  if (o == nullptr) return Corrupt("summary is not an object");
  DigestSummary s;
  auto field = [o](const char* name) { return o->if_contains(name); };
  bool ok = true;
  const boost::json::value* start = field("window_start");
  const boost::json::value* stop = field("window_stop");
  ok = start != nullptr && AsInt64(*start, &s.window.start) && stop != nullptr &&
       AsInt64(*stop, &s.window.stop);
  for (const CountField& f : kCountFields) {
    const boost::json::value* v = field(f.name);
    ok = ok && v != nullptr && AsCount(*v, &(s.*f.member));
  }
  for (const SecondsField& f : kSecondsFields) {
    const boost::json::value* v = field(f.name);
    if (v == nullptr || !v->is_number()) {
      ok = false;
    } else {
      s.*f.member = v->to_number<double>();
    }
  }
  const boost::json::value* lines = field("lines");
  if (lines == nullptr || !lines->is_array() || lines->get_array().size() != kLineOutcomeCount) {
    return Corrupt("summary: bad lines");
  }
  for (size_t i = 0; i < kLineOutcomeCount; ++i) {
    if (!AsCount(lines->get_array()[i], &s.lines[i])) return Corrupt("summary: lines");
  }
  const boost::json::value* problems = field("problems");
  if (problems == nullptr || !problems->is_array()) return Corrupt("summary: bad problems");
  for (const boost::json::value& v : problems->get_array()) {
    const boost::json::object* p = v.if_object();
    if (p == nullptr) return Corrupt("summary: bad problem");
    const boost::json::value* key = p->if_contains("key");
    const boost::json::value* reason = p->if_contains("reason");
    const boost::json::value* kind = p->if_contains("kind");
    if (key == nullptr || !key->is_string() || reason == nullptr || !reason->is_string() ||
        kind == nullptr || !kind->is_int64() || kind->get_int64() < 0 || kind->get_int64() > 2) {
      return Corrupt("summary: bad problem");
    }
    s.problems.push_back({std::string(key->get_string()), std::string(reason->get_string()),
                          static_cast<ProblemKind>(kind->get_int64())});
  }
  if (!ok) return Corrupt("summary: a count is missing or not a number");
  return s;
}

void AddSummary(DigestSummary& a, const DigestSummary& b) {
  for (const CountField& f : kCountFields) a.*f.member += b.*f.member;
  for (const SecondsField& f : kSecondsFields) a.*f.member += b.*f.member;
  for (size_t i = 0; i < kLineOutcomeCount; ++i) a.lines[i] += b.lines[i];
  a.problems.insert(a.problems.end(), b.problems.begin(), b.problems.end());
}

}  // namespace vpcflow
