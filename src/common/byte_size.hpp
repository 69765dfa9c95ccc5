#pragma once
/// Sizes written for people: "268435456", "256M", "2G", "512KiB", "1.5G". Pure, thread-safe.

#include <cstdint>
#include <string_view>

#include "vpcflow/status.hpp"

namespace vpcflow {

/// Parses a byte count: a decimal number (a fraction allowed with a unit) and an optional unit
/// K, M, G or T (powers of 1024; case-insensitive; "KB", "KiB" alike), at most 1 PiB. Returns
/// InvalidArgument saying what is accepted otherwise.
Result<uint64_t> ParseByteSize(std::string_view text);

}  // namespace vpcflow
