#pragma once
/// Test data and helpers for the API, service and end-to-end tests: a few flow-log objects in
/// a MemoryObjectSource for the window 2019-01-01T00:00Z..01:00Z, a gunzip for checking stored
/// digests, and the GET polling loop of the API's consumers.

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include "common/gzip_reader.hpp"
#include "testing/flow_log_builder.hpp"
#include "testing/gated_source.hpp"
#include "testing/memory_object_source.hpp"
#include "vpcflow/byte_sink.hpp"
#include "vpcflow/digest.hpp"
#include "vpcflow/http_client.hpp"
#include "vpcflow/window.hpp"

namespace vpcflow {

/// 2019-01-01T00:00:00Z .. 01:00:00Z.
inline constexpr Window kCorpusWindow{1546300800, 1546304400};
inline constexpr const char* kCorpusStart = "2019-01-01T00:00:00Z";
inline constexpr const char* kCorpusStop = "2019-01-01T01:00:00Z";

/// The key of a flow-log object of account 123456789012 stamped 2019-01-01T00:`minute`Z.
inline std::string CorpusKey(int minute, const std::string& hash = "abcd1234") {
  char stamp[8];
  std::snprintf(stamp, sizeof(stamp), "%02d", minute);
  return "AWSLogs/123456789012/vpcflowlogs/us-east-1/2019/01/01/"
         "123456789012_vpcflowlogs_us-east-1_fl-1234abcd_20190101T00" +
         std::string(stamp) + "Z_" + hash + ".log.gz";
}

/// Puts two objects with a dozen conversations (IPv4 and IPv6, both actions, repeated keys,
/// ties in bytes, odd account/interface tokens) into `source`.
inline void PutCorpus(MemoryObjectSource& source) {
  FlowLogBuilder a;
  a.Add({{Field::kBytes, "5000"}, {Field::kPackets, "5"}})
      .Add({{Field::kBytes, "700"},
            {Field::kSrcAddr, "2001:DB8:0:0:0:0:0:1"},
            {Field::kDstAddr, "2001:db8::2"},
            {Field::kProtocol, "17"}})
      .Add({{Field::kBytes, "100"}, {Field::kSrcPort, "22"}, {Field::kDstPort, "50000"}})
      .Add({{Field::kBytes, "100"}, {Field::kSrcAddr, "10.9.9.9"}, {Field::kAction, "REJECT"}})
      .Add({{Field::kBytes, "-"}, {Field::kPackets, "-"}, {Field::kSrcAddr, "10.7.7.7"}})
      .Add({{Field::kAccountId, "acct\"with,comma"}, {Field::kInterfaceId, "eni-\\x"}})
      .AddRaw("2 123456789012 eni-0a1b2c3d - - - - - - - 1546300800 1546300860 - NODATA");
  FlowLogBuilder b;
  b.Add({{Field::kBytes, "5000"}, {Field::kPackets, "2"}, {Field::kStart, "1546301000"}})
      .Add({{Field::kBytes, "42"}, {Field::kDstAddr, "192.168.1.1"}, {Field::kStart, "1546302000"}})
      .Add({{Field::kBytes, "1"}, {Field::kStart, "1546310000"}});  // outside the window
  source.Put(CorpusKey(0), a.Gzip());
  source.Put(CorpusKey(5, "ef567890"), b.Gzip());
}

/// The decompressed text of `gz` ("<DataLoss: ...>" when it is not gzip).
inline std::string Gunzip(const std::string& gz) {
  MemoryObjectSource holder;
  holder.Put("x", gz);
  ObjectReaderPtr reader = std::move(holder.Open("x")).value();
  std::unique_ptr<TextStream> text = NewGzipTextStream(reader.get());
  std::string out;
  char buf[1 << 16];
  while (true) {
    Result<size_t> n = text->Read(buf, sizeof(buf));
    if (!n.ok()) return "<" + n.status().ToString() + ">";
    if (*n == 0) return out;
    out.append(buf, *n);
  }
}

/// GETs `url` until the answer is not 204 (in progress) or `timeout_ms` passed, as the API's
/// consumers poll; returns the last answer. Adds the 204s seen to `*no_content` when given.
inline Result<HttpResponse> GetUntilNotInProgress(HttpClient& client, const std::string& url,
                                                  int64_t timeout_ms = 60000,
                                                  int* no_content = nullptr) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    Result<HttpResponse> r = client.Send({.method = "GET", .url = url, .timeout_ms = 30000});
    if (!r.ok() || r->status != 204 || std::chrono::steady_clock::now() > deadline) return r;
    if (no_content != nullptr) ++*no_content;
  }
}

}  // namespace vpcflow
