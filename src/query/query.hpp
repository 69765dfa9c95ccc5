#pragma once
/// Running a query over the rows of a digest, and a diff of two digests (DESIGN.md,
/// "Queries"). One implementation behind the CLI (`vpcflow-digest ... --filter`, `view`,
/// `diff`) and the HTTP API: callers parse the parameters (ParseQuery), open the rows
/// (row_source.hpp) and call these.
///
/// Order of the result: without grouping and `top`, the digest's own order (rows stream out as
/// they are read; memory stays flat whatever the digest's size). Otherwise by the `by` value
/// descending, ties in the digest's order (ungrouped) or in key order (grouped, GroupTable::
/// KeyLess). Ungrouped `top` keeps the N best rows in a heap (memory bounded by N); grouping
/// keeps every group (memory bounded by the groups). Totals count every row that passed the
/// filter, before grouping and `top`.
///
/// Thread-safe for distinct sources and sinks.

#include "query/query_spec.hpp"
#include "query/result_writer.hpp"
#include "query/row_source.hpp"
#include "vpcflow/byte_sink.hpp"
#include "vpcflow/status.hpp"

namespace vpcflow {

struct QueryOptions {
  GraphOptions graph;  ///< how an svg is rendered
};

/// OK when rows with (`has_flows`) or without the flows count can answer `spec`;
/// FailedPrecondition, saying so, when the query needs flows and they lack them. RunQuery and
/// RunDiff check it first; a caller may ask before opening the rows (an HTTP HEAD).
[[nodiscard]] Status CheckRowsAnswer(const QuerySpec& spec, bool has_flows);

/// Answers `spec` over `rows` into `sink` (not closed). Returns FailedPrecondition when the
/// query needs flows and the rows lack them (a stored digest without its rows sidecar), the
/// source's error (DataLoss, the reader's), the sink's, or the svg renderer's (NotFound when
/// Graphviz is not installed, DeadlineExceeded, Internal).
[[nodiscard]] Status RunQuery(RowSource& rows, const QuerySpec& spec, ByteSink& sink,
                              const QueryOptions& options = {});

/// The rows (after the filter and grouping) that are new in `current`, gone from it, or whose
/// bytes changed by more than `spec.change_percent` percent of the base's (a base of 0 bytes
/// with more now counts as changed); unchanged rows are left out. Ranked (`top`, `by`) by the
/// absolute change of the `by` value. Rows are identified by every key field when group_by is
/// empty. Same errors as RunQuery, from either source.
[[nodiscard]] Status RunDiff(RowSource& base, RowSource& current, const QuerySpec& spec,
                             ByteSink& sink, const QueryOptions& options = {});

}  // namespace vpcflow
