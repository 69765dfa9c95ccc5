#pragma once
/// The names AWS gives that this project checks: account ids and region names. One definition
/// for the flow-log key parser, the configuration, the CLI's options and IMDS answers. Pure.

#include <string_view>

namespace vpcflow {

/// 12 ASCII digits ("123456789012").
bool IsAwsAccountId(std::string_view text);

/// Lower-case letters, digits and '-', 1 to 32 characters ("us-east-1", "us-gov-west-1",
/// "cn-north-1").
bool IsAwsRegionName(std::string_view text);

}  // namespace vpcflow
