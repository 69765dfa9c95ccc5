// JobState's JSON and the worker name (include/vpcflow/job_state.hpp).
#include "vpcflow/job_state.hpp"

#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>

#include "common/json_parse.hpp"
#include "common/process_identity.hpp"

namespace vpcflow {
namespace {

namespace json = boost::json;

// The unsigned (or non-negative integer) `key` of `o`; false when missing or of another type.
bool ReadUint(const json::object& o, std::string_view key, uint64_t* out) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return false;
  if (v->is_uint64()) {
    *out = v->as_uint64();
    return true;
  }
  if (v->is_int64() && v->as_int64() >= 0) {
    *out = static_cast<uint64_t>(v->as_int64());
    return true;
  }
  return false;
}

bool ReadInt(const json::object& o, std::string_view key, int64_t* out) {
  uint64_t u = 0;
  if (!ReadUint(o, key, &u) || u > static_cast<uint64_t>(INT64_MAX)) return false;
  *out = static_cast<int64_t>(u);
  return true;
}

}  // namespace

std::string ThisWorkerName() {
  const ProcessIdentity& p = ThisProcess();
  return p.host + "/" + std::to_string(p.pid);
}

std::string JobStateToJson(const JobState& s) {
  json::object o;
  o["phase"] = s.phase == JobPhase::kQueued ? "queued" : "running";
  o["progress"] = {{"objects_done", s.progress.objects_done},
                   {"objects_total", s.progress.objects_total},
                   {"bytes_done", s.progress.bytes_done},
                   {"bytes_total", s.progress.bytes_total}};
  o["shards_total"] = s.shards_total;
  o["shards_done"] = s.shards_done;
  json::object holders;
  for (const auto& [task, worker] : s.holders) holders[task] = worker;
  o["holders"] = std::move(holders);
  o["failure"] = s.failure;
  o["updated"] = s.updated_unix_ms;
  return json::serialize(o);
}

Result<JobState> JobStateFromJson(std::string_view text) {
  VPCFLOW_ASSIGN_OR_RETURN(json::value v, ParseJsonStrict(text));
  const Status bad = InvalidArgumentError("not a job state");
  if (!v.is_object()) return bad;
  const json::object& o = v.as_object();
  JobState s;
  const json::value* phase = o.if_contains("phase");
  if (phase == nullptr || !phase->is_string()) return bad;
  if (phase->as_string() == "queued") {
    s.phase = JobPhase::kQueued;
  } else if (phase->as_string() == "running") {
    s.phase = JobPhase::kRunning;
  } else {
    return bad;
  }
  const json::value* progress = o.if_contains("progress");
  if (progress == nullptr || !progress->is_object()) return bad;
  const json::object& p = progress->as_object();
  if (!ReadUint(p, "objects_done", &s.progress.objects_done) ||
      !ReadUint(p, "objects_total", &s.progress.objects_total) ||
      !ReadUint(p, "bytes_done", &s.progress.bytes_done) ||
      !ReadUint(p, "bytes_total", &s.progress.bytes_total) ||
      !ReadInt(o, "shards_total", &s.shards_total) || !ReadInt(o, "shards_done", &s.shards_done) ||
      !ReadInt(o, "updated", &s.updated_unix_ms)) {
    return bad;
  }
  const json::value* holders = o.if_contains("holders");
  if (holders == nullptr || !holders->is_object()) return bad;
  for (const auto& [task, worker] : holders->as_object()) {
    if (!worker.is_string()) return bad;
    s.holders.emplace(std::string(task), std::string(worker.as_string()));
  }
  const json::value* failure = o.if_contains("failure");
  if (failure == nullptr || !failure->is_string()) return bad;
  s.failure = std::string(failure->as_string());
  return s;
}

}  // namespace vpcflow
