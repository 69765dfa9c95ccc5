#include "parquet/thrift_compact.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "testing/matchers.hpp"

namespace vpcflow::parquet {
namespace {

using ::testing::HasSubstr;

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

TEST(ThriftCompactTest, ReadsWhatTheWriterWrites) {
  CompactWriter w;
  w.BeginStruct();
  w.FieldI32(1, -7);
  w.FieldI64(2, int64_t{1} << 40);
  w.FieldBool(3, true);
  w.FieldBool(4, false);
  w.FieldBinary(5, "srcaddr");
  w.FieldListBegin(20, ThriftType::kI32, 20);  // delta 15 fits the header; 20 needs the long size
  for (int i = 0; i < 20; ++i) w.ElementI32(i * 1000);
  w.FieldStructBegin(300);  // an id far from the last: written in full
  w.FieldI32(1, 42);
  w.EndStruct();
  w.EndStruct();
  const std::string bytes = w.Take();

  CompactReader r(Bytes(bytes));
  r.BeginStruct();
  ThriftField f = r.ReadFieldHeader();
  EXPECT_EQ(f.id, 1);
  EXPECT_EQ(r.ReadI32(f), -7);
  f = r.ReadFieldHeader();
  EXPECT_EQ(r.ReadI64(f), int64_t{1} << 40);
  f = r.ReadFieldHeader();
  EXPECT_TRUE(r.ReadBool(f));
  f = r.ReadFieldHeader();
  EXPECT_FALSE(r.ReadBool(f));
  f = r.ReadFieldHeader();
  EXPECT_EQ(r.ReadBinary(f), "srcaddr");
  f = r.ReadFieldHeader();
  EXPECT_EQ(f.id, 20);
  ThriftList list = r.ReadList(f);
  ASSERT_EQ(list.size, 20u);
  EXPECT_EQ(list.element, ThriftType::kI32);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(r.ReadI32Element(), i * 1000);
  f = r.ReadFieldHeader();
  EXPECT_EQ(f.id, 300);
  EXPECT_EQ(f.type, ThriftType::kStruct);
  r.BeginStruct();
  f = r.ReadFieldHeader();
  EXPECT_EQ(f.id, 1);  // ids restart inside a struct
  EXPECT_EQ(r.ReadI32(f), 42);
  EXPECT_EQ(r.ReadFieldHeader().type, ThriftType::kStop);
  r.EndStruct();
  EXPECT_EQ(r.ReadFieldHeader().type, ThriftType::kStop);
  r.EndStruct();
  EXPECT_OK(r.status());
  EXPECT_EQ(r.position(), bytes.size());
}

TEST(ThriftCompactTest, SkipsEveryKindOfUnknownField) {
  // A struct holding a double, a map, a set of structs, a list of bools, a byte, a uuid and a
  // nested struct, then the field we want.
  std::string b;
  b += '\x17';  // field 1, double
  b += std::string(8, '\x01');
  b += '\x1b';  // field 2, map
  b += '\x02';  // 2 entries
  b += '\x85';  // binary -> i32
  b += "\x01"
       "a"
       "\x02";
  b += "\x01"
       "b"
       "\x04";
  b += '\x1a';                          // field 3, set
  b += '\x2c';                          // 2 structs
  b += std::string("\x15\x02\x00", 3);  // {1: i32 1}
  b += '\x00';                          // {}
  b += '\x19';                          // field 4, list
  b += '\x31';                          // 3 bools
  b += "\x01\x02\x01";
  b += '\x13';  // field 5, byte
  b += '\x7f';
  b += '\x1d';  // field 6, uuid
  b += std::string(16, '\x00');
  b += '\x1c';                                  // field 7, struct
  b += std::string("\x1c\x15\x04\x00\x00", 5);  // {1: {1: i32 2}}
  b += '\x15';                                  // field 8, i32
  b += '\x54';
  b += '\x00';
  CompactReader r(Bytes(b));
  r.BeginStruct();
  int32_t value = 0;
  for (;;) {
    const ThriftField f = r.ReadFieldHeader();
    if (f.type == ThriftType::kStop) break;
    if (f.id == 8) {
      value = r.ReadI32(f);
    } else {
      r.Skip(f.type);
    }
  }
  r.EndStruct();
  EXPECT_OK(r.status());
  EXPECT_EQ(value, 42);
  EXPECT_EQ(r.position(), b.size());
}

TEST(ThriftCompactTest, FailsOnTruncatedInput) {
  CompactWriter w;
  w.BeginStruct();
  w.FieldBinary(1, "a long enough string");
  w.FieldI64(2, 123456789012345);
  w.EndStruct();
  const std::string bytes = w.Take();
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    const std::string part = bytes.substr(0, cut);
    CompactReader r(Bytes(part));
    r.BeginStruct();
    for (;;) {
      const ThriftField f = r.ReadFieldHeader();
      if (f.type == ThriftType::kStop) break;
      r.Skip(f.type);
    }
    EXPECT_THAT(r.status(), StatusIs(StatusCode::kDataLoss)) << "cut at " << cut;
  }
}

TEST(ThriftCompactTest, RefusesListsLongerThanTheBytesLeft) {
  // A list header claiming 2^31 i32 elements in 6 bytes: refused before anything is read.
  const std::string b = std::string("\x19\xf5") + "\x80\x80\x80\x80\x08";
  CompactReader r(Bytes(b));
  r.BeginStruct();
  const ThriftField f = r.ReadFieldHeader();
  const ThriftList list = r.ReadList(f);
  EXPECT_EQ(list.size, 0u);
  EXPECT_THAT(r.status(), StatusIs(StatusCode::kDataLoss, HasSubstr("list longer")));
}

TEST(ThriftCompactTest, RefusesBinaryLongerThanTheBytesLeft) {
  const std::string b = std::string("\x18") + "\xff\xff\xff\xff\x0f" + "abc";
  CompactReader r(Bytes(b));
  r.BeginStruct();
  const ThriftField f = r.ReadFieldHeader();
  EXPECT_EQ(r.ReadBinary(f), "");
  EXPECT_THAT(r.status(), StatusIs(StatusCode::kDataLoss, HasSubstr("past the end")));
}

TEST(ThriftCompactTest, RefusesVarintsLongerThanTenBytes) {
  const std::string b = std::string("\x15") + std::string(11, '\xff') + "\x01";
  CompactReader r(Bytes(b));
  r.BeginStruct();
  const ThriftField f = r.ReadFieldHeader();
  r.ReadI32(f);
  EXPECT_THAT(r.status(), StatusIs(StatusCode::kDataLoss));
}

TEST(ThriftCompactTest, BoundsNestingWhileSkipping) {
  // 100 structs inside each other, skipped as an unknown field: refused, not a stack overflow.
  std::string b;
  for (int i = 0; i < 100; ++i) b += '\x1c';
  b += std::string(100, '\x00');
  b += '\x00';
  CompactReader r(Bytes(b));
  r.BeginStruct();
  const ThriftField f = r.ReadFieldHeader();
  r.Skip(f.type);
  EXPECT_THAT(r.status(), StatusIs(StatusCode::kDataLoss, HasSubstr("nested too deep")));
}

TEST(ThriftCompactTest, ATypeMismatchIsAnErrorAndErrorsAreSticky) {
  CompactWriter w;
  w.BeginStruct();
  w.FieldBinary(1, "x");
  w.FieldI32(2, 5);
  w.EndStruct();
  const std::string bytes = w.Take();
  CompactReader r(Bytes(bytes));
  r.BeginStruct();
  ThriftField f = r.ReadFieldHeader();
  EXPECT_EQ(r.ReadI32(f), 0);
  EXPECT_THAT(r.status(), StatusIs(StatusCode::kDataLoss, HasSubstr("field 1 has type 8")));
  // Everything after the first error is empty.
  f = r.ReadFieldHeader();
  EXPECT_EQ(f.type, ThriftType::kStop);
  EXPECT_EQ(r.ReadList(f).size, 0u);
}

TEST(ThriftCompactTest, UnknownTypesAreAnError) {
  const std::string b = "\x1e\x00";  // field 1 of type 14
  CompactReader r(Bytes(b));
  r.BeginStruct();
  const ThriftField f = r.ReadFieldHeader();
  r.Skip(f.type);
  EXPECT_THAT(r.status(), StatusIs(StatusCode::kDataLoss, HasSubstr("unknown type")));
}

}  // namespace
}  // namespace vpcflow::parquet
