#pragma once
/// Interrupt handling of the command-line tool: SIGINT and SIGTERM end the process at once with
/// the shell's status for them (130 and 143), removing the one temporary file registered at
/// that moment, so an interrupted run leaves no partial output behind.
///
/// The handler only calls unlink() and _exit() (async-signal-safe). Registration is
/// thread-safe; one temporary file is registered at a time (the CLI writes one output).

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

}  // namespace vpcflow
