#include "query/query.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

#include "query/group_table.hpp"

namespace vpcflow {
namespace {

uint64_t Metric(RankBy by, uint64_t packets, uint64_t bytes, uint64_t flows) {
  return by == RankBy::kBytes ? bytes : by == RankBy::kPackets ? packets : flows;
}

uint64_t Distance(uint64_t a, uint64_t b) { return a > b ? a - b : b - a; }

Status CheckFlows(const QuerySpec& spec, const RowSource& rows) {
  return CheckRowsAnswer(spec, rows.has_flows());
}

// The N best ungrouped rows (by value descending, then first read), in a heap whose top is the
// worst kept; rows own their strings through an interner.
class TopRows {
 public:
  TopRows(RankBy by, uint64_t n, bool has_flows) : by_(by), n_(n), has_flows_(has_flows) {}

  void Add(const RowView& row, uint64_t seq) {
    const FlowRecord& r = row.record;
    const uint64_t metric = Metric(by_, r.packets, r.bytes, row.flows);
    if (heap_.size() == n_ && !Better(metric, seq, heap_.front())) return;
    Kept k;
    k.metric = metric;
    k.seq = seq;
    k.entry.key = MakeDigestKey(
        r, owners_.Intern(r.account_id, r.interface_id, HashOwner(r.account_id, r.interface_id)));
    k.entry.value = {r.packets, r.bytes, row.flows, r.start, r.end};
    auto worse_first = [](const Kept& a, const Kept& b) { return Better(a.metric, a.seq, b); };
    if (heap_.size() == n_) {
      std::pop_heap(heap_.begin(), heap_.end(), worse_first);
      heap_.back() = k;
    } else {
      heap_.push_back(k);
    }
    std::push_heap(heap_.begin(), heap_.end(), worse_first);
  }

  // Best first; leaves the heap sorted.
  void Write(ResultWriter& writer, ResultSummary* summary) {
    std::sort(heap_.begin(), heap_.end(),
              [](const Kept& a, const Kept& b) { return Better(a.metric, a.seq, b); });
    uint64_t packets = 0, bytes = 0;
    for (const Kept& k : heap_) {
      ResultRow row;
      row.view = MakeRowView(k.entry, owners_.account(k.entry.key.owner),
                             owners_.interface(k.entry.key.owner));
      row.view.has_flows = has_flows_;
      const FlowRecord& r = row.view.record;
      packets += r.packets;
      bytes += r.bytes;
      writer.Row(row);
    }
    summary->cut_rows = summary->result_rows - heap_.size();
    summary->cut_packets = summary->totals.packets - packets;
    summary->cut_bytes = summary->totals.bytes - bytes;
  }

 private:
  struct Kept {
    uint64_t metric;
    uint64_t seq;
    DigestEntry entry;
  };
  static bool Better(uint64_t metric, uint64_t seq, const Kept& other) {
    return metric != other.metric ? metric > other.metric : seq < other.seq;
  }

  RankBy by_;
  uint64_t n_;
  bool has_flows_;
  OwnerInterner owners_;
  std::vector<Kept> heap_;
};

// Orders `order` (indices of result rows) by value descending then key, and keeps the first
// `top` (0: all) at the front; returns how many to write.
template <typename Value, typename KeyLess>
size_t Rank(std::vector<size_t>& order, uint64_t top, Value value, KeyLess key_less) {
  auto better = [&](size_t a, size_t b) {
    const uint64_t va = value(a), vb = value(b);
    return va != vb ? va > vb : key_less(a, b);
  };
  const size_t keep = top == 0 ? order.size() : std::min<size_t>(order.size(), top);
  std::partial_sort(order.begin(), order.begin() + static_cast<ptrdiff_t>(keep), order.end(),
                    better);
  return keep;
}

}  // namespace

Status CheckRowsAnswer(const QuerySpec& spec, bool has_flows) {
  if (spec.needs_flows() && !has_flows) {
    return FailedPreconditionError(
        "this query needs the flows count, which this digest does not have (a stored digest "
        "made before the rows sidecar, or without it); filter and rank by packets or bytes "
        "instead");
  }
  return OkStatus();
}

Status RunQuery(RowSource& rows, const QuerySpec& spec, ByteSink& sink,
                const QueryOptions& options) {
  VPCFLOW_RETURN_IF_ERROR(CheckFlows(spec, rows));
  const ResultKind kind = spec.conversation ? ResultKind::kConversations : ResultKind::kRows;
  ResultWriterPtr writer = NewResultWriter(spec, kind, sink, options.graph);
  ResultSummary summary;
  summary.totals.has_flows = rows.has_flows();
  WindowTotals& totals = summary.totals;

  if (!spec.grouped() && spec.top == 0) {
    VPCFLOW_RETURN_IF_ERROR(rows.ForEach([&](const RowView& row) {
      ++totals.rows_read;
      if (!spec.filter.Matches(row)) return true;
      totals.Add(row);
      writer->Row(ResultRow{.view = row});
      return writer->ok();
    }));
    summary.result_rows = totals.rows;
    return writer->End(summary);
  }

  if (!spec.grouped()) {
    TopRows top(spec.by, spec.top, rows.has_flows());
    VPCFLOW_RETURN_IF_ERROR(rows.ForEach([&](const RowView& row) {
      ++totals.rows_read;
      if (!spec.filter.Matches(row)) return true;
      top.Add(row, totals.rows);
      totals.Add(row);
      return true;
    }));
    summary.result_rows = totals.rows;
    top.Write(*writer, &summary);
    return writer->End(summary);
  }

  GroupTable groups(spec, rows.has_flows());
  VPCFLOW_RETURN_IF_ERROR(rows.ForEach([&](const RowView& row) {
    ++totals.rows_read;
    if (!spec.filter.Matches(row)) return true;
    totals.Add(row);
    groups.Add(row);
    return true;
  }));
  groups.Finish();
  std::vector<size_t> order(groups.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  const size_t keep = Rank(
      order, spec.top,
      [&](size_t i) {
        const DigestValue& v = groups.entry(i).value;
        return Metric(spec.by, v.packets, v.bytes, v.flows);
      },
      [&](size_t a, size_t b) { return GroupTable::KeyLess(groups, a, groups, b); });
  summary.result_rows = groups.size();
  for (size_t k = 0; k < order.size(); ++k) {
    if (k < keep) {
      writer->Row(groups.Row(order[k]));
    } else {
      const DigestValue& v = groups.entry(order[k]).value;
      ++summary.cut_rows;
      summary.cut_packets += v.packets;
      summary.cut_bytes += v.bytes;
    }
  }
  return writer->End(summary);
}

Status RunDiff(RowSource& base, RowSource& current, const QuerySpec& spec, ByteSink& sink,
               const QueryOptions& options) {
  VPCFLOW_RETURN_IF_ERROR(CheckFlows(spec, base));
  VPCFLOW_RETURN_IF_ERROR(CheckFlows(spec, current));
  ResultSummary summary;
  summary.base.has_flows = base.has_flows();
  summary.totals.has_flows = current.has_flows();
  auto aggregate = [&spec](RowSource& rows, WindowTotals& totals, GroupTable& groups) {
    Status status = rows.ForEach([&](const RowView& row) {
      ++totals.rows_read;
      if (!spec.filter.Matches(row)) return true;
      totals.Add(row);
      groups.Add(row);
      return true;
    });
    groups.Finish();
    return status;
  };
  GroupTable before(spec, base.has_flows());
  VPCFLOW_RETURN_IF_ERROR(aggregate(base, summary.base, before));
  GroupTable after(spec, current.has_flows());
  VPCFLOW_RETURN_IF_ERROR(aggregate(current, summary.totals, after));

  // Each change: the group in `after` (or -1) and in `before` (or -1).
  struct Change {
    int64_t now;
    int64_t then;
    DiffChange kind;
  };
  std::vector<Change> changes;
  std::vector<bool> matched(before.size(), false);
  for (size_t i = 0; i < after.size(); ++i) {
    const int64_t j = before.Find(after.entry(i).key, after.account(i), after.interface(i));
    if (j < 0) {
      changes.push_back({static_cast<int64_t>(i), -1, DiffChange::kNew});
      continue;
    }
    matched[static_cast<size_t>(j)] = true;
    const double was = static_cast<double>(before.entry(static_cast<size_t>(j)).value.bytes);
    const double now = static_cast<double>(after.entry(i).value.bytes);
    const bool changed =
        was == 0 ? now > 0 : std::abs(now - was) * 100.0 > spec.change_percent * was;
    if (changed) changes.push_back({static_cast<int64_t>(i), j, DiffChange::kChanged});
  }
  for (size_t j = 0; j < before.size(); ++j) {
    if (!matched[j]) changes.push_back({-1, static_cast<int64_t>(j), DiffChange::kGone});
  }

  auto value_of = [&](const Change& c, bool then) -> DigestValue {
    const int64_t i = then ? c.then : c.now;
    if (i < 0) return DigestValue{};
    return (then ? before : after).entry(static_cast<size_t>(i)).value;
  };
  auto key_of = [&](const Change& c) {
    return c.now >= 0 ? std::pair<const GroupTable*, size_t>(&after, c.now)
                      : std::pair<const GroupTable*, size_t>(&before, c.then);
  };
  std::vector<size_t> order(changes.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  const size_t keep = Rank(
      order, spec.top,
      [&](size_t i) {
        const DigestValue a = value_of(changes[i], true), b = value_of(changes[i], false);
        return Distance(Metric(spec.by, a.packets, a.bytes, a.flows),
                        Metric(spec.by, b.packets, b.bytes, b.flows));
      },
      [&](size_t a, size_t b) {
        const auto [ta, ia] = key_of(changes[a]);
        const auto [tb, ib] = key_of(changes[b]);
        return GroupTable::KeyLess(*ta, ia, *tb, ib);
      });

  ResultWriterPtr writer = NewResultWriter(spec, ResultKind::kDiff, sink, options.graph);
  summary.result_rows = changes.size();
  for (size_t k = 0; k < order.size(); ++k) {
    const Change& c = changes[order[k]];
    const DigestValue then = value_of(c, true);
    const DigestValue now = value_of(c, false);
    summary.new_rows += c.kind == DiffChange::kNew;
    summary.gone_rows += c.kind == DiffChange::kGone;
    summary.changed_rows += c.kind == DiffChange::kChanged;
    if (k >= keep) {
      ++summary.cut_rows;
      summary.cut_packets += c.kind == DiffChange::kGone ? then.packets : now.packets;
      summary.cut_bytes += c.kind == DiffChange::kGone ? then.bytes : now.bytes;
      continue;
    }
    ResultRow row;
    if (c.now >= 0) {
      row = after.Row(static_cast<size_t>(c.now));
    } else {
      row = before.Row(static_cast<size_t>(c.then));
      FlowRecord& r = row.view.record;
      r.packets = 0;
      r.bytes = 0;
      row.view.flows = 0;
      row.dst_packets = 0;
      row.dst_bytes = 0;
    }
    row.change = c.kind;
    row.base_packets = then.packets;
    row.base_bytes = then.bytes;
    writer->Row(row);
  }
  return writer->End(summary);
}

}  // namespace vpcflow
