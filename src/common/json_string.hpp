#pragma once
/// JSON string literals from arbitrary bytes: the one escaper for JSON text written by hand
/// (log lines, error bodies). Valid UTF-8 passes through unchanged ("é" stays "é"); each byte
/// that does not start a valid UTF-8 sequence (RFC 3629: no overlongs, no surrogates, at most
/// U+10FFFF) becomes \ufffd, so the output is valid JSON whatever the input. Quotes,
/// backslashes and control characters (and DEL) are escaped. Pure, thread-safe.

#include <string>
#include <string_view>

namespace vpcflow {

/// The most bytes one input byte can become (`\u00XX`, `\ufffd`).
inline constexpr size_t kJsonEscapeFactor = 6;

/// Writes `text` escaped as the content of a JSON string (no quotes) at `out`, which has room
/// for kJsonEscapeFactor * text.size() bytes, and returns the end. For encoders that fill their
/// own buffers (src/digest/row_format); the same rules as AppendJsonString.
char* PutJsonStringContent(char* out, std::string_view text);

/// Appends `text` as a JSON string literal, quotes included, to `out`.
void AppendJsonString(std::string& out, std::string_view text);

/// `text` as a JSON string literal, quotes included.
std::string JsonQuote(std::string_view text);

/// `text` with every byte that does not start a valid UTF-8 sequence replaced by U+FFFD, for
/// strings handed to a JSON library that copies bytes as they are (Boost.JSON).
std::string ValidUtf8(std::string_view text);

}  // namespace vpcflow
