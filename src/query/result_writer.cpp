#include "query/result_writer.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <string>

#include "common/chunk_writer.hpp"
#include "query/graph_writer.hpp"

namespace vpcflow {
namespace {

namespace json = boost::json;

constexpr std::string_view kConversationColumns = ",src_packets,src_bytes,dst_packets,dst_bytes";
constexpr std::string_view kDiffColumns = ",change,base_packets,base_bytes";

json::value TotalsJson(const WindowTotals& t) {
  json::object o;
  o["rows_read"] = t.rows_read;
  o["rows"] = t.rows;
  o["packets"] = t.packets;
  o["bytes"] = t.bytes;
  o["flows"] = t.has_flows ? json::value(t.flows) : json::value(nullptr);
  o["start"] = t.start;
  o["end"] = t.end;
  json::object actions;
  static constexpr const char* kNames[] = {"-", "ACCEPT", "REJECT"};
  for (size_t a = 0; a < t.by_action.size(); ++a) {
    actions[kNames[a]] = {{"rows", t.by_action[a].rows},
                          {"packets", t.by_action[a].packets},
                          {"bytes", t.by_action[a].bytes}};
  }
  o["by_action"] = std::move(actions);
  return o;
}

std::string_view RankByName(RankBy by) {
  return by == RankBy::kBytes ? "bytes" : by == RankBy::kPackets ? "packets" : "flows";
}

// flowlog, ndjson, csv and json: rows formatted into chunks as they come.
class TextWriter final : public ResultWriter {
 public:
  TextWriter(const QuerySpec& spec, ResultKind kind, ByteSink& sink)
      : spec_(spec), kind_(kind), out_(sink) {
    if (spec.format == QueryFormat::kCsv) {
      out_.Append(kCsvColumns);
      if (kind == ResultKind::kConversations) out_.Append(kConversationColumns);
      if (kind == ResultKind::kDiff) out_.Append(kDiffColumns);
      out_.Append("\n");
    } else if (spec.format == QueryFormat::kJson) {
      out_.Append("{\"rows\":[");
    }
  }

  bool ok() const override { return out_.ok(); }

  void Row(const ResultRow& row) override {
    char* p = out_.Reserve(RowRoom(row.view) + 128);
    switch (spec_.format) {
      case QueryFormat::kFlowLog:
        p = PutFlowLogLine(p, row.view);
        break;
      case QueryFormat::kCsv:
        p = PutCsvColumns(p, row.view);
        p = PutExtraCsv(p, row);
        *p++ = '\n';
        break;
      default:  // ndjson, json
        if (spec_.format == QueryFormat::kJson && rows_ > 0) *p++ = ',';
        *p++ = '{';
        p = PutNdjsonMembers(p, row.view);
        p = PutExtraJson(p, row);
        *p++ = '}';
        if (spec_.format == QueryFormat::kNdjson) *p++ = '\n';
        break;
    }
    out_.Commit(p);
    ++rows_;
  }

  Status End(const ResultSummary& summary) override {
    if (spec_.format == QueryFormat::kJson) {
      json::object rest;
      rest["totals"] = TotalsJson(summary.totals);
      if (kind_ == ResultKind::kDiff) {
        rest["base_totals"] = TotalsJson(summary.base);
        rest["changes"] = {{"new", summary.new_rows},
                           {"gone", summary.gone_rows},
                           {"changed", summary.changed_rows}};
      }
      rest["result_rows"] = summary.result_rows;
      rest["cut"] = {{"rows", summary.cut_rows},
                     {"packets", summary.cut_packets},
                     {"bytes", summary.cut_bytes}};
      json::object query;
      query["filter"] = spec_.filter.text();
      query["conversation"] = spec_.conversation;
      query["top"] = spec_.top;
      query["by"] = RankByName(spec_.by);
      if (kind_ == ResultKind::kDiff) query["change"] = spec_.change_percent;
      rest["query"] = std::move(query);
      // The rows are already out: close the array and continue the object with the rest.
      std::string tail = json::serialize(rest);
      tail[0] = ',';
      out_.Append("]");
      out_.Append(tail);
      out_.Append("\n");
    }
    return out_.Finish();
  }

 private:
  char* PutExtraJson(char* p, const ResultRow& row) const {
    if (kind_ == ResultKind::kConversations) {
      p = CharBuffer::Put(p, ",\"src_packets\":");
      p = PutDecimal(p, row.view.record.packets - row.dst_packets);
      p = CharBuffer::Put(p, ",\"src_bytes\":");
      p = PutDecimal(p, row.view.record.bytes - row.dst_bytes);
      p = CharBuffer::Put(p, ",\"dst_packets\":");
      p = PutDecimal(p, row.dst_packets);
      p = CharBuffer::Put(p, ",\"dst_bytes\":");
      p = PutDecimal(p, row.dst_bytes);
    } else if (kind_ == ResultKind::kDiff) {
      p = CharBuffer::Put(p, ",\"change\":\"");
      p = CharBuffer::Put(p, DiffChangeName(row.change));
      p = CharBuffer::Put(p, "\",\"base_packets\":");
      p = PutDecimal(p, row.base_packets);
      p = CharBuffer::Put(p, ",\"base_bytes\":");
      p = PutDecimal(p, row.base_bytes);
    }
    return p;
  }

  char* PutExtraCsv(char* p, const ResultRow& row) const {
    if (kind_ == ResultKind::kConversations) {
      *p++ = ',';
      p = PutDecimal(p, row.view.record.packets - row.dst_packets);
      *p++ = ',';
      p = PutDecimal(p, row.view.record.bytes - row.dst_bytes);
      *p++ = ',';
      p = PutDecimal(p, row.dst_packets);
      *p++ = ',';
      p = PutDecimal(p, row.dst_bytes);
    } else if (kind_ == ResultKind::kDiff) {
      *p++ = ',';
      p = CharBuffer::Put(p, DiffChangeName(row.change));
      *p++ = ',';
      p = PutDecimal(p, row.base_packets);
      *p++ = ',';
      p = PutDecimal(p, row.base_bytes);
    }
    return p;
  }

  const QuerySpec& spec_;
  const ResultKind kind_;
  ChunkWriter out_;
  uint64_t rows_ = 0;
};

}  // namespace

std::string_view DiffChangeName(DiffChange change) {
  switch (change) {
    case DiffChange::kNew:
      return "new";
    case DiffChange::kGone:
      return "gone";
    case DiffChange::kChanged:
      return "changed";
    case DiffChange::kNone:
      break;
  }
  return "";
}

void WindowTotals::Add(const RowView& row) {
  const FlowRecord& r = row.record;
  if (rows == 0 || r.start < start) start = r.start;
  if (rows == 0 || r.end > end) end = r.end;
  ++rows;
  packets += r.packets;
  bytes += r.bytes;
  flows += row.flows;
  Part& part = by_action[static_cast<size_t>(r.action) % by_action.size()];
  ++part.rows;
  part.packets += r.packets;
  part.bytes += r.bytes;
}

ResultWriterPtr NewResultWriter(const QuerySpec& spec, ResultKind kind, ByteSink& sink,
                                const GraphOptions& graph) {
  if (spec.format == QueryFormat::kDot || spec.format == QueryFormat::kSvg) {
    return NewGraphWriter(spec, kind, sink, graph);
  }
  return std::make_unique<TextWriter>(spec, kind, sink);
}

}  // namespace vpcflow
