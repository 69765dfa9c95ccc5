#include "common/json_string.hpp"

#include <cstring>

namespace vpcflow {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

// The length of the valid UTF-8 sequence at the start of `s` (not empty), or 0 when it is not one.
size_t Utf8SequenceLength(std::string_view s) {
  auto byte = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  auto continuation = [&](size_t i) { return i < s.size() && (byte(i) & 0xC0) == 0x80; };
  unsigned char b0 = byte(0);
  if (b0 < 0x80) return 1;
  if (b0 >= 0xC2 && b0 <= 0xDF) return continuation(1) ? 2 : 0;
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    if (!continuation(1) || !continuation(2)) return 0;
    if (b0 == 0xE0 && byte(1) < 0xA0) return 0;   // overlong
    if (b0 == 0xED && byte(1) >= 0xA0) return 0;  // surrogate
    return 3;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    if (!continuation(1) || !continuation(2) || !continuation(3)) return 0;
    if (b0 == 0xF0 && byte(1) < 0x90) return 0;   // overlong
    if (b0 == 0xF4 && byte(1) >= 0x90) return 0;  // above U+10FFFF
    return 4;
  }
  return 0;
}

}  // namespace

char* PutJsonStringContent(char* out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  auto put = [&out](std::string_view text) {
    std::memcpy(out, text.data(), text.size());
    out += text.size();
  };
  while (!s.empty()) {
    unsigned char c = static_cast<unsigned char>(s[0]);
    if (c >= 0x20 && c < 0x7F && c != '"' && c != '\\') {  // the common case: plain ASCII
      *out++ = static_cast<char>(c);
      s.remove_prefix(1);
      continue;
    }
    size_t length = Utf8SequenceLength(s);
    if (length == 0) {
      put("\\ufffd");
      length = 1;
    } else if (c == '"' || c == '\\') {
      *out++ = '\\';
      *out++ = static_cast<char>(c);
    } else if (c == '\n') {
      put("\\n");
    } else if (c == '\r') {
      put("\\r");
    } else if (c == '\t') {
      put("\\t");
    } else if (c < 0x20 || c == 0x7F) {
      put("\\u00");
      *out++ = kHex[c >> 4];
      *out++ = kHex[c & 0xF];
    } else {
      put(s.substr(0, length));
    }
    s.remove_prefix(length);
  }
  return out;
}

void AppendJsonString(std::string& out, std::string_view s) {
  const size_t start = out.size();
  out.resize(start + 2 + kJsonEscapeFactor * s.size());
  char* p = out.data() + start;
  *p++ = '"';
  p = PutJsonStringContent(p, s);
  *p++ = '"';
  out.resize(static_cast<size_t>(p - out.data()));
}

std::string JsonQuote(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  AppendJsonString(out, text);
  return out;
}

std::string ValidUtf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  while (!s.empty()) {
    size_t length = Utf8SequenceLength(s);
    if (length == 0) {
      out += kReplacement;
      length = 1;
    } else {
      out.append(s.data(), length);
    }
    s.remove_prefix(length);
  }
  return out;
}

}  // namespace vpcflow
