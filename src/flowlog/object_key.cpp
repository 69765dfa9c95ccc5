#include "flowlog/object_key.hpp"

#include <array>

#include "common/aws_names.hpp"
#include "common/civil_time.hpp"

namespace vpcflow {
namespace {

bool IsDigits(std::string_view s, size_t n) {
  if (s.size() != n) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool IsAlnumWord(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsAlnum(c)) return false;
  }
  return true;
}

int Digits(std::string_view s) {
  int v = 0;
  for (char c : s) v = v * 10 + (c - '0');
  return v;
}

bool ConsumeSuffix(std::string_view* s, std::string_view suffix) {
  if (s->size() <= suffix.size() || s->substr(s->size() - suffix.size()) != suffix) return false;
  s->remove_suffix(suffix.size());
  return true;
}

bool ConsumePrefix(std::string_view* s, std::string_view prefix) {
  if (s->substr(0, prefix.size()) != prefix) return false;
  s->remove_prefix(prefix.size());
  return true;
}

// A parsed file name and its "YYYYMMDDTHHmmZ" stamp, for comparing with the folders.
struct ParsedName {
  FlowLogKey key;
  std::string_view stamp;
};

// `<acct>_vpcflowlogs_<region>_<fl-id>_<YYYYMMDDTHHmmZ>_<hash>` + extension (FLOWLOGS.md).
std::optional<ParsedName> ParseName(std::string_view name) {
  ParsedName out;
  FlowLogKey& key = out.key;
  if (ConsumeSuffix(&name, ".parquet")) {
    // AWS writes ".log.parquet"; other writers ".parquet" or ".gz.parquet".
    key.kind = ObjectKind::kParquet;
    ConsumeSuffix(&name, ".gz");
    ConsumeSuffix(&name, ".log");
  } else if (ConsumeSuffix(&name, ".log.gz")) {
    key.kind = ObjectKind::kGzipText;
  } else if (ConsumeSuffix(&name, ".log")) {
    key.kind = ObjectKind::kPlainText;
  } else {
    return std::nullopt;
  }
  std::array<std::string_view, 6> parts;
  for (size_t i = 0; i < parts.size(); ++i) {
    size_t sep = i + 1 < parts.size() ? name.find('_') : name.size();
    if (sep == std::string_view::npos) return std::nullopt;
    parts[i] = name.substr(0, sep);
    name.remove_prefix(sep == name.size() ? sep : sep + 1);
  }
  std::string_view fl_id = parts[3];
  if (!IsAwsAccountId(parts[0]) || parts[1] != "vpcflowlogs" || !IsAwsRegionName(parts[2]) ||
      !ConsumePrefix(&fl_id, "fl-") || !IsAlnumWord(fl_id) || !IsAlnumWord(parts[5])) {
    return std::nullopt;
  }
  std::string_view stamp = parts[4];
  if (stamp.size() != 14 || stamp[8] != 'T' || stamp[13] != 'Z' ||
      !IsDigits(stamp.substr(0, 8), 8) || !IsDigits(stamp.substr(9, 4), 4)) {
    return std::nullopt;
  }
  int year = Digits(stamp.substr(0, 4));
  int month = Digits(stamp.substr(4, 2));
  int day = Digits(stamp.substr(6, 2));
  int hour = Digits(stamp.substr(9, 2));
  int minute = Digits(stamp.substr(11, 2));
  if (!IsValidDate(year, month, day) || hour > 23 || minute > 59) return std::nullopt;
  key.account = parts[0];
  key.region = parts[2];
  key.flow_log_id = parts[3];
  key.file_time =
      DaysFromCivil(year, month, day) * 86400 + int64_t{hour} * 3600 + int64_t{minute} * 60;
  out.stamp = stamp;
  return out;
}

// The last folder segments of a key, last first, with where each starts in the folder path.
struct Segments {
  static constexpr int kMax = 8;
  std::array<std::string_view, kMax> seg;
  std::array<size_t, kMax> begin{};
  int count = 0;
};

Segments LastSegments(std::string_view folder) {
  Segments s;
  size_t end = folder.size();
  while (s.count < Segments::kMax) {
    size_t begin = end;
    while (begin > 0 && folder[begin - 1] != '/') --begin;
    s.seg[s.count] = folder.substr(begin, end - begin);
    s.begin[s.count] = begin;
    ++s.count;
    if (begin == 0) break;
    end = begin - 1;
  }
  return s;
}

// Matches the folders above the file name against one depth (daily or hourly) of both layout
// families; checks that they agree with the name.
bool MatchFolders(std::string_view folder, const Segments& s, bool hourly, const ParsedName& name,
                  FlowLogKey* key) {
  const int depth = hourly ? 8 : 7;
  if (s.count < depth || s.seg[depth - 1] != "AWSLogs") return false;
  const int o = hourly ? 1 : 0;  // segment index offset of the day folder
  std::string_view account = s.seg[o + 5];
  std::string_view service = s.seg[o + 4];
  std::string_view region = s.seg[o + 3];
  std::string_view year = s.seg[o + 2];
  std::string_view month = s.seg[o + 1];
  std::string_view day = s.seg[o];
  std::string_view hour = hourly ? s.seg[0] : std::string_view();
  if (service == "vpcflowlogs") {
    key->layout = KeyLayout::kDefault;
  } else {
    if (service == "aws-service=vpcflowlogs") {
      key->layout = KeyLayout::kHive;
    } else if (service == "service=vpcflowlogs") {
      key->layout = KeyLayout::kHiveLegacy;
    } else {
      return false;
    }
    if (!ConsumePrefix(&account, "aws-account-id=") || !ConsumePrefix(&region, "aws-region=") ||
        !ConsumePrefix(&year, "year=") || !ConsumePrefix(&month, "month=") ||
        !ConsumePrefix(&day, "day=") || (hourly && !ConsumePrefix(&hour, "hour="))) {
      return false;
    }
  }
  std::string_view stamp = name.stamp;
  if (account != name.key.account || region != name.key.region || year != stamp.substr(0, 4) ||
      month != stamp.substr(4, 2) || day != stamp.substr(6, 2) ||
      (hourly && hour != stamp.substr(9, 2))) {
    return false;
  }
  size_t awslogs = s.begin[depth - 1];
  key->user_prefix = awslogs == 0 ? std::string_view() : folder.substr(0, awslogs - 1);
  key->hourly = hourly;
  return true;
}

}  // namespace

std::optional<FlowLogKey> ParseFlowLogFileName(std::string_view name) {
  auto parsed = ParseName(name.substr(name.rfind('/') + 1));
  if (!parsed) return std::nullopt;
  return parsed->key;
}

std::optional<FlowLogKey> ParseFlowLogKey(std::string_view key) {
  size_t slash = key.rfind('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto name = ParseName(key.substr(slash + 1));
  if (!name) return std::nullopt;
  std::string_view folder = key.substr(0, slash);
  Segments segments = LastSegments(folder);
  FlowLogKey out = name->key;
  if (MatchFolders(folder, segments, /*hourly=*/true, *name, &out) ||
      MatchFolders(folder, segments, /*hourly=*/false, *name, &out)) {
    return out;
  }
  return std::nullopt;
}

}  // namespace vpcflow
