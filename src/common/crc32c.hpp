#pragma once
/// CRC-32C (Castagnoli, the iSCSI CRC) of a byte string, computed by ISA-L: the checksum of the
/// rows sidecar's blocks and of partial digests. Pure, thread-safe.

#include <cstdint>
#include <string_view>

namespace vpcflow {

/// The standard CRC-32C (initial and final value ~0): Crc32c("123456789") == 0xe3069283.
uint32_t Crc32c(std::string_view bytes);

}  // namespace vpcflow
