#pragma once
/// Serving a stored digest in another encoding (`GET /?...&format=ndjson|csv`).
///
/// Only the gzip `flowlog` encoding is stored, so the other encodings are made on the fly:
/// the stored gzip is decoded with the common gzip reader and each line is parsed back
/// (ParseFlowLine with the default format, which is exactly the stored line's layout) and
/// written as the engine's ndjson/csv row. Memory stays flat whatever the digest's size.
///
/// The stored line does not carry `flows` (the number of records aggregated), so a
/// re-encoded row has `"flows":null` (ndjson) or an empty flows column (csv). Everything else
/// (columns, names, order, row order) is what Digest::Encode writes.

#include "vpcflow/digest.hpp"
#include "vpcflow/object_source.hpp"

namespace vpcflow {

/// A reader of `format`-encoded text made from the gzip flowlog digest `stored`. `format`
/// must be kNdjson or kCsv. Read returns DataLoss when the stored bytes are not a gzip
/// flowlog digest (bad gzip, or a line that does not parse), or the stored reader's error.
ObjectReaderPtr NewReencodingReader(ObjectReaderPtr stored, DigestFormat format);

}  // namespace vpcflow
