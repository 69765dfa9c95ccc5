#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>
#include <thread>

#include "common/json_parse.hpp"
#include "testing/fake_clock.hpp"
#include "testing/matchers.hpp"
#include "testing/memory_logger.hpp"
#include "vpcflow/logger.hpp"

namespace vpcflow {
namespace {

// A stdio stream over memory: the lines a logger wrote.
class CapturedStream {
 public:
  CapturedStream() : stream_(::open_memstream(&data_, &size_)) {}
  ~CapturedStream() {
    std::fclose(stream_);
    std::free(data_);
  }
  std::FILE* get() { return stream_; }
  std::vector<std::string> Lines() {
    std::fflush(stream_);
    std::vector<std::string> lines;
    std::istringstream in(std::string(data_, size_));
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }

 private:
  char* data_ = nullptr;
  size_t size_ = 0;
  std::FILE* stream_;
};

TEST(JsonLoggerTest, WritesOneJsonObjectPerLineWithTimeLevelEventAndFields) {
  CapturedStream out;
  auto clock = std::make_shared<FakeClock>(1546300800123);
  LoggerPtr logger = NewJsonLogger(LogLevel::kInfo, out.get(), clock);
  logger->Log(LogLevel::kInfo, "request",
              {{"method", "GET"},
               {"status", 200},
               {"bytes", uint64_t{12345678901}},
               {"duration_ms", 1.5},
               {"cached", false},
               {"path", std::string("/?start=x")}});
  std::vector<std::string> lines = out.Lines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0], R"({"time":"2019-01-01T00:00:00.123Z","level":"info","event":"request",)"
                      R"("method":"GET","status":200,"bytes":12345678901,"duration_ms":1.5,)"
                      R"("cached":false,"path":"/?start=x"})");
}

TEST(JsonLoggerTest, EscapesStringsSoEveryLineParses) {
  CapturedStream out;
  LoggerPtr logger = NewJsonLogger(LogLevel::kDebug, out.get());
  std::string nasty = "quote\" backslash\\ newline\n tab\t nul";
  nasty += '\0';
  nasty +=
      " ctrl\x01 bad-utf8 \xff\xfe overlong \xc0\xaf snowman \xe2\x98\x83 emoji \xf0\x9f\x98\x80";
  logger->Log(LogLevel::kWarn, "dependency-failure\n", {{"reason", nasty}, {"k\"ey", "v"}});
  std::vector<std::string> lines = out.Lines();
  ASSERT_EQ(lines.size(), 1u);
  Result<boost::json::value> parsed = ParseJsonStrict(lines[0]);
  ASSERT_OK(parsed) << lines[0];
  const boost::json::value& json = *parsed;
  EXPECT_EQ(json.at("event").as_string(), "dependency-failure\n");
  EXPECT_EQ(json.at("level").as_string(), "warn");
  std::string reason(json.at("reason").as_string());
  EXPECT_NE(reason.find("quote\" backslash\\ newline\n tab\t nul"), std::string::npos);
  EXPECT_NE(reason.find(std::string("nul") + '\0' + " ctrl\x01"), std::string::npos);
  EXPECT_NE(reason.find("bad-utf8 \xef\xbf\xbd\xef\xbf\xbd overlong"), std::string::npos);
  EXPECT_NE(reason.find("snowman \xe2\x98\x83 emoji \xf0\x9f\x98\x80"), std::string::npos);
  EXPECT_EQ(json.at("k\"ey").as_string(), "v");
}

TEST(JsonLoggerTest, NonFiniteNumbersAreNull) {
  CapturedStream out;
  LoggerPtr logger = NewJsonLogger(LogLevel::kInfo, out.get());
  logger->Log(LogLevel::kError, "x",
              {{"nan", std::nan("")}, {"inf", std::numeric_limits<double>::infinity()}});
  Result<boost::json::value> json = ParseJsonStrict(out.Lines().at(0));
  ASSERT_OK(json);
  EXPECT_TRUE(json->at("nan").is_null());
  EXPECT_TRUE(json->at("inf").is_null());
}

TEST(JsonLoggerTest, DropsEventsBelowTheLevel) {
  CapturedStream out;
  LoggerPtr logger = NewJsonLogger(LogLevel::kWarn, out.get());
  logger->Log(LogLevel::kDebug, "a");
  logger->Log(LogLevel::kInfo, "b");
  logger->Log(LogLevel::kWarn, "c");
  logger->Log(LogLevel::kError, "d");
  std::vector<std::string> lines = out.Lines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0].find(R"("event":"c")"), std::string::npos);
  EXPECT_NE(lines[1].find(R"("level":"error")"), std::string::npos);
}

TEST(JsonLoggerTest, LinesFromManyThreadsNeverInterleave) {
  CapturedStream out;
  LoggerPtr logger = NewJsonLogger(LogLevel::kInfo, out.get());
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 200; ++i) {
        logger->Log(LogLevel::kInfo, "job-done",
                    {{"thread", t}, {"i", i}, {"pad", std::string(300, 'p')}});
      }
    });
  }
  for (auto& thread : threads) thread.join();
  std::vector<std::string> lines = out.Lines();
  ASSERT_EQ(lines.size(), 1600u);
  for (const std::string& line : lines) {
    ASSERT_OK(ParseJsonStrict(line)) << line;
  }
}

TEST(LogLevelTest, NamesAndParses) {
  EXPECT_EQ(LogLevelName(LogLevel::kDebug), "debug");
  EXPECT_EQ(LogLevelName(LogLevel::kInfo), "info");
  EXPECT_EQ(LogLevelName(LogLevel::kWarn), "warn");
  EXPECT_EQ(LogLevelName(LogLevel::kError), "error");
  LogLevel level = LogLevel::kInfo;
  EXPECT_TRUE(ParseLogLevel("DEBUG", &level));
  EXPECT_EQ(level, LogLevel::kDebug);
  EXPECT_TRUE(ParseLogLevel("Warning", &level));
  EXPECT_EQ(level, LogLevel::kWarn);
  EXPECT_TRUE(ParseLogLevel("error", &level));
  EXPECT_EQ(level, LogLevel::kError);
  EXPECT_FALSE(ParseLogLevel("verbose", &level));
  EXPECT_FALSE(ParseLogLevel("", &level));
  EXPECT_EQ(level, LogLevel::kError);
}

TEST(MemoryLoggerTest, CapturesEventsWithFieldsAsText) {
  MemoryLogger logger(LogLevel::kInfo);
  logger.Log(LogLevel::kDebug, "dropped");
  logger.Log(LogLevel::kInfo, "conflict", {{"id", "abc"}, {"n", 3}, {"ok", true}, {"x", 0.5}});
  logger.Log(LogLevel::kInfo, "conflict");
  ASSERT_EQ(logger.events().size(), 2u);
  EXPECT_EQ(logger.Count("conflict"), 2u);
  EXPECT_EQ(logger.Count("dropped"), 0u);
  LoggedEvent event = logger.Events("conflict")[0];
  EXPECT_EQ(event.Field("id"), "abc");
  EXPECT_EQ(event.Field("n"), "3");
  EXPECT_EQ(event.Field("ok"), "true");
  EXPECT_EQ(event.Field("x"), "0.5");
  EXPECT_EQ(event.Field("missing"), "");
  logger.Clear();
  EXPECT_TRUE(logger.events().empty());
}

}  // namespace
}  // namespace vpcflow
