#pragma once
/// Helpers of the query tests: digests made of records, their stored forms, and rows read back
/// as text. Header-only.

#include <string>
#include <vector>

#include "digest/test_records.hpp"
#include "query/row_source.hpp"
#include "testing/matchers.hpp"
#include "testing/memory_object_source.hpp"

namespace vpcflow::testing_rows {

using testing_records::MakeDigest;
using testing_records::Rec;

/// A record of the default owner.
inline Rec R(std::string src, std::string dst, uint16_t srcport, uint16_t dstport, uint64_t bytes,
             Action action = Action::kAccept, uint64_t packets = 1) {
  Rec r;
  r.src = std::move(src);
  r.dst = std::move(dst);
  r.srcport = srcport;
  r.dstport = dstport;
  r.bytes = bytes;
  r.packets = packets;
  r.action = action;
  return r;
}

/// An ObjectReader over `bytes`.
inline ObjectReaderPtr ReaderOf(std::string bytes) {
  return NewSharedStringReader(std::make_shared<const std::string>(std::move(bytes)));
}

/// The stored gzip flowlog form of `digest` (what the job runner stores).
inline std::string StoredFlowLog(const Digest& digest) {
  StringSink target;
  ByteSinkPtr gzip = NewGzipSink(&target);
  EXPECT_THAT(digest.Encode(DigestFormat::kFlowLog, *gzip), IsOk());
  EXPECT_THAT(gzip->Close(), IsOk());
  return target.Release();
}

/// Every row of `source` as its ndjson members (flows included when known).
inline std::vector<std::string> RowTexts(RowSource& source) {
  std::vector<std::string> out;
  EXPECT_THAT(source.ForEach([&](const RowView& row) {
    std::string text(RowRoom(row), '\0');
    text.resize(static_cast<size_t>(PutNdjsonMembers(text.data(), row) - text.data()));
    out.push_back(text);
    return true;
  }),
              IsOk());
  return out;
}

}  // namespace vpcflow::testing_rows
