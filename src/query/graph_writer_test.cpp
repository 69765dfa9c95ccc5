#include "query/graph_writer.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <pugixml.hpp>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "query/query.hpp"
#include "query/test_rows.hpp"
#include "testing/files.hpp"

namespace vpcflow {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing_rows::MakeDigest;
using testing_rows::Rec;

// A record with packets in proportion to its bytes.
Rec R(std::string src, std::string dst, uint16_t sport, uint16_t dport, uint64_t bytes,
      Action action = Action::kAccept) {
  return testing_rows::R(std::move(src), std::move(dst), sport, dport, bytes, action,
                         bytes / 100 + 1);
}

// Addresses that the older consumer's ids confused, IPv6, both actions, a reply direction.
std::vector<Rec> Sample() {
  return {R("1.11.1.1", "10.0.0.5", 0, 443, 1200000),
          R("11.1.1.1", "10.0.0.5", 0, 443, 5300),
          R("10.0.0.5", "1.11.1.1", 443, 0, 48000000),
          R("10.0.0.9", "10.0.0.5", 0, 22, 420, Action::kReject),
          R("2001:db8::1", "2001:db8:0:0:1::", 0, 53, 900),
          R("10.0.0.9", "10.0.0.7", 0, 0, 64)};
}

Result<std::string> Graph(const std::vector<Rec>& recs, const QueryParams& params,
                          const GraphOptions& graph = {}) {
  const Digest digest = MakeDigest(recs);
  VPCFLOW_ASSIGN_OR_RETURN(QuerySpec spec, ParseQuery(params));
  RowSourcePtr rows = NewDigestRowSource(digest);
  StringSink sink;
  VPCFLOW_RETURN_IF_ERROR(RunQuery(*rows, spec, sink, {.graph = graph}));
  return sink.Release();
}

// Compares with src/query/testdata/<name>; VPCFLOW_UPDATE_GOLDEN=1 rewrites the file instead.
void ExpectGolden(const std::string& actual, const std::string& name) {
  const std::string path = std::string(VPCFLOW_QUERY_TESTDATA) + "/" + name;
  if (const char* update = std::getenv("VPCFLOW_UPDATE_GOLDEN"); update && *update == '1') {
    WriteFile(path, actual);
    return;
  }
  ASSERT_TRUE(std::filesystem::is_regular_file(path)) << "missing golden file " << path;
  EXPECT_EQ(actual, ReadFile(path)) << "golden file " << name;
}

TEST(DotTest, MatchesTheGoldenFile) {
  Result<std::string> dot = Graph(Sample(), {.format = "dot"});
  ASSERT_THAT(dot, IsOk());
  ExpectGolden(*dot, "sample.dot");
  // Quoted address ids: no collision between 1.11.1.1 and 11.1.1.1.
  EXPECT_THAT(*dot, HasSubstr("\"1.11.1.1\" -> \"10.0.0.5\""));
  EXPECT_THAT(*dot, HasSubstr("\"11.1.1.1\" -> \"10.0.0.5\""));
  EXPECT_THAT(*dot, HasSubstr("\"2001:db8::1\" -> \"2001:db8:0:0:1::\""));
}

TEST(DotTest, IsTheSameWhateverTheInputOrder) {
  std::vector<Rec> reversed = Sample();
  std::reverse(reversed.begin(), reversed.end());
  EXPECT_EQ(Graph(reversed, {.format = "dot"}).value(), Graph(Sample(), {.format = "dot"}).value());
}

TEST(DotTest, GroupedConversationsAndTopWithOthers) {
  Result<std::string> dot = Graph(Sample(), {.group_by = "srcaddr/24,dstaddr/24,protocol",
                                             .conversation = "true",
                                             .top = "2",
                                             .format = "dot"});
  ASSERT_THAT(dot, IsOk());
  ExpectGolden(*dot, "conversations_top2.dot");
  EXPECT_THAT(*dot, HasSubstr("dir=both"));
  EXPECT_THAT(*dot, HasSubstr("\"others\" [shape=note"));
  EXPECT_THAT(*dot, Not(HasSubstr("govpc_eniID")));  // not grouped: left out
}

TEST(DotTest, DiffDrawsNewBoldAndGoneDashed) {
  std::vector<Rec> before = Sample();
  std::vector<Rec> after = Sample();
  after.erase(after.begin() + 3);
  after.push_back(R("10.0.0.66", "10.0.0.5", 0, 3389, 777, Action::kReject));
  const Digest a = MakeDigest(before);
  const Digest b = MakeDigest(after);
  Result<QuerySpec> spec = ParseQuery({.format = "dot"}, /*diff=*/true);
  ASSERT_THAT(spec, IsOk());
  RowSourcePtr base = NewDigestRowSource(a);
  RowSourcePtr current = NewDigestRowSource(b);
  StringSink sink;
  ASSERT_THAT(RunDiff(*base, *current, *spec, sink), IsOk());
  ExpectGolden(sink.data(), "diff.dot");
  EXPECT_THAT(sink.data(), HasSubstr("govpc_diff=\"ADDED\""));
  EXPECT_THAT(sink.data(), HasSubstr("style=bold"));
  EXPECT_THAT(sink.data(), HasSubstr("govpc_diff=\"REMOVED\""));
  EXPECT_THAT(sink.data(), HasSubstr("style=dashed"));
}

TEST(DotTest, EscapesOwnerText) {
  std::vector<Rec> recs = {R("10.0.0.1", "10.0.0.2", 0, 80, 10)};
  recs[0].interface = "eni-\"x\"\\y";
  Result<std::string> dot = Graph(recs, {.format = "dot"});
  ASSERT_THAT(dot, IsOk());
  EXPECT_THAT(*dot, HasSubstr("govpc_eniID=\"eni-\\\"x\\\"\\\\y\""));
}

TEST(HumanBytesTest, SiUnits) {
  EXPECT_EQ(HumanBytes(0), "0 B");
  EXPECT_EQ(HumanBytes(999), "999 B");
  EXPECT_EQ(HumanBytes(1000), "1.0 kB");
  EXPECT_EQ(HumanBytes(1234567), "1.2 MB");
  EXPECT_EQ(HumanBytes(999999), "1.0 MB");
  EXPECT_EQ(HumanBytes(UINT64_MAX), "18.4 EB");
}

// The titles of the svg's nodes and edges (Graphviz writes each element's DOT name there).
std::set<std::string> Titles(const pugi::xml_document& svg, const char* cls) {
  std::set<std::string> out;
  for (const pugi::xpath_node& n :
       svg.select_nodes((std::string("//g[@class='") + cls + "']/title").c_str())) {
    out.insert(n.node().text().get());
  }
  return out;
}

TEST(SvgTest, RendersAValidSvgWithTheNodesAndEdges) {
  Result<std::string> svg = Graph(Sample(), {.format = "svg"});
  ASSERT_THAT(svg, IsOk());
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(svg->c_str())) << svg->substr(0, 200);
  EXPECT_STREQ(doc.document_element().name(), "svg");
  EXPECT_EQ(Titles(doc, "node"),
            (std::set<std::string>{"1.11.1.1", "11.1.1.1", "10.0.0.5", "10.0.0.7", "10.0.0.9",
                                   "2001:db8::1", "2001:db8:0:0:1::"}));
  EXPECT_EQ(Titles(doc, "edge").size(), 6u);
  EXPECT_EQ(Titles(doc, "edge").count("10.0.0.9->10.0.0.5"), 1u);
}

TEST(SvgTest, BigGraphsAreCutToTopEdgesPlusOthers) {
  std::vector<Rec> recs;
  for (int i = 0; i < 400; ++i) {
    recs.push_back(R("10.1." + std::to_string(i / 200) + "." + std::to_string(i % 200), "10.0.0.5",
                     0, 443, 1000 + static_cast<uint64_t>(i)));
  }
  Result<std::string> svg = Graph(recs, {.top = "25", .format = "svg"});
  ASSERT_THAT(svg, IsOk());
  pugi::xml_document doc;
  ASSERT_TRUE(doc.load_string(svg->c_str()));
  EXPECT_EQ(Titles(doc, "edge").size(), 25u);
  EXPECT_EQ(Titles(doc, "node").count("others"), 1u);
  EXPECT_EQ(Titles(doc, "node").size(), 27u);  // 25 sources, the destination, others
  EXPECT_THAT(*svg, HasSubstr("375 more rows"));
}

TEST(SvgTest, RendererErrorsAreReported) {
  EXPECT_THAT(Graph(Sample(), {.format = "svg"}, {.dot_program = "vpcflow-no-such-dot"}),
              StatusIs(StatusCode::kNotFound, HasSubstr("Debian package graphviz")));
  EXPECT_THAT(Graph(Sample(), {.format = "svg"}, {.dot_program = "false"}),
              StatusIs(StatusCode::kInternal, HasSubstr("graphviz dot failed")));
}

}  // namespace
}  // namespace vpcflow
