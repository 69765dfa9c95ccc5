#include "flowlog/parquet_flow_reader.hpp"

#include <algorithm>
#include <charconv>

namespace vpcflow {
namespace {

// Address caches cover dictionaries up to this many entries (about 1.2 MB each).
constexpr size_t kMaxCachedAddresses = size_t{1} << 16;

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
  for (AddressCache& cache : address_cache_) cache.state.clear();
  return OkStatus();
}

// Addresses repeat: a dictionary-encoded run has each distinct one parsed once.
bool ParquetFlowReader::ParseAddress(int which, Field field, size_t at, std::string_view text,
                                     IpAddress* out) {
  const Column& c = columns_[static_cast<size_t>(slot_[static_cast<size_t>(field)])];
  const uint32_t* indices = c.reader->dictionary_indices();
  const size_t size = c.reader->dictionary_size();
  if (indices == nullptr || size > kMaxCachedAddresses) return ParseIpAddress(text, out);
  AddressCache& cache = address_cache_[which];
  if (cache.state.size() != size) {
    cache.state.assign(size, 0);
    cache.address.resize(size);
  }
  const uint32_t index = indices[c.pos + at];
  uint8_t& state = cache.state[index];
  if (state == 0) state = ParseIpAddress(text, &cache.address[index]) ? 1 : 2;
  if (state == 2) return false;
  *out = cache.address[index];
  return true;
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
  auto value = [&](Field field, size_t row) {
    Value v;
    const int slot = slot_[static_cast<size_t>(field)];
    if (slot < 0) return v;
    const Column& c = columns_[static_cast<size_t>(slot)];
    const size_t at = c.pos + row;
    if (!c.reader->present()[at]) return v;
    if (c.reader->is_int()) {
      v.kind = Value::Kind::kInt;
      v.number = c.reader->ints()[at];
      v.is_unsigned = c.reader->is_unsigned();
      return v;
    }
    v.text = c.reader->strings()[at].view();
    if (!v.text.empty() && v.text != "-") v.kind = Value::Kind::kText;
    return v;
  };
  // account-id, interface-id: any token, '-' when absent; a number written in decimal.
  auto id = [&](const Value& v, std::string_view* out) {
    if (v.kind == Value::Kind::kAbsent) {
      *out = "-";
      return true;
    }
    if (v.kind == Value::Kind::kText) {
      *out = v.text;
      // (find_first_of would search the pair for every byte)
      return v.text.find(' ') == std::string_view::npos &&
             v.text.find('\n') == std::string_view::npos;
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
    const Value status = value(Field::kLogStatus, i);
    if (status.kind == Value::Kind::kText) {
      outcome = LogStatusOutcome(status.text);
      if (outcome != LineOutcome::kUsed) continue;
    } else if (status.kind == Value::Kind::kInt) {
      outcome = LineOutcome::kStatusOther;
      continue;
    }
    const Value src = value(Field::kSrcAddr, i);
    const Value dst = value(Field::kDstAddr, i);
    const Value sport = value(Field::kSrcPort, i);
    const Value dport = value(Field::kDstPort, i);
    const Value proto = value(Field::kProtocol, i);
    const Value start = value(Field::kStart, i);
    const Value end = value(Field::kEnd, i);
    bool incomplete = false;
    for (const Value* v : {&src, &dst, &sport, &dport, &proto, &start, &end}) {
      incomplete = incomplete || v->kind == Value::Kind::kAbsent;
    }
    if (incomplete) {
      outcome = LineOutcome::kIncomplete;
      continue;
    }
    FlowRecord& r = records[i];
    if (src.kind != Value::Kind::kText || dst.kind != Value::Kind::kText ||
        !ParseAddress(0, Field::kSrcAddr, i, src.text, &r.srcaddr) ||
        !ParseAddress(1, Field::kDstAddr, i, dst.text, &r.dstaddr)) {
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
    const Value packets_value = value(Field::kPackets, i);
    const Value bytes_value = value(Field::kBytes, i);
    if ((packets_value.kind != Value::Kind::kAbsent && !Unsigned(packets_value, &packets)) ||
        (bytes_value.kind != Value::Kind::kAbsent && !Unsigned(bytes_value, &bytes))) {
      outcome = LineOutcome::kBadNumber;
      continue;
    }
    const Value action = value(Field::kAction, i);
    r.action = Action::kAbsent;
    if ((action.kind == Value::Kind::kInt) ||
        (action.kind == Value::Kind::kText && !ParseAction(action.text, &r.action)) ||
        !id(value(Field::kAccountId, i), &r.account_id) ||
        !id(value(Field::kInterfaceId, i), &r.interface_id)) {
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
