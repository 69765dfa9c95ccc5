#include "parquet/codec.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "testing/flow_log_builder.hpp"
#include "testing/matchers.hpp"

namespace vpcflow::parquet {
namespace {

using ::testing::HasSubstr;

std::span<const uint8_t> Bytes(const std::string& s) {
  return {reinterpret_cast<const uint8_t*>(s.data()), s.size()};
}

std::string Sample() {
  std::string s;
  for (int i = 0; i < 5000; ++i) s += "10.0.0." + std::to_string(i % 256) + " ACCEPT OK\n";
  return s;
}

class CodecTest : public ::testing::TestWithParam<Codec> {};

TEST_P(CodecTest, RoundTrips) {
  const std::string plain = Sample();
  Result<std::string> packed = Compress(GetParam(), Bytes(plain));
  ASSERT_OK(packed);
  std::vector<uint8_t> out(plain.size());
  ASSERT_OK(Decompress(GetParam(), Bytes(*packed), out));
  EXPECT_EQ(std::string(out.begin(), out.end()), plain);
}

TEST_P(CodecTest, APageThatLiesAboutItsSizeIsDataLoss) {
  const std::string plain = Sample();
  Result<std::string> packed = Compress(GetParam(), Bytes(plain));
  ASSERT_OK(packed);
  for (size_t size : {plain.size() - 1, plain.size() + 1, size_t{0}}) {
    std::vector<uint8_t> out(size);
    EXPECT_THAT(Decompress(GetParam(), Bytes(*packed), out), StatusIs(StatusCode::kDataLoss))
        << size;
  }
}

INSTANTIATE_TEST_SUITE_P(Codecs, CodecTest,
                         ::testing::Values(Codec::kUncompressed, Codec::kGzip, Codec::kSnappy,
                                           Codec::kZstd),
                         [](const auto& info) { return CodecName(info.param); });

// Any bytes are a valid UNCOMPRESSED page: corruption is for the others.
class CompressedCodecTest : public ::testing::TestWithParam<Codec> {};

TEST_P(CompressedCodecTest, CorruptOrTruncatedDataIsDataLoss) {
  const std::string plain = Sample();
  Result<std::string> packed = Compress(GetParam(), Bytes(plain));
  ASSERT_OK(packed);
  std::vector<uint8_t> out(plain.size());
  EXPECT_THAT(Decompress(GetParam(), Bytes(packed->substr(0, packed->size() / 2)), out),
              StatusIs(StatusCode::kDataLoss));
  std::string garbage = *packed;
  for (size_t i = 0; i < garbage.size(); i += 3) garbage[i] = static_cast<char>(garbage[i] ^ 0x5a);
  EXPECT_THAT(Decompress(GetParam(), Bytes(garbage), out), StatusIs(StatusCode::kDataLoss));
}

INSTANTIATE_TEST_SUITE_P(Codecs, CompressedCodecTest,
                         ::testing::Values(Codec::kGzip, Codec::kSnappy, Codec::kZstd),
                         [](const auto& info) { return CodecName(info.param); });

TEST(CodecTest, GzipPagesMayHoldSeveralMembers) {
  const std::string plain = Sample();
  const std::string a = plain.substr(0, 1000);
  const std::string b = plain.substr(1000);
  const std::string packed = GzipForTest(a) + GzipForTest(b);
  std::vector<uint8_t> out(plain.size());
  ASSERT_OK(Decompress(Codec::kGzip, Bytes(packed), out));
  EXPECT_EQ(std::string(out.begin(), out.end()), plain);
}

TEST(CodecTest, CodecsWeLackAreDataLossByName) {
  std::vector<uint8_t> out(4);
  for (Codec codec :
       {Codec::kLzo, Codec::kBrotli, Codec::kLz4, Codec::kLz4Raw, static_cast<Codec>(99)}) {
    EXPECT_FALSE(IsSupportedCodec(codec));
    EXPECT_THAT(Decompress(codec, Bytes("abcd"), out),
                StatusIs(StatusCode::kDataLoss, HasSubstr("not supported")));
  }
  EXPECT_THAT(Compress(Codec::kBrotli, Bytes("x")), StatusIs(StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace vpcflow::parquet
