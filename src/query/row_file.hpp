#pragma once
/// The rows sidecar `<id>.rows.gz`: what queries need that the stored flowlog digest lacks (the
/// flows count, and a form faster to scan than text), written beside `<id>.log.gz` in the same
/// job. The `.log.gz` stays as it is, byte for byte; a digest without a sidecar still answers
/// every query that does not need flows (DESIGN.md, "The rows sidecar").
///
/// Format, version 1. A gzip stream (RFC 1952: its CRC-32 and length cover the whole file)
/// whose content is, all integers little-endian:
///
///     header   "VPCFROWS" u32 version (1) u32 reserved (0)
///     block*   u32 kind (1) u32 payload_bytes u32 rows u32 crc32c(payload)  payload
///     end      u32 kind (2) u32 payload_bytes (16) u32 0 u32 crc32c(payload)
///              payload: u64 rows, u64 blocks
///
/// A block holds up to kRowFileBlockRows rows, in the digest's order, column by column. Its
/// payload starts with the owners (account-id, interface-id) first used in it: varint count,
/// then per owner varint length + bytes of each of the two; owners are numbered from 0 in the
/// order of the file. Then 12 u32 column sizes, then the columns:
///
///     flags     u8 per row: bits 0-1 action (0 absent, 1 ACCEPT, 2 REJECT), bit 2 srcaddr is
///               IPv4, bit 3 dstaddr is IPv4
///     owner     varint owner number
///     srcaddr   4 bytes (IPv4) or 16 bytes (IPv6)
///     dstaddr   same
///     srcport   u16     dstport  u16     protocol  u8
///     packets   varint  bytes    varint  flows     varint
///     start     zigzag varint: start minus the previous row's start in the block (0 first)
///     end       varint: end minus start
///
/// Varints are LEB128 (7 bits a byte, low first, at most 10 bytes). CRC-32C is Castagnoli's
/// (iSCSI) CRC. A reader checks every block's checksum before using it and needs the end record:
/// a truncated or altered file is DataLoss, never wrong rows. A newer version is
/// FailedPrecondition (so an old reader says why rather than guess).

#include <cstdint>
#include <memory>
#include <string_view>

#include "common/gzip_reader.hpp"
#include "query/row_source.hpp"
#include "vpcflow/byte_sink.hpp"
#include "vpcflow/status.hpp"

namespace vpcflow {

inline constexpr std::string_view kRowFileMagic = "VPCFROWS";
inline constexpr uint32_t kRowFileVersion = 1;
inline constexpr uint32_t kRowFileBlockRows = 4096;
/// The largest block payload a reader accepts (a block of long owner names stays far below).
inline constexpr uint32_t kRowFileMaxPayload = 64u << 20;

/// Writes the rows of `rows` as a rows file into `sink`: the gzip stream above (gzip level 1).
/// `sink` is not closed. Returns the source's or the sink's error.
[[nodiscard]] Status WriteRowFile(RowSource& rows, ByteSink& sink);

/// Writes `digest` in its two stored forms from one walk of its rows: the flowlog text into
/// `text` (the bytes of `digest.Encode(DigestFormat::kFlowLog, text)`) and the rows file into
/// `rows` (the bytes of WriteRowFile over NewDigestRowSource(digest)). What the job runner and
/// `vpcflow-digest --rows-output` store: a large digest's rows are read from memory once, not
/// once per form. The caller's thread walks, formats the text through a ChunkWriter (in
/// place when `text` lends its memory, as a ParallelGzipSink does) and appends the rows file's
/// blocks to its own ParallelGzipSink; neither sink is closed. Returns the first error of either
/// sink, or of reading a spilled digest's files.
[[nodiscard]] Status WriteFlowLogAndRowFile(const Digest& digest, ByteSink& text, ByteSink& rows);

/// The rows of a rows file, from its decompressed bytes (`text` from NewGzipTextStream).
/// Takes ownership of `text` and of `keep_alive` (what `text` reads from, may be null). Rows
/// have flows. ForEach returns DataLoss for a bad magic, checksum, size or truncation, and
/// FailedPrecondition for a version this reader does not know.
RowSourcePtr NewRowFileSource(std::unique_ptr<TextStream> text, ObjectReaderPtr keep_alive);

}  // namespace vpcflow
