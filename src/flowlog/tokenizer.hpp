#pragma once
/// Splitting a flow-log line into tokens on runs of spaces: the first step of ParseFlowLine and
/// the hot loop of the digest. Pure, allocation-free, thread-safe. Internal to the flowlog layer
/// (exposed for tests and the fuzzer).

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace vpcflow {

/// Entries a bounds array needs beyond two per token: the fast splitter writes whole groups.
inline constexpr size_t kTokenBoundsSlack = 72;

/// Splits `line` on runs of ' ' (only the space byte separates; leading and trailing spaces are
/// ignored). Token i is the bytes [bounds[2i], bounds[2i+1]) of `line`. `bounds` must hold
/// `2 * limit + kTokenBoundsSlack` entries. Returns the token count, or `limit + 1` as soon as a
/// token beyond `limit` is found (the rest of the line is not scanned; `bounds` is then
/// unspecified). Lines of 4 GiB or more count as too many tokens. SSE2 where available, and
/// on processors with POPCNT, BMI1/2 and AVX2 (x86-64-v3, chosen once at load time) the same
/// code compiled for them.
size_t SplitOnSpaces(std::string_view line, size_t limit, uint32_t* bounds);

/// The SSE2 version (the fallback on processors without x86-64-v3; the scalar one elsewhere),
/// for tests: SplitOnSpaces may not run it on this processor.
size_t SplitOnSpacesSse2(std::string_view line, size_t limit, uint32_t* bounds);

/// The same, one byte at a time: the reference the fast version is tested against.
size_t SplitOnSpacesScalar(std::string_view line, size_t limit, uint32_t* bounds);

}  // namespace vpcflow
