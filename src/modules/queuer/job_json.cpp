#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <optional>

#include "common/json_parse.hpp"
#include "vpcflow/queuer.hpp"

namespace vpcflow {

std::string JobToJson(const Job& job) {
  boost::json::object json;
  json["id"] = job.id;
  json["start"] = FormatRfc3339(job.window.start);
  json["stop"] = FormatRfc3339(job.window.stop);
  return boost::json::serialize(json);
}

Result<Job> JobFromJson(std::string_view text, int64_t max_window_seconds) {
  Result<boost::json::value> parsed = ParseJsonStrict(text);
  if (!parsed.ok()) return InvalidArgumentError("the job is " + parsed.status().message());
  if (!parsed->is_object()) return InvalidArgumentError("the job must be a JSON object");
  const boost::json::object& json = parsed->as_object();
  auto string_field = [&](const char* key) -> std::optional<std::string_view> {
    const boost::json::value* v = json.if_contains(key);
    if (v == nullptr || !v->is_string()) return std::nullopt;
    return std::string_view(v->as_string().data(), v->as_string().size());
  };
  const std::optional<std::string_view> start = string_field("start");
  const std::optional<std::string_view> stop = string_field("stop");
  if (!start || !stop) {
    return InvalidArgumentError(R"(the job needs "start" and "stop" as RFC 3339 strings)");
  }
  VPCFLOW_ASSIGN_OR_RETURN(Window window, MakeWindow(*start, *stop, max_window_seconds));
  Job job{.id = DigestId(window), .window = window};
  if (json.contains("id")) {
    const std::optional<std::string_view> id = string_field("id");
    if (!id || *id != job.id) {
      return InvalidArgumentError("the job's id does not match its window (expected " + job.id +
                                  ")");
    }
  }
  return job;
}

}  // namespace vpcflow
