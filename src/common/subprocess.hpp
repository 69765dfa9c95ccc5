#pragma once
/// Running a helper program (the Graphviz `dot` renderer) with its input on stdin, its output
/// collected, a time limit and an output limit: the program is killed when it runs too long or
/// writes too much, so a caller is never held up or flooded by it.
///
/// Thread-safe: several programs may run at once from different threads. The pipes are
/// close-on-exec, so a program started by another thread never holds them. SIGPIPE from a
/// program that exits before reading all its input is blocked for the calling thread while it
/// writes, and never reaches the process.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "vpcflow/status.hpp"

namespace vpcflow {

struct ProgramLimits {
  int64_t timeout_ms = 10000;          ///< wall time, from start to exit
  size_t max_output_bytes = 64 << 20;  ///< stdout; stderr keeps at most its first 4 KiB
};

/// What a finished program did.
struct ProgramResult {
  int exit_code = 0;  ///< 128 + signal number when a signal ended it
  std::string out;    ///< stdout
  std::string err;    ///< the start of stderr
};

/// Runs `argv` (argv[0] looked up in PATH when it has no '/') with only PATH, HOME, TMPDIR,
/// LANG and LC_* of this process's environment (no credentials), writes `input` to its stdin and
/// closes it, and waits for it to exit. Returns NotFound when argv[0] cannot be started,
/// DeadlineExceeded when it was killed at the time limit, ResourceExhausted when it was killed
/// for writing more than the output limit, Unavailable when a pipe or process cannot be made;
/// otherwise the result, whatever the exit code.
Result<ProgramResult> RunProgram(const std::vector<std::string>& argv, std::string_view input,
                                 const ProgramLimits& limits = {});

}  // namespace vpcflow
