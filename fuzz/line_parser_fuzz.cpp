// libFuzzer target: an object's text as the digest reads it. The first line goes to
// FlowFormat::FromHeader (the default format applies when it is not a header), every other
// line to ParseFlowLine. Every line is also tried as an address (alone and with the rest of the
// input readable after it, as the line parser reads): format(parse(x)) must parse back to the
// same address and format to the same text; split by both tokenizers, which must agree; and
// parsed as a default-format line (and as a line of the header's format) by every path of
// ParseFlowLine, which must agree.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string_view>

#include "flowlog/address.hpp"
#include "flowlog/format.hpp"
#include "flowlog/line_parser.hpp"
#include "flowlog/tokenizer.hpp"

namespace {

using vpcflow::IpAddress;

void Check(bool ok) {
  if (!ok) std::abort();
}

void CheckAddressRoundTrip(const IpAddress& a) {
  char text[vpcflow::kMaxIpTextLength];
  size_t n = vpcflow::FormatIpAddress(a, text);
  Check(n > 0 && n <= vpcflow::kMaxIpTextLength);
  IpAddress back;
  Check(vpcflow::ParseIpAddress(std::string_view(text, n), &back));
  Check(back == a);
  char again[vpcflow::kMaxIpTextLength];
  Check(vpcflow::FormatIpAddress(back, again) == n);
  Check(std::string_view(text, n) == std::string_view(again, n));
}

void CheckTokenizers(std::string_view line) {
  constexpr size_t kLimit = 32;
  uint32_t fast[2 * kLimit + vpcflow::kTokenBoundsSlack];
  uint32_t slow[2 * kLimit + vpcflow::kTokenBoundsSlack];
  size_t n = vpcflow::SplitOnSpaces(line, kLimit, fast);
  Check(n == vpcflow::SplitOnSpacesScalar(line, kLimit, slow));
  if (n > kLimit) return;  // the bounds are unspecified then
  for (size_t i = 0; i < 2 * n; ++i) Check(fast[i] == slow[i]);
}

// Two parses of one line: the same outcome, and the same record when it is used.
void CheckSame(vpcflow::LineOutcome outcome, const vpcflow::FlowRecord& fast,
               vpcflow::LineOutcome reference, const vpcflow::FlowRecord& any) {
  Check(outcome == reference);
  if (outcome != vpcflow::LineOutcome::kUsed) return;
  Check(fast.account_id == any.account_id && fast.interface_id == any.interface_id);
  Check(fast.srcaddr == any.srcaddr && fast.dstaddr == any.dstaddr);
  Check(fast.srcport == any.srcport && fast.dstport == any.dstport);
  Check(fast.protocol == any.protocol && fast.action == any.action);
  Check(fast.packets == any.packets && fast.bytes == any.bytes);
  Check(fast.start == any.start && fast.end == any.end);
}

// ParseFlowLine (the build for this processor) against the reference (the path for any format
// without SSSE3), for `format`; for the default format also each build of its own path that
// this processor runs.
void CheckPaths(const vpcflow::FlowFormat& format, std::string_view line) {
  vpcflow::FlowRecord fast;
  vpcflow::FlowRecord any;
  const vpcflow::LineOutcome reference = vpcflow::ParseFlowLineAnyFormat(format, line, &any);
  CheckSame(vpcflow::ParseFlowLine(format, line, &fast), fast, reference, any);
  if (format.is_default()) {
    for (vpcflow::DefaultParserBuild build :
         {vpcflow::DefaultParserBuild::kSse2, vpcflow::DefaultParserBuild::kSsse3,
          vpcflow::DefaultParserBuild::kAvx512}) {
      if (!vpcflow::DefaultParserBuildRuns(build)) continue;
      vpcflow::FlowRecord built;
      CheckSame(vpcflow::ParseFlowLineDefaultBuild(build, line, &built), built, reference, any);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  const char* input_end = text.data() + text.size();
  std::optional<vpcflow::FlowFormat> header;
  const vpcflow::FlowFormat* format = &vpcflow::FlowFormat::Default();
  bool first = true;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);

    CheckTokenizers(line);
    CheckPaths(vpcflow::FlowFormat::Default(), line);
    // Parsed alone, or with the rest of the input readable behind it: the same result.
    IpAddress address;
    IpAddress wide;
    bool ok = vpcflow::ParseIpAddress(line, &address);
    Check(ok == vpcflow::ParseIpAddress(line, input_end, &wide));
    if (ok) {
      Check(wide == address);
      CheckAddressRoundTrip(address);
    }

    if (first) {
      first = false;
      header = vpcflow::FlowFormat::FromHeader(line);
      if (header) {
        format = &*header;
        Check(format->column_count() > 0 && format->version() >= 2);
        continue;
      }
    }
    if (!format->is_default()) CheckPaths(*format, line);
    vpcflow::FlowRecord record;
    vpcflow::LineOutcome outcome = vpcflow::ParseFlowLine(*format, line, &record);
    if (outcome == vpcflow::LineOutcome::kUsed) {
      Check(record.end >= record.start && record.start >= 0);
      CheckAddressRoundTrip(record.srcaddr);
      CheckAddressRoundTrip(record.dstaddr);
      Check(!record.account_id.empty() && !record.interface_id.empty());
    }
  }
  return 0;
}
