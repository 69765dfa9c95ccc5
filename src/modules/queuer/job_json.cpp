#include <nlohmann/json.hpp>

#include "vpcflow/queuer.hpp"

namespace vpcflow {

std::string JobToJson(const Job& job) {
  nlohmann::json json = {{"id", job.id},
                         {"start", FormatRfc3339(job.window.start)},
                         {"stop", FormatRfc3339(job.window.stop)}};
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<Job> JobFromJson(std::string_view text, int64_t max_window_seconds) {
  nlohmann::json json = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (json.is_discarded()) return InvalidArgumentError("the job is not valid JSON");
  if (!json.is_object()) return InvalidArgumentError("the job must be a JSON object");
  auto string_field = [&](const char* key) -> const std::string* {
    auto it = json.find(key);
    if (it == json.end() || !it->is_string()) return nullptr;
    return it->get_ptr<const std::string*>();
  };
  const std::string* start = string_field("start");
  const std::string* stop = string_field("stop");
  if (start == nullptr || stop == nullptr) {
    return InvalidArgumentError(R"(the job needs "start" and "stop" as RFC 3339 strings)");
  }
  ASSIGN_OR_RETURN(Window window, MakeWindow(*start, *stop, max_window_seconds));
  Job job{.id = DigestId(window), .window = window};
  if (json.contains("id")) {
    const std::string* id = string_field("id");
    if (id == nullptr || *id != job.id) {
      return InvalidArgumentError("the job's id does not match its window (expected " + job.id +
                                  ")");
    }
  }
  return job;
}

}  // namespace vpcflow
