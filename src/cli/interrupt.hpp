#pragma once
/// Interrupt handling of the command-line tool: SIGINT and SIGTERM end the process at once with
/// the shell's status for them (130 and 143), removing the one temporary file and the one spill
/// directory (with the files in it) registered at that moment, so an interrupted run leaves no
/// partial output and no temporary files behind.
///
/// The handler only calls open(), getdents64, unlinkat(), rmdir(), unlink() and _exit() (system
/// calls, async-signal-safe). Registration is thread-safe; one temporary file and one spill
/// directory are registered at a time (the CLI writes one output and runs one digest).

#include <string_view>

#include "vpcflow/status.hpp"

namespace vpcflow {

/// The exit status after SIGINT.
inline constexpr int kExitSigint = 130;
/// The exit status after SIGTERM.
inline constexpr int kExitSigterm = 143;

/// Installs the SIGINT and SIGTERM handlers. Call once, before any thread starts.
void InstallInterruptHandlers();

/// Registers `path` as the file to remove on SIGINT/SIGTERM (replacing any earlier one).
/// Register before creating the file, so no moment exists where it is created but unknown to
/// the handler. Returns InvalidArgument when the path is too long (PATH_MAX) for the handler.
[[nodiscard]] Status RegisterTemporaryFile(std::string_view path);

/// Forgets the registered file (after it was renamed into place or removed).
void ClearTemporaryFile();

/// Registers `path` as the spill directory to empty and remove on SIGINT/SIGTERM (replacing
/// any earlier one). InvalidArgument when the path is too long (PATH_MAX) for the handler.
[[nodiscard]] Status RegisterSpillDirectory(std::string_view path);

}  // namespace vpcflow
