#pragma once
/// FlowLogBuilder: writes valid flow-log text (header + records) in any field order, and gzips
/// it, for tests. Not thread-safe; one builder per object.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "flowlog/format.hpp"

namespace vpcflow {

class FlowLogBuilder {
 public:
  /// The default format (version 2, 14 fields) with a header line.
  FlowLogBuilder();
  /// A custom format: these fields in this order.
  explicit FlowLogBuilder(std::vector<Field> fields);

  /// Omit the header line (a CloudWatch-style object: the default format applies).
  FlowLogBuilder& WithoutHeader();

  /// Adds a record. Unset fields take defaults: version 2, account "123456789012",
  /// interface "eni-0a1b2c3d", 10.0.0.1 -> 10.0.0.2, 443 -> 49152, tcp, 1 packet, 100 bytes,
  /// start 1546300800, end start+60, ACCEPT, OK; other fields "-".
  /// Values are given by field: {{Field::kSrcAddr, "10.1.1.1"}, {Field::kBytes, "-"}}.
  FlowLogBuilder& Add(const std::map<Field, std::string>& values);
  /// Adds a raw line as is (for bad lines).
  FlowLogBuilder& AddRaw(std::string line);

  /// The text: header (unless omitted) and records, each line ending in '\n'.
  std::string Text() const;
  /// The text gzipped (one member).
  std::string Gzip() const;

 private:
  std::vector<Field> fields_;
  bool header_ = true;
  std::vector<std::string> lines_;
};

/// Gzips `text` (one member, level 1). For tests.
std::string GzipForTest(std::string_view text);

}  // namespace vpcflow
