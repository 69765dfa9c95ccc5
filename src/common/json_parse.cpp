#include "common/json_parse.hpp"

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/value_stack.hpp>
#include <string>
#include <unordered_set>
#include <vector>

#include "common/json_string.hpp"

namespace vpcflow {
namespace {

namespace json = boost::json;
using json::error_code;

// Boost.JSON's own value-building handler (detail/handler.hpp), plus the keys of every open
// object so a repeated one stops the parse.
struct StrictHandler {
  static constexpr std::size_t max_object_size = json::object::max_size();
  static constexpr std::size_t max_array_size = json::array::max_size();
  static constexpr std::size_t max_key_size = json::string::max_size();
  static constexpr std::size_t max_string_size = json::string::max_size();

  json::value_stack stack;
  std::vector<std::unordered_set<std::string>> keys;  // one set per open object
  std::string key_part;
  bool repeated = false;  // a repeated key (key_part) stopped the parse

  bool on_document_begin(error_code&) { return true; }
  bool on_document_end(error_code&) { return true; }
  bool on_object_begin(error_code&) {
    keys.emplace_back();
    return true;
  }
  bool on_object_end(std::size_t n, error_code&) {
    keys.pop_back();
    stack.push_object(n);
    return true;
  }
  bool on_array_begin(error_code&) { return true; }
  bool on_array_end(std::size_t n, error_code&) {
    stack.push_array(n);
    return true;
  }
  bool on_key_part(json::string_view s, std::size_t, error_code&) {
    key_part.append(s.data(), s.size());
    stack.push_chars(s);
    return true;
  }
  bool on_key(json::string_view s, std::size_t, error_code& ec) {
    key_part.append(s.data(), s.size());
    if (!keys.back().insert(key_part).second) {
      repeated = true;
      ec = json::error::syntax;
      return false;
    }
    key_part.clear();
    stack.push_key(s);
    return true;
  }
  bool on_string_part(json::string_view s, std::size_t, error_code&) {
    stack.push_chars(s);
    return true;
  }
  bool on_string(json::string_view s, std::size_t, error_code&) {
    stack.push_string(s);
    return true;
  }
  bool on_number_part(json::string_view, error_code&) { return true; }
  bool on_int64(std::int64_t i, json::string_view, error_code&) {
    stack.push_int64(i);
    return true;
  }
  bool on_uint64(std::uint64_t u, json::string_view, error_code&) {
    stack.push_uint64(u);
    return true;
  }
  bool on_double(double d, json::string_view, error_code&) {
    stack.push_double(d);
    return true;
  }
  bool on_bool(bool b, error_code&) {
    stack.push_bool(b);
    return true;
  }
  bool on_null(error_code&) {
    stack.push_null();
    return true;
  }
  bool on_comment_part(json::string_view, error_code&) { return true; }
  bool on_comment(json::string_view, error_code&) { return true; }
};

}  // namespace

Result<json::value> ParseJsonStrict(std::string_view text) {
  json::basic_parser<StrictHandler> parser(json::parse_options{});
  parser.handler().stack.reset();
  error_code ec;
  const size_t used = parser.write_some(false, text.data(), text.size(), ec);
  if (parser.handler().repeated) {
    return InvalidArgumentError("duplicate key " + JsonQuote(parser.handler().key_part));
  }
  if (!ec && used != text.size()) ec = json::error::extra_data;
  if (ec) return InvalidArgumentError("not valid JSON: " + ec.message());
  return parser.handler().stack.release();
}

}  // namespace vpcflow
