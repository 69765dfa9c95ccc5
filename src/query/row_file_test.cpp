#include "query/row_file.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "generate/generator.hpp"
#include "query/test_rows.hpp"
#include "testing/scratch_dir.hpp"

namespace vpcflow {
namespace {

using ::testing::HasSubstr;
using testing_rows::MakeDigest;
using testing_rows::ReaderOf;
using testing_rows::Rec;
using testing_rows::RowTexts;
using testing_rows::StoredFlowLog;

// A digest of `n` rows: IPv4 and IPv6, both actions and none, odd owner names, every port
// and time shape (starts that go down as well as up, so their deltas are negative too).
Digest VariedDigest(int n) {
  std::vector<Rec> recs;
  for (int i = 0; i < n; ++i) {
    Rec r;
    r.account = i % 7 == 0 ? "acct,with\"quotes\"" : "12345678901" + std::to_string(i % 3);
    r.interface = "eni-" + std::to_string(i % 11);
    r.src = i % 5 == 0 ? "2001:db8::" + std::to_string(i % 1000)
                       : "10.0." + std::to_string(i / 256 % 256) + "." + std::to_string(i % 256);
    r.dst = i % 3 == 0 ? "::ffff:192.168.1.9" : "172.16.0." + std::to_string(i % 200);
    r.srcport = static_cast<uint16_t>(i % 2 ? 0 : 40000 + i % 20000);
    r.dstport = static_cast<uint16_t>(i % 2 ? 443 : 0);
    r.protocol = static_cast<uint8_t>(i % 4 == 0 ? 17 : 6);
    r.action = static_cast<Action>(i % 3);
    r.packets = static_cast<uint64_t>(i) * 7 + 1;
    r.bytes = i % 9 == 0 ? 0 : (uint64_t{1} << (i % 60)) + static_cast<uint64_t>(i);
    r.start = 1546300800 + (i * 7919) % 3600;
    r.end = r.start + i % 120;
    recs.push_back(r);
    if (i % 13 == 0) recs.push_back(r);  // the same key twice: flows 2
  }
  return MakeDigest(recs);
}

std::string RowFileOf(const Digest& digest) {
  StringSink sink;
  RowSourcePtr rows = NewDigestRowSource(digest);
  EXPECT_THAT(WriteRowFile(*rows, sink), IsOk());
  return sink.Release();
}

// The decompressed content of a gzip string, and back.
std::string Gunzip(const std::string& gz) {
  ObjectReaderPtr reader = ReaderOf(gz);
  std::unique_ptr<TextStream> text = NewGzipTextStream(reader.get());
  std::string out;
  char buf[65536];
  for (;;) {
    Result<size_t> n = text->Read(buf, sizeof(buf));
    EXPECT_THAT(n, IsOk());
    if (!n.ok() || *n == 0) return out;
    out.append(buf, *n);
  }
}
std::string Gzip(const std::string& text) {
  StringSink target;
  ByteSinkPtr gzip = NewGzipSink(&target);
  EXPECT_THAT(gzip->Append(text), IsOk());
  EXPECT_THAT(gzip->Close(), IsOk());
  return target.Release();
}

Status ReadAll(const std::string& bytes, size_t* rows = nullptr) {
  Result<RowSourcePtr> source = OpenStoredRows(ReaderOf(bytes));
  if (!source.ok()) return source.status();
  size_t n = 0;
  Status st = (*source)->ForEach([&](const RowView&) {
    ++n;
    return true;
  });
  if (rows != nullptr) *rows = n;
  return st;
}

TEST(RowFileTest, RoundTripsEveryFieldOverManyBlocks) {
  const Digest digest = VariedDigest(3 * static_cast<int>(kRowFileBlockRows) + 17);
  RowSourcePtr original = NewDigestRowSource(digest);
  const std::vector<std::string> expected = RowTexts(*original);
  ASSERT_GT(expected.size(), 3 * kRowFileBlockRows);

  Result<RowSourcePtr> read = OpenStoredRows(ReaderOf(RowFileOf(digest)));
  ASSERT_THAT(read, IsOk());
  EXPECT_TRUE((*read)->has_flows());
  EXPECT_EQ(RowTexts(**read), expected);
}

// Rows as wide as the file's columns get: IPv6 both ways, counts whose varints take 10 bytes,
// start deltas of both signs near the limits, a new owner for many rows.
class WidestRows final : public RowSource {
 public:
  explicit WidestRows(size_t n) : n_(n) {}
  Status ForEach(const std::function<bool(const RowView&)>& fn) override {
    for (size_t i = 0; i < n_; ++i) {
      const std::string account = std::to_string(100000000000 + i);
      const std::string interface = "eni-" + std::to_string(i * 7919);
      RowView row;
      FlowRecord& r = row.record;
      r.account_id = account;
      r.interface_id = interface;
      EXPECT_TRUE(ParseIpAddress("ffff:ffff:ffff:ffff:ffff:ffff:ffff:" + std::to_string(i % 9999),
                                 &r.srcaddr));
      EXPECT_TRUE(ParseIpAddress("2001:db8::" + std::to_string(i % 7), &r.dstaddr));
      r.srcport = 65535;
      r.dstport = static_cast<uint16_t>(i % 2 ? 65535 : 0);
      r.protocol = 255;
      r.action = Action::kReject;
      r.packets = UINT64_MAX - i;
      r.bytes = UINT64_MAX - 2 * i;
      r.start = i % 2 ? INT64_MAX / 4 : -(INT64_MAX / 4);
      r.end = r.start + INT64_MAX / 2;
      row.flows = UINT64_MAX - 3 * i;
      if (!fn(row)) break;
    }
    return OkStatus();
  }
  bool has_flows() const override { return true; }

 private:
  size_t n_;
};

TEST(RowFileTest, BlocksOfTheWidestRowsRoundTrip) {
  WidestRows rows(2 * kRowFileBlockRows + 1);
  const std::vector<std::string> expected = RowTexts(rows);
  StringSink sink;
  ASSERT_THAT(WriteRowFile(rows, sink), IsOk());
  Result<RowSourcePtr> read = OpenStoredRows(ReaderOf(sink.Release()));
  ASSERT_THAT(read, IsOk());
  EXPECT_EQ(RowTexts(**read), expected);
}

// The rows of a digest with each row's owner strings copied into one buffer the source rewrites
// for every row (as a spilled digest's rows point into a reused buffer): views of the same
// address with other content, owners that repeat in runs and alternate.
class ReusedBufferRows final : public RowSource {
 public:
  explicit ReusedBufferRows(const Digest& digest) : digest_(digest) { buffer_.reserve(4096); }
  Status ForEach(const std::function<bool(const RowView&)>& fn) override {
    RowSourcePtr rows = NewDigestRowSource(digest_);
    return rows->ForEach([&](const RowView& row) {
      RowView copy = row;
      buffer_.assign(row.record.account_id);
      buffer_.append(row.record.interface_id);
      copy.record.account_id = std::string_view(buffer_).substr(0, row.record.account_id.size());
      copy.record.interface_id = std::string_view(buffer_).substr(row.record.account_id.size());
      return fn(copy);
    });
  }
  bool has_flows() const override { return true; }

 private:
  const Digest& digest_;
  std::string buffer_;
};

TEST(RowFileTest, TellsOwnersApartByContentNotByAddress) {
  const Digest digest = VariedDigest(2 * static_cast<int>(kRowFileBlockRows) + 5);
  RowSourcePtr original = NewDigestRowSource(digest);
  const std::vector<std::string> expected = RowTexts(*original);

  ReusedBufferRows reused(digest);
  StringSink sink;
  ASSERT_THAT(WriteRowFile(reused, sink), IsOk());
  Result<RowSourcePtr> read = OpenStoredRows(ReaderOf(sink.Release()));
  ASSERT_THAT(read, IsOk());
  EXPECT_EQ(RowTexts(**read), expected);
}

// WriteFlowLogAndRowFile's two outputs against Digest::Encode and WriteRowFile of `digest`.
void ExpectBothFormsAsTheirOwnWriters(const Digest& digest) {
  StringSink text;
  StringSink rows;
  ASSERT_THAT(WriteFlowLogAndRowFile(digest, text, rows), IsOk());
  const std::string want_text = testing_records::EncodeToString(digest, DigestFormat::kFlowLog);
  const std::string got_text = text.Release();
  ASSERT_EQ(got_text.size(), want_text.size());
  EXPECT_TRUE(got_text == want_text);
  EXPECT_EQ(Gunzip(rows.Release()), Gunzip(RowFileOf(digest)));
}

TEST(RowFileTest, OneWalkWritesTheTextAndTheRowsOfTheirOwnWriters) {
  ExpectBothFormsAsTheirOwnWriters(VariedDigest(3 * static_cast<int>(kRowFileBlockRows) + 17));
  ExpectBothFormsAsTheirOwnWriters(Digest());
}

TEST(RowFileTest, OneWalkWritesBothFormsOfASpilledDigest) {
  constexpr int64_t kT0 = 1546300800;  // 2019-01-01T00:00:00Z
  ScratchDir corpus;
  ScratchDir spill;
  GenerateOptions g;
  g.out_dir = corpus.path();
  g.window = {kT0, kT0 + 2 * 3600};
  g.size_mb = 3;
  g.accounts = 3;
  g.hosts = 4000;
  g.seed = 7;
  g.threads = 2;
  ASSERT_THAT(GenerateCorpus(g), IsOk());
  Result<ObjectSourcePtr> source = NewLocalDirSource(corpus.path());
  ASSERT_THAT(source, IsOk());
  DigestOptions options;
  options.threads = 2;
  options.memory_limit = kMinMemoryLimit;  // spills every few thousand keys
  options.spill_dir = spill.path();
  bool spilled = false;
  options.on_spill_dir = [&](const std::string&) { spilled = true; };
  Result<DigestRun> run = RunDigest(**source, g.window, options);
  ASSERT_THAT(run, IsOk());
  ASSERT_TRUE(spilled);
  ASSERT_GT(run->digest.size(), 5000u);
  ExpectBothFormsAsTheirOwnWriters(run->digest);
}

TEST(RowFileTest, AnEmptyDigestIsAnEmptyFile) {
  const std::string file = RowFileOf(Digest());
  size_t rows = 99;
  EXPECT_THAT(ReadAll(file, &rows), IsOk());
  EXPECT_EQ(rows, 0u);
  EXPECT_EQ(Gunzip(file).substr(0, 8), "VPCFROWS");
}

TEST(RowFileTest, OpenStoredRowsAlsoReadsTheFlowLogDigest) {
  const Digest digest = VariedDigest(500);
  Result<RowSourcePtr> flowlog = OpenStoredRows(ReaderOf(StoredFlowLog(digest)));
  ASSERT_THAT(flowlog, IsOk());
  EXPECT_FALSE((*flowlog)->has_flows());
  std::vector<std::string> from_text = RowTexts(**flowlog);
  RowSourcePtr original = NewDigestRowSource(digest);
  std::vector<std::string> expected = RowTexts(*original);
  ASSERT_EQ(from_text.size(), expected.size());
  for (size_t i = 0; i < expected.size(); ++i) {
    // Everything but flows, which the text does not carry.
    const size_t flows = expected[i].find("\"flows\":");
    const size_t comma = expected[i].find(',', flows);
    EXPECT_EQ(from_text[i],
              expected[i].substr(0, flows) + "\"flows\":null" + expected[i].substr(comma));
  }
}

TEST(RowFileTest, EveryAlterationIsDataLoss) {
  const std::string content = Gunzip(RowFileOf(VariedDigest(5000)));
  // A byte changed in a block's payload (after the 16-byte header and a record header).
  std::string altered = content;
  altered[16 + 16 + 100] ^= 0x40;
  EXPECT_THAT(ReadAll(Gzip(altered)), StatusIs(StatusCode::kDataLoss, HasSubstr("checksum")));
  // Cut at every kind of place: inside the header, a record header, a payload, before the end.
  for (size_t cut : {size_t{5}, size_t{20}, size_t{200}, content.size() - 1}) {
    EXPECT_THAT(ReadAll(Gzip(content.substr(0, cut))), StatusIs(StatusCode::kDataLoss)) << cut;
  }
  EXPECT_THAT(ReadAll(Gzip(content + "x")),
              StatusIs(StatusCode::kDataLoss, HasSubstr("after the end")));
  // A gzip stream cut short.
  const std::string gz = RowFileOf(VariedDigest(5000));
  EXPECT_THAT(ReadAll(gz.substr(0, gz.size() / 2)), StatusIs(StatusCode::kDataLoss));
  // Not gzip at all.
  EXPECT_THAT(ReadAll("VPCFROWS plain"), StatusIs(StatusCode::kDataLoss));
}

TEST(RowFileTest, ANewerVersionIsFailedPrecondition) {
  std::string content = Gunzip(RowFileOf(VariedDigest(10)));
  content[8] = 2;
  EXPECT_THAT(ReadAll(Gzip(content)),
              StatusIs(StatusCode::kFailedPrecondition, HasSubstr("version 2")));
}

TEST(RowFileTest, StopsWhenTheCallerHasEnough) {
  Result<RowSourcePtr> read = OpenStoredRows(ReaderOf(RowFileOf(VariedDigest(9000))));
  ASSERT_THAT(read, IsOk());
  int seen = 0;
  EXPECT_THAT((*read)->ForEach([&](const RowView&) { return ++seen < 5; }), IsOk());
  EXPECT_EQ(seen, 5);
}

TEST(RowFileTest, IsSmallerThanTheFlowLogText) {
  const Digest digest = VariedDigest(20000);
  EXPECT_LT(RowFileOf(digest).size(), StoredFlowLog(digest).size());
}

}  // namespace
}  // namespace vpcflow
