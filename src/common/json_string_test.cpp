#include "common/json_string.hpp"

#include <gtest/gtest.h>

namespace vpcflow {
namespace {

TEST(JsonQuoteTest, EscapesQuotesBackslashesAndControlCharacters) {
  EXPECT_EQ(JsonQuote("a\\b\x01\"\n\r\t\x7f"), "\"a\\\\b\\u0001\\\"\\n\\r\\t\\u007f\"");
}

TEST(JsonQuoteTest, KeepsValidUtf8) {
  EXPECT_EQ(JsonQuote("caf\xc3\xa9 \xe2\x98\x83 \xf0\x9f\x98\x80"),
            "\"caf\xc3\xa9 \xe2\x98\x83 \xf0\x9f\x98\x80\"");
}

TEST(JsonQuoteTest, ReplacesEachInvalidByte) {
  // A stray continuation byte, a truncated sequence, an overlong '/', a surrogate, > U+10FFFF.
  EXPECT_EQ(JsonQuote("\x80|\xe2\x98|\xc0\xaf|\xed\xa0\x80|\xf4\x90\x80\x80"),
            "\"\\ufffd|\\ufffd\\ufffd|\\ufffd\\ufffd|\\ufffd\\ufffd\\ufffd|"
            "\\ufffd\\ufffd\\ufffd\\ufffd\"");
}

TEST(ValidUtf8Test, ReplacesInvalidBytesWithTheReplacementCharacter) {
  EXPECT_EQ(ValidUtf8("ok \xc3\xa9"), "ok \xc3\xa9");
  EXPECT_EQ(ValidUtf8("a\xff"
                      "b"),
            "a\xef\xbf\xbd"
            "b");
  EXPECT_EQ(ValidUtf8(""), "");
}

}  // namespace
}  // namespace vpcflow
