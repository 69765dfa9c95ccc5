#include "modules/marker/mark_record.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <random>

#include "common/process_identity.hpp"
#include "modules/text_format.hpp"

namespace vpcflow {
namespace {

namespace json = boost::json;

json::string_view Json(std::string_view s) { return json::string_view(s.data(), s.size()); }

std::string StringField(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(Json(key));
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

int64_t IntField(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(Json(key));
  return v != nullptr && v->is_int64() ? v->get_int64() : 0;
}

}  // namespace

std::string_view MarkStateName(MarkState state) {
  switch (state) {
    case MarkState::kAbsent:
      return "absent";
    case MarkState::kInProgress:
      return "in_progress";
    case MarkState::kStale:
      return "stale";
    case MarkState::kFailed:
      return "failed";
  }
  return "unknown";
}

std::string NewInstanceId() {
  std::random_device device;
  std::mt19937_64 random((static_cast<uint64_t>(device()) << 32) ^ device());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 16; ++i) out.push_back(kHex[random() & 15]);
  return out;
}

std::string_view MarkPhaseName(MarkPhase phase) {
  return phase == MarkPhase::kRunning ? "running" : "queued";
}

const MarkOwner& ThisMarkOwner() {
  static const MarkOwner owner = [] {
    const ProcessIdentity& p = ThisProcess();
    return MarkOwner{.host = p.host,
                     .boot_id = p.boot_id,
                     .pid_namespace = p.pid_namespace,
                     .pid = p.pid,
                     .start_ticks = p.start_ticks,
                     .instance = NewInstanceId()};
  }();
  return owner;
}

MarkInfo NewMark(const Window& window, MarkPhase phase, const MarkOwner& owner, int64_t now_unix_ms,
                 int64_t heartbeat_ms) {
  return MarkInfo{.state = MarkState::kInProgress,
                  .written_unix_ms = now_unix_ms,
                  .window = window,
                  .owner = owner,
                  .phase = phase,
                  .heartbeat_ms = heartbeat_ms};
}

std::string EncodeMarkBody(const MarkInfo& mark) {
  json::object o;
  o["heartbeat"] = FormatRfc3339Millis(mark.written_unix_ms);
  o["heartbeat_ms"] = mark.heartbeat_ms;
  o["phase"] = Json(MarkPhaseName(mark.phase));
  if (mark.window) {
    o["start"] = FormatRfc3339(mark.window->start);
    o["stop"] = FormatRfc3339(mark.window->stop);
  }
  if (mark.owner) {
    const MarkOwner& w = *mark.owner;
    o["owner"] = {
        {"host", w.host}, {"boot_id", w.boot_id},         {"pid_namespace", w.pid_namespace},
        {"pid", w.pid},   {"start_ticks", w.start_ticks}, {"instance", w.instance}};
  }
  return json::serialize(o);
}

std::optional<MarkInfo> DecodeMarkBody(std::string_view body) {
  while (!body.empty() && (body.back() == '\n' || body.back() == '\r' || body.back() == ' ')) {
    body.remove_suffix(1);
  }
  MarkInfo mark;
  mark.state = MarkState::kInProgress;
  if (!body.starts_with('{')) {
    std::optional<int64_t> written = ParseRfc3339Millis(body);
    if (!written) return std::nullopt;
    mark.written_unix_ms = *written;
    return mark;
  }
  boost::system::error_code ec;
  json::value v = json::parse(Json(body), ec);
  if (ec || !v.is_object()) return std::nullopt;
  const json::object& o = v.get_object();
  std::optional<int64_t> written = ParseRfc3339Millis(StringField(o, "heartbeat"));
  if (!written) return std::nullopt;
  mark.written_unix_ms = *written;
  mark.heartbeat_ms = std::clamp<int64_t>(IntField(o, "heartbeat_ms"), 0, kMaxHeartbeatMs);
  mark.phase = StringField(o, "phase") == "running" ? MarkPhase::kRunning : MarkPhase::kQueued;
  Result<Window> window = MakeWindow(StringField(o, "start"), StringField(o, "stop"), 0);
  if (window.ok()) mark.window = *window;
  if (const json::value* owner = o.if_contains("owner"); owner != nullptr && owner->is_object()) {
    const json::object& w = owner->get_object();
    mark.owner = MarkOwner{.host = StringField(w, "host"),
                           .boot_id = StringField(w, "boot_id"),
                           .pid_namespace = StringField(w, "pid_namespace"),
                           .pid = IntField(w, "pid"),
                           .start_ticks = IntField(w, "start_ticks"),
                           .instance = StringField(w, "instance")};
  }
  return mark;
}

void JudgeMark(MarkInfo* mark, int64_t now_unix_ms, int64_t ttl_ms) {
  bool live = true;
  if (mark->owner) {
    const MarkOwner& w = *mark->owner;
    live = LivenessOf({.host = w.host,
                       .boot_id = w.boot_id,
                       .pid_namespace = w.pid_namespace,
                       .pid = w.pid,
                       .start_ticks = w.start_ticks}) != Liveness::kGone;
  }
  // Times come from RFC 3339 texts (years 1970-9999) and the clock, and heartbeat_ms is clamped,
  // so the age and the lifetime cannot overflow; ttl_ms is only compared.
  int64_t lifetime = std::max<int64_t>(ttl_ms, 0);
  if (mark->heartbeat_ms > 0) {
    lifetime = std::min(lifetime, kStaleHeartbeats * std::min(mark->heartbeat_ms, kMaxHeartbeatMs));
  }
  live = live && now_unix_ms - mark->written_unix_ms < lifetime;
  mark->state = live ? MarkState::kInProgress : MarkState::kStale;
}

bool HeldBy(const MarkInfo& mark, const MarkOwner& owner) {
  return mark.owner && mark.owner->instance == owner.instance;
}

bool MayClaim(const MarkInfo& mark, const MarkOwner& owner) {
  return mark.state != MarkState::kInProgress || mark.phase != MarkPhase::kRunning ||
         HeldBy(mark, owner);
}

Result<MarkerOptions> CompleteMarkerOptions(MarkerOptions options, std::string_view what) {
  if (options.ttl_ms <= 0) {
    return InvalidArgumentError(std::string(what) +
                                ": the progress timeout must be positive, got " +
                                std::to_string(options.ttl_ms) + " ms");
  }
  if (options.heartbeat_ms <= 0) {
    return InvalidArgumentError(std::string(what) + ": the heartbeat interval must be positive");
  }
  options.heartbeat_ms = std::min(options.heartbeat_ms, kMaxHeartbeatMs);
  if (options.clock == nullptr) options.clock = SystemClock();
  if (!options.owner) options.owner = ThisMarkOwner();
  return options;
}

}  // namespace vpcflow
