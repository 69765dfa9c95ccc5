#pragma once
/// The Thrift compact protocol, as Parquet uses it for its footer and page headers: a bounded
/// decoder and a small encoder (for our own writer). No generated code, no exceptions.
///
/// CompactReader decodes from a span it does not own. Errors are sticky: the first problem
/// (bytes end early, a varint longer than 10 bytes, a length or list size larger than the bytes
/// left, nesting deeper than kMaxDepth, a field of the wrong type) is kept in status(); after it
/// every read returns a zero value, every field header reads as kStop and every list as empty,
/// so parsing loops end by themselves. Callers check ok() once at the end of a structure.
/// Nothing allocates in proportion to a size read from the bytes. One thread at a time.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "vpcflow/status.hpp"

namespace vpcflow::parquet {

/// Compact-protocol type ids (the low nibble of a field header).
enum class ThriftType : uint8_t {
  kStop = 0,
  kBoolTrue = 1,
  kBoolFalse = 2,
  kByte = 3,
  kI16 = 4,
  kI32 = 5,
  kI64 = 6,
  kDouble = 7,
  kBinary = 8,
  kList = 9,
  kSet = 10,
  kMap = 11,
  kStruct = 12,
  kUuid = 13,
};

struct ThriftField {
  int16_t id = 0;
  ThriftType type = ThriftType::kStop;
};

struct ThriftList {
  uint32_t size = 0;  ///< checked: at most the bytes left (every element takes one byte or more)
  ThriftType element = ThriftType::kStop;
};

class CompactReader {
 public:
  /// Structures nested deeper than this (in data or while skipping) are an error.
  static constexpr int kMaxDepth = 32;

  explicit CompactReader(std::span<const uint8_t> bytes)
      : p_(bytes.data()), end_(p_ + bytes.size()) {}

  bool ok() const { return status_.ok(); }
  /// DataLoss naming the problem and the byte offset, once something failed.
  const Status& status() const { return status_; }
  /// Bytes consumed so far.
  size_t position() const { return static_cast<size_t>(p_ - begin_); }

  /// Enters a struct (field ids restart) / leaves it.
  void BeginStruct();
  void EndStruct();
  /// The next field of the current struct; type kStop at its end.
  ThriftField ReadFieldHeader();

  /// Values of a field whose header said `field.type` (a mismatch is an error). ReadBool takes
  /// the header (compact booleans live in it); inside lists use ReadBoolElement.
  bool ReadBool(const ThriftField& field);
  int32_t ReadI32(const ThriftField& field);
  int64_t ReadI64(const ThriftField& field);
  /// A binary/string value: a view into the input.
  std::string_view ReadBinary(const ThriftField& field);
  ThriftList ReadList(const ThriftField& field);

  /// List elements (after ReadList).
  int32_t ReadI32Element() { return static_cast<int32_t>(ReadZigZag()); }
  std::string_view ReadBinaryElement();
  bool ReadBoolElement();

  /// Skips one value of `type` (structs, lists, sets, maps included, depth-bounded).
  void Skip(ThriftType type);
  /// Records an error of the caller's (a required field missing, a value out of range).
  void Fail(std::string_view what);

 private:
  uint64_t ReadVarint();
  int64_t ReadZigZag();
  bool Expect(const ThriftField& field, ThriftType type);
  void SkipBytes(size_t n);
  void Skip(ThriftType type, int depth);
  ThriftList ReadListHeader();

  const uint8_t* p_;
  const uint8_t* end_;
  const uint8_t* begin_ = p_;
  int depth_ = 0;
  int16_t last_id_[kMaxDepth + 1] = {};
  Status status_;
};

/// Encodes the compact protocol into a string (for the writer). Field ids must ascend within a
/// struct, as Thrift writes them.
class CompactWriter {
 public:
  void BeginStruct();
  void EndStruct();  ///< writes the stop byte
  void FieldI32(int16_t id, int32_t value);
  void FieldI64(int16_t id, int64_t value);
  void FieldBool(int16_t id, bool value);
  void FieldBinary(int16_t id, std::string_view value);
  /// A struct field: write its fields, then EndStruct().
  void FieldStructBegin(int16_t id);
  /// A list field header; then write `size` elements with the Element* calls (structs: each
  /// BeginStruct() ... EndStruct()).
  void FieldListBegin(int16_t id, ThriftType element, uint32_t size);
  void ElementI32(int32_t value);
  void ElementBinary(std::string_view value);

  const std::string& bytes() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  void FieldHeader(int16_t id, ThriftType type);
  void Varint(uint64_t v);
  void ZigZag(int64_t v);

  std::string out_;
  int16_t last_id_[CompactReader::kMaxDepth + 1] = {};
  int depth_ = 0;
};

}  // namespace vpcflow::parquet
