// The compact protocol:
// https://github.com/apache/thrift/blob/master/doc/specs/thrift-compact-protocol.md
#include "parquet/thrift_compact.hpp"

#include "parquet/varint.hpp"

namespace vpcflow::parquet {

void CompactReader::Fail(std::string_view what) {
  if (!status_.ok()) return;
  status_ = DataLossError("Thrift metadata: " + std::string(what) + " (at byte " +
                          std::to_string(position()) + ")");
  p_ = end_;
}

uint64_t CompactReader::ReadVarint() {
  uint64_t v = 0;
  if (!parquet::ReadVarint(p_, end_, &v)) {
    Fail(p_ == end_ ? "the bytes end inside a number" : "a number longer than 10 bytes");
    return 0;
  }
  return v;
}

int64_t CompactReader::ReadZigZag() { return ZigZagDecode(ReadVarint()); }

void CompactReader::BeginStruct() {
  if (depth_ >= kMaxDepth) {
    Fail("structures nested too deep");
    return;
  }
  last_id_[++depth_] = 0;
}

void CompactReader::EndStruct() {
  if (depth_ > 0) --depth_;
}

ThriftField CompactReader::ReadFieldHeader() {
  if (p_ == end_) {
    Fail("the bytes end inside a structure");
    return {};
  }
  const uint8_t b = *p_++;
  ThriftField field;
  field.type = static_cast<ThriftType>(b & 0x0f);
  if (field.type == ThriftType::kStop) return field;
  const int delta = b >> 4;
  if (delta != 0) {
    field.id = static_cast<int16_t>(last_id_[depth_] + delta);
  } else {
    field.id = static_cast<int16_t>(ReadZigZag());
  }
  last_id_[depth_] = field.id;
  if (!ok()) return {};
  return field;
}

bool CompactReader::Expect(const ThriftField& field, ThriftType type) {
  if (field.type == type) return true;
  Fail("field " + std::to_string(field.id) + " has type " +
       std::to_string(static_cast<int>(field.type)) + ", expected " +
       std::to_string(static_cast<int>(type)));
  return false;
}

bool CompactReader::ReadBool(const ThriftField& field) {
  if (field.type == ThriftType::kBoolTrue) return true;
  if (field.type != ThriftType::kBoolFalse) Expect(field, ThriftType::kBoolFalse);
  return false;
}

int32_t CompactReader::ReadI32(const ThriftField& field) {
  if (!Expect(field, ThriftType::kI32)) return 0;
  const int64_t v = ReadZigZag();
  if (v < INT32_MIN || v > INT32_MAX) {
    Fail("an i32 out of range");
    return 0;
  }
  return static_cast<int32_t>(v);
}

int64_t CompactReader::ReadI64(const ThriftField& field) {
  // Writers may narrow an i64 field's encoding; accept i32 too (same zigzag varint).
  if (field.type != ThriftType::kI32 && !Expect(field, ThriftType::kI64)) return 0;
  return ReadZigZag();
}

void CompactReader::SkipBytes(size_t n) {
  if (n > static_cast<size_t>(end_ - p_)) {
    Fail("a length past the end of the bytes");
    return;
  }
  p_ += n;
}

std::string_view CompactReader::ReadBinaryElement() {
  const uint64_t n = ReadVarint();
  if (!ok()) return {};
  const uint8_t* start = p_;
  SkipBytes(n);
  if (!ok()) return {};
  return std::string_view(reinterpret_cast<const char*>(start), static_cast<size_t>(n));
}

std::string_view CompactReader::ReadBinary(const ThriftField& field) {
  if (!Expect(field, ThriftType::kBinary)) return {};
  return ReadBinaryElement();
}

bool CompactReader::ReadBoolElement() {
  if (p_ == end_) {
    Fail("the bytes end inside a list");
    return false;
  }
  return *p_++ == 1;
}

ThriftList CompactReader::ReadListHeader() {
  if (p_ == end_) {
    Fail("the bytes end at a list header");
    return {};
  }
  const uint8_t b = *p_++;
  ThriftList list;
  list.element = static_cast<ThriftType>(b & 0x0f);
  uint64_t size = b >> 4;
  if (size == 15) size = ReadVarint();
  // Every element takes at least one byte, so no valid list is longer than what is left.
  if (ok() && size > static_cast<uint64_t>(end_ - p_)) Fail("a list longer than the bytes left");
  if (!ok()) return {};
  list.size = static_cast<uint32_t>(size);
  return list;
}

ThriftList CompactReader::ReadList(const ThriftField& field) {
  if (field.type != ThriftType::kSet && !Expect(field, ThriftType::kList)) return {};
  return ReadListHeader();
}

void CompactReader::Skip(ThriftType type) { Skip(type, depth_); }

void CompactReader::Skip(ThriftType type, int depth) {
  if (!ok()) return;
  if (depth >= kMaxDepth) {
    Fail("structures nested too deep");
    return;
  }
  switch (type) {
    case ThriftType::kBoolTrue:
    case ThriftType::kBoolFalse:
      return;  // the value is in the field header
    case ThriftType::kByte:
      SkipBytes(1);
      return;
    case ThriftType::kI16:
    case ThriftType::kI32:
    case ThriftType::kI64:
      ReadVarint();
      return;
    case ThriftType::kDouble:
      SkipBytes(8);
      return;
    case ThriftType::kUuid:
      SkipBytes(16);
      return;
    case ThriftType::kBinary:
      SkipBytes(ReadVarint());
      return;
    case ThriftType::kList:
    case ThriftType::kSet: {
      const ThriftList list = ReadListHeader();
      for (uint32_t i = 0; i < list.size && ok(); ++i) {
        // Booleans in a list take one byte each.
        if (list.element == ThriftType::kBoolTrue || list.element == ThriftType::kBoolFalse) {
          SkipBytes(1);
        } else {
          Skip(list.element, depth + 1);
        }
      }
      return;
    }
    case ThriftType::kMap: {
      const uint64_t size = ReadVarint();
      if (size == 0 || !ok()) return;
      if (size > static_cast<uint64_t>(end_ - p_)) {
        Fail("a map larger than the bytes left");
        return;
      }
      if (p_ == end_) {
        Fail("the bytes end at a map header");
        return;
      }
      const uint8_t types = *p_++;
      const auto key = static_cast<ThriftType>(types >> 4);
      const auto value = static_cast<ThriftType>(types & 0x0f);
      for (uint64_t i = 0; i < size && ok(); ++i) {
        Skip(key, depth + 1);
        Skip(value, depth + 1);
      }
      return;
    }
    case ThriftType::kStruct: {
      // A struct skipped on its own: track its field ids in a level of our own.
      BeginStruct();
      for (;;) {
        const ThriftField field = ReadFieldHeader();
        if (field.type == ThriftType::kStop) break;
        Skip(field.type, depth + 1);
      }
      EndStruct();
      return;
    }
    case ThriftType::kStop:
      break;
  }
  Fail("unknown type " + std::to_string(static_cast<int>(type)));
}

void CompactWriter::Varint(uint64_t v) { AppendVarint(v, &out_); }

void CompactWriter::ZigZag(int64_t v) { Varint(ZigZagEncode(v)); }

void CompactWriter::BeginStruct() { last_id_[++depth_] = 0; }

void CompactWriter::EndStruct() {
  out_.push_back(0);
  --depth_;
}

void CompactWriter::FieldHeader(int16_t id, ThriftType type) {
  const int delta = id - last_id_[depth_];
  if (delta > 0 && delta <= 15) {
    out_.push_back(static_cast<char>((delta << 4) | static_cast<int>(type)));
  } else {
    out_.push_back(static_cast<char>(type));
    ZigZag(id);
  }
  last_id_[depth_] = id;
}

void CompactWriter::FieldI32(int16_t id, int32_t value) {
  FieldHeader(id, ThriftType::kI32);
  ZigZag(value);
}

void CompactWriter::FieldI64(int16_t id, int64_t value) {
  FieldHeader(id, ThriftType::kI64);
  ZigZag(value);
}

void CompactWriter::FieldBool(int16_t id, bool value) {
  FieldHeader(id, value ? ThriftType::kBoolTrue : ThriftType::kBoolFalse);
}

void CompactWriter::FieldBinary(int16_t id, std::string_view value) {
  FieldHeader(id, ThriftType::kBinary);
  ElementBinary(value);
}

void CompactWriter::FieldStructBegin(int16_t id) {
  FieldHeader(id, ThriftType::kStruct);
  BeginStruct();
}

void CompactWriter::FieldListBegin(int16_t id, ThriftType element, uint32_t size) {
  FieldHeader(id, ThriftType::kList);
  if (size < 15) {
    out_.push_back(static_cast<char>((size << 4) | static_cast<int>(element)));
  } else {
    out_.push_back(static_cast<char>(0xf0 | static_cast<int>(element)));
    Varint(size);
  }
}

void CompactWriter::ElementI32(int32_t value) { ZigZag(value); }

void CompactWriter::ElementBinary(std::string_view value) {
  Varint(value.size());
  out_.append(value);
}

}  // namespace vpcflow::parquet
