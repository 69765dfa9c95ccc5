#pragma once
/// Test helpers of the digest tests: records and tables built from text. Header-only.

#include <memory>
#include <string>
#include <string_view>

#include "digest/digest_table.hpp"
#include "flowlog/address.hpp"
#include "flowlog/line_parser.hpp"
#include "vpcflow/digest.hpp"

namespace vpcflow::testing_records {

/// A record as the engine would pass it to RecordBatch::Add (already folded).
struct Rec {
  std::string account = "123456789012";
  std::string interface = "eni-0a1b2c3d";
  std::string src = "10.0.0.1";
  std::string dst = "10.0.0.2";
  uint16_t srcport = 0;
  uint16_t dstport = 443;
  uint8_t protocol = 6;
  Action action = Action::kAccept;
  uint64_t packets = 1;
  uint64_t bytes = 100;
  int64_t start = 1546300800;
  int64_t end = 1546300860;
};

/// The FlowRecord of `r` (views into `r`). Aborts the test binary on a bad address.
inline FlowRecord ToFlowRecord(const Rec& r) {
  FlowRecord f;
  f.account_id = r.account;
  f.interface_id = r.interface;
  if (!ParseIpAddress(r.src, &f.srcaddr) || !ParseIpAddress(r.dst, &f.dstaddr)) std::abort();
  f.srcport = r.srcport;
  f.dstport = r.dstport;
  f.protocol = r.protocol;
  f.action = r.action;
  f.packets = r.packets;
  f.bytes = r.bytes;
  f.start = r.start;
  f.end = r.end;
  return f;
}

/// A finished digest of these records (one partial, one merge).
template <typename Records>
Digest MakeDigest(const Records& records) {
  auto table = std::make_unique<DigestTable>();
  RecordBatch partial;
  for (const Rec& r : records) partial.Add(ToFlowRecord(r));
  table->Merge(partial);
  table->Finish();
  return Digest(std::move(table));
}

/// The digest encoded as text.
inline std::string EncodeToString(const Digest& digest, DigestFormat format) {
  StringSink sink;
  Status s = digest.Encode(format, sink);
  if (!s.ok()) return "ERROR " + s.ToString();
  return sink.Release();
}

}  // namespace vpcflow::testing_records
