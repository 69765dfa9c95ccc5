#pragma once
/// One digest row as the encoders see it (RowView), and the writers of one row in each text
/// encoding of DESIGN.md ("Output flowlog", and the ndjson and csv columns). Digest::Encode,
/// the re-encoding of stored digests (src/api) and the query layer (src/query) all write rows
/// through these, so every path spells a row the same way.
///
/// Writers take a pointer with room for RowRoom(row) bytes and return the end of what they
/// wrote (see CharBuffer / ChunkWriter in common/chunk_writer.hpp). Pure, thread-safe.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "flowlog/line_parser.hpp"

namespace vpcflow {

/// The key fields of a row as bits of RowView::fields. A query's group_by keeps a subset.
enum RowFieldBits : uint16_t {
  kRowAccount = 1 << 0,
  kRowInterface = 1 << 1,
  kRowSrcAddr = 1 << 2,
  kRowDstAddr = 1 << 3,
  kRowSrcPort = 1 << 4,
  kRowDstPort = 1 << 5,
  kRowProtocol = 1 << 6,
  kRowAction = 1 << 7,
};
inline constexpr uint16_t kAllRowFields = 0xff;
/// RowView's address prefix length meaning "the whole address".
inline constexpr uint8_t kWholeAddress = 255;

/// One row: the key and the aggregate of a digest row, or of a group of rows in a query.
struct RowView {
  /// Key fields, packets, bytes, start (the first start) and end (the last end).
  FlowRecord record;
  uint64_t flows = 0;     ///< records aggregated
  bool has_flows = true;  ///< false when read from a stored flowlog digest (no flows column)
  uint8_t srcaddr_bits = kWholeAddress;  ///< below the address's length: written "addr/bits"
  uint8_t dstaddr_bits = kWholeAddress;
  uint16_t fields = kAllRowFields;  ///< key fields present; the others are written as absent
};

struct DigestEntry;    // digest/digest_key.hpp
struct DigestEntryV4;  // digest/digest_key.hpp

/// The row of a digest entry (of either form) whose owner is (`account`, `interface`): every
/// key field, whole addresses, flows known. Views into the arguments.
RowView MakeRowView(const DigestEntry& entry, std::string_view account, std::string_view interface);
RowView MakeRowView(const DigestEntryV4& entry, std::string_view account,
                    std::string_view interface);

/// The most bytes any writer below writes for `row` (its strings escaped at worst).
size_t RowRoom(const RowView& row);

/// The stored line "2 acct eni src dst sport dport proto packets bytes start end action OK\n";
/// an absent key field is "-".
char* PutFlowLogLine(char* out, const RowView& row);

/// The members of the row's ndjson object, without the braces:
/// "account_id":"..","interface_id":"..","srcaddr":"..","dstaddr":"..","srcport":N,
/// "dstport":N,"protocol":N,"action":"..","packets":N,"bytes":N,"flows":N,"start":N,"end":N.
/// An absent key field, and flows when unknown, are null.
char* PutNdjsonMembers(char* out, const RowView& row);

/// The row's csv columns (kCsvColumns), without the line end; an absent key field, and flows
/// when unknown, are empty.
char* PutCsvColumns(char* out, const RowView& row);

/// The csv header's column names, without the line end.
inline constexpr std::string_view kCsvColumns =
    "account_id,interface_id,srcaddr,dstaddr,srcport,dstport,protocol,action,packets,bytes,"
    "flows,start,end";

/// An address as written in every encoding: canonical text (FormatIpAddress), then "/bits"
/// when `bits` is below the address's length. Writes at most kMaxIpTextLength + 4 bytes.
char* PutAddressText(char* out, const IpAddress& address, uint8_t bits);

/// An RFC 4180 field: quoted when it contains a comma, a quote or a line break. Writes at most
/// 2 * size + 2 bytes.
char* PutCsvField(char* out, std::string_view s);

/// Decimal digits of `v`; at most 20 bytes.
char* PutDecimal(char* out, uint64_t v);
char* PutDecimal(char* out, int64_t v);

}  // namespace vpcflow
