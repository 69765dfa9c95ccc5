// libFuzzer target: the filter expression parser (src/query/filter.hpp). Any input either
// parses, and then evaluates against a few rows without crashing, or is refused with
// InvalidArgument whose message names a column within the text (plus one, for "the end") and
// ends with a caret line.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "query/filter.hpp"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

vpcflow::RowView MakeRow(const char* src, const char* dst, uint16_t sport, uint16_t dport) {
  vpcflow::RowView row;
  row.record.account_id = "123456789012";
  row.record.interface_id = "eni-0a1b2c3d";
  Check(vpcflow::ParseIpAddress(src, &row.record.srcaddr));
  Check(vpcflow::ParseIpAddress(dst, &row.record.dstaddr));
  row.record.srcport = sport;
  row.record.dstport = dport;
  row.record.protocol = 6;
  row.record.action = vpcflow::Action::kReject;
  row.record.packets = 10;
  row.record.bytes = 1000000;
  row.record.start = 1546300800;
  row.record.end = 1546300860;
  row.flows = 2;
  return row;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  vpcflow::Result<vpcflow::Filter> filter = vpcflow::Filter::Parse(text);
  if (filter.ok()) {
    static const vpcflow::RowView kRows[] = {MakeRow("10.0.0.1", "10.0.0.2", 0, 443),
                                             MakeRow("2001:db8::1", "::ffff:1.2.3.4", 53, 0)};
    for (const vpcflow::RowView& row : kRows) (void)filter->Matches(row);
    Check(filter->text() == text);
    return 0;
  }
  const vpcflow::Status& st = filter.status();
  Check(st.code() == vpcflow::StatusCode::kInvalidArgument);
  const std::string& message = st.message();
  Check(message.rfind("filter: ", 0) == 0);
  if (size <= vpcflow::kMaxFilterBytes) {
    Check(message.rfind("filter: column ", 0) == 0);
    const size_t column = std::strtoul(message.c_str() + 15, nullptr, 10);
    Check(column >= 1 && column <= size + 1);
    Check(message.back() == '^');
  }
  return 0;
}
