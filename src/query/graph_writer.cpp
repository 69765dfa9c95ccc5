#include "query/graph_writer.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <map>
#include <string>

#include "common/subprocess.hpp"

namespace vpcflow {
namespace {

// A node: an address, or a prefix of one.
struct NodeKey {
  IpAddress address;
  uint8_t bits = kWholeAddress;
  friend bool operator<(const NodeKey& a, const NodeKey& b) {
    if (a.address.v4 != b.address.v4) return a.address.v4;  // IPv4 first
    if (const int c = std::memcmp(a.address.bytes.data(), b.address.bytes.data(), 16); c != 0) {
      return c < 0;
    }
    return a.bits < b.bits;
  }
};

struct NodeTraffic {
  uint64_t sent = 0;
  uint64_t received = 0;
};

std::string AddressText(const IpAddress& address, uint8_t bits) {
  char buf[kMaxIpTextLength + 8];
  return std::string(buf, PutAddressText(buf, address, bits));
}

// A DOT quoted string: quote and backslash escaped, control characters as spaces.
void AppendEscaped(std::string& out, std::string_view s) {
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += static_cast<unsigned char>(c) < 0x20 ? ' ' : c;
  }
}
void AppendQuoted(std::string& out, std::string_view s) {
  out += '"';
  AppendEscaped(out, s);
  out += '"';
}
// A label of several lines, joined by Graphviz's line break "\n".
void AppendLabel(std::string& out, std::initializer_list<std::string_view> lines) {
  out += '"';
  bool first = true;
  for (std::string_view line : lines) {
    if (line.empty()) continue;
    if (!first) out += "\\n";
    AppendEscaped(out, line);
    first = false;
  }
  out += '"';
}

void AppendAttribute(std::string& out, std::string_view name, std::string_view value) {
  out += ' ';
  out += name;
  out += '=';
  AppendQuoted(out, value);
}

// "tcp/443", "udp/53", "icmp", "47": the protocol and the service port (the one that is not 0).
std::string ServiceText(const RowView& row) {
  const FlowRecord& r = row.record;
  std::string text;
  if (row.fields & kRowProtocol) {
    const std::string_view name = ProtocolName(r.protocol);
    text = name.empty() ? std::to_string(r.protocol) : std::string(name);
  }
  uint32_t port = 0;
  if ((row.fields & kRowDstPort) && r.dstport != 0) {
    port = r.dstport;
  } else if (row.fields & kRowSrcPort) {
    port = r.srcport;
  }
  if (port != 0) text += (text.empty() ? "port " : "/") + std::to_string(port);
  return text;
}

std::string Number(uint64_t v) { return std::to_string(v); }

class GraphWriter final : public ResultWriter {
 public:
  GraphWriter(const QuerySpec& spec, ResultKind kind, ByteSink& sink, const GraphOptions& options)
      : spec_(spec), kind_(kind), sink_(sink), options_(options) {
    text_ =
        "digraph {\n"
        "  graph [rankdir=LR];\n"
        "  node [shape=box style=rounded fontname=\"Helvetica\" fontsize=10];\n"
        "  edge [fontname=\"Helvetica\" fontsize=9];\n";
  }

  bool ok() const override { return status_.ok(); }

  void Row(const ResultRow& row) override {
    const RowView& v = row.view;
    const FlowRecord& r = v.record;
    const NodeKey src{r.srcaddr, v.srcaddr_bits};
    const NodeKey dst{r.dstaddr, v.dstaddr_bits};
    // A gone edge of a diff is drawn with the first window's volume.
    const bool gone = row.change == DiffChange::kGone;
    const uint64_t bytes = gone ? row.base_bytes : r.bytes;
    const uint64_t packets = gone ? row.base_packets : r.packets;
    NodeTraffic& from = nodes_[src];
    NodeTraffic& to = nodes_[dst];
    from.sent += bytes - row.dst_bytes;
    to.received += bytes - row.dst_bytes;
    to.sent += row.dst_bytes;
    from.received += row.dst_bytes;

    text_ += "  ";
    AppendQuoted(text_, AddressText(src.address, src.bits));
    text_ += " -> ";
    AppendQuoted(text_, AddressText(dst.address, dst.bits));
    text_ += " [";
    std::string attributes;
    if (v.fields & kRowAccount) AppendAttribute(attributes, "govpc_accountID", r.account_id);
    if (v.fields & kRowInterface) AppendAttribute(attributes, "govpc_eniID", r.interface_id);
    if (v.fields & kRowSrcPort) AppendAttribute(attributes, "govpc_srcPort", Number(r.srcport));
    if (v.fields & kRowDstPort) AppendAttribute(attributes, "govpc_dstPort", Number(r.dstport));
    if (v.fields & kRowProtocol) AppendAttribute(attributes, "govpc_protocol", Number(r.protocol));
    AppendAttribute(attributes, "govpc_packets", Number(packets));
    AppendAttribute(attributes, "govpc_bytes", Number(bytes));
    AppendAttribute(attributes, "govpc_start", std::to_string(r.start));
    AppendAttribute(attributes, "govpc_end", std::to_string(r.end));
    if (v.fields & kRowAction) AppendAttribute(attributes, "govpc_action", ActionName(r.action));
    if (v.has_flows) AppendAttribute(attributes, "govpc_flows", Number(v.flows));
    const std::string service = ServiceText(v);
    std::string label;
    if (kind_ == ResultKind::kConversations) {
      label +=
          "\u2192 " + HumanBytes(bytes - row.dst_bytes) + ", \u2190 " + HumanBytes(row.dst_bytes);
      attributes += " dir=both";
    } else {
      label += HumanBytes(bytes);
    }
    if (kind_ == ResultKind::kDiff) {
      static constexpr std::string_view kDiffNames[] = {"", "ADDED", "REMOVED", "CHANGED"};
      AppendAttribute(attributes, "govpc_diff", kDiffNames[static_cast<int>(row.change)]);
      AppendAttribute(attributes, "govpc_baseBytes", Number(row.base_bytes));
      if (row.change == DiffChange::kNew) {
        attributes += " style=bold";
        label += " (new)";
      } else if (gone) {
        attributes += " style=dashed";
        label += " (gone)";
      } else {
        label += " (was " + HumanBytes(row.base_bytes) + ")";
      }
    }
    const bool has_action = (v.fields & kRowAction) != 0;
    attributes += " color=";
    attributes += !has_action || r.action == Action::kAbsent ? "gray"
                  : r.action == Action::kAccept              ? "green"
                                                             : "red";
    char width[32];
    std::snprintf(width, sizeof(width), " penwidth=%.1f",
                  std::min(8.0, 1.0 + std::log10(static_cast<double>(bytes) + 1.0) / 2.0));
    attributes += width;
    attributes += " label=";
    AppendLabel(attributes, {service, label});
    text_.append(attributes, 1, std::string::npos);
    text_ += "];\n";
    if (spec_.format == QueryFormat::kDot) Flush(false);
  }

  Status End(const ResultSummary& summary) override {
    for (const auto& [key, traffic] : nodes_) {
      const std::string id = AddressText(key.address, key.bits);
      text_ += "  ";
      AppendQuoted(text_, id);
      text_ += " [label=";
      AppendQuoted(text_, id);
      text_ += " tooltip=";
      AppendQuoted(text_, id + ": sent " + HumanBytes(traffic.sent) + ", received " +
                              HumanBytes(traffic.received));
      text_ += "];\n";
    }
    if (summary.cut_rows > 0) {
      text_ += "  \"others\" [shape=note label=";
      AppendLabel(text_, {"others", Number(summary.cut_rows) + " more rows, " +
                                        HumanBytes(summary.cut_bytes)});
      text_ += "];\n";
    }
    text_ += "}\n";
    if (spec_.format == QueryFormat::kDot) {
      Flush(true);
      return status_;
    }
    VPCFLOW_RETURN_IF_ERROR(status_);
    Result<ProgramResult> run = RunProgram(
        {options_.dot_program, "-Tsvg"}, text_,
        {.timeout_ms = options_.timeout_ms, .max_output_bytes = options_.max_output_bytes});
    if (!run.ok()) {
      return run.status().WithContext(
          IsNotFound(run.status()) ? "svg needs Graphviz (Debian package graphviz)" : "svg");
    }
    const ProgramResult& svg = *run;
    if (svg.exit_code != 0) {
      return InternalError("graphviz dot failed (exit " + std::to_string(svg.exit_code) +
                           "): " + svg.err.substr(0, svg.err.find('\n')));
    }
    return sink_.Append(svg.out);
  }

 private:
  void Flush(bool always) {
    if (!status_.ok() || (!always && text_.size() < (size_t{1} << 20))) return;
    status_ = sink_.Append(text_);
    text_.clear();
  }

  const QuerySpec& spec_;
  const ResultKind kind_;
  ByteSink& sink_;
  const GraphOptions options_;
  std::string text_;
  std::map<NodeKey, NodeTraffic> nodes_;
  Status status_;
};

}  // namespace

std::string HumanBytes(uint64_t bytes) {
  static constexpr const char* kUnits[] = {"kB", "MB", "GB", "TB", "PB", "EB"};
  if (bytes < 1000) return std::to_string(bytes) + " B";
  double v = static_cast<double>(bytes) / 1000.0;
  size_t unit = 0;
  while (v >= 999.95 && unit + 1 < std::size(kUnits)) {
    v /= 1000.0;
    ++unit;
  }
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.1f %s", v, kUnits[unit]);
  return buf;
}

ResultWriterPtr NewGraphWriter(const QuerySpec& spec, ResultKind kind, ByteSink& sink,
                               const GraphOptions& options) {
  return std::make_unique<GraphWriter>(spec, kind, sink, options);
}

}  // namespace vpcflow
