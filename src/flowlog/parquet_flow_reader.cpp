#include "flowlog/parquet_flow_reader.hpp"

#include <algorithm>
#include <charconv>

namespace vpcflow {
namespace {

// The caches cover dictionaries up to this many entries (an address cache about 1.2 MB).
constexpr size_t kMaxCachedValues = size_t{1} << 16;

// The fields judged once per dictionary entry (ParquetFlowReader::CachedLane).
constexpr Field kCached[] = {Field::kSrcAddr,     Field::kDstAddr,   Field::kAccountId,
                             Field::kInterfaceId, Field::kLogStatus, Field::kAction};

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

// A text value: absent when "" or "-", as '-' is in text.
Value TextValue(std::string_view text) {
  Value v;
  v.text = text;
  if (!text.empty() && text != "-") v.kind = Value::Kind::kText;
  return v;
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
    return TextValue(strings[row].view());
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
    if (std::find(std::begin(kCached), std::end(kCached), columns_[i].field) != std::end(kCached)) {
      columns_[i].reader->LeaveDictionaryStringsUnset(kMaxCachedValues);
    }
  }
  rows_left_ = static_cast<uint64_t>(group_.num_rows());
  in_group_ = true;
  for (DictionaryCache& cache : caches_) cache.state.clear();
  return OkStatus();
}

// Addresses, ids, statuses and actions repeat: a dictionary-encoded run has each distinct one
// judged once.
ParquetFlowReader::CachedLane ParquetFlowReader::CachedLaneOf(CacheSlot which, Field field) {
  CachedLane lane;
  const int slot = slot_[static_cast<size_t>(field)];
  if (slot < 0) return lane;
  const Column& c = columns_[static_cast<size_t>(slot)];
  if (!c.reader->strings_unset()) return lane;  // not from a small dictionary: no cache
  DictionaryCache& cache = caches_[which];
  const size_t size = c.reader->dictionary_size();
  if (cache.state.size() != size) {
    cache.state.assign(size, 0);
    if (which == kSrcCache || which == kDstCache) cache.address.resize(size);
  }
  lane.present = c.reader->present() + c.pos;
  lane.indices = c.reader->dictionary_indices() + c.pos;
  lane.dictionary = c.reader->dictionary_strings();
  lane.dictionary_end = c.reader->dictionary_bytes_end();
  lane.cache = &cache;
  return lane;
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

namespace {

// ParseFlowLine's checks in its order: a row's outcome is that of the first it fails. Judge runs
// each check over the whole batch (one field at a time, in tight loops) and keeps each row's
// earliest failing stage, which gives the same outcome as checking the row in order.
enum Stage : uint8_t {
  kStageStatus,
  kStageIncomplete,
  kStageAddress,
  kStageNumber,
  kStageValue,
  kStagePass
};
// The outcome of each stage but kStageStatus (which keeps the status's own).
constexpr LineOutcome kStageOutcome[] = {LineOutcome::kUsed,       LineOutcome::kIncomplete,
                                         LineOutcome::kBadAddress, LineOutcome::kBadNumber,
                                         LineOutcome::kBadValue,   LineOutcome::kUsed};

[[gnu::always_inline]] inline void Fail(uint8_t& stage, Stage s) {
  stage = std::min<uint8_t>(stage, s);
}

// A numeric field of every row as the text path reads its token: an unsigned number at most
// `max`, stored by store(row, value) (0 where absent). Rows where it is absent fail `absent`
// (kStagePass: allowed), rows where it is not such a number kStageNumber.
template <typename Store>
void NumberPass(const Lane& lane, size_t n, uint64_t max, Stage absent, uint8_t* stage,
                Store&& store) {
  if (lane.present == nullptr) {
    for (size_t i = 0; i < n; ++i) {
      Fail(stage[i], absent);
      store(i, 0);
    }
  } else if (lane.ints != nullptr) {
    const bool is_unsigned = lane.is_unsigned;
    for (size_t i = 0; i < n; ++i) {
      const int64_t v = lane.ints[i];
      const bool bad = (!is_unsigned && v < 0) || static_cast<uint64_t>(v) > max;
      Fail(stage[i], !lane.present[i] ? absent : bad ? kStageNumber : kStagePass);
      store(i, static_cast<uint64_t>(v));  // 0 where null (ColumnChunkReader::ints)
    }
  } else {
    for (size_t i = 0; i < n; ++i) {
      const Value v = lane(i);
      uint64_t x = 0;
      if (v.kind == Value::Kind::kAbsent) {
        Fail(stage[i], absent);
      } else if (!Unsigned(v, &x) || x > max) {
        Fail(stage[i], kStageNumber);
      }
      store(i, x);
    }
  }
}

}  // namespace

// The checks of ParseFlowLine (status, incomplete, addresses, ports and protocol, start/end,
// packets/bytes, action and ids), on typed values, one field at a time.
void ParquetFlowReader::Judge(size_t n, std::span<FlowRecord> records,
                              std::span<LineOutcome> outcomes) {
  text_.clear();
  text_.reserve(n * 2 * 24);  // INT ids as text: the views below must not move
  // Each needed field's lane (a field the file lacks keeps an empty lane: always absent).
  Lane lanes[static_cast<size_t>(Field::kUnknown)];
  for (const Column& c : columns_) lanes[static_cast<size_t>(c.field)] = Lane::Of(*c.reader, c.pos);
  auto lane = [&lanes](Field field) -> const Lane& { return lanes[static_cast<size_t>(field)]; };
  uint8_t stage[kMaxBatch];
  std::fill(stage, stage + n, kStagePass);

  // The fields judged by value (status, addresses, action, ids): `judge(value, entry)` gives a
  // value's verdict (never 0), `apply(row, verdict, value, entry)` applies it to a row. A cached
  // field (CachedLane) has judge called once per dictionary entry (`entry` its index, the
  // verdict kept in the entry's state) and apply given the entry's text; any other once per
  // row, with `entry` kNoEntry.
  constexpr uint32_t kNoEntry = UINT32_MAX;
  auto for_each_verdict = [&](const CachedLane& cached, const Lane& values, auto&& judge,
                              auto&& apply) {
    if (cached.cache != nullptr) {
      uint8_t* state = cached.cache->state.data();
      for (size_t i = 0; i < n; ++i) {
        if (!cached.present[i]) {
          apply(i, judge(Value(), kNoEntry), Value(), kNoEntry);
          continue;
        }
        const uint32_t entry = cached.indices[i];
        Value v;
        v.kind = Value::Kind::kText;  // (an absent entry's verdict says so)
        v.text = cached.dictionary[entry].view();
        if (state[entry] == 0) state[entry] = judge(TextValue(v.text), entry);
        apply(i, state[entry], v, entry);
      }
      return;
    }
    for (size_t i = 0; i < n; ++i) {
      const Value v = values(i);
      apply(i, judge(v, kNoEntry), v, kNoEntry);
    }
  };
  constexpr uint8_t kValid = 1, kAbsent = 2, kInvalid = 255;

  // log-status: any but OK (or absent) decides the outcome. Verdict: 1 + the outcome.
  for_each_verdict(
      CachedLaneOf(kStatusCache, Field::kLogStatus), lane(Field::kLogStatus),
      [](const Value& v, uint32_t) {
        const LineOutcome o = v.kind == Value::Kind::kText  ? LogStatusOutcome(v.text)
                              : v.kind == Value::Kind::kInt ? LineOutcome::kStatusOther
                                                            : LineOutcome::kUsed;
        return static_cast<uint8_t>(1 + static_cast<uint8_t>(o));
      },
      [&](size_t i, uint8_t verdict, const Value&, uint32_t) {
        const auto o = static_cast<LineOutcome>(verdict - 1);
        if (o != LineOutcome::kUsed) {
          stage[i] = kStageStatus;
          outcomes[i] = o;
        }
      });
  // Addresses: absent makes the row incomplete; a number or an unparsable text a bad address. A
  // cached entry's address is parsed into the cache, any other value's into `parsed`.
  IpAddress parsed;
  auto addresses = [&](Field field, CacheSlot slot, IpAddress FlowRecord::*member) {
    const CachedLane cached = CachedLaneOf(slot, field);
    IpAddress* cache = cached.cache != nullptr ? cached.cache->address.data() : nullptr;
    for_each_verdict(
        cached, lane(field),
        [&](const Value& v, uint32_t entry) {
          if (v.kind == Value::Kind::kAbsent) return kAbsent;
          if (v.kind != Value::Kind::kText) return kInvalid;
          const bool ok = entry == kNoEntry
                              ? ParseIpAddress(v.text, &parsed)
                              : ParseIpAddress(v.text, cached.dictionary_end, &cache[entry]);
          return ok ? kValid : kInvalid;
        },
        [&](size_t i, uint8_t verdict, const Value&, uint32_t entry) {
          if (verdict == kValid) {
            records[i].*member = entry == kNoEntry ? parsed : cache[entry];
          } else {
            Fail(stage[i], verdict == kAbsent ? kStageIncomplete : kStageAddress);
          }
        });
  };
  addresses(Field::kSrcAddr, kSrcCache, &FlowRecord::srcaddr);
  addresses(Field::kDstAddr, kDstCache, &FlowRecord::dstaddr);
  NumberPass(lane(Field::kSrcPort), n, 65535, kStageIncomplete, stage,
             [&](size_t i, uint64_t v) { records[i].srcport = static_cast<uint16_t>(v); });
  NumberPass(lane(Field::kDstPort), n, 65535, kStageIncomplete, stage,
             [&](size_t i, uint64_t v) { records[i].dstport = static_cast<uint16_t>(v); });
  NumberPass(lane(Field::kProtocol), n, 255, kStageIncomplete, stage,
             [&](size_t i, uint64_t v) { records[i].protocol = static_cast<uint8_t>(v); });
  NumberPass(lane(Field::kStart), n, UINT64_MAX, kStageIncomplete, stage,
             [&](size_t i, uint64_t v) { records[i].start = TimeSeconds(v); });
  NumberPass(lane(Field::kEnd), n, UINT64_MAX, kStageIncomplete, stage,
             [&](size_t i, uint64_t v) { records[i].end = TimeSeconds(v); });
  // (A row whose start or end failed has its stage at kStageNumber or earlier already.)
  for (size_t i = 0; i < n; ++i) {
    Fail(stage[i], records[i].end < records[i].start ? kStageNumber : kStagePass);
  }
  NumberPass(lane(Field::kPackets), n, UINT64_MAX, kStagePass, stage,
             [&](size_t i, uint64_t v) { records[i].packets = v; });
  NumberPass(lane(Field::kBytes), n, UINT64_MAX, kStagePass, stage,
             [&](size_t i, uint64_t v) { records[i].bytes = v; });
  // action: ACCEPT, REJECT or absent; a number is a bad value. Verdict: 1 + the action.
  for_each_verdict(
      CachedLaneOf(kActionCache, Field::kAction), lane(Field::kAction),
      [](const Value& v, uint32_t) {
        Action action = Action::kAbsent;
        if (v.kind == Value::Kind::kInt ||
            (v.kind == Value::Kind::kText && !ParseAction(v.text, &action))) {
          return kInvalid;
        }
        return static_cast<uint8_t>(1 + static_cast<uint8_t>(action));
      },
      [&](size_t i, uint8_t verdict, const Value&, uint32_t) {
        records[i].action =
            verdict == kInvalid ? Action::kAbsent : static_cast<Action>(verdict - 1);
        if (verdict == kInvalid) Fail(stage[i], kStageValue);
      });
  // account-id, interface-id: any token, '-' when absent; a number written in decimal.
  auto ids = [&](Field field, CacheSlot slot, std::string_view FlowRecord::*member) {
    for_each_verdict(
        CachedLaneOf(slot, field), lane(field),
        [](const Value& v, uint32_t) {
          if (v.kind == Value::Kind::kAbsent) return kAbsent;
          return v.kind == Value::Kind::kInt || NoSeparator(v.text) ? kValid : kInvalid;
        },
        [&](size_t i, uint8_t verdict, const Value& v, uint32_t) {
          std::string_view& out = records[i].*member;
          if (verdict == kAbsent) {
            out = "-";
          } else if (v.kind == Value::Kind::kText) {
            out = v.text;
            if (verdict == kInvalid) Fail(stage[i], kStageValue);
          } else {
            char buf[24];
            const auto r = v.is_unsigned ? std::to_chars(buf, buf + sizeof(buf),
                                                         static_cast<uint64_t>(v.number))
                                         : std::to_chars(buf, buf + sizeof(buf), v.number);
            const size_t at = text_.size();
            text_.append(buf, r.ptr);
            out = std::string_view(text_).substr(at);
          }
        });
  };
  ids(Field::kAccountId, kAccountCache, &FlowRecord::account_id);
  ids(Field::kInterfaceId, kInterfaceCache, &FlowRecord::interface_id);

  for (size_t i = 0; i < n; ++i) {
    if (stage[i] != kStageStatus) outcomes[i] = kStageOutcome[stage[i]];
  }
}

}  // namespace vpcflow
