#pragma once
/// Flow-log field names (versions 2 to 11, FLOWLOGS.md) and the column layout of an object,
/// from its header line or the default format. Pure, thread-safe.

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace vpcflow {

/// Every field name AWS documents, versions 2-11, plus kUnknown for names we do not know.
enum class Field : uint8_t {
  // v2 (the default format)
  kVersion,
  kAccountId,
  kInterfaceId,
  kSrcAddr,
  kDstAddr,
  kSrcPort,
  kDstPort,
  kProtocol,
  kPackets,
  kBytes,
  kStart,
  kEnd,
  kAction,
  kLogStatus,
  // v3
  kVpcId,
  kSubnetId,
  kInstanceId,
  kTcpFlags,
  kType,
  kPktSrcAddr,
  kPktDstAddr,
  // v4
  kRegion,
  kAzId,
  kSublocationType,
  kSublocationId,
  // v5
  kPktSrcAwsService,
  kPktDstAwsService,
  kFlowDirection,
  kTrafficPath,
  // v6 (Transit Gateway flow logs)
  kResourceType,
  kTgwId,
  kTgwAttachmentId,
  kTgwSrcVpcAccountId,
  kTgwDstVpcAccountId,
  kTgwSrcVpcId,
  kTgwDstVpcId,
  kTgwSrcSubnetId,
  kTgwDstSubnetId,
  kTgwSrcEni,
  kTgwDstEni,
  kTgwSrcAzId,
  kTgwDstAzId,
  kTgwPairAttachmentId,
  kPacketsLostNoRoute,
  kPacketsLostBlackhole,
  kPacketsLostMtuExceeded,
  kPacketsLostTtlExpired,
  // v7
  kEcsClusterArn,
  kEcsClusterName,
  kEcsContainerInstanceArn,
  kEcsContainerInstanceId,
  kEcsContainerId,
  kEcsSecondContainerId,
  kEcsServiceName,
  kEcsTaskDefinitionArn,
  kEcsTaskArn,
  kEcsTaskId,
  // v8, v9, v10
  kRejectReason,
  kResourceId,
  kEncryptionStatus,
  // v11
  kInstanceTag,
  kInstanceTag2,
  kInterfaceTag,
  kInterfaceTag2,
  kAsgTag,
  kAsgTag2,
  kInterfaceType,
  kNextHopInterfaceId,
  kNextHopSubnetId,
  kNextHopAzId,
  kNextHopVpcId,
  kNextHopInterfaceType,
  kUnknown,  ///< a field-name-shaped word we do not know (a future field): ignored
};

/// The header spelling ("srcaddr", "pkt-src-aws-service"), "" for kUnknown.
std::string_view FieldName(Field field);
/// The flow-log version that introduced the field (2-11), 0 for kUnknown.
int FieldVersion(Field field);
/// The field of a header token; also accepts Parquet's '_' spelling. kUnknown when not known.
Field FieldFromName(std::string_view name);

/// The columns of one object's lines.
class FlowFormat {
 public:
  /// The default format: version account-id interface-id srcaddr dstaddr srcport dstport
  /// protocol packets bytes start end action log-status.
  static const FlowFormat& Default();

  /// Parses a header line. Returns nullopt unless every token is field-name-shaped
  /// ([a-z0-9-_], starting with a letter) and at least one is a known name. Split on runs of
  /// spaces; a trailing '\r' is ignored.
  static std::optional<FlowFormat> FromHeader(std::string_view line);

  explicit FlowFormat(std::vector<Field> columns);

  const std::vector<Field>& columns() const { return columns_; }
  size_t column_count() const { return columns_.size(); }
  /// Index of the field's column, or -1 when the format lacks it (first occurrence wins).
  int ColumnOf(Field field) const { return index_[static_cast<size_t>(field)]; }
  /// The highest version among the columns.
  int version() const;
  /// True when the columns are exactly the default format's (Default(), or a header that names
  /// them in the same order): ParseFlowLine then takes its path for that layout.
  bool is_default() const { return is_default_; }

  /// Columns of the default format: version .. log-status, which are Field's first values in
  /// the same order (the column of such a field is its value).
  static constexpr size_t kDefaultColumnCount = 14;

 private:
  std::vector<Field> columns_;
  std::vector<int> index_;  // by Field, -1 = absent
  bool is_default_ = false;
};

}  // namespace vpcflow
