#pragma once
/// RFC 4122 name-based UUIDs (version 5, SHA-1). Pure, thread-safe.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace vpcflow {

using Uuid = std::array<uint8_t, 16>;

inline constexpr Uuid kNilUuid{};

/// UUID version 5 of `name` in `name_space` (SHA-1 of namespace bytes + name, RFC 4122 4.3).
Uuid UuidV5(const Uuid& name_space, std::string_view name);

/// Canonical lower-case text "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx".
std::string UuidToString(const Uuid& uuid);

}  // namespace vpcflow
