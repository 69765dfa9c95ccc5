#include "common/redact.hpp"

#include <gtest/gtest.h>

namespace vpcflow {
namespace {

TEST(RedactUrlTest, RemovesUserInfoAndQueryAndKeepsWhereItWent) {
  EXPECT_EQ(RedactUrl("http://user:secret@bus:8080/flows/digest?X-Amz-Signature=abc#frag"),
            "http://***@bus:8080/flows/digest?***");
  EXPECT_EQ(RedactUrl("https://token@host"), "https://***@host");
  EXPECT_EQ(RedactUrl("https://host/p?"), "https://host/p?***");
  EXPECT_EQ(RedactUrl("http://u:p@w@host:1/x"), "http://***@host:1/x");
  EXPECT_EQ(RedactUrl("http://host/a@b"), "http://host/a@b");  // an '@' in the path is no secret
}

TEST(RedactUrlTest, LeavesUrlsWithoutSecretsAlone) {
  EXPECT_EQ(RedactUrl("http://127.0.0.1:8080/digests/digest"),
            "http://127.0.0.1:8080/digests/digest");
  EXPECT_EQ(RedactUrl("s3://bucket/key"), "s3://bucket/key");
  EXPECT_EQ(RedactUrl(""), "");
  EXPECT_EQ(RedactUrl("not a url"), "not a url");
  EXPECT_EQ(RedactUrl("/path?token=x"), "/path?***");
}

TEST(RedactUrlsTest, RedactsEveryUrlInAText) {
  EXPECT_EQ(RedactUrls("POST http://a:b@h/x?s=1 refused; see https://u@k/?t=2 or \"ftp://c@d\""),
            "POST http://***@h/x?*** refused; see https://***@k/?*** or \"ftp://***@d\"");
  // A URL runs to the next space or quote: what follows a query is taken for part of it.
  EXPECT_EQ(RedactUrls("GET http://h/?sig=1: refused"), "GET http://h/?*** refused");
  EXPECT_EQ(RedactUrls("no url here: a://"), "no url here: a://");
  EXPECT_EQ(RedactUrls("://x@y"), "://x@y");
  EXPECT_EQ(RedactUrls(""), "");
}

}  // namespace
}  // namespace vpcflow
