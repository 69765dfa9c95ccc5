#pragma once
/// RowSource: the rows a query reads, in the digest's order (bytes descending, then the
/// flowlog line), from wherever the digest is: an in-memory Digest, a stored flowlog digest
/// (the gzip text of DESIGN.md, which has no flows column), or the rows sidecar (row_file.hpp).
///
/// A source streams: memory does not grow with the digest. A source is read once, by one
/// thread.

#include <functional>
#include <memory>

#include "digest/row_format.hpp"
#include "vpcflow/digest.hpp"
#include "vpcflow/object_source.hpp"
#include "vpcflow/status.hpp"

namespace vpcflow {

class RowSource {
 public:
  virtual ~RowSource() = default;
  RowSource() = default;
  RowSource(const RowSource&) = delete;
  RowSource& operator=(const RowSource&) = delete;

  /// Calls `fn` for each row (a view valid during the call), in order, until `fn` returns false
  /// or the rows end. Returns OK, DataLoss when the stored bytes are not a digest (bad gzip, a
  /// line that does not parse, a sidecar whose checksum fails), or the reader's error. Call it
  /// once.
  [[nodiscard]] virtual Status ForEach(const std::function<bool(const RowView&)>& fn) = 0;
  /// Whether rows carry the flows count (RowView::has_flows).
  virtual bool has_flows() const = 0;
};
using RowSourcePtr = std::unique_ptr<RowSource>;

/// The rows of `digest` (borrowed: it must outlive the source).
RowSourcePtr NewDigestRowSource(const Digest& digest);

/// The rows of a stored flowlog digest: `reader` yields its gzip bytes. Rows have no flows.
RowSourcePtr NewFlowLogRowSource(ObjectReaderPtr reader);

/// The rows of a stored digest in either form, told apart by their first decompressed bytes:
/// the rows sidecar (row_file.hpp) or the flowlog text. Reads the start of `reader` at once:
/// returns DataLoss when it is not gzip, or the reader's error.
Result<RowSourcePtr> OpenStoredRows(ObjectReaderPtr reader);

}  // namespace vpcflow
