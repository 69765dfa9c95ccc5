#include "testing/flow_log_builder.hpp"

#include <gtest/gtest.h>

#include "common/gzip_reader.hpp"
#include "testing/matchers.hpp"
#include "testing/memory_object_source.hpp"

namespace vpcflow {
namespace {

TEST(FlowLogBuilderTest, DefaultFormatWithHeaderAndDefaults) {
  FlowLogBuilder builder;
  builder.Add({});
  EXPECT_EQ(builder.Text(),
            "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets "
            "bytes start end action log-status\n"
            "2 123456789012 eni-0a1b2c3d 10.0.0.1 10.0.0.2 443 49152 6 1 100 1546300800 "
            "1546300860 ACCEPT OK\n");
}

TEST(FlowLogBuilderTest, CustomFieldsValuesAndRawLines) {
  FlowLogBuilder builder({Field::kStart, Field::kSrcAddr, Field::kEnd, Field::kVpcId});
  builder.WithoutHeader()
      .Add({{Field::kSrcAddr, "2001:db8::1"}, {Field::kStart, "100"}})
      .AddRaw("garbage line");
  EXPECT_EQ(builder.Text(), "100 2001:db8::1 160 -\ngarbage line\n");
}

TEST(FlowLogBuilderTest, GzipDecodesToText) {
  FlowLogBuilder builder;
  builder.Add({{Field::kBytes, "-"}});
  MemoryObjectSource source;
  source.Put("k", builder.Gzip());
  Result<ObjectReaderPtr> reader = source.Open("k");
  ASSERT_THAT(reader, IsOk());
  auto stream = NewGzipTextStream(reader->get());
  std::string text(4096, '\0');
  Result<size_t> n = stream->Read(text.data(), text.size());
  ASSERT_THAT(n, IsOk());
  text.resize(*n);
  EXPECT_EQ(text, builder.Text());
  EXPECT_EQ(GzipForTest("").substr(0, 2), "\x1f\x8b");
}

}  // namespace
}  // namespace vpcflow
