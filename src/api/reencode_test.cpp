#include "api/reencode.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <regex>

#include "testing/matchers.hpp"
#include "testing/service_corpus.hpp"

namespace vpcflow {
namespace {

// The engine's digest of the corpus: its gzip flowlog encoding and another encoding.
struct Encoded {
  std::string gzip_flowlog;
  std::string other;
};

Encoded EncodeCorpus(DigestFormat other) {
  MemoryObjectSource source;
  PutCorpus(source);
  Result<DigestRun> run = RunDigest(source, kCorpusWindow, DigestOptions{});
  EXPECT_OK(run.status());
  if (!run.ok()) return {};
  EXPECT_GT(run->digest.size(), 5u);
  StringSink gz_target;
  ByteSinkPtr gz = NewGzipSink(&gz_target);
  EXPECT_OK(run->digest.Encode(DigestFormat::kFlowLog, *gz));
  EXPECT_OK(gz->Close());
  StringSink text;
  EXPECT_OK(run->digest.Encode(other, text));
  return {gz_target.Release(), text.Release()};
}

// Reads everything from a reencoding reader of `stored`, `chunk` bytes per Read.
Result<std::string> ReadAll(const std::string& stored, DigestFormat format, size_t chunk) {
  MemoryObjectSource holder;
  holder.Put("d", stored);
  Result<ObjectReaderPtr> raw = holder.Open("d");
  if (!raw.ok()) return raw.status();
  ObjectReaderPtr reader = NewReencodingReader(std::move(raw).value(), format);
  std::string out;
  std::string buf(chunk, '\0');
  while (true) {
    Result<size_t> n = reader->Read(std::span<char>(buf.data(), buf.size()));
    if (!n.ok()) return n.status();
    if (*n == 0) return out;
    out.append(buf.data(), *n);
  }
}

TEST(ReencodeTest, NdjsonIsTheEnginesWithFlowsNull) {
  Encoded e = EncodeCorpus(DigestFormat::kNdjson);
  const std::string expected =
      std::regex_replace(e.other, std::regex(R"("flows":\d+)"), R"("flows":null)");
  EXPECT_THAT(ReadAll(e.gzip_flowlog, DigestFormat::kNdjson, 1 << 16), IsOkAndHolds(expected));
  EXPECT_THAT(ReadAll(e.gzip_flowlog, DigestFormat::kNdjson, 7), IsOkAndHolds(expected));
}

TEST(ReencodeTest, CsvIsTheEnginesWithAnEmptyFlowsColumn) {
  Encoded e = EncodeCorpus(DigestFormat::kCsv);
  // Blank the 11th column (flows) of every row; the header keeps its name. The corpus has a
  // quoted account id with a comma: count columns from the end, where nothing is quoted.
  std::string expected;
  size_t pos = 0;
  bool header = true;
  while (pos < e.other.size()) {
    size_t nl = e.other.find('\n', pos);
    std::string line = e.other.substr(pos, nl - pos);
    pos = nl + 1;
    if (!header) {
      size_t end_col = line.rfind(',');
      size_t start_col = line.rfind(',', end_col - 1);
      size_t flows_col = line.rfind(',', start_col - 1);
      line.erase(flows_col + 1, start_col - flows_col - 1);
    }
    header = false;
    expected += line + "\n";
  }
  EXPECT_THAT(ReadAll(e.gzip_flowlog, DigestFormat::kCsv, 1 << 16), IsOkAndHolds(expected));
  EXPECT_THAT(ReadAll(e.gzip_flowlog, DigestFormat::kCsv, 3), IsOkAndHolds(expected));
}

TEST(ReencodeTest, AnEmptyDigestIsEmptyOrJustTheHeader) {
  const std::string empty = GzipForTest("");
  EXPECT_THAT(ReadAll(empty, DigestFormat::kNdjson, 100), IsOkAndHolds(""));
  EXPECT_THAT(ReadAll(empty, DigestFormat::kCsv, 100),
              IsOkAndHolds("account_id,interface_id,srcaddr,dstaddr,srcport,dstport,protocol,"
                           "action,packets,bytes,flows,start,end\n"));
}

TEST(ReencodeTest, NotAGzipIsDataLoss) {
  EXPECT_THAT(ReadAll("plain text, not gzip", DigestFormat::kNdjson, 100),
              StatusIs(StatusCode::kDataLoss));
}

TEST(ReencodeTest, ALineThatIsNotAFlowLogIsDataLoss) {
  const std::string stored = GzipForTest(
      "2 123456789012 eni-1 10.0.0.1 10.0.0.2 443 0 6 1 100 1546300800 1546300860 ACCEPT OK\n"
      "this is not a digest line\n");
  EXPECT_THAT(ReadAll(stored, DigestFormat::kCsv, 100),
              StatusIs(StatusCode::kDataLoss, ::testing::HasSubstr("line 2")));
}

}  // namespace
}  // namespace vpcflow
