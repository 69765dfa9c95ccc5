#include "common/uuid.hpp"

#include <gtest/gtest.h>

namespace vpcflow {
namespace {

// RFC 4122 appendix C: the DNS and URL namespaces.
constexpr Uuid kDnsNamespace{0x6b, 0xa7, 0xb8, 0x10, 0x9d, 0xad, 0x11, 0xd1,
                             0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8};
constexpr Uuid kUrlNamespace{0x6b, 0xa7, 0xb8, 0x11, 0x9d, 0xad, 0x11, 0xd1,
                             0x80, 0xb4, 0x00, 0xc0, 0x4f, 0xd4, 0x30, 0xc8};

TEST(UuidTest, FormatsCanonicalLowerCaseText) {
  EXPECT_EQ(UuidToString(kDnsNamespace), "6ba7b810-9dad-11d1-80b4-00c04fd430c8");
  EXPECT_EQ(UuidToString(kNilUuid), "00000000-0000-0000-0000-000000000000");
}

TEST(UuidTest, V5MatchesKnownVectors) {
  // Python: uuid.uuid5(uuid.NAMESPACE_DNS, "python.org").
  EXPECT_EQ(UuidToString(UuidV5(kDnsNamespace, "python.org")),
            "886313e1-3b8a-5372-9b90-0c9aee199e5d");
  // Python: uuid.uuid5(uuid.NAMESPACE_URL, "http://python.org/").
  EXPECT_EQ(UuidToString(UuidV5(kUrlNamespace, "http://python.org/")),
            "4c565f0d-3f5a-5890-b41b-20cf47701c5e");
  // RFC 9562 appendix A.4: "www.example.com" in the DNS namespace.
  EXPECT_EQ(UuidToString(UuidV5(kDnsNamespace, "www.example.com")),
            "2ed6657d-e927-568b-95e1-2665a8aea6a2");
}

TEST(UuidTest, V5SetsVersionAndVariantBits) {
  const Uuid u = UuidV5(kNilUuid, "digest");
  EXPECT_EQ(u[6] >> 4, 5);
  EXPECT_EQ(u[8] >> 6, 2);
}

TEST(UuidTest, V5DependsOnNamespaceAndName) {
  EXPECT_NE(UuidV5(kDnsNamespace, "a"), UuidV5(kUrlNamespace, "a"));
  EXPECT_NE(UuidV5(kDnsNamespace, "a"), UuidV5(kDnsNamespace, "b"));
  EXPECT_EQ(UuidV5(kDnsNamespace, "a"), UuidV5(kDnsNamespace, "a"));
  EXPECT_NE(UuidV5(kDnsNamespace, ""), UuidV5(kDnsNamespace, std::string_view("\0", 1)));
}

}  // namespace
}  // namespace vpcflow
