#pragma once
/// The writers of a query's result in each format (QueryFormat): rows in, bytes out to a
/// ByteSink. flowlog, ndjson and csv write each row with the digest's own row writers
/// (digest/row_format.hpp), so a query's rows are spelled exactly as a digest's; json is one
/// document with the rows and the totals; dot and svg are the graph (graph_writer.hpp).
///
/// A writer streams: a row is written (or, for graphs, kept: they are cut to `top` before
/// they come here) as it comes. Used by one thread.

#include <array>
#include <cstdint>
#include <memory>
#include <string>

#include "digest/row_format.hpp"
#include "query/query_spec.hpp"
#include "vpcflow/byte_sink.hpp"
#include "vpcflow/status.hpp"

namespace vpcflow {

/// What the rows of a result are, which decides their extra columns.
enum class ResultKind {
  kRows,           ///< digest rows, or groups of them
  kConversations,  ///< + src_packets, src_bytes, dst_packets, dst_bytes (what each end sent)
  kDiff,           ///< + change, base_packets, base_bytes
};

/// How a diff row changed between the two windows.
enum class DiffChange : uint8_t { kNone, kNew, kGone, kChanged };
/// "new", "gone", "changed" ("" for kNone).
std::string_view DiffChangeName(DiffChange change);

/// One row of a result.
struct ResultRow {
  /// The key and the values. In a diff: the second window's values (zero for a gone row, whose
  /// start and end are the first window's).
  RowView view;
  uint64_t dst_packets = 0;  ///< conversations: sent by the dstaddr end (the rest by srcaddr)
  uint64_t dst_bytes = 0;
  DiffChange change = DiffChange::kNone;  ///< diffs
  uint64_t base_packets = 0;              ///< diffs: the first window's
  uint64_t base_bytes = 0;
};

/// Sums over the rows of one digest that passed the filter.
struct WindowTotals {
  uint64_t rows_read = 0;  ///< rows of the digest read
  uint64_t rows = 0;       ///< rows that passed the filter
  uint64_t packets = 0;
  uint64_t bytes = 0;
  uint64_t flows = 0;
  bool has_flows = true;
  int64_t start = 0;  ///< the first start (0 when no row passed)
  int64_t end = 0;    ///< the last end
  struct Part {
    uint64_t rows = 0;
    uint64_t packets = 0;
    uint64_t bytes = 0;
  };
  /// By Action: [0] absent, [1] ACCEPT, [2] REJECT.
  std::array<Part, 3> by_action{};

  /// Adds a row that passed the filter.
  void Add(const RowView& row);
};

/// What the writer learns at the end.
struct ResultSummary {
  WindowTotals totals;       ///< the digest's (a diff's second window)
  WindowTotals base;         ///< diffs: the first window's
  uint64_t result_rows = 0;  ///< rows of the result before `top` cut it
  uint64_t cut_rows = 0;     ///< rows `top` left out (graphs draw them as one "others" node)
  uint64_t cut_packets = 0;
  uint64_t cut_bytes = 0;
  uint64_t new_rows = 0;  ///< diffs
  uint64_t gone_rows = 0;
  uint64_t changed_rows = 0;
};

/// How an svg is rendered: by the Graphviz `dot` program, run with a time limit.
struct GraphOptions {
  std::string dot_program = "dot";  ///< a path, or a name looked up in PATH
  int64_t timeout_ms = 10000;       ///< killed and DeadlineExceeded after this
  size_t max_output_bytes = size_t{64} << 20;
};

class ResultWriter {
 public:
  virtual ~ResultWriter() = default;
  /// Writes (or keeps) one row. A sink error sticks and is returned by End.
  virtual void Row(const ResultRow& row) = 0;
  /// False once the sink failed (the caller may stop early).
  virtual bool ok() const = 0;
  /// Writes what follows the rows and hands everything to the sink (not closed). Returns the
  /// sink's error, or for svg the renderer's (NotFound: no `dot` program; DeadlineExceeded;
  /// Internal when it fails).
  [[nodiscard]] virtual Status End(const ResultSummary& summary) = 0;
};
using ResultWriterPtr = std::unique_ptr<ResultWriter>;

/// A writer of `spec.format` for rows of `kind`, into `sink` (borrowed). `spec` is borrowed
/// too (json writes the query back).
ResultWriterPtr NewResultWriter(const QuerySpec& spec, ResultKind kind, ByteSink& sink,
                                const GraphOptions& graph = {});

}  // namespace vpcflow
