#pragma once
/// Redaction of the secrets URLs carry, for every log line and answer that may show a URL:
/// user-info ("user:password@") and the query string ("?X-Amz-Signature=...", tokens) are
/// replaced by "***"; the fragment is dropped. Scheme, host, port and path stay, so the message
/// still says where the request went. Pure, thread-safe.

#include <string>
#include <string_view>

namespace vpcflow {

/// `url` without its secrets: "http://user:pw@bus:8080/x?sig=1#f" -> "http://***@bus:8080/x?***".
/// Text that is not an absolute URL ("scheme://...") is returned unchanged, except that a query
/// is still replaced.
std::string RedactUrl(std::string_view url);

/// `text` with every URL in it ("scheme://" up to the next space, quote or angle bracket)
/// passed through RedactUrl: for messages from others (an S3 error message, a curl error).
std::string RedactUrls(std::string_view text);

}  // namespace vpcflow
