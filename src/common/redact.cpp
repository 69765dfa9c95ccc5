#include "common/redact.hpp"

#include <algorithm>

namespace vpcflow {
namespace {

constexpr std::string_view kHidden = "***";

bool IsSchemeChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '-' || c == '.';
}

// Where a URL embedded in free text ends.
bool EndsUrl(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '"' || c == '\'' || c == '<' ||
         c == '>' || c == '`';
}

}  // namespace

std::string RedactUrl(std::string_view url) {
  std::string out;
  size_t authority = url.find("://");
  size_t rest = 0;
  if (authority != std::string_view::npos) {
    authority += 3;
    const size_t authority_end = std::min(url.find_first_of("/?#", authority), url.size());
    // The last '@' ends the user-info (a password may hold an unescaped '@').
    const size_t at = url.substr(0, authority_end).rfind('@');
    out.append(url.substr(0, authority));
    if (at != std::string_view::npos && at >= authority) {
      out.append(kHidden);
      out.push_back('@');
      rest = at + 1;
    } else {
      rest = authority;
    }
  }
  const size_t query = url.find_first_of("?#", rest);
  out.append(
      url.substr(rest, query == std::string_view::npos ? std::string_view::npos : query - rest));
  if (query != std::string_view::npos && url[query] == '?') {
    out.push_back('?');
    out.append(kHidden);
  }
  return out;
}

std::string RedactUrls(std::string_view text) {
  std::string out;
  size_t done = 0;
  for (size_t sep = text.find("://"); sep != std::string_view::npos;
       sep = text.find("://", sep + 3)) {
    if (sep < done) continue;
    size_t begin = sep;
    while (begin > done && IsSchemeChar(text[begin - 1])) --begin;
    if (begin == sep) continue;  // "://" without a scheme
    size_t end = sep + 3;
    while (end < text.size() && !EndsUrl(text[end])) ++end;
    out.append(text.substr(done, begin - done));
    out.append(RedactUrl(text.substr(begin, end - begin)));
    done = end;
  }
  out.append(text.substr(done));
  return out;
}

}  // namespace vpcflow
