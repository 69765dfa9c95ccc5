#include "s3/sigv4.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace vpcflow {
namespace {

using ::testing::ElementsAre;
using ::testing::Pair;

// The examples of "Examples: Signature Calculations in AWS Signature Version 4" (Amazon S3 API
// Reference, "Signature Calculations for the Authorization Header: Transferring Payload in a
// Single Chunk"): bucket examplebucket, us-east-1, 2013-05-24T00:00:00Z.
constexpr int64_t kExampleTime = 1369353600;  // 20130524T000000Z
constexpr char kHost[] = "examplebucket.s3.amazonaws.com";

SigV4Credentials ExampleCredentials() {
  return {"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
}

std::string ToHex(const std::array<uint8_t, 32>& bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : bytes) {
    out.push_back(kHex[b >> 4]);
    out.push_back(kHex[b & 0x0f]);
  }
  return out;
}

TEST(Sha256HexTest, KnownDigests) {
  EXPECT_EQ(Sha256Hex(""), kEmptyPayloadSha256);
  EXPECT_EQ(Sha256Hex("Welcome to Amazon S3."),
            "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(HmacSha256Test, Rfc4231Case2) {
  EXPECT_EQ(ToHex(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST(UriEncodeTest, KeepsUnreservedEncodesTheRestUpperCase) {
  EXPECT_EQ(UriEncode("AZaz09-._~", true), "AZaz09-._~");
  EXPECT_EQ(UriEncode("a b+c=d&e$f*", true), "a%20b%2Bc%3Dd%26e%24f%2A");
  EXPECT_EQ(UriEncode("a/b", true), "a%2Fb");
  EXPECT_EQ(UriEncode("a/b", false), "a/b");
  EXPECT_EQ(UriEncode("%", false), "%25");
  EXPECT_EQ(UriEncode("\xc3\xa9", true), "%C3%A9");  // UTF-8 bytes each encoded
  EXPECT_EQ(UriEncode("", true), "");
}

TEST(SigV4CanonicalUriTest, EncodesSegmentsOnceKeepsSlashes) {
  EXPECT_EQ(SigV4CanonicalUri(""), "/");
  EXPECT_EQ(SigV4CanonicalUri("/"), "/");
  EXPECT_EQ(SigV4CanonicalUri("/test$file.text"), "/test%24file.text");
  EXPECT_EQ(SigV4CanonicalUri("/bucket/AWSLogs/1/a b.log.gz"), "/bucket/AWSLogs/1/a%20b.log.gz");
  // Not double-encoded: a literal '%' in a key is encoded once.
  EXPECT_EQ(SigV4CanonicalUri("/k%20"), "/k%2520");
}

TEST(SigV4CanonicalQueryTest, SortsByEncodedNameAndEncodesValues) {
  EXPECT_EQ(SigV4CanonicalQuery({}), "");
  EXPECT_EQ(SigV4CanonicalQuery({{"prefix", "J"}, {"max-keys", "2"}}), "max-keys=2&prefix=J");
  EXPECT_EQ(SigV4CanonicalQuery({{"lifecycle", ""}}), "lifecycle=");
  EXPECT_EQ(SigV4CanonicalQuery({{"prefix", "AWSLogs/1 2/"},
                                 {"list-type", "2"},
                                 {"continuation-token", "a+b=="},
                                 {"delimiter", "/"}}),
            "continuation-token=a%2Bb%3D%3D&delimiter=%2F&list-type=2&prefix=AWSLogs%2F1%202%2F");
  // Upper-case sorts before lower-case (byte order); equal names sort by value.
  EXPECT_EQ(SigV4CanonicalQuery({{"b", "2"}, {"a", "y"}, {"a", "x"}, {"B", "1"}}),
            "B=1&a=x&a=y&b=2");
}

TEST(AmzDateTest, FormatsUtc) {
  EXPECT_EQ(AmzDate(kExampleTime), "20130524T000000Z");
  EXPECT_EQ(AmzDate(0), "19700101T000000Z");
  EXPECT_EQ(AmzDate(1440938160), "20150830T123600Z");
  EXPECT_EQ(AmzDate(951782400 + 86399), "20000229T235959Z");
}

// IAM User Guide, "Examples of how to derive a signing key for Signature Version 4" (20120215),
// and the signing key and signature of its ListUsers walk-through (20150830).
TEST(SigV4SigningKeyTest, IamExamples) {
  constexpr char kSecret[] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  EXPECT_EQ(ToHex(SigV4SigningKey(kSecret, "20120215", "us-east-1", "iam")),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
  const std::array<uint8_t, 32> key = SigV4SigningKey(kSecret, "20150830", "us-east-1", "iam");
  EXPECT_EQ(ToHex(key), "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9");
  const std::string_view key_view(reinterpret_cast<const char*>(key.data()), key.size());
  EXPECT_EQ(ToHex(HmacSha256(key_view,
                             "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/iam/"
                             "aws4_request\n"
                             "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59")),
            "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
}

TEST(SignV4Test, S3GetObjectExample) {
  SigV4Request request;
  request.method = "GET";
  request.path = "/test.txt";
  request.headers = {{"Host", kHost}, {"Range", "bytes=0-9"}};
  request.payload_hash = std::string(kEmptyPayloadSha256);
  SigV4Signature sig = SignV4(request, ExampleCredentials(), "us-east-1", "s3", kExampleTime);

  EXPECT_EQ(
      sig.canonical_request,
      "GET\n"
      "/test.txt\n"
      "\n"
      "host:examplebucket.s3.amazonaws.com\n"
      "range:bytes=0-9\n"
      "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
      "x-amz-date:20130524T000000Z\n"
      "\n"
      "host;range;x-amz-content-sha256;x-amz-date\n"
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sig.string_to_sign,
            "AWS4-HMAC-SHA256\n"
            "20130524T000000Z\n"
            "20130524/us-east-1/s3/aws4_request\n"
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(sig.signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  EXPECT_EQ(sig.authorization,
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  EXPECT_THAT(sig.headers, ElementsAre(Pair("Authorization", sig.authorization),
                                       Pair("x-amz-date", "20130524T000000Z"),
                                       Pair("x-amz-content-sha256", kEmptyPayloadSha256)));
}

TEST(SignV4Test, S3PutObjectExample) {
  SigV4Request request;
  request.method = "PUT";
  request.path = "/test$file.text";
  request.headers = {{"Host", kHost},
                     {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                     {"x-amz-storage-class", "REDUCED_REDUNDANCY"}};
  request.payload_hash = Sha256Hex("Welcome to Amazon S3.");
  SigV4Signature sig = SignV4(request, ExampleCredentials(), "us-east-1", "s3", kExampleTime);

  EXPECT_EQ(
      sig.canonical_request,
      "PUT\n"
      "/test%24file.text\n"
      "\n"
      "date:Fri, 24 May 2013 00:00:00 GMT\n"
      "host:examplebucket.s3.amazonaws.com\n"
      "x-amz-content-sha256:44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072\n"
      "x-amz-date:20130524T000000Z\n"
      "x-amz-storage-class:REDUCED_REDUNDANCY\n"
      "\n"
      "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class\n"
      "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  EXPECT_EQ(sig.string_to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "9e0e90d9c76de8fa5b200d8c849cd5b8dc7a3be3951ddb7f6a76b4158342019d");
  EXPECT_EQ(sig.signature, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
  EXPECT_EQ(sig.signed_headers, "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class");
}

// The two bucket-level GET examples differ only in their query: same headers, empty body.
void CheckBucketGetExample(const std::vector<QueryParam>& query, std::string_view canonical_query,
                           std::string_view canonical_request_hash, std::string_view signature) {
  SigV4Request request;
  request.path = "/";
  request.query = query;
  request.headers = {{"Host", kHost}};
  SigV4Signature sig = SignV4(request, ExampleCredentials(), "us-east-1", "s3", kExampleTime);

  EXPECT_EQ(
      sig.canonical_request,
      "GET\n/\n" + std::string(canonical_query) +
          "\n"
          "host:examplebucket.s3.amazonaws.com\n"
          "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
          "x-amz-date:20130524T000000Z\n"
          "\n"
          "host;x-amz-content-sha256;x-amz-date\n"
          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(sig.string_to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n" +
                std::string(canonical_request_hash));
  EXPECT_EQ(sig.signature, signature);
}

TEST(SignV4Test, S3GetBucketLifecycleExample) {
  CheckBucketGetExample({{"lifecycle", ""}}, "lifecycle=",
                        "9766c798316ff2757b517bc739a67f6213b4ab36dd5da2f94eaebf79c77395ca",
                        "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST(SignV4Test, S3ListObjectsExample) {
  // Given out of order on purpose: the signer sorts.
  CheckBucketGetExample({{"prefix", "J"}, {"max-keys", "2"}}, "max-keys=2&prefix=J",
                        "df57d21db20da04d7fa30298dd4488ba3a2b47ca3a489c74750e0f1e7df1b9b7",
                        "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SignV4Test, HeaderNamesLowerCasedValuesTrimmedRepeatsJoined) {
  SigV4Request request;
  request.headers = {{"HOST", "  h.example  "},
                     {"X-Amz-Meta-A", "one   two"},
                     {"x-amz-meta-a", "three"},
                     {"X-Amz-Date", "19990101T000000Z"},  // ignored: the signer sets its own
                     {"Authorization", "stale"}};
  SigV4Signature sig = SignV4(request, ExampleCredentials(), "us-east-1", "s3", kExampleTime);
  EXPECT_EQ(
      sig.canonical_request,
      "GET\n/\n\n"
      "host:h.example\n"
      "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
      "x-amz-date:20130524T000000Z\n"
      "x-amz-meta-a:one two,three\n"
      "\n"
      "host;x-amz-content-sha256;x-amz-date;x-amz-meta-a\n"
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

TEST(SignV4Test, SessionTokenIsSentAndSigned) {
  SigV4Request request;
  request.path = "/test.txt";
  request.headers = {{"Host", kHost}};
  request.payload_hash = std::string(kUnsignedPayload);
  SigV4Credentials credentials = ExampleCredentials();
  SigV4Signature without = SignV4(request, credentials, "us-east-1", "s3", kExampleTime);
  credentials.session_token = "TOKEN/with+chars=";
  SigV4Signature with = SignV4(request, credentials, "us-east-1", "s3", kExampleTime);

  EXPECT_EQ(with.signed_headers, "host;x-amz-content-sha256;x-amz-date;x-amz-security-token");
  EXPECT_NE(with.canonical_request.find("x-amz-security-token:TOKEN/with+chars=\n"),
            std::string::npos);
  EXPECT_NE(with.signature, without.signature);
  EXPECT_THAT(with.headers, ElementsAre(Pair("Authorization", with.authorization),
                                        Pair("x-amz-date", "20130524T000000Z"),
                                        Pair("x-amz-content-sha256", "UNSIGNED-PAYLOAD"),
                                        Pair("x-amz-security-token", "TOKEN/with+chars=")));
  // The secret never appears in any output piece.
  for (const std::string* piece : {&with.canonical_request, &with.string_to_sign,
                                   &with.authorization, &with.credential_scope}) {
    EXPECT_EQ(piece->find(credentials.secret_access_key), std::string::npos);
  }
}

TEST(SignV4Test, ScopeFollowsRegionServiceAndDay) {
  SigV4Request request;
  request.headers = {{"Host", "sts.eu-west-1.amazonaws.com"}};
  SigV4Signature a = SignV4(request, ExampleCredentials(), "eu-west-1", "sts", kExampleTime);
  EXPECT_EQ(a.credential_scope, "20130524/eu-west-1/sts/aws4_request");
  SigV4Signature b =
      SignV4(request, ExampleCredentials(), "eu-west-1", "sts", kExampleTime + 86400);
  EXPECT_EQ(b.credential_scope, "20130525/eu-west-1/sts/aws4_request");
  EXPECT_NE(a.signature, b.signature);
  // Deterministic.
  EXPECT_EQ(a.signature,
            SignV4(request, ExampleCredentials(), "eu-west-1", "sts", kExampleTime).signature);
}

TEST(SignV4Test, EachSecretSignsWithItsOwnKeyOnOneThread) {
  // The signing key is kept per thread: a second secret (same day, region and service) must
  // not sign with the first one's key, nor the first one afterwards with the second's.
  SigV4Request request;
  request.headers = {{"Host", kHost}};
  SigV4Credentials other = ExampleCredentials();
  other.secret_access_key = "AnotherSecretKeyOfTheSameLength/K7MDENGbP";
  auto expected = [&](const SigV4Credentials& c, const SigV4Signature& sig) {
    const std::array<uint8_t, 32> key =
        SigV4SigningKey(c.secret_access_key, "20130524", "us-east-1", "s3");
    return ToHex(HmacSha256(std::string_view(reinterpret_cast<const char*>(key.data()), 32),
                            sig.string_to_sign));
  };
  for (const SigV4Credentials& c : {ExampleCredentials(), other, ExampleCredentials(), other}) {
    const SigV4Signature sig = SignV4(request, c, "us-east-1", "s3", kExampleTime);
    EXPECT_EQ(sig.signature, expected(c, sig));
  }
}

}  // namespace
}  // namespace vpcflow
