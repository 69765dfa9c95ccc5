#pragma once
/// The graph of a query's result: `dot` (Graphviz text) and `svg` (that text laid out and
/// rendered by the Graphviz `dot` program, common/subprocess.hpp, with a time limit).
///
/// One node per address (or prefix, when group_by cuts addresses), its text quoted as the node
/// id ("1.11.1.1" and "11.1.1.1" never collide; IPv6 in its one canonical spelling); one edge
/// per row, in the rows' order, then the nodes in address order (IPv4 before IPv6), so the
/// output is the same for the same rows. Each edge carries the attributes the older consumer
/// (vpcflow-grapherd) read, all quoted: govpc_accountID, govpc_eniID, govpc_srcPort,
/// govpc_dstPort, govpc_protocol, govpc_packets, govpc_bytes, govpc_start, govpc_end (a field
/// left out by group_by is left out), plus govpc_action and, when known, govpc_flows; `color`
/// green for ACCEPT, red for REJECT, gray otherwise; `penwidth` 1 + log10(bytes + 1) / 2, at
/// most 8; a label with the protocol and service port and the volume. Conversations are drawn
/// `dir=both` with both directions' bytes. Diff rows carry govpc_diff (ADDED, REMOVED,
/// CHANGED, as the older differ) and govpc_baseBytes; new edges are bold, gone edges dashed.
/// Rows that `top` left out are one node "others" labelled with their count and bytes.

#include "query/result_writer.hpp"

namespace vpcflow {

/// A dot or svg writer (NewResultWriter calls it for those formats). The svg writer keeps
/// the dot text (bounded: an svg query has at most kMaxSvgEdges rows) and renders it at End.
ResultWriterPtr NewGraphWriter(const QuerySpec& spec, ResultKind kind, ByteSink& sink,
                               const GraphOptions& options);

/// "999 B", "1.2 kB", "3.4 MB", ... (SI units, one decimal).
std::string HumanBytes(uint64_t bytes);

}  // namespace vpcflow
