#pragma once
/// Strict JSON parsing with Boost.JSON: the whole text is one JSON value (RFC 8259, valid
/// UTF-8, at most 32 levels deep) and no object repeats a key. Boost.JSON alone keeps the last
/// of two equal keys, so `{"start":"a","start":"b"}` would be read as if sent once; for input
/// from clients that is ambiguous and refused here. Pure, thread-safe.

#include <boost/json/value.hpp>
#include <string_view>

#include "vpcflow/status.hpp"

namespace vpcflow {

/// The value of `text`. Returns InvalidArgument with "not valid JSON: <reason>" or
/// "duplicate key \"<key>\"" (the first repeated key).
Result<boost::json::value> ParseJsonStrict(std::string_view text);

}  // namespace vpcflow
