#include "query/query_spec.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "testing/matchers.hpp"

namespace vpcflow {
namespace {

using ::testing::HasSubstr;

TEST(ParseGroupByTest, FieldsAndPrefixLengths) {
  Result<GroupBy> g = ParseGroupBy(" srcaddr/24 , dstaddr/16/48,dstport,protocol ");
  ASSERT_THAT(g, IsOk());
  EXPECT_EQ(g->fields, kRowSrcAddr | kRowDstAddr | kRowDstPort | kRowProtocol);
  EXPECT_EQ(g->src_v4_bits, 24);
  EXPECT_EQ(g->src_v6_bits, 128);  // "/24" leaves IPv6 whole
  EXPECT_EQ(g->dst_v4_bits, 16);
  EXPECT_EQ(g->dst_v6_bits, 48);
  Result<GroupBy> all = ParseGroupBy(
      "account,interface_id,srcaddr,dstaddr,srcport,dstport,"
      "protocol,action");
  ASSERT_THAT(all, IsOk());
  EXPECT_EQ(all->fields, kAllRowFields);
  Result<GroupBy> edges = ParseGroupBy("srcaddr/0/0,dstaddr/32/128");
  ASSERT_THAT(edges, IsOk());
  EXPECT_EQ(edges->src_v4_bits, 0);
  EXPECT_EQ(edges->src_v6_bits, 0);
  EXPECT_THAT(ParseGroupBy(""), IsOkAndHolds(::testing::Field(&GroupBy::fields, 0)));
}

TEST(ParseGroupByTest, RefusesMistakes) {
  EXPECT_THAT(ParseGroupBy("srcaddr,bytes"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("unknown field 'bytes'")));
  EXPECT_THAT(ParseGroupBy("dstport,dstport"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("'dstport' is named twice")));
  EXPECT_THAT(ParseGroupBy("srcaddr/33"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("'srcaddr/33' is not ADDR/N")));
  EXPECT_THAT(ParseGroupBy("srcaddr/24/129"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseGroupBy("srcaddr/"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseGroupBy("srcaddr/24/64/8"), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseGroupBy("dstport/8"),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("only srcaddr and dstaddr")));
  EXPECT_THAT(ParseGroupBy("srcaddr,,dstaddr"), StatusIs(StatusCode::kInvalidArgument));
}

TEST(ParseQueryTest, DefaultsAndValues) {
  Result<QuerySpec> plain = ParseQuery({});
  ASSERT_THAT(plain, IsOk());
  EXPECT_EQ(plain->format, QueryFormat::kFlowLog);
  EXPECT_TRUE(plain->plain());
  EXPECT_FALSE(plain->grouped());

  Result<QuerySpec> q = ParseQuery({.filter = "action=REJECT",
                                    .group_by = "srcaddr/24,dstaddr/24",
                                    .conversation = "true",
                                    .top = "10",
                                    .by = "packets",
                                    .format = "json"});
  ASSERT_THAT(q, IsOk());
  EXPECT_TRUE(q->conversation);
  EXPECT_TRUE(q->grouped());
  EXPECT_EQ(q->top, 10u);
  EXPECT_EQ(q->by, RankBy::kPackets);
  EXPECT_EQ(q->format, QueryFormat::kJson);
  EXPECT_FALSE(q->plain());
  EXPECT_FALSE(q->needs_flows());
  EXPECT_TRUE(ParseQuery({.by = "flows"})->needs_flows());
  EXPECT_TRUE(ParseQuery({.filter = "flows > 2"})->needs_flows());
}

TEST(ParseQueryTest, EachParameterNamesItself) {
  EXPECT_THAT(ParseQuery({.filter = "bytes >"}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("filter: column 8")));
  EXPECT_THAT(ParseQuery({.group_by = "x"}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("group_by: ")));
  EXPECT_THAT(ParseQuery({.conversation = "yes"}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("conversation: 'yes'")));
  EXPECT_THAT(ParseQuery({.top = "-1"}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("top: '-1'")));
  EXPECT_THAT(ParseQuery({.top = "9999999999"}), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseQuery({.by = "rows"}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("by: 'rows'")));
  EXPECT_THAT(ParseQuery({.format = "xml"}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("format: 'xml'")));
  EXPECT_THAT(ParseQuery({.change = "10"}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("change: only a diff")));
}

TEST(ParseQueryTest, ChecksAcrossParameters) {
  EXPECT_THAT(ParseQuery({.group_by = "srcaddr,dstport", .conversation = "1"}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("conversation: group_by")));
  EXPECT_THAT(ParseQuery({.group_by = "srcaddr/24,dstaddr/16", .conversation = "1"}),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseQuery({.group_by = "srcaddr,dstaddr,dstport", .conversation = "1"}),
              StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseQuery({.group_by = "srcaddr/24,dstaddr/24,protocol", .conversation = "1"}),
              IsOk());
  EXPECT_THAT(ParseQuery({.group_by = "dstport", .format = "dot"}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("a graph needs srcaddr")));
  Result<QuerySpec> svg = ParseQuery({.format = "svg"});
  ASSERT_THAT(svg, IsOk());
  EXPECT_EQ(svg->top, kDefaultSvgEdges);
  EXPECT_THAT(ParseQuery({.top = "2001", .format = "svg"}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("at most 2000 edges")));
}

TEST(ParseQueryTest, Diffs) {
  Result<QuerySpec> d = ParseQuery({.change = "12.5"}, /*diff=*/true);
  ASSERT_THAT(d, IsOk());
  EXPECT_EQ(d->format, QueryFormat::kNdjson);
  EXPECT_EQ(d->change_percent, 12.5);
  EXPECT_EQ(ParseQuery({}, true)->change_percent, kDefaultChangePercent);
  EXPECT_THAT(ParseQuery({.format = "flowlog"}, true),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("no flowlog form")));
  EXPECT_THAT(ParseQuery({.change = "-5"}, true),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("change: '-5'")));
  EXPECT_THAT(ParseQuery({.change = "nan"}, true), StatusIs(StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace vpcflow
