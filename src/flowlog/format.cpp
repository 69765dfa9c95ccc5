#include "flowlog/format.hpp"

#include <algorithm>
#include <array>
#include <cstring>

namespace vpcflow {
namespace {

struct FieldSpec {
  std::string_view name;
  int version;
};

constexpr size_t kKnownFieldCount = static_cast<size_t>(Field::kUnknown);

// Indexed by Field. Names and versions: AWS VPC user guide, "Available fields", and the Transit
// Gateway guide, "Transit Gateway Flow Log records" (version 6).
constexpr std::array<FieldSpec, kKnownFieldCount> kSpecs = {{
    {"version", 2},
    {"account-id", 2},
    {"interface-id", 2},
    {"srcaddr", 2},
    {"dstaddr", 2},
    {"srcport", 2},
    {"dstport", 2},
    {"protocol", 2},
    {"packets", 2},
    {"bytes", 2},
    {"start", 2},
    {"end", 2},
    {"action", 2},
    {"log-status", 2},
    {"vpc-id", 3},
    {"subnet-id", 3},
    {"instance-id", 3},
    {"tcp-flags", 3},
    {"type", 3},
    {"pkt-srcaddr", 3},
    {"pkt-dstaddr", 3},
    {"region", 4},
    {"az-id", 4},
    {"sublocation-type", 4},
    {"sublocation-id", 4},
    {"pkt-src-aws-service", 5},
    {"pkt-dst-aws-service", 5},
    {"flow-direction", 5},
    {"traffic-path", 5},
    {"resource-type", 6},
    {"tgw-id", 6},
    {"tgw-attachment-id", 6},
    {"tgw-src-vpc-account-id", 6},
    {"tgw-dst-vpc-account-id", 6},
    {"tgw-src-vpc-id", 6},
    {"tgw-dst-vpc-id", 6},
    {"tgw-src-subnet-id", 6},
    {"tgw-dst-subnet-id", 6},
    {"tgw-src-eni", 6},
    {"tgw-dst-eni", 6},
    {"tgw-src-az-id", 6},
    {"tgw-dst-az-id", 6},
    {"tgw-pair-attachment-id", 6},
    {"packets-lost-no-route", 6},
    {"packets-lost-blackhole", 6},
    {"packets-lost-mtu-exceeded", 6},
    {"packets-lost-ttl-expired", 6},
    {"ecs-cluster-arn", 7},
    {"ecs-cluster-name", 7},
    {"ecs-container-instance-arn", 7},
    {"ecs-container-instance-id", 7},
    {"ecs-container-id", 7},
    {"ecs-second-container-id", 7},
    {"ecs-service-name", 7},
    {"ecs-task-definition-arn", 7},
    {"ecs-task-arn", 7},
    {"ecs-task-id", 7},
    {"reject-reason", 8},
    {"resource-id", 9},
    {"encryption-status", 10},
    {"instance-tag", 11},
    {"instance-tag-2", 11},
    {"interface-tag", 11},
    {"interface-tag-2", 11},
    {"asg-tag", 11},
    {"asg-tag-2", 11},
    {"interface-type", 11},
    {"next-hop-interface-id", 11},
    {"next-hop-subnet-id", 11},
    {"next-hop-az-id", 11},
    {"next-hop-vpc-id", 11},
    {"next-hop-interface-type", 11},
}};

// Longer than every known name: anything longer is unknown without a lookup.
constexpr size_t kMaxNameLength = 32;

// The fields sorted by name, for a binary search (built once, thread-safe static init).
struct NameIndex {
  std::array<Field, kKnownFieldCount> by_name{};
  NameIndex() {
    for (size_t i = 0; i < kKnownFieldCount; ++i) by_name[i] = static_cast<Field>(i);
    std::sort(by_name.begin(), by_name.end(), [](Field a, Field b) {
      return kSpecs[static_cast<size_t>(a)].name < kSpecs[static_cast<size_t>(b)].name;
    });
  }
};

const NameIndex& Index() {
  static const NameIndex index;
  return index;
}

bool IsNameShaped(std::string_view token) {
  if (token.empty() || token[0] < 'a' || token[0] > 'z') return false;
  for (char c : token) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

std::string_view FieldName(Field field) {
  size_t i = static_cast<size_t>(field);
  return i < kKnownFieldCount ? kSpecs[i].name : std::string_view();
}

int FieldVersion(Field field) {
  size_t i = static_cast<size_t>(field);
  return i < kKnownFieldCount ? kSpecs[i].version : 0;
}

Field FieldFromName(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameLength) return Field::kUnknown;
  // Parquet columns spell '-' as '_': map to the header spelling in a stack buffer.
  char buf[kMaxNameLength];
  std::memcpy(buf, name.data(), name.size());
  for (size_t i = 0; i < name.size(); ++i) {
    if (buf[i] == '_') buf[i] = '-';
  }
  std::string_view key(buf, name.size());
  const auto& by_name = Index().by_name;
  auto it = std::lower_bound(by_name.begin(), by_name.end(), key, [](Field f, std::string_view k) {
    return kSpecs[static_cast<size_t>(f)].name < k;
  });
  if (it != by_name.end() && kSpecs[static_cast<size_t>(*it)].name == key) return *it;
  return Field::kUnknown;
}

static_assert(static_cast<size_t>(Field::kLogStatus) + 1 == FlowFormat::kDefaultColumnCount);

FlowFormat::FlowFormat(std::vector<Field> columns)
    : columns_(std::move(columns)), index_(kKnownFieldCount + 1, -1) {
  for (size_t i = 0; i < columns_.size(); ++i) {
    int& slot = index_[static_cast<size_t>(columns_[i])];
    if (slot < 0) slot = static_cast<int>(i);
  }
  // The default format's fields are the first 14 of the enum, in its order.
  is_default_ = columns_.size() == kDefaultColumnCount;
  for (size_t i = 0; i < columns_.size() && is_default_; ++i) {
    is_default_ = columns_[i] == static_cast<Field>(i);
  }
}

const FlowFormat& FlowFormat::Default() {
  static const FlowFormat format({Field::kVersion, Field::kAccountId, Field::kInterfaceId,
                                  Field::kSrcAddr, Field::kDstAddr, Field::kSrcPort,
                                  Field::kDstPort, Field::kProtocol, Field::kPackets, Field::kBytes,
                                  Field::kStart, Field::kEnd, Field::kAction, Field::kLogStatus});
  return format;
}

std::optional<FlowFormat> FlowFormat::FromHeader(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  std::vector<Field> columns;
  bool any_known = false;
  size_t i = 0;
  while (i < line.size()) {
    if (line[i] == ' ') {
      ++i;
      continue;
    }
    size_t end = line.find(' ', i);
    if (end == std::string_view::npos) end = line.size();
    std::string_view token = line.substr(i, end - i);
    if (!IsNameShaped(token)) return std::nullopt;
    Field field = FieldFromName(token);
    any_known = any_known || field != Field::kUnknown;
    columns.push_back(field);
    i = end;
  }
  if (!any_known) return std::nullopt;
  return FlowFormat(std::move(columns));
}

int FlowFormat::version() const {
  int v = 0;
  for (Field f : columns_) v = std::max(v, FieldVersion(f));
  return v;
}

}  // namespace vpcflow
