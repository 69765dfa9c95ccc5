// libFuzzer target: an object's text as the digest reads it. The first line goes to
// FlowFormat::FromHeader (the default format applies when it is not a header), every other
// line to ParseFlowLine. Every line is also tried as an address (alone and with the rest of the
// input readable after it, as the line parser reads): format(parse(x)) must parse back to the
// same address and format to the same text; split by both tokenizers, which must agree; and
// parsed as a default-format line by both paths of ParseFlowLine, which must agree.

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

// The default format's own path and the path for any format: the same outcome and record.
void CheckDefaultPath(std::string_view line) {
  const vpcflow::FlowFormat& format = vpcflow::FlowFormat::Default();
  vpcflow::FlowRecord fast;
  vpcflow::FlowRecord any;
  const vpcflow::LineOutcome outcome = vpcflow::ParseFlowLine(format, line, &fast);
  Check(outcome == vpcflow::ParseFlowLineAnyFormat(format, line, &any));
  if (outcome != vpcflow::LineOutcome::kUsed) return;
  Check(fast.account_id == any.account_id && fast.interface_id == any.interface_id);
  Check(fast.srcaddr == any.srcaddr && fast.dstaddr == any.dstaddr);
  Check(fast.srcport == any.srcport && fast.dstport == any.dstport);
  Check(fast.protocol == any.protocol && fast.action == any.action);
  Check(fast.packets == any.packets && fast.bytes == any.bytes);
  Check(fast.start == any.start && fast.end == any.end);
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
    CheckDefaultPath(line);
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
