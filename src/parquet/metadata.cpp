// Field ids and meanings: parquet-format's src/main/thrift/parquet.thrift.
#include "parquet/metadata.hpp"

#include <limits>

#include "parquet/thrift_compact.hpp"

namespace vpcflow::parquet {
namespace {

// Deeper schemas are refused: flow logs are flat, and paths stay short.
constexpr int kMaxSchemaDepth = 16;

// ConvertedType values that mean "unsigned integer".
constexpr int32_t kConvertedUint8 = 11;
constexpr int32_t kConvertedUint64 = 14;

// Calls on_field(field) for each field of a struct; a field it does not take (returns false)
// is skipped.
template <typename OnField>
void ReadStruct(CompactReader& r, OnField&& on_field) {
  r.BeginStruct();
  while (r.ok()) {
    const ThriftField field = r.ReadFieldHeader();
    if (field.type == ThriftType::kStop) break;
    if (!on_field(field)) r.Skip(field.type);
  }
  r.EndStruct();
}

// Tracks the required fields of one struct.
class Required {
 public:
  explicit Required(std::string_view what) : what_(what) {}
  void Saw(int id) { seen_ |= uint32_t{1} << id; }
  void Check(CompactReader& r, std::initializer_list<int> ids) const {
    for (int id : ids) {
      if ((seen_ & (uint32_t{1} << id)) == 0) {
        r.Fail(std::string(what_) + " lacks its required field " + std::to_string(id));
        return;
      }
    }
  }

 private:
  std::string_view what_;
  uint32_t seen_ = 0;
};

void NotNegative(CompactReader& r, int64_t v, std::string_view what) {
  if (v < 0) r.Fail(std::string(what) + " is negative");
}

// Names by enum value, as parquet.thrift spells them ("" for values it does not define).
constexpr std::string_view kTypeNames[] = {
    "BOOLEAN", "INT32", "INT64", "INT96", "FLOAT", "DOUBLE", "BYTE_ARRAY", "FIXED_LEN_BYTE_ARRAY"};
constexpr std::string_view kEncodingNames[] = {"PLAIN",
                                               "",
                                               "PLAIN_DICTIONARY",
                                               "RLE",
                                               "BIT_PACKED",
                                               "DELTA_BINARY_PACKED",
                                               "DELTA_LENGTH_BYTE_ARRAY",
                                               "DELTA_BYTE_ARRAY",
                                               "RLE_DICTIONARY",
                                               "BYTE_STREAM_SPLIT"};
constexpr std::string_view kCodecNames[] = {"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO",
                                            "BROTLI",       "LZ4",    "ZSTD", "LZ4_RAW"};

template <size_t N>
std::string NameOf(const std::string_view (&names)[N], int32_t value, std::string_view what) {
  if (value >= 0 && static_cast<size_t>(value) < N && !names[value].empty()) {
    return std::string(names[value]);
  }
  return std::string(what) + " " + std::to_string(value);
}

struct SchemaElement {
  std::optional<PhysicalType> type;
  int32_t type_length = 0;
  std::optional<Repetition> repetition;
  std::string_view name;
  int32_t num_children = 0;
  bool is_unsigned = false;
};

// LogicalType is a union; only INTEGER (field 10: IntType {1: bitWidth, 2: isSigned}) matters.
bool ReadLogicalTypeUnsigned(CompactReader& r) {
  bool is_unsigned = false;
  ReadStruct(r, [&](const ThriftField& f) {
    if (f.id != 10 || f.type != ThriftType::kStruct) return false;
    ReadStruct(r, [&](const ThriftField& g) {
      if (g.id != 2) return false;
      is_unsigned = !r.ReadBool(g);
      return true;
    });
    return true;
  });
  return is_unsigned;
}

SchemaElement ReadSchemaElement(CompactReader& r) {
  SchemaElement e;
  Required required("SchemaElement");
  ReadStruct(r, [&](const ThriftField& f) {
    switch (f.id) {
      case 1:
        e.type = static_cast<PhysicalType>(r.ReadI32(f));
        return true;
      case 2:
        e.type_length = r.ReadI32(f);
        return true;
      case 3:
        e.repetition = static_cast<Repetition>(r.ReadI32(f));
        return true;
      case 4:
        e.name = r.ReadBinary(f);
        required.Saw(4);
        return true;
      case 5:
        e.num_children = r.ReadI32(f);
        return true;
      case 6: {
        const int32_t converted = r.ReadI32(f);
        e.is_unsigned =
            e.is_unsigned || (converted >= kConvertedUint8 && converted <= kConvertedUint64);
        return true;
      }
      case 10:
        if (f.type != ThriftType::kStruct) return false;
        e.is_unsigned = ReadLogicalTypeUnsigned(r) || e.is_unsigned;
        return true;
      default:
        return false;
    }
  });
  required.Check(r, {4});
  return e;
}

// Flattens the schema list (depth-first, as Parquet stores it) into top-level fields and leaves.
void FlattenSchema(CompactReader& r, const std::vector<SchemaElement>& schema, FileMetaData* out) {
  if (schema.empty()) {
    r.Fail("the schema is empty");
    return;
  }
  struct Level {
    int32_t children_left;
    int definition;
    int repetition;
  };
  std::vector<Level> stack;
  stack.push_back({schema[0].num_children, 0, 0});
  if (schema[0].num_children < 0) r.Fail("the schema root has a negative child count");
  size_t i = 1;
  uint32_t field = 0;
  while (r.ok() && !stack.empty()) {
    if (stack.back().children_left == 0) {
      stack.pop_back();
      continue;
    }
    if (i >= schema.size()) {
      r.Fail("the schema's child counts exceed its elements");
      return;
    }
    --stack.back().children_left;
    const SchemaElement& e = schema[i++];
    const Repetition repetition = e.repetition.value_or(Repetition::kRequired);
    if (repetition != Repetition::kRequired && repetition != Repetition::kOptional &&
        repetition != Repetition::kRepeated) {
      r.Fail("a schema element with an unknown repetition");
      return;
    }
    const int definition = stack.back().definition + (repetition != Repetition::kRequired);
    const int repetition_level = stack.back().repetition + (repetition == Repetition::kRepeated);
    const bool top_level = stack.size() == 1;
    if (top_level) {
      field = static_cast<uint32_t>(out->fields.size());
      out->fields.emplace_back(e.name);
    }
    if (e.num_children < 0) {
      r.Fail("a schema element with a negative child count");
      return;
    }
    if (e.num_children > 0) {
      if (static_cast<int>(stack.size()) >= kMaxSchemaDepth) {
        r.Fail("the schema is nested deeper than " + std::to_string(kMaxSchemaDepth));
        return;
      }
      stack.push_back({e.num_children, definition, repetition_level});
      continue;
    }
    if (!e.type) {
      r.Fail("schema element '" + std::string(e.name) + "' has neither children nor a type");
      return;
    }
    if (static_cast<int32_t>(*e.type) < 0 || *e.type > PhysicalType::kFixedLenByteArray) {
      r.Fail("schema element '" + std::string(e.name) + "' has an unknown type");
      return;
    }
    if (*e.type == PhysicalType::kFixedLenByteArray && e.type_length < 0) {
      r.Fail("a FIXED_LEN_BYTE_ARRAY with a negative length");
      return;
    }
    out->leaves.push_back(LeafColumn{.field = field,
                                     .nested = !top_level,
                                     .type = *e.type,
                                     .type_length = e.type_length,
                                     .max_definition_level = definition,
                                     .max_repetition_level = repetition_level,
                                     .is_unsigned = e.is_unsigned});
  }
  if (r.ok() && i != schema.size()) r.Fail("the schema has elements outside its tree");
}

ColumnChunkMeta ReadColumnMetaData(CompactReader& r) {
  ColumnChunkMeta m;
  Required required("ColumnMetaData");
  ReadStruct(r, [&](const ThriftField& f) {
    if (f.id > 0 && f.id < 32) required.Saw(f.id);
    switch (f.id) {
      case 1:
        m.type = static_cast<PhysicalType>(r.ReadI32(f));
        return true;
      case 2: {
        const ThriftList list = r.ReadList(f);
        for (uint32_t i = 0; i < list.size && r.ok(); ++i) {
          m.encodings.push_back(static_cast<Encoding>(r.ReadI32Element()));
        }
        return true;
      }
      case 4:
        m.codec = static_cast<Codec>(r.ReadI32(f));
        return true;
      case 5:
        m.num_values = r.ReadI64(f);
        return true;
      case 6:
        m.total_uncompressed_size = r.ReadI64(f);
        return true;
      case 7:
        m.total_compressed_size = r.ReadI64(f);
        return true;
      case 9:
        m.data_page_offset = r.ReadI64(f);
        return true;
      case 11:
        m.dictionary_page_offset = r.ReadI64(f);
        return true;
      default:
        return false;  // 3: path_in_schema (the leaf order says it), statistics, ...
    }
  });
  required.Check(r, {1, 4, 5, 6, 7, 9});
  NotNegative(r, m.num_values, "a column chunk's value count");
  NotNegative(r, m.total_compressed_size, "a column chunk's size");
  NotNegative(r, m.total_uncompressed_size, "a column chunk's size");
  NotNegative(r, m.data_page_offset, "a column chunk's offset");
  return m;
}

ColumnChunkMeta ReadColumnChunk(CompactReader& r) {
  ColumnChunkMeta m;
  bool has_meta = false;
  bool external = false;
  ReadStruct(r, [&](const ThriftField& f) {
    if (f.id == 1) {
      external = !r.ReadBinary(f).empty();
      return true;
    }
    if (f.id == 3) {
      m = ReadColumnMetaData(r);
      has_meta = true;
      return true;
    }
    return false;
  });
  if (!has_meta) r.Fail("a column chunk without metadata (encrypted columns are not supported)");
  m.external = external;
  return m;
}

RowGroupMeta ReadRowGroup(CompactReader& r) {
  RowGroupMeta g;
  Required required("RowGroup");
  ReadStruct(r, [&](const ThriftField& f) {
    if (f.id == 1) {
      required.Saw(1);
      const ThriftList list = r.ReadList(f);
      for (uint32_t i = 0; i < list.size && r.ok(); ++i) g.columns.push_back(ReadColumnChunk(r));
      return true;
    }
    if (f.id == 3) {
      required.Saw(3);
      g.num_rows = r.ReadI64(f);
      return true;
    }
    return false;
  });
  required.Check(r, {1, 3});
  NotNegative(r, g.num_rows, "a row group's row count");
  return g;
}

void CheckRowGroups(CompactReader& r, const FileMetaData& m) {
  for (const RowGroupMeta& g : m.row_groups) {
    if (g.columns.size() != m.leaves.size()) {
      r.Fail("a row group has " + std::to_string(g.columns.size()) + " column chunks for " +
             std::to_string(m.leaves.size()) + " leaf columns");
      return;
    }
    for (size_t i = 0; i < g.columns.size(); ++i) {
      if (g.columns[i].type != m.leaves[i].type) {
        r.Fail("column chunk " + std::to_string(i) + " has type " +
               PhysicalTypeName(g.columns[i].type) + ", its schema says " +
               PhysicalTypeName(m.leaves[i].type));
        return;
      }
    }
  }
}

DataPageHeader ReadDataPageHeader(CompactReader& r) {
  DataPageHeader h;
  Required required("DataPageHeader");
  ReadStruct(r, [&](const ThriftField& f) {
    switch (f.id) {
      case 1:
        h.num_values = r.ReadI32(f);
        break;
      case 2:
        h.encoding = static_cast<Encoding>(r.ReadI32(f));
        break;
      case 3:
        h.definition_level_encoding = static_cast<Encoding>(r.ReadI32(f));
        break;
      case 4:
        h.repetition_level_encoding = static_cast<Encoding>(r.ReadI32(f));
        break;
      default:
        return false;
    }
    required.Saw(f.id);
    return true;
  });
  required.Check(r, {1, 2, 3, 4});
  NotNegative(r, h.num_values, "a page's value count");
  return h;
}

DataPageHeaderV2 ReadDataPageHeaderV2(CompactReader& r) {
  DataPageHeaderV2 h;
  Required required("DataPageHeaderV2");
  ReadStruct(r, [&](const ThriftField& f) {
    switch (f.id) {
      case 1:
        h.num_values = r.ReadI32(f);
        break;
      case 2:
        h.num_nulls = r.ReadI32(f);
        break;
      case 3:
        h.num_rows = r.ReadI32(f);
        break;
      case 4:
        h.encoding = static_cast<Encoding>(r.ReadI32(f));
        break;
      case 5:
        h.definition_levels_byte_length = r.ReadI32(f);
        break;
      case 6:
        h.repetition_levels_byte_length = r.ReadI32(f);
        break;
      case 7:
        h.is_compressed = r.ReadBool(f);
        break;
      default:
        return false;
    }
    required.Saw(f.id);
    return true;
  });
  required.Check(r, {1, 2, 3, 4, 5, 6});
  NotNegative(r, h.num_values, "a page's value count");
  NotNegative(r, h.num_nulls, "a page's null count");
  NotNegative(r, h.num_rows, "a page's row count");
  NotNegative(r, h.definition_levels_byte_length, "a page's level length");
  NotNegative(r, h.repetition_levels_byte_length, "a page's level length");
  return h;
}

DictionaryPageHeader ReadDictionaryPageHeader(CompactReader& r) {
  DictionaryPageHeader h;
  Required required("DictionaryPageHeader");
  ReadStruct(r, [&](const ThriftField& f) {
    switch (f.id) {
      case 1:
        h.num_values = r.ReadI32(f);
        break;
      case 2:
        h.encoding = static_cast<Encoding>(r.ReadI32(f));
        break;
      default:
        return false;
    }
    required.Saw(f.id);
    return true;
  });
  required.Check(r, {1, 2});
  NotNegative(r, h.num_values, "a dictionary's value count");
  return h;
}

}  // namespace

std::string PhysicalTypeName(PhysicalType type) {
  return NameOf(kTypeNames, static_cast<int32_t>(type), "type");
}

std::string EncodingName(Encoding encoding) {
  return NameOf(kEncodingNames, static_cast<int32_t>(encoding), "encoding");
}

std::string CodecName(Codec codec) {
  return NameOf(kCodecNames, static_cast<int32_t>(codec), "codec");
}

Result<FileMetaData> ParseFileMetaData(std::span<const uint8_t> bytes) {
  CompactReader r(bytes);
  FileMetaData m;
  std::vector<SchemaElement> schema;
  Required required("FileMetaData");
  ReadStruct(r, [&](const ThriftField& f) {
    switch (f.id) {
      case 1:
        m.version = r.ReadI32(f);
        break;
      case 2: {
        const ThriftList list = r.ReadList(f);
        for (uint32_t i = 0; i < list.size && r.ok(); ++i) {
          schema.push_back(ReadSchemaElement(r));
        }
        break;
      }
      case 3:
        m.num_rows = r.ReadI64(f);
        break;
      case 4: {
        const ThriftList list = r.ReadList(f);
        for (uint32_t i = 0; i < list.size && r.ok(); ++i) {
          m.row_groups.push_back(ReadRowGroup(r));
        }
        break;
      }
      case 6:
        m.created_by = r.ReadBinary(f);
        break;
      default:
        return false;
    }
    required.Saw(f.id);
    return true;
  });
  required.Check(r, {2, 3, 4});
  NotNegative(r, m.num_rows, "the file's row count");
  if (r.ok()) FlattenSchema(r, schema, &m);
  if (r.ok()) CheckRowGroups(r, m);
  if (!r.ok()) return r.status();
  return m;
}

Result<PageHeader> ParsePageHeader(std::span<const uint8_t> bytes, size_t* consumed) {
  CompactReader r(bytes);
  PageHeader h;
  Required required("PageHeader");
  ReadStruct(r, [&](const ThriftField& f) {
    switch (f.id) {
      case 1:
        h.type = static_cast<PageType>(r.ReadI32(f));
        break;
      case 2:
        h.uncompressed_page_size = r.ReadI32(f);
        break;
      case 3:
        h.compressed_page_size = r.ReadI32(f);
        break;
      case 5:
        if (f.type != ThriftType::kStruct) return false;
        h.data_page = ReadDataPageHeader(r);
        break;
      case 7:
        if (f.type != ThriftType::kStruct) return false;
        h.dictionary_page = ReadDictionaryPageHeader(r);
        break;
      case 8:
        if (f.type != ThriftType::kStruct) return false;
        h.data_page_v2 = ReadDataPageHeaderV2(r);
        break;
      default:
        return false;
    }
    required.Saw(f.id);
    return true;
  });
  required.Check(r, {1, 2, 3});
  NotNegative(r, h.uncompressed_page_size, "a page's size");
  NotNegative(r, h.compressed_page_size, "a page's size");
  if (r.ok()) {
    const bool matches = (h.type == PageType::kDataPage && h.data_page) ||
                         (h.type == PageType::kDataPageV2 && h.data_page_v2) ||
                         (h.type == PageType::kDictionaryPage && h.dictionary_page) ||
                         h.type == PageType::kIndexPage;
    if (!matches) {
      r.Fail("a page of type " + std::to_string(static_cast<int32_t>(h.type)) +
             " without its header");
    }
  }
  if (!r.ok()) return r.status();
  *consumed = r.position();
  return h;
}

std::string EncodePageHeader(const PageHeader& header) {
  CompactWriter w;
  w.BeginStruct();
  w.FieldI32(1, static_cast<int32_t>(header.type));
  w.FieldI32(2, header.uncompressed_page_size);
  w.FieldI32(3, header.compressed_page_size);
  if (header.data_page) {
    const DataPageHeader& d = *header.data_page;
    w.FieldStructBegin(5);
    w.FieldI32(1, d.num_values);
    w.FieldI32(2, static_cast<int32_t>(d.encoding));
    w.FieldI32(3, static_cast<int32_t>(d.definition_level_encoding));
    w.FieldI32(4, static_cast<int32_t>(d.repetition_level_encoding));
    w.EndStruct();
  }
  if (header.dictionary_page) {
    w.FieldStructBegin(7);
    w.FieldI32(1, header.dictionary_page->num_values);
    w.FieldI32(2, static_cast<int32_t>(header.dictionary_page->encoding));
    w.EndStruct();
  }
  if (header.data_page_v2) {
    const DataPageHeaderV2& d = *header.data_page_v2;
    w.FieldStructBegin(8);
    w.FieldI32(1, d.num_values);
    w.FieldI32(2, d.num_nulls);
    w.FieldI32(3, d.num_rows);
    w.FieldI32(4, static_cast<int32_t>(d.encoding));
    w.FieldI32(5, d.definition_levels_byte_length);
    w.FieldI32(6, d.repetition_levels_byte_length);
    w.FieldBool(7, d.is_compressed);
    w.EndStruct();
  }
  w.EndStruct();
  return w.Take();
}

std::string EncodeFileMetaData(std::span<const WriterColumn> columns,
                               std::span<const RowGroupMeta> row_groups,
                               std::string_view created_by) {
  constexpr int32_t kOptional = static_cast<int32_t>(Repetition::kOptional);
  constexpr int32_t kConvertedUtf8 = 0;
  int64_t num_rows = 0;
  for (const RowGroupMeta& g : row_groups) num_rows += g.num_rows;
  CompactWriter w;
  w.BeginStruct();
  w.FieldI32(1, 1);
  w.FieldListBegin(2, ThriftType::kStruct, static_cast<uint32_t>(columns.size() + 1));
  w.BeginStruct();  // the root
  w.FieldBinary(4, "schema");
  w.FieldI32(5, static_cast<int32_t>(columns.size()));
  w.EndStruct();
  for (const WriterColumn& c : columns) {
    w.BeginStruct();
    w.FieldI32(1, static_cast<int32_t>(c.type));
    w.FieldI32(3, kOptional);
    w.FieldBinary(4, c.name);
    if (c.utf8) {
      w.FieldI32(6, kConvertedUtf8);
      w.FieldStructBegin(10);  // LogicalType STRING (field 1, an empty struct)
      w.FieldStructBegin(1);
      w.EndStruct();
      w.EndStruct();
    }
    w.EndStruct();
  }
  w.FieldI64(3, num_rows);
  w.FieldListBegin(4, ThriftType::kStruct, static_cast<uint32_t>(row_groups.size()));
  for (const RowGroupMeta& g : row_groups) {
    int64_t total_bytes = 0;
    w.BeginStruct();
    w.FieldListBegin(1, ThriftType::kStruct, static_cast<uint32_t>(g.columns.size()));
    for (size_t i = 0; i < g.columns.size(); ++i) {
      const ColumnChunkMeta& m = g.columns[i];
      total_bytes += m.total_uncompressed_size;
      w.BeginStruct();
      w.FieldI64(2, m.start_offset());
      w.FieldStructBegin(3);
      w.FieldI32(1, static_cast<int32_t>(m.type));
      w.FieldListBegin(2, ThriftType::kI32, static_cast<uint32_t>(m.encodings.size()));
      for (Encoding e : m.encodings) w.ElementI32(static_cast<int32_t>(e));
      w.FieldListBegin(3, ThriftType::kBinary, 1);
      w.ElementBinary(columns[i].name);
      w.FieldI32(4, static_cast<int32_t>(m.codec));
      w.FieldI64(5, m.num_values);
      w.FieldI64(6, m.total_uncompressed_size);
      w.FieldI64(7, m.total_compressed_size);
      w.FieldI64(9, m.data_page_offset);
      if (m.dictionary_page_offset) w.FieldI64(11, *m.dictionary_page_offset);
      w.EndStruct();
      w.EndStruct();
    }
    w.FieldI64(2, total_bytes);
    w.FieldI64(3, g.num_rows);
    w.EndStruct();
  }
  w.FieldBinary(6, created_by);
  w.EndStruct();
  return w.Take();
}

}  // namespace vpcflow::parquet
