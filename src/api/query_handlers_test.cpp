#include "api/query_handlers.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <sstream>

#include "query/row_file.hpp"
#include "query/test_rows.hpp"
#include "testing/fake_clock.hpp"
#include "testing/matchers.hpp"
#include "testing/memory_logger.hpp"
#include "testing/memory_marker.hpp"
#include "testing/memory_stats.hpp"
#include "testing/memory_storage.hpp"
#include "testing/no_new_threads.hpp"

namespace vpcflow {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;
using ::testing::Pair;
using testing_rows::MakeDigest;
using testing_rows::R;
using testing_rows::StoredFlowLog;

namespace json = boost::json;

constexpr Window kBase{1546300800, 1546304400};     // 2019-01-01T00:00Z .. 01:00Z
constexpr Window kCurrent{1546304400, 1546308000};  // 01:00Z .. 02:00Z
const std::string kWindow = "start=2019-01-01T01:00:00Z&stop=2019-01-01T02:00:00Z";
const std::string kBaseWindow = "base_start=2019-01-01T00:00:00Z&base_stop=2019-01-01T01:00:00Z";

std::string Drain(ApiResponse& response) {
  if (!response.stream) return response.body;
  std::string out;
  char buf[1000];
  for (;;) {
    Result<size_t> n = response.stream->Read(std::span<char>(buf, sizeof(buf)));
    EXPECT_OK(n.status());
    if (!n.ok() || *n == 0) return out;
    out.append(buf, *n);
  }
}

std::string Message(const ApiResponse& response) {
  boost::system::error_code ec;
  json::value v = json::parse(response.body, ec);
  if (ec || !v.is_object() || !v.as_object().contains("message")) return "<no message>";
  return std::string(v.as_object().at("message").as_string());
}

size_t Lines(const std::string& text) { return std::count(text.begin(), text.end(), '\n'); }

const std::vector<testing_records::Rec>& CurrentRecords() {
  static const std::vector<testing_records::Rec> recs = {
      R("10.0.0.1", "10.0.1.7", 0, 443, 5000, Action::kAccept, 10),
      R("10.0.1.7", "10.0.0.1", 443, 0, 90000, Action::kAccept, 60),
      R("10.0.0.2", "10.0.1.7", 0, 22, 300, Action::kReject, 5),
      R("10.0.0.3", "10.0.1.8", 0, 3389, 300, Action::kReject, 7),
      R("2001:db8::5", "2001:db8:1::9", 0, 80, 1200, Action::kAccept, 3),
  };
  return recs;
}

// More rows than a WriterStream's buffer holds as ndjson: their answer streams.
std::vector<testing_records::Rec> ManyRecords() {
  std::vector<testing_records::Rec> many;
  for (int i = 0; i < 40000; ++i) {
    many.push_back(R("10.1." + std::to_string(i / 256) + "." + std::to_string(i % 256), "10.0.0.1",
                     static_cast<uint16_t>(i % 60000), 443, 1000 + i));
  }
  return many;
}

// Counts the bytes read from the digests and sidecars it opens.
class ReadCountingStorage final : public StorageWrapper {
 public:
  using StorageWrapper::StorageWrapper;
  Result<StoredDigest> Get(std::string_view id) override { return Counted(target()->Get(id)); }
  Result<StoredDigest> GetRows(std::string_view id) override {
    return Counted(target()->GetRows(id));
  }
  uint64_t bytes_read() const { return bytes_read_->load(); }

 private:
  class Reader final : public ObjectReader {
   public:
    Reader(ObjectReaderPtr target, std::shared_ptr<std::atomic<uint64_t>> bytes)
        : target_(std::move(target)), bytes_(std::move(bytes)) {}
    Result<size_t> Read(std::span<char> buffer) override {
      Result<size_t> n = target_->Read(buffer);
      if (n.ok()) *bytes_ += *n;
      return n;
    }

   private:
    ObjectReaderPtr target_;
    std::shared_ptr<std::atomic<uint64_t>> bytes_;
  };

  Result<StoredDigest> Counted(Result<StoredDigest> opened) {
    if (opened.ok())
      opened->reader = std::make_unique<Reader>(std::move(opened->reader), bytes_read_);
    return opened;
  }

  std::shared_ptr<std::atomic<uint64_t>> bytes_read_ = std::make_shared<std::atomic<uint64_t>>(0);
};

class QueryApiTest : public ::testing::Test {
 protected:
  QueryApiTest() : marker_(60000, std::make_shared<FakeClock>()), router_(&logger_) {
    ctx_.storage = &counting_;
    ctx_.marker = &marker_;
    ctx_.logger = &logger_;
    ctx_.stats = &stats_;
    ctx_.job_states = states_.get();
    AddApiRoutes(router_, &ctx_);
  }

  // Stores the digest of `recs` for `window`, with its rows sidecar when `sidecar`.
  void Store(const Window& window, const std::vector<testing_records::Rec>& recs, bool sidecar) {
    const Digest digest = MakeDigest(recs);
    Result<StorageUploadPtr> upload = storage_.Begin(DigestId(window));
    ASSERT_OK(upload.status());
    ASSERT_OK((*upload)->body().Append(StoredFlowLog(digest)));
    if (sidecar) {
      RowSourcePtr rows = NewDigestRowSource(digest);
      ASSERT_OK(WriteRowFile(*rows, *(*upload)->rows_body()));
    }
    ASSERT_OK((*upload)->Commit("{}"));
  }

  ApiResponse Get(const std::string& target) { return Send("GET", target); }

  ApiResponse Send(const std::string& method, const std::string& target) {
    ApiRequest request;
    request.method = method;
    request.target = target;
    EXPECT_OK(ParseTarget(target, &request.path, &request.query));
    return router_.Handle(std::move(request));
  }

  MemoryStorage storage_;
  ReadCountingStorage counting_{&storage_};
  MemoryMarker marker_;
  MemoryLogger logger_;
  MemoryStats stats_;
  JobStateStorePtr states_ = NewMemoryJobStateStore();
  ApiContext ctx_;
  Router router_;
};

TEST_F(QueryApiTest, AFilterKeepsTheMatchingRows) {
  Store(kCurrent, CurrentRecords(), false);
  ApiResponse r = Get("/?" + kWindow + "&filter=action%3DREJECT&format=csv");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "text/csv; charset=utf-8");
  EXPECT_THAT(r.headers, Contains(Pair("X-Digest-Id", DigestId(kCurrent))));
  const std::string text = Drain(r);
  EXPECT_EQ(Lines(text), 3u) << text;  // the header and two rejected rows
  EXPECT_THAT(text, HasSubstr("10.0.0.3"));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("10.0.1.7,10.0.0.1")));
}

TEST_F(QueryApiTest, ABadFilterIs400PointingAtThePosition) {
  Store(kCurrent, CurrentRecords(), false);
  ApiResponse r = Get("/?" + kWindow + "&filter=action%3DREJECT%20and%20%28");
  EXPECT_EQ(r.status, 400);
  EXPECT_THAT(Message(r), HasSubstr("filter: column"));
  EXPECT_EQ(logger_.Count("invalid-input"), 1u);
}

TEST_F(QueryApiTest, JsonHasTheTotalsOfEveryRowThatPassed) {
  Store(kCurrent, CurrentRecords(), true);
  ApiResponse r = Get("/?" + kWindow + "&format=json&top=1");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "application/json");
  json::value v = json::parse(Drain(r));
  EXPECT_EQ(v.at("totals").at("bytes").to_number<uint64_t>(), 96800u);
  EXPECT_EQ(v.at("totals").at("rows").to_number<uint64_t>(), 5u);
  ASSERT_EQ(v.at("rows").as_array().size(), 1u);
  EXPECT_EQ(v.at("rows").at(0).at("srcaddr").as_string(), "10.0.1.7");
}

TEST_F(QueryApiTest, FlowsNeedTheSidecar) {
  Store(kCurrent, CurrentRecords(), false);
  ApiResponse without = Get("/?" + kWindow + "&by=flows&top=2&format=ndjson");
  EXPECT_EQ(without.status, 400);
  EXPECT_THAT(Message(without), HasSubstr("flows"));
  // Everything else still works on a digest without its sidecar.
  ApiResponse grouped = Get("/?" + kWindow + "&group_by=dstport&format=ndjson");
  EXPECT_EQ(grouped.status, 200);
  EXPECT_EQ(Lines(Drain(grouped)), 5u);

  Store(kCurrent, CurrentRecords(), true);
  ApiResponse with = Get("/?" + kWindow + "&by=flows&top=2&format=ndjson");
  ASSERT_EQ(with.status, 200) << with.body;
  EXPECT_EQ(Lines(Drain(with)), 2u);
  // The plain re-encoding reads the sidecar too: flows are known.
  ApiResponse csv = Get("/?" + kWindow + "&format=ndjson");
  EXPECT_THAT(Drain(csv), HasSubstr("\"flows\":1"));
}

TEST_F(QueryApiTest, AnUnreadableDigestIs500) {
  Result<StorageUploadPtr> upload = storage_.Begin(DigestId(kCurrent));
  ASSERT_OK(upload.status());
  ASSERT_OK((*upload)->body().Append("not gzip"));
  ASSERT_OK((*upload)->Commit("{}"));
  ApiResponse r = Get("/?" + kWindow + "&format=ndjson");
  EXPECT_EQ(r.status, 500);
  EXPECT_THAT(Message(r), HasSubstr("cannot be read"));
}

TEST_F(QueryApiTest, GraphsComeWithTheirMediaType) {
  Store(kCurrent, CurrentRecords(), false);
  ApiResponse r = Get("/?" + kWindow + "&format=dot");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "text/vnd.graphviz");
  EXPECT_THAT(Drain(r), HasSubstr("\"10.0.1.7\" -> \"10.0.0.1\""));
}

TEST_F(QueryApiTest, DiffNamesTheMissingDigest) {
  Store(kCurrent, CurrentRecords(), false);
  ApiResponse r = Get("/diff?" + kBaseWindow + "&" + kWindow);
  EXPECT_EQ(r.status, 404);
  EXPECT_THAT(Message(r), HasSubstr("base digest " + DigestId(kBase)));
  ApiResponse missing_current =
      Get("/diff?" + kBaseWindow + "&start=2019-01-02T00:00:00Z&stop=2019-01-02T01:00:00Z");
  EXPECT_EQ(missing_current.status, 404);
  EXPECT_THAT(Message(missing_current), HasSubstr("base digest"));
  Store(kBase, {CurrentRecords()[0]}, false);
  ApiResponse current_missing =
      Get("/diff?" + kBaseWindow + "&start=2019-01-02T00:00:00Z&stop=2019-01-02T01:00:00Z");
  EXPECT_EQ(current_missing.status, 404);
  EXPECT_THAT(Message(current_missing), HasSubstr("current digest"));
}

TEST_F(QueryApiTest, DiffListsNewAndGoneRows) {
  Store(kBase, {CurrentRecords()[0], R("10.9.9.9", "10.0.0.1", 0, 80, 700)}, false);
  Store(kCurrent, CurrentRecords(), true);
  ApiResponse r = Get("/diff?" + kBaseWindow + "&" + kWindow + "&format=ndjson");
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string text = Drain(r);
  EXPECT_EQ(Lines(text), 5u) << text;  // 4 new, 1 gone, 1 unchanged left out
  EXPECT_THAT(text, HasSubstr("\"change\":\"gone\""));
  EXPECT_THAT(text, HasSubstr("\"change\":\"new\""));
  EXPECT_EQ(Get("/diff?" + kWindow).status, 400);
  EXPECT_EQ(Get("/diff?" + kBaseWindow + "&" + kWindow + "&format=flowlog").status, 400);
}

TEST_F(QueryApiTest, AnswersStreamInBoundedMemory) {
  // More rows than the stream's buffer holds: the answer streams (no length) and is complete.
  Store(kCurrent, ManyRecords(), true);
  ApiResponse r = Get("/?" + kWindow + "&format=ndjson");
  ASSERT_EQ(r.status, 200);
  ASSERT_NE(r.stream, nullptr);
  EXPECT_EQ(r.stream_size, -1);
  EXPECT_EQ(Lines(Drain(r)), 40000u);
}

TEST_F(QueryApiTest, HeadOfAQueryAnswersItsHeadersWithoutRunningIt) {
  Store(kCurrent, CurrentRecords(), true);
  const std::string target = "/?" + kWindow + "&group_by=srcaddr&by=flows&format=csv";
  ApiResponse head = Send("HEAD", target);
  ASSERT_EQ(head.status, 200) << head.body;
  EXPECT_EQ(head.content_type, "text/csv; charset=utf-8");
  EXPECT_THAT(head.headers, Contains(Pair("X-Digest-Id", DigestId(kCurrent))));
  EXPECT_TRUE(head.head_of_stream);
  EXPECT_EQ(head.stream, nullptr);
  EXPECT_EQ(counting_.bytes_read(), 0u);
  EXPECT_EQ(stats_.CounterTotal("digest_queries"), 0);
  EXPECT_EQ(stats_.CounterTotal("digest_gets", {{"outcome", "ok"}}), 1);
  // The GET of the same query reads the digest: the count above would have seen it.
  ApiResponse get = Get(target);
  ASSERT_EQ(get.status, 200) << get.body;
  EXPECT_EQ(Lines(Drain(get)), 6u);  // the header and 5 sources
  EXPECT_GT(counting_.bytes_read(), 0u);
}

TEST_F(QueryApiTest, HeadAnswersTheStatusGetWouldWithoutRunningTheQuery) {
  Store(kCurrent, CurrentRecords(), false);
  ApiResponse flows = Send("HEAD", "/?" + kWindow + "&by=flows&top=2");
  EXPECT_EQ(flows.status, 400);  // the flows count needs the sidecar, as GET says
  EXPECT_THAT(Message(flows), HasSubstr("flows"));
  EXPECT_EQ(Send("HEAD", "/?" + kWindow + "&filter=%28").status, 400);
  EXPECT_EQ(Send("HEAD", "/?start=2019-01-02T00:00:00Z&stop=2019-01-02T01:00:00Z&top=1").status,
            404);

  ApiResponse gone = Send("HEAD", "/diff?" + kBaseWindow + "&" + kWindow);
  EXPECT_EQ(gone.status, 404);
  EXPECT_THAT(Message(gone), HasSubstr("base digest"));
  Store(kBase, {CurrentRecords()[0]}, false);
  ApiResponse diff = Send("HEAD", "/diff?" + kBaseWindow + "&" + kWindow + "&format=ndjson");
  ASSERT_EQ(diff.status, 200) << diff.body;
  EXPECT_EQ(diff.content_type, "application/x-ndjson");
  EXPECT_TRUE(diff.head_of_stream);
  EXPECT_EQ(counting_.bytes_read(), 0u);
  EXPECT_EQ(stats_.CounterTotal("digest_queries"), 0);
}

TEST_F(QueryApiTest, AGetCountsOkOnlyOnceTheWholeAnswerWasWritten) {
  Store(kCurrent, ManyRecords(), true);
  ApiResponse r = Get("/?" + kWindow + "&format=ndjson");
  ASSERT_EQ(r.status, 200);
  ASSERT_NE(r.stream, nullptr);  // 40000 rows do not fit the stream's buffer: not done yet
  EXPECT_EQ(stats_.CounterTotal("digest_gets", {{"outcome", "ok"}}), 0);
  EXPECT_EQ(Lines(Drain(r)), 40000u);
  EXPECT_EQ(stats_.CounterTotal("digest_gets", {{"outcome", "ok"}}), 1);
  EXPECT_EQ(stats_.CounterTotal("digest_queries", {{"outcome", "ok"}}), 1);
}

// A query whose answer has no thread to be written on is a 503 (retrying may help), counted.
TEST_F(QueryApiTest, AQueryWithNoThreadToWriteItsAnswerIs503AndCounted) {
  Store(kCurrent, ManyRecords(), true);
  NoNewThreads no_threads;
  if (!no_threads.active()) GTEST_SKIP() << "cannot stop threads from starting here";
  ApiResponse r = Get("/?" + kWindow + "&format=ndjson");
  EXPECT_EQ(r.status, 503);
  EXPECT_THAT(Message(r), HasSubstr("no thread"));
  EXPECT_EQ(stats_.CounterTotal("digest_queries"), 1);
  EXPECT_EQ(stats_.CounterTotal("digest_gets", {{"outcome", "ok"}}), 0);
}

TEST_F(QueryApiTest, AGetCountsAFailedOrCancelledQueryAsSuch) {
  Store(kCurrent, ManyRecords(), true);
  {
    ApiResponse dropped = Get("/?" + kWindow + "&format=ndjson");
    ASSERT_NE(dropped.stream, nullptr);
  }  // the client went away: the query stops
  EXPECT_EQ(stats_.CounterTotal("digest_gets", {{"outcome", "cancelled"}}), 1);

  EXPECT_EQ(Get("/?" + kWindow + "&filter=bogus%3D1").status, 400);
  EXPECT_EQ(stats_.CounterTotal("digest_gets", {{"outcome", "invalid"}}), 1);

  Result<StorageUploadPtr> upload = storage_.Begin(DigestId(kCurrent));
  ASSERT_OK(upload.status());
  ASSERT_OK((*upload)->body().Append("not gzip"));
  ASSERT_OK((*upload)->Commit("{}"));
  EXPECT_EQ(Get("/?" + kWindow + "&format=ndjson").status, 500);
  EXPECT_EQ(stats_.CounterTotal("digest_gets", {{"outcome", "error"}}), 1);
  EXPECT_EQ(stats_.CounterTotal("digest_gets", {{"outcome", "ok"}}), 0);
}

}  // namespace
}  // namespace vpcflow
