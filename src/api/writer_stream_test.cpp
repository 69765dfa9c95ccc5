#include "api/writer_stream.hpp"

#include <gtest/gtest.h>

#include <future>
#include <string>

#include "testing/matchers.hpp"
#include "testing/no_new_threads.hpp"
#include "testing/reader.hpp"

namespace vpcflow {
namespace {

std::string Numbers(int count) {
  std::string out;
  for (int i = 0; i < count; ++i) out += std::to_string(i) + "\n";
  return out;
}

TEST(WriterStreamTest, ReadsWhatTheFunctionWritesInOrderThroughASmallBuffer) {
  WriterStream stream(
      [](ByteSink& sink) {
        for (int i = 0; i < 5000; ++i)
          VPCFLOW_RETURN_IF_ERROR(sink.Append(std::to_string(i) + "\n"));
        return OkStatus();
      },
      /*buffer_bytes=*/64);
  Result<std::string> text = ReadAll(stream, 37);
  ASSERT_OK(text.status());
  EXPECT_EQ(*text, Numbers(5000));
}

TEST(WriterStreamTest, AnErrorComesAfterTheBytesWrittenBeforeIt) {
  WriterStream stream([](ByteSink& sink) {
    VPCFLOW_RETURN_IF_ERROR(sink.Append("abc"));
    return DataLossError("line 2 is bad");
  });
  char buffer[16];
  Result<size_t> n = stream.Read(std::span<char>(buffer, sizeof(buffer)));
  ASSERT_OK(n.status());
  EXPECT_EQ(std::string(buffer, *n), "abc");
  EXPECT_THAT(stream.Read(std::span<char>(buffer, sizeof(buffer))),
              StatusIs(StatusCode::kDataLoss));
}

TEST(WriterStreamTest, WaitForOutputTellsAFunctionThatEndedWithoutWriting) {
  WriterStream empty([](ByteSink&) { return OkStatus(); });
  EXPECT_TRUE(empty.WaitForOutput());
  EXPECT_OK(empty.status());
  EXPECT_EQ(empty.TakeAll(), "");

  WriterStream failed([](ByteSink&) { return InvalidArgumentError("filter: column 3: bad"); });
  EXPECT_TRUE(failed.WaitForOutput());
  EXPECT_THAT(failed.status(), StatusIs(StatusCode::kInvalidArgument));
}

TEST(WriterStreamTest, WithoutAThreadTheAnswerIsUnavailable) {
  NoNewThreads no_threads;
  if (!no_threads.active()) GTEST_SKIP() << "cannot stop threads from starting here";
  bool ran = false;
  WriterStream stream([&ran](ByteSink&) {
    ran = true;
    return OkStatus();
  });
  EXPECT_TRUE(stream.WaitForOutput());
  EXPECT_THAT(stream.status(), StatusIs(StatusCode::kUnavailable));
  char buffer[16];
  EXPECT_THAT(stream.Read(std::span<char>(buffer, sizeof(buffer))),
              StatusIs(StatusCode::kUnavailable));
  EXPECT_FALSE(ran);
}

TEST(WriterStreamTest, DestroyingTheReaderCancelsAWriterThatNeverEnds) {
  std::promise<Status> last;
  std::future<Status> seen = last.get_future();
  {
    WriterStream stream(
        [&last](ByteSink& sink) {
          for (;;) {
            if (Status st = sink.Append("x"); !st.ok()) {
              last.set_value(st);
              return st;
            }
          }
        },
        /*buffer_bytes=*/16);
    char buffer[4];
    ASSERT_OK(stream.Read(std::span<char>(buffer, sizeof(buffer))).status());
  }  // joins the writer: it must have seen its sink fail
  ASSERT_EQ(seen.wait_for(std::chrono::seconds(0)), std::future_status::ready);
  EXPECT_THAT(seen.get(), StatusIs(StatusCode::kCancelled));
}

}  // namespace
}  // namespace vpcflow
