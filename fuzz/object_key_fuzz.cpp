// libFuzzer target: object keys. A parsed key's file_time must format back to the stamp in its
// file name, and its parts must be views into the key that agree with the name.

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string_view>

#include "common/civil_time.hpp"
#include "flowlog/object_key.hpp"

namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

bool Inside(std::string_view part, std::string_view whole) {
  return part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size();
}

// The name's "YYYYMMDDTHHmmZ": the fifth '_'-separated part of the last path segment.
std::string_view StampOf(std::string_view key) {
  std::string_view name = key.substr(key.rfind('/') + 1);
  for (int i = 0; i < 4; ++i) name.remove_prefix(name.find('_') + 1);
  return name.substr(0, name.find('_'));
}

void CheckKey(std::string_view key, const vpcflow::FlowLogKey& k) {
  Check(k.account.size() == 12 && Inside(k.account, key));
  Check(!k.region.empty() && Inside(k.region, key));
  Check(k.flow_log_id.substr(0, 3) == "fl-" && Inside(k.flow_log_id, key));
  Check(k.user_prefix.empty() || Inside(k.user_prefix, key));
  vpcflow::CivilTime c = vpcflow::FromUnixSeconds(k.file_time);
  Check(c.second == 0);
  char stamp[32];
  int n = std::snprintf(stamp, sizeof(stamp), "%04d%02d%02dT%02d%02dZ", c.year, c.month, c.day,
                        c.hour, c.minute);
  Check(std::string_view(stamp, static_cast<size_t>(n)) == StampOf(key));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view key(reinterpret_cast<const char*>(data), size);
  std::optional<vpcflow::FlowLogKey> full = vpcflow::ParseFlowLogKey(key);
  std::optional<vpcflow::FlowLogKey> name = vpcflow::ParseFlowLogFileName(key);
  if (full) {
    CheckKey(key, *full);
    // A full key's name is a valid name with the same parts.
    Check(name.has_value());
    Check(name->account == full->account && name->region == full->region &&
          name->file_time == full->file_time && name->kind == full->kind);
  }
  if (name) CheckKey(key, *name);
  return 0;
}
