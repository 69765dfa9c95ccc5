#include "flowlog/parquet_flow_reader.hpp"

#include <algorithm>
#include <charconv>

namespace vpcflow {
namespace {

// The caches cover dictionaries up to this many entries (an address cache about 1.2 MB).
constexpr size_t kMaxCachedValues = size_t{1} << 16;

// The fields the digest reads; every other column is ignored.
constexpr Field kNeeded[] = {
    Field::kAccountId, Field::kInterfaceId, Field::kSrcAddr,  Field::kDstAddr, Field::kSrcPort,
    Field::kDstPort,   Field::kProtocol,    Field::kPackets,  Field::kBytes,   Field::kStart,
    Field::kEnd,       Field::kAction,      Field::kLogStatus};

// One value of a row, as the rules see it.
struct Value {
  enum class Kind : uint8_t { kAbsent, kInt, kText };
  Kind kind = Kind::kAbsent;
  bool is_unsigned = false;
  int64_t number = 0;
  std::string_view text;
};

// A number as the text path would read its token: digits of a non-negative value.
bool Unsigned(const Value& v, uint64_t* out) {
  if (v.kind == Value::Kind::kText) return ParseDecimal(v.text, out);
  if (!v.is_unsigned && v.number < 0) return false;
  *out = static_cast<uint64_t>(v.number);
  return true;
}

bool UnsignedAtMost(const Value& v, uint64_t max, uint64_t* out) {
  return Unsigned(v, out) && *out <= max;
}

// One needed field's values for the rows of a batch: its column's arrays from the batch's first
// row, read once per batch instead of once per value.
struct Lane {
  const uint8_t* present = nullptr;  // null when the file has no such column
  const int64_t* ints = nullptr;     // INT columns
  const parquet::ByteView* strings = nullptr;
  bool is_unsigned = false;

  static Lane Of(const parquet::ColumnChunkReader& reader, size_t pos) {
    Lane lane;
    lane.present = reader.present() + pos;
    if (reader.is_int()) {
      lane.ints = reader.ints() + pos;
      lane.is_unsigned = reader.is_unsigned();
    } else {
      lane.strings = reader.strings() + pos;
    }
    return lane;
  }

  [[gnu::always_inline]] Value operator()(size_t row) const {
    Value v;
    if (present == nullptr || !present[row]) return v;
    if (ints != nullptr) {
      v.kind = Value::Kind::kInt;
      v.number = ints[row];
      v.is_unsigned = is_unsigned;
      return v;
    }
    v.text = strings[row].view();
    if (!v.text.empty() && v.text != "-") v.kind = Value::Kind::kText;
    return v;
  }
};

// An id the digest's lines can carry: no space or newline (one pass over the few bytes).
bool NoSeparator(std::string_view text) {
  bool clean = true;
  for (const char ch : text) clean &= ch != ' ' && ch != '\n';
  return clean;
}

}  // namespace

struct ParquetFlowReader::Column {
  Field field = Field::kUnknown;
  size_t leaf = 0;
  parquet::ColumnChunkReader* reader = nullptr;  // of the current row group
  size_t pos = 0;                                // next value of the reader's current run
  size_t count = 0;                              // values in that run
};

Result<std::unique_ptr<ParquetFlowReader>> ParquetFlowReader::Open(
    ObjectSource& source, std::string_view key, const ParquetReadOptions& options) {
  Result<RandomAccessObjectPtr> file =
      OpenRandomAccessOrRead(source, key, parquet::kFooterReadHint, options.max_read_bytes);
  if (!file.ok() && file.status().code() == StatusCode::kResourceExhausted) {
    return DataLossError(file.status().message());
  }
  if (!file.ok()) return file.status();
  return Open(std::move(file).value(), options);
}

Result<std::unique_ptr<ParquetFlowReader>> ParquetFlowReader::Open(
    RandomAccessObjectPtr file, const ParquetReadOptions& options) {
  VPCFLOW_ASSIGN_OR_RETURN(std::unique_ptr<parquet::FileReader> reader,
                           parquet::FileReader::Open(file.get(), options.limits));
  const parquet::FileMetaData& metadata = reader->metadata();
  std::vector<Column> columns;
  std::vector<bool> taken(static_cast<size_t>(Field::kUnknown), false);
  for (size_t i = 0; i < metadata.leaves.size(); ++i) {
    const parquet::LeafColumn& leaf = metadata.leaves[i];
    const std::string& name = metadata.fields[leaf.field];
    const Field field = FieldFromName(name);
    if (std::find(std::begin(kNeeded), std::end(kNeeded), field) == std::end(kNeeded)) continue;
    if (taken[static_cast<size_t>(field)]) continue;
    taken[static_cast<size_t>(field)] = true;
    if (leaf.nested || leaf.max_repetition_level > 0) {
      return DataLossError("column '" + name + "' is nested or repeated: not a flow-log column");
    }
    if (leaf.type != parquet::PhysicalType::kInt32 && leaf.type != parquet::PhysicalType::kInt64 &&
        leaf.type != parquet::PhysicalType::kByteArray &&
        leaf.type != parquet::PhysicalType::kFixedLenByteArray) {
      return DataLossError("column '" + name + "' has type " + PhysicalTypeName(leaf.type) +
                           ": not a flow-log column");
    }
    columns.push_back(Column{.field = field, .leaf = i});
  }
  return std::unique_ptr<ParquetFlowReader>(
      new ParquetFlowReader(std::move(file), std::move(reader), std::move(columns)));
}

ParquetFlowReader::ParquetFlowReader(RandomAccessObjectPtr file,
                                     std::unique_ptr<parquet::FileReader> reader,
                                     std::vector<Column> columns)
    : file_(std::move(file)), reader_(std::move(reader)), columns_(std::move(columns)) {
  std::fill(std::begin(slot_), std::end(slot_), -1);
  for (size_t i = 0; i < columns_.size(); ++i) {
    slot_[static_cast<size_t>(columns_[i].field)] = static_cast<int>(i);
  }
}

ParquetFlowReader::~ParquetFlowReader() = default;

uint64_t ParquetFlowReader::decompressed_bytes() const {
  uint64_t bytes = done_bytes_;
  for (const Column& c : columns_) {
    if (in_group_ && c.reader != nullptr) bytes += c.reader->decompressed_bytes();
  }
  return bytes;
}

Status ParquetFlowReader::NextRowGroup(bool* end) {
  const std::vector<parquet::RowGroupMeta>& groups = reader_->metadata().row_groups;
  if (next_group_ >= groups.size()) {
    *end = true;
    return OkStatus();
  }
  std::vector<size_t> leaves;
  for (const Column& c : columns_) leaves.push_back(c.leaf);
  VPCFLOW_ASSIGN_OR_RETURN(group_, reader_->ReadRowGroup(next_group_++, leaves));
  for (size_t i = 0; i < columns_.size(); ++i) {
    columns_[i].reader = group_.columns()[i].get();
    columns_[i].pos = columns_[i].count = 0;
  }
  rows_left_ = static_cast<uint64_t>(group_.num_rows());
  in_group_ = true;
  for (DictionaryCache& cache : caches_) cache.state.clear();
  return OkStatus();
}

// Addresses and ids repeat: a dictionary-encoded run has each distinct one judged once.
ParquetFlowReader::CachedLane ParquetFlowReader::CachedLaneOf(CacheSlot which, Field field) {
  CachedLane lane;
  const int slot = slot_[static_cast<size_t>(field)];
  if (slot < 0) return lane;
  const Column& c = columns_[static_cast<size_t>(slot)];
  const uint32_t* indices = c.reader->dictionary_indices();
  const size_t size = c.reader->dictionary_size();
  if (indices == nullptr || size > kMaxCachedValues) return lane;
  DictionaryCache& cache = caches_[which];
  if (cache.state.size() != size) {
    cache.state.assign(size, 0);
    if (which == kSrcCache || which == kDstCache) cache.address.resize(size);
  }
  lane.indices = indices + c.pos;
  lane.cache = &cache;
  return lane;
}

bool ParquetFlowReader::CachedLane::Address(size_t row, std::string_view text,
                                            IpAddress* out) const {
  if (cache == nullptr) return ParseIpAddress(text, out);
  const uint32_t index = indices[row];
  uint8_t& state = cache->state[index];
  if (state == 0) state = ParseIpAddress(text, &cache->address[index]) ? 1 : 2;
  if (state == 2) return false;
  *out = cache->address[index];
  return true;
}

bool ParquetFlowReader::CachedLane::Id(size_t row, std::string_view text) const {
  if (cache == nullptr) return NoSeparator(text);
  uint8_t& state = cache->state[indices[row]];
  if (state == 0) state = NoSeparator(text) ? 1 : 2;
  return state == 1;
}

// Every column must end with its row group: a value past the rows is as corrupt as a missing one.
Status ParquetFlowReader::FinishRowGroup() {
  for (Column& c : columns_) {
    size_t more = c.count - c.pos;
    if (more == 0) {
      VPCFLOW_ASSIGN_OR_RETURN(more, c.reader->Next(1));
    }
    if (more != 0) {
      return DataLossError(
          "column '" + reader_->metadata().fields[reader_->metadata().leaves[c.leaf].field] +
          "' has more values than its row group's " + std::to_string(group_.num_rows()) + " rows");
    }
    done_bytes_ += c.reader->decompressed_bytes();
    c.reader = nullptr;
  }
  group_ = parquet::RowGroupReader();
  in_group_ = false;
  return OkStatus();
}

Result<size_t> ParquetFlowReader::Next(std::span<FlowRecord> records,
                                       std::span<LineOutcome> outcomes) {
  const size_t max = std::min({records.size(), outcomes.size(), kMaxBatch});
  if (max == 0) return size_t{0};
  for (;;) {
    if (!in_group_ || rows_left_ == 0) {
      if (in_group_) VPCFLOW_RETURN_IF_ERROR(FinishRowGroup());
      bool end = false;
      VPCFLOW_RETURN_IF_ERROR(NextRowGroup(&end));
      if (end) return size_t{0};
      continue;
    }
    size_t n = static_cast<size_t>(std::min<uint64_t>(max, rows_left_));
    for (Column& c : columns_) {
      if (c.pos == c.count) {
        VPCFLOW_ASSIGN_OR_RETURN(c.count, c.reader->Next(parquet::ColumnChunkReader::kMaxRun));
        c.pos = 0;
        if (c.count == 0) {
          return DataLossError(
              "column '" + reader_->metadata().fields[reader_->metadata().leaves[c.leaf].field] +
              "' has fewer values than its row group's " + std::to_string(group_.num_rows()) +
              " rows");
        }
      }
      n = std::min(n, c.count - c.pos);
    }
    Judge(n, records, outcomes);
    for (Column& c : columns_) c.pos += n;
    rows_left_ -= n;
    return n;
  }
}

// The checks of ParseFlowLine, in its order (status, incomplete, addresses, ports and protocol,
// start/end, packets/bytes, action), on typed values.
void ParquetFlowReader::Judge(size_t n, std::span<FlowRecord> records,
                              std::span<LineOutcome> outcomes) {
  text_.clear();
  text_.reserve(n * 2 * 24);  // INT ids as text: the views below must not move
  // Each needed field's lane (a field the file lacks keeps an empty lane: always absent).
  Lane lanes[static_cast<size_t>(Field::kUnknown)];
  for (const Column& c : columns_) lanes[static_cast<size_t>(c.field)] = Lane::Of(*c.reader, c.pos);
  auto lane = [&lanes](Field field) -> const Lane& { return lanes[static_cast<size_t>(field)]; };
  const CachedLane src_addresses = CachedLaneOf(kSrcCache, Field::kSrcAddr);
  const CachedLane dst_addresses = CachedLaneOf(kDstCache, Field::kDstAddr);
  const CachedLane account_ids = CachedLaneOf(kAccountCache, Field::kAccountId);
  const CachedLane interface_ids = CachedLaneOf(kInterfaceCache, Field::kInterfaceId);
  // account-id, interface-id: any token, '-' when absent; a number written in decimal.
  auto id = [&](const Lane& values, const CachedLane& ids, size_t row, std::string_view* out) {
    const Value v = values(row);  // here, not passed in: no store and reload of a Value
    if (v.kind == Value::Kind::kAbsent) {
      *out = "-";
      return true;
    }
    if (v.kind == Value::Kind::kText) {
      *out = v.text;
      return ids.Id(row, v.text);
    }
    char buf[24];
    const auto r = v.is_unsigned
                       ? std::to_chars(buf, buf + sizeof(buf), static_cast<uint64_t>(v.number))
                       : std::to_chars(buf, buf + sizeof(buf), v.number);
    const size_t at = text_.size();
    text_.append(buf, r.ptr);
    *out = std::string_view(text_).substr(at);
    return true;
  };

  for (size_t i = 0; i < n; ++i) {
    LineOutcome& outcome = outcomes[i];
    const Value status = lane(Field::kLogStatus)(i);
    if (status.kind == Value::Kind::kText) {
      outcome = LogStatusOutcome(status.text);
      if (outcome != LineOutcome::kUsed) continue;
    } else if (status.kind == Value::Kind::kInt) {
      outcome = LineOutcome::kStatusOther;
      continue;
    }
    const Value src = lane(Field::kSrcAddr)(i);
    const Value dst = lane(Field::kDstAddr)(i);
    const Value sport = lane(Field::kSrcPort)(i);
    const Value dport = lane(Field::kDstPort)(i);
    const Value proto = lane(Field::kProtocol)(i);
    const Value start = lane(Field::kStart)(i);
    const Value end = lane(Field::kEnd)(i);
    constexpr Value::Kind kAbsent = Value::Kind::kAbsent;
    if (src.kind == kAbsent || dst.kind == kAbsent || sport.kind == kAbsent ||
        dport.kind == kAbsent || proto.kind == kAbsent || start.kind == kAbsent ||
        end.kind == kAbsent) {
      outcome = LineOutcome::kIncomplete;
      continue;
    }
    FlowRecord& r = records[i];
    if (src.kind != Value::Kind::kText || dst.kind != Value::Kind::kText ||
        !src_addresses.Address(i, src.text, &r.srcaddr) ||
        !dst_addresses.Address(i, dst.text, &r.dstaddr)) {
      outcome = LineOutcome::kBadAddress;
      continue;
    }
    uint64_t sp, dp, pr, first, last, packets = 0, bytes = 0;
    if (!UnsignedAtMost(sport, 65535, &sp) || !UnsignedAtMost(dport, 65535, &dp) ||
        !UnsignedAtMost(proto, 255, &pr) || !Unsigned(start, &first) || !Unsigned(end, &last) ||
        TimeSeconds(last) < TimeSeconds(first)) {
      outcome = LineOutcome::kBadNumber;
      continue;
    }
    const Value packets_value = lane(Field::kPackets)(i);
    const Value bytes_value = lane(Field::kBytes)(i);
    if ((packets_value.kind != Value::Kind::kAbsent && !Unsigned(packets_value, &packets)) ||
        (bytes_value.kind != Value::Kind::kAbsent && !Unsigned(bytes_value, &bytes))) {
      outcome = LineOutcome::kBadNumber;
      continue;
    }
    const Value action = lane(Field::kAction)(i);
    r.action = Action::kAbsent;
    if ((action.kind == Value::Kind::kInt) ||
        (action.kind == Value::Kind::kText && !ParseAction(action.text, &r.action)) ||
        !id(lane(Field::kAccountId), account_ids, i, &r.account_id) ||
        !id(lane(Field::kInterfaceId), interface_ids, i, &r.interface_id)) {
      outcome = LineOutcome::kBadValue;
      continue;
    }
    r.srcport = static_cast<uint16_t>(sp);
    r.dstport = static_cast<uint16_t>(dp);
    r.protocol = static_cast<uint8_t>(pr);
    r.packets = packets;
    r.bytes = bytes;
    r.start = TimeSeconds(first);
    r.end = TimeSeconds(last);
    outcome = LineOutcome::kUsed;
  }
}

}  // namespace vpcflow
