#include "jobs/job_plan.hpp"

#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <map>

#include "common/civil_time.hpp"
#include "common/json_parse.hpp"
#include "digest/partial_run.hpp"
#include "flowlog/object_key.hpp"
#include "flowlog/planner.hpp"
#include "vpcflow/storage.hpp"

namespace vpcflow {
namespace {

constexpr int64_t kJobPlanVersion = 1;

uint64_t EstimateTextBytes(const ObjectInfo& object, const std::optional<FlowLogKey>& key) {
  const double size = static_cast<double>(object.size);
  if (!key) return object.size;
  switch (key->kind) {
    case ObjectKind::kGzipText:
      return static_cast<uint64_t>(size * kGzipTextFactor);
    case ObjectKind::kParquet:
      return static_cast<uint64_t>(size * kParquetTextFactor);
    case ObjectKind::kPlainText:
      break;
  }
  return object.size;
}

// "<account>-<region>-<yyyymmddhh>" of the object's file name.
std::string GroupName(const std::optional<FlowLogKey>& key) {
  if (!key) return "other";
  const CivilTime t = FromUnixSeconds(key->file_time);
  char hour[16];
  std::snprintf(hour, sizeof(hour), "%04d%02d%02d%02d", t.year, t.month, t.day, t.hour);
  return std::string(key->account) + "-" + std::string(key->region) + "-" + hour;
}

boost::json::object ShardJson(const Shard& shard) {
  boost::json::array objects;
  for (const ObjectInfo& o : shard.objects) {
    objects.emplace_back(boost::json::object{{"key", o.key}, {"size", o.size}});
  }
  return {{"name", shard.name},
          {"stored_bytes", shard.stored_bytes},
          {"estimated_text_bytes", shard.estimated_text_bytes},
          {"objects", std::move(objects)}};
}

boost::json::object WindowJson(const Window& w) { return {{"start", w.start}, {"stop", w.stop}}; }

Status Bad(std::string_view what) {
  return InvalidArgumentError("not a job plan: " + std::string(what));
}

bool GetUint(const boost::json::object& o, std::string_view name, uint64_t* out) {
  const boost::json::value* v = o.if_contains(name);
  if (v == nullptr) return false;
  if (v->is_uint64()) {
    *out = v->get_uint64();
  } else if (v->is_int64() && v->get_int64() >= 0) {
    *out = static_cast<uint64_t>(v->get_int64());
  } else {
    return false;
  }
  return true;
}

bool GetInt(const boost::json::object& o, std::string_view name, int64_t* out) {
  const boost::json::value* v = o.if_contains(name);
  if (v == nullptr || !v->is_int64()) return false;
  *out = v->get_int64();
  return true;
}

Result<Window> WindowFrom(const boost::json::object& o) {
  const boost::json::value* w = o.if_contains("window");
  Window window;
  if (w == nullptr || !w->is_object() || !GetInt(w->get_object(), "start", &window.start) ||
      !GetInt(w->get_object(), "stop", &window.stop) || window.start >= window.stop) {
    return Bad("bad window");
  }
  return window;
}

Result<Shard> ShardFrom(const boost::json::value& v) {
  const boost::json::object* o = v.if_object();
  if (o == nullptr) return Bad("a shard is not an object");
  Shard shard;
  const boost::json::value* name = o->if_contains("name");
  if (name == nullptr || !name->is_string()) return Bad("a shard without a name");
  shard.name = std::string(name->get_string());
  if (Status st = ValidatePartialName(shard.name); !st.ok()) return Bad(st.message());
  if (!GetUint(*o, "stored_bytes", &shard.stored_bytes) ||
      !GetUint(*o, "estimated_text_bytes", &shard.estimated_text_bytes)) {
    return Bad("shard " + shard.name + ": bad sizes");
  }
  const boost::json::value* objects = o->if_contains("objects");
  if (objects == nullptr || !objects->is_array()) return Bad("shard " + shard.name + ": objects");
  for (const boost::json::value& ov : objects->get_array()) {
    const boost::json::object* obj = ov.if_object();
    ObjectInfo info;
    const boost::json::value* key = obj != nullptr ? obj->if_contains("key") : nullptr;
    if (key == nullptr || !key->is_string() || !GetUint(*obj, "size", &info.size)) {
      return Bad("shard " + shard.name + ": a bad object");
    }
    info.key = std::string(key->get_string());
    shard.objects.push_back(std::move(info));
  }
  return shard;
}

Result<boost::json::object> ParseVersioned(std::string_view json) {
  Result<boost::json::value> parsed = ParseJsonStrict(json);
  if (!parsed.ok()) return Bad(parsed.status().message());
  if (!parsed->is_object()) return Bad("not an object");
  boost::json::object o = std::move(parsed->get_object());
  int64_t version = 0;
  if (!GetInt(o, "version", &version) || version < 1) return Bad("no version");
  if (version > kJobPlanVersion) {
    return FailedPreconditionError("job plan version " + std::to_string(version) +
                                   " is newer than this program's");
  }
  return o;
}

}  // namespace

Result<JobPlan> PlanJob(ObjectSource& source, const Window& window, const ScanOptions& scan,
                        const ShardOptions& options) {
  const auto t0 = std::chrono::steady_clock::now();
  if (window.start >= window.stop) {
    return InvalidArgumentError("the window's start must be before its stop");
  }
  if (options.target_text_bytes == 0 || options.max_objects == 0) {
    return InvalidArgumentError("a shard's target must be above zero");
  }
  Result<ObjectPlan> listed = PlanObjects(source, window, scan);
  if (!listed.ok()) return listed.status().WithContext("listing " + source.Describe());

  JobPlan plan;
  plan.window = window;
  DigestSummary& s = plan.planning;
  s.window = window;
  s.objects_listed = listed->listed;
  s.objects_ignored = listed->ignored;
  s.objects_out_of_range = listed->out_of_range;
  s.objects_empty = listed->empty;
  s.list_requests = listed->list_requests;
  s.problems = std::move(listed->problems);
  s.objects_not_files = s.problems.size();

  // Objects come in key order; within a group they keep it, so the split is deterministic.
  std::map<std::string, std::vector<std::pair<ObjectInfo, uint64_t>>> groups;
  for (ObjectInfo& o : listed->objects) {
    const std::optional<FlowLogKey> key = ParseFlowLogKey(o.key);
    const uint64_t text = EstimateTextBytes(o, key);
    groups[GroupName(key)].emplace_back(std::move(o), text);
  }
  for (auto& entry : groups) {
    // Named, not a structured binding: clang before 16 cannot capture those in a lambda.
    const std::string& group = entry.first;
    std::vector<std::pair<ObjectInfo, uint64_t>>& objects = entry.second;
    int n = 0;
    Shard shard;
    auto close = [&]() {
      shard.name = group + "-" + std::to_string(n++);
      plan.shards.push_back(std::move(shard));
      shard = Shard{};
    };
    for (auto& [object, text] : objects) {
      if (!shard.objects.empty() &&
          (shard.estimated_text_bytes + text > options.target_text_bytes ||
           shard.objects.size() >= options.max_objects)) {
        close();
      }
      shard.stored_bytes += object.size;
      shard.estimated_text_bytes += text;
      shard.objects.push_back(std::move(object));
    }
    if (!shard.objects.empty()) close();
  }
  s.list_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return plan;
}

std::string JobPlanToJson(const JobPlan& plan) {
  boost::json::array shards;
  for (const Shard& shard : plan.shards) shards.emplace_back(ShardJson(shard));
  boost::json::object o{{"version", kJobPlanVersion},
                        {"window", WindowJson(plan.window)},
                        {"planning", boost::json::parse(SummaryToTrailerJson(plan.planning))},
                        {"shards", std::move(shards)}};
  return boost::json::serialize(o);
}

Result<JobPlan> JobPlanFromJson(std::string_view json) {
  VPCFLOW_ASSIGN_OR_RETURN(boost::json::object o, ParseVersioned(json));
  JobPlan plan;
  VPCFLOW_ASSIGN_OR_RETURN(plan.window, WindowFrom(o));
  const boost::json::value* planning = o.if_contains("planning");
  if (planning == nullptr || !planning->is_object()) return Bad("no planning summary");
  Result<DigestSummary> summary = SummaryFromTrailerJson(boost::json::serialize(*planning));
  if (!summary.ok()) return Bad(summary.status().message());
  plan.planning = std::move(summary).value();
  const boost::json::value* shards = o.if_contains("shards");
  if (shards == nullptr || !shards->is_array()) return Bad("no shards");
  for (const boost::json::value& v : shards->get_array()) {
    VPCFLOW_ASSIGN_OR_RETURN(Shard shard, ShardFrom(v));
    plan.shards.push_back(std::move(shard));
  }
  return plan;
}

std::string ShardTaskToJson(const Window& window, const Shard& shard, std::string_view plan_id) {
  boost::json::object o{
      {"version", kJobPlanVersion}, {"window", WindowJson(window)}, {"shard", ShardJson(shard)}};
  if (!plan_id.empty()) o["plan"] = boost::json::string_view(plan_id.data(), plan_id.size());
  return boost::json::serialize(o);
}

Result<ShardTask> ShardTaskFromJson(std::string_view json) {
  VPCFLOW_ASSIGN_OR_RETURN(boost::json::object o, ParseVersioned(json));
  ShardTask task;
  VPCFLOW_ASSIGN_OR_RETURN(task.window, WindowFrom(o));
  const boost::json::value* shard = o.if_contains("shard");
  if (shard == nullptr) return Bad("no shard");
  VPCFLOW_ASSIGN_OR_RETURN(task.shard, ShardFrom(*shard));
  if (const boost::json::value* plan = o.if_contains("plan"); plan != nullptr) {
    if (!plan->is_string()) return Bad("plan is not a string");
    task.plan_id = std::string(plan->as_string());
  }
  return task;
}

}  // namespace vpcflow
