#include "query/filter.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

#include "digest/test_records.hpp"
#include "testing/matchers.hpp"

namespace vpcflow {
namespace {

using ::testing::HasSubstr;

// A row: 10.0.0.1:0 -> 10.0.0.2:443 tcp ACCEPT, 12 packets, 3456 bytes, 3 flows, from
// 2019-01-01T00:00:00Z to 00:02:00Z.
struct Row : testing_records::Rec {
  uint64_t flows = 3;
  Row() {
    packets = 12;
    bytes = 3456;
    end = 1546300920;
  }
  RowView View() const {
    RowView v;
    v.record = testing_records::ToFlowRecord(*this);
    v.flows = flows;
    return v;
  }
};

// Whether `expression` accepts `row`; fails the test when it does not parse.
bool Accepts(std::string_view expression, const Row& row = Row()) {
  Result<Filter> filter = Filter::Parse(expression);
  EXPECT_THAT(filter, IsOk()) << expression;
  return filter.ok() && filter->Matches(row.View());
}

// The message of a parse error (empty when it parsed).
std::string ErrorOf(std::string_view expression) {
  Result<Filter> filter = Filter::Parse(expression);
  EXPECT_THAT(filter, StatusIs(StatusCode::kInvalidArgument)) << expression;
  return filter.ok() ? "" : filter.status().message();
}

TEST(FilterTest, EmptyAcceptsEveryRow) {
  Result<Filter> filter = Filter::Parse("   ");
  ASSERT_THAT(filter, IsOk());
  EXPECT_TRUE(filter->accepts_all());
  EXPECT_TRUE(filter->Matches(Row().View()));
  EXPECT_TRUE(Filter().Matches(Row().View()));
}

TEST(FilterTest, EveryComparisonOperatorOnNumbers) {
  EXPECT_TRUE(Accepts("bytes=3456"));
  EXPECT_TRUE(Accepts("bytes == 3456"));
  EXPECT_FALSE(Accepts("bytes != 3456"));
  EXPECT_TRUE(Accepts("bytes != 3455"));
  EXPECT_TRUE(Accepts("bytes < 3457"));
  EXPECT_FALSE(Accepts("bytes < 3456"));
  EXPECT_TRUE(Accepts("bytes <= 3456"));
  EXPECT_FALSE(Accepts("bytes <= 3455"));
  EXPECT_TRUE(Accepts("bytes > 3455"));
  EXPECT_FALSE(Accepts("bytes > 3456"));
  EXPECT_TRUE(Accepts("bytes >= 3456"));
  EXPECT_FALSE(Accepts("bytes >= 3457"));
  EXPECT_TRUE(Accepts("packets>10 and packets<13"));
  EXPECT_FALSE(Accepts("bytes>=18446744073709551615"));
}

TEST(FilterTest, InListsAndNotIn) {
  EXPECT_TRUE(Accepts("dstport in (22, 443, 3389)"));
  EXPECT_FALSE(Accepts("dstport in (22,3389)"));
  EXPECT_TRUE(Accepts("dstport not in (22,3389)"));
  EXPECT_FALSE(Accepts("dstport not in (443)"));
  EXPECT_TRUE(Accepts("dstport in 443"));
  EXPECT_TRUE(Accepts("action=REJECT or dstport in (22,443)"));
}

TEST(FilterTest, AndOrNotAndParentheses) {
  // and binds tighter than or.
  EXPECT_TRUE(Accepts("bytes=1 and packets=1 or dstport=443"));
  EXPECT_FALSE(Accepts("bytes=1 and (packets=1 or dstport=443)"));
  EXPECT_TRUE(Accepts("not bytes=1"));
  EXPECT_FALSE(Accepts("not not bytes=1"));
  EXPECT_TRUE(Accepts("NOT (bytes=1 OR packets=1) AND dstport=443"));
  EXPECT_FALSE(Accepts("not (dstport=443)"));
  EXPECT_TRUE(Accepts("((((dstport=443))))"));
}

TEST(FilterTest, ProtocolByNameOrNumber) {
  EXPECT_TRUE(Accepts("protocol=tcp"));
  EXPECT_TRUE(Accepts("protocol=TCP"));
  EXPECT_TRUE(Accepts("protocol=6"));
  EXPECT_FALSE(Accepts("protocol=udp"));
  EXPECT_TRUE(Accepts("protocol in (udp, tcp)"));
  Row icmp6;
  icmp6.protocol = 58;
  EXPECT_TRUE(Accepts("protocol=icmpv6", icmp6));
  EXPECT_TRUE(Accepts("protocol=ipv6-icmp", icmp6));
  EXPECT_EQ(ProtocolNumber("Sctp"), 132);
  EXPECT_EQ(ProtocolNumber("nope"), -1);
  EXPECT_EQ(ProtocolName(17), "udp");
  EXPECT_EQ(ProtocolName(58), "icmpv6");
  EXPECT_EQ(ProtocolName(200), "");
}

TEST(FilterTest, ActionsAndStrings) {
  EXPECT_TRUE(Accepts("action=accept"));
  EXPECT_FALSE(Accepts("action=REJECT"));
  EXPECT_TRUE(Accepts("action != REJECT"));
  Row absent;
  absent.action = Action::kAbsent;
  EXPECT_TRUE(Accepts("action=-", absent));
  EXPECT_TRUE(Accepts("account=123456789012"));
  EXPECT_TRUE(Accepts("account_id in (111111111111, 123456789012)"));
  EXPECT_FALSE(Accepts("account-id=111111111111"));
  EXPECT_TRUE(Accepts("interface=\"eni-0a1b2c3d\""));
  EXPECT_TRUE(Accepts("interface_id='eni-0a1b2c3d'"));
  Row odd;
  odd.interface = "eni (a=b)";
  EXPECT_TRUE(Accepts("interface = 'eni (a=b)'", odd));
}

TEST(FilterTest, Ipv4CidrsIncludingEdges) {
  EXPECT_TRUE(Accepts("srcaddr in 10.0.0.0/8"));
  EXPECT_TRUE(Accepts("srcaddr in 10.0.0.0/8 and not dstaddr in 192.168.0.0/16"));
  EXPECT_FALSE(Accepts("srcaddr in 11.0.0.0/8"));
  EXPECT_TRUE(Accepts("srcaddr = 10.0.0.1"));
  EXPECT_TRUE(Accepts("srcaddr = 10.0.0.1/32"));
  EXPECT_FALSE(Accepts("srcaddr = 10.0.0.2/32"));
  EXPECT_TRUE(Accepts("srcaddr in 0.0.0.0/0"));
  EXPECT_TRUE(Accepts("srcaddr in 10.0.0.0/31"));
  EXPECT_FALSE(Accepts("srcaddr in 10.0.0.2/31"));
  EXPECT_TRUE(Accepts("srcaddr in 10.255.255.255/8"));  // host bits ignored
  EXPECT_TRUE(Accepts("srcaddr in 10.0.0.0/9"));
  EXPECT_FALSE(Accepts("srcaddr in 10.128.0.0/9"));
  EXPECT_TRUE(Accepts("srcaddr != 10.0.0.2"));
  EXPECT_TRUE(Accepts("srcaddr in (192.168.0.0/16, 10.0.0.0/30)"));
  Row six;
  six.src = "2001:db8::1";
  EXPECT_FALSE(Accepts("srcaddr in 0.0.0.0/0", six));  // IPv4 CIDRs match IPv4 only
}

TEST(FilterTest, Ipv6CidrsAndSpellings) {
  Row six;
  six.src = "2001:db8::1";
  six.dst = "::ffff:10.0.0.9";
  EXPECT_TRUE(Accepts("srcaddr = 2001:db8::1", six));
  EXPECT_TRUE(Accepts("srcaddr = 2001:0DB8:0000:0000:0000:0000:0000:0001", six));
  EXPECT_TRUE(Accepts("srcaddr = 2001:db8:0:0:0:0:0:1/128", six));
  EXPECT_FALSE(Accepts("srcaddr = 2001:db8::2/128", six));
  EXPECT_TRUE(Accepts("srcaddr in 2001:db8::/32", six));
  EXPECT_FALSE(Accepts("srcaddr in 2001:db9::/32", six));
  EXPECT_TRUE(Accepts("srcaddr in ::/0", six));
  EXPECT_TRUE(Accepts("srcaddr in 2001:db8::/127", six));
  EXPECT_FALSE(Accepts("srcaddr in 2001:db8::2/127", six));
  EXPECT_TRUE(Accepts("dstaddr in ::ffff:0:0/96", six));
  EXPECT_TRUE(Accepts("dstaddr = ::ffff:10.0.0.9", six));
  EXPECT_FALSE(Accepts("dstaddr in 10.0.0.0/8", six));  // an IPv6 address, mapped or not
  EXPECT_FALSE(Accepts("srcaddr in ::/0"));             // IPv6 CIDRs match IPv6 only
}

TEST(FilterTest, EitherEndFields) {
  EXPECT_TRUE(Accepts("addr = 10.0.0.2"));
  EXPECT_TRUE(Accepts("addr = 10.0.0.1"));
  EXPECT_FALSE(Accepts("addr = 10.0.0.3"));
  EXPECT_FALSE(Accepts("addr != 10.0.0.1"));  // neither end may be it
  EXPECT_TRUE(Accepts("addr != 10.0.0.3"));
  EXPECT_TRUE(Accepts("port = 0"));
  EXPECT_TRUE(Accepts("port = 443"));
  EXPECT_TRUE(Accepts("port > 1024 or port = 443"));
  EXPECT_FALSE(Accepts("port > 1024"));
  EXPECT_FALSE(Accepts("port not in (443)"));
}

TEST(FilterTest, TimesAsSecondsOrRfc3339) {
  EXPECT_TRUE(Accepts("start >= 2019-01-01T00:00:00Z"));
  EXPECT_FALSE(Accepts("start > 2019-01-01T00:00:00Z"));
  EXPECT_TRUE(Accepts("end < 2019-01-01T01:00:00+01:00 or end = 1546300920"));
  EXPECT_TRUE(Accepts("end = 1546300920"));
}

TEST(FilterTest, FlowsAreMarkedAsNeeded) {
  Result<Filter> with = Filter::Parse("bytes > 1 and (flows >= 3)");
  ASSERT_THAT(with, IsOk());
  EXPECT_TRUE(with->uses_flows());
  EXPECT_TRUE(with->Matches(Row().View()));
  Result<Filter> without = Filter::Parse("bytes > 1");
  ASSERT_THAT(without, IsOk());
  EXPECT_FALSE(without->uses_flows());
}

TEST(FilterErrorTest, NamesTheColumnAndShowsACaret) {
  EXPECT_EQ(ErrorOf("dstport in"),
            "filter: column 11: expected a value after 'in', found the end\n"
            "  dstport in\n"
            "            ^");
  EXPECT_EQ(ErrorOf("action=REJECT and dstprot in (22,3389)"),
            "filter: column 19: unknown field 'dstprot' (fields: account_id, interface_id, "
            "srcaddr, dstaddr, addr, srcport, dstport, port, protocol, action, packets, bytes, "
            "flows, start, end)\n"
            "  action=REJECT and dstprot in (22,3389)\n"
            "                    ^");
}

TEST(FilterErrorTest, EveryKindOfMistakePointsAtIt) {
  EXPECT_THAT(ErrorOf("srcaddr in 10.0.0.0/33"),
              HasSubstr("column 21: '33' is not a prefix length (0-32)"));
  EXPECT_THAT(ErrorOf("srcaddr in 2001:db8::/129"),
              HasSubstr("column 23: '129' is not a prefix length (0-128)"));
  EXPECT_THAT(ErrorOf("srcaddr in 10.0.0.0/"), HasSubstr("column 21: '' is not a prefix"));
  EXPECT_THAT(ErrorOf("srcaddr in 10.0.0.300"),
              HasSubstr("column 12: '10.0.0.300' is not an IPv4 or IPv6 address"));
  EXPECT_THAT(ErrorOf("srcaddr = fe80::1%eth0"), HasSubstr("column 11: 'fe80::1%eth0' is not"));
  EXPECT_THAT(ErrorOf("srcaddr < 10.0.0.1"),
              HasSubstr("column 9: '<' does not apply to srcaddr (use =, != or in)"));
  EXPECT_THAT(ErrorOf("account > 5"), HasSubstr("column 9: '>' does not apply"));
  EXPECT_THAT(ErrorOf("dstport = 65536"), HasSubstr("column 11: '65536' is not a port"));
  EXPECT_THAT(ErrorOf("protocol = tcpp"), HasSubstr("column 12: 'tcpp' is not a protocol"));
  EXPECT_THAT(ErrorOf("protocol = 256"), HasSubstr("'256' is not a protocol number"));
  EXPECT_THAT(ErrorOf("action = DROP"), HasSubstr("column 10: 'DROP' is not an action"));
  EXPECT_THAT(ErrorOf("bytes > -1"), HasSubstr("column 9: '-1' is not an unsigned number"));
  EXPECT_THAT(ErrorOf("bytes > 99999999999999999999"), HasSubstr("is not an unsigned number"));
  EXPECT_THAT(ErrorOf("start > yesterday"), HasSubstr("not Unix seconds or an RFC 3339 time"));
  EXPECT_THAT(ErrorOf("(bytes > 1"), HasSubstr("column 11: expected ')', found the end"));
  EXPECT_THAT(ErrorOf("bytes > 1)"),
              HasSubstr("column 10: expected 'and', 'or' or the end, found ')'"));
  EXPECT_THAT(ErrorOf("bytes > 1 bytes"), HasSubstr("column 11: expected 'and', 'or'"));
  EXPECT_THAT(ErrorOf("bytes"), HasSubstr("column 6: expected an operator"));
  EXPECT_THAT(ErrorOf("bytes ! 1"), HasSubstr("column 7: expected an operator"));
  EXPECT_THAT(ErrorOf("bytes ! 1"), HasSubstr("'!' (not-equal is '!=')"));
  EXPECT_THAT(ErrorOf("bytes =< 1"), HasSubstr("column 8: expected a value after '=', found '<'"));
  EXPECT_THAT(ErrorOf("interface = 'eni"),
              HasSubstr("column 13: expected a value after '=', found an unterminated quoted"));
  EXPECT_THAT(ErrorOf("dstport in (22,)"), HasSubstr("column 16: expected a value in a list"));
  EXPECT_THAT(ErrorOf("dstport in (22 23)"),
              HasSubstr("column 16: expected ',' or ')' in the list, found '23'"));
  EXPECT_THAT(ErrorOf("dstport not 22"), HasSubstr("column 13: expected 'in' after 'not'"));
  EXPECT_THAT(ErrorOf("and"), HasSubstr("column 1: unknown field 'and'"));
  EXPECT_THAT(ErrorOf("= 1"), HasSubstr("column 1: expected a field name, found '='"));
  EXPECT_THAT(ErrorOf("bytes > 1 and"),
              HasSubstr("column 14: expected a field name, found the end"));
}

TEST(FilterErrorTest, LongExpressionsShowThePartAroundTheColumn) {
  const std::string expression = std::string(30, '(') + "bytes > 1" + std::string(30, ')') +
                                 " and " + std::string(40, '(') + "dstport = x" +
                                 std::string(40, ')');
  const std::string message = ErrorOf(expression);
  EXPECT_THAT(message, HasSubstr("column 125: 'x' is not a port"));
  const size_t line2 = message.find('\n') + 1;
  const size_t line3 = message.find('\n', line2) + 1;
  const std::string excerpt = message.substr(line2, line3 - line2 - 1);
  const std::string caret = message.substr(line3);
  EXPECT_THAT(excerpt, ::testing::StartsWith("  ..."));
  EXPECT_THAT(excerpt, ::testing::EndsWith("..."));
  ASSERT_EQ(caret.back(), '^');
  EXPECT_EQ(excerpt[caret.size() - 1], 'x');
}

TEST(FilterErrorTest, CaretCountsCharactersAndHidesControlCharacters) {
  const std::string message = ErrorOf("interface = \"é\"\tand nope=1");
  EXPECT_THAT(message, HasSubstr("column 21: unknown field 'nope'"));
  EXPECT_THAT(message, HasSubstr("\n  interface = \"é\" and nope=1\n"));
  EXPECT_THAT(message, ::testing::EndsWith("\n                      ^"));
}

TEST(FilterErrorTest, LimitsDepthAndLength) {
  EXPECT_THAT(ErrorOf(std::string(100, '(') + "bytes=1" + std::string(100, ')')),
              HasSubstr("nested deeper than 64 levels"));
  std::string nots;
  for (int i = 0; i < 100; ++i) nots += "not ";
  EXPECT_THAT(ErrorOf(nots + "bytes=1"), HasSubstr("nested deeper than 64 levels"));
  EXPECT_THAT(ErrorOf(std::string(kMaxFilterBytes + 1, ' ')), HasSubstr("longer than 16384 bytes"));
  std::string deep_ok = std::string(60, '(') + "bytes=3456" + std::string(60, ')');
  EXPECT_TRUE(Accepts(deep_ok));
}

}  // namespace
}  // namespace vpcflow
