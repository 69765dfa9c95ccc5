#pragma once
/// Parsing one flow-log line against its object's format (DESIGN.md digest rules 1-3).
/// Pure, allocation-free, thread-safe.

#include <cstdint>
#include <string_view>

#include "flowlog/address.hpp"
#include "flowlog/format.hpp"
#include "vpcflow/digest_summary.hpp"

namespace vpcflow {

enum class Action : uint8_t { kAbsent = 0, kAccept = 1, kReject = 2 };
/// "-", "ACCEPT", "REJECT".
std::string_view ActionName(Action action);

/// The fields the digest needs from one record. Views point into the parsed line.
struct FlowRecord {
  std::string_view account_id;    ///< "-" when absent
  std::string_view interface_id;  ///< "-" when absent
  IpAddress srcaddr;
  IpAddress dstaddr;
  uint16_t srcport = 0;
  uint16_t dstport = 0;
  uint8_t protocol = 0;
  Action action = Action::kAbsent;
  uint64_t packets = 0;  ///< 0 when '-' or absent
  uint64_t bytes = 0;    ///< 0 when '-' or absent
  int64_t start = 0;     ///< Unix seconds (values above 1e11 are taken as ms and divided)
  int64_t end = 0;
};

/// The rules ParseFlowLine applies to single values, shared with the Parquet reader.
/// log-status: kUsed for "OK" and "-" (no value: the record is judged by its other fields),
/// kStatusNoData, kStatusSkipData, or kStatusOther for any other value.
LineOutcome LogStatusOutcome(std::string_view status);
/// action: "ACCEPT", "REJECT" or "-" (kAbsent); false for anything else.
bool ParseAction(std::string_view value, Action* out);
/// Plain decimal digits (no sign, no spaces, leading zeros accepted), at most 20, fitting
/// uint64_t.
bool ParseDecimal(std::string_view digits, uint64_t* out);
/// start/end values above this are milliseconds (1e11 seconds is the year 5138; 1e11 ms is
/// 1973) and are divided by 1000.
inline constexpr uint64_t kMillisecondThreshold = 100'000'000'000;
inline int64_t TimeSeconds(uint64_t value) {
  return static_cast<int64_t>(value > kMillisecondThreshold ? value / 1000 : value);
}

/// Lines are split into at most this many tokens on the stack. A format with more columns has
/// every line counted as kBadTokenCount.
inline constexpr size_t kMaxLineColumns = 128;

/// Parses `line` (no '\n'; a trailing '\r' is ignored) with `format`. Tokens are separated by
/// runs of ' ' only (a tab is part of a token). Returns:
/// - kBlank for an empty/space-only line;
/// - kBadTokenCount when the number of space-run-separated tokens differs from the format's;
/// - kStatusNoData / kStatusSkipData / kStatusOther when log-status is present and not OK;
/// - kIncomplete when srcaddr, dstaddr, srcport, dstport, protocol, start or end is '-' or
///   not in the format;
/// - kBadAddress, kBadNumber (ports > 65535, protocol > 255, non-digits, overflow, end < start),
///   kBadValue (action other than ACCEPT, REJECT, '-');
/// - kUsed with `*out` filled otherwise. The window is not checked here.
/// Checks run in this order: token count, status, incomplete, then values (addresses, ports and
/// protocol, start/end, packets/bytes, action).
///
/// Details:
/// - log-status '-' is "no value": the record is judged by its other fields like an OK one;
/// - start/end above 100000000000 (year 5138 in seconds) are milliseconds and are divided by
///   1000 (each on its own), before the end < start check;
/// - numbers are plain decimal digits: no sign, no spaces; leading zeros are accepted;
/// - account-id / interface-id are not validated (any token, '-' included);
/// - `*out` is written only when the outcome is kUsed.
/// The default format (FlowFormat::is_default) takes a path specialised for its fixed columns.
/// Both paths are compiled twice: with SSSE3 (dotted quads and numbers converted by shuffles)
/// and without, and a third time for AVX-512 VBMI2 (the separators and four numbers at a time
/// in 64-byte registers). The build for this processor is chosen once, at load time.
LineOutcome ParseFlowLine(const FlowFormat& format, std::string_view line, FlowRecord* out);

/// The builds of the default format's specialised path (for tests: ParseFlowLine runs only the
/// best one this processor has): without SSSE3; with SSSE3; with AVX-512 VBMI2, which takes
/// single-spaced lines of up to 255 bytes and hands every other line to the SSSE3 build (the
/// path for any other format has the same three builds).
enum class DefaultParserBuild { kSse2, kSsse3, kAvx512 };
/// Whether this processor runs `build`.
bool DefaultParserBuildRuns(DefaultParserBuild build);
/// `build`'s parse of `line`, where DefaultParserBuildRuns(build).
LineOutcome ParseFlowLineDefaultBuild(DefaultParserBuild build, std::string_view line,
                                      FlowRecord* out);

/// The same rules by the path for any format, even the default one, as compiled without SSSE3:
/// the reference the other paths are tested and fuzzed against (same outcome, same record, on
/// every line).
LineOutcome ParseFlowLineAnyFormat(const FlowFormat& format, std::string_view line,
                                   FlowRecord* out);

}  // namespace vpcflow
