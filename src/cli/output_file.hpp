#pragma once
/// OutputFile: where the command-line tool writes its result (`--output`), written the way Unix
/// tools write a named output:
/// - "" or "-": standard output.
/// - a regular file, or a name that does not exist yet: written under a temporary name in the
///   same directory and renamed over the name by Commit(), so that readers see the old content
///   or the new one, and a failed or interrupted run leaves no partial file. An existing file
///   keeps its permission bits and, where the process may set them, its owner and group (the
///   temporary gets them before the first byte is written). A new file gets 0666 minus the
///   umask.
/// - a symbolic link: followed (as many links as the kernel would, 40) to its target, which is
///   written as above: the link stays a link. A dangling link creates its target.
/// - anything else (a FIFO, a character or block device such as /dev/null, a socket, or a name
///   reached through /proc): opened and written in place, never replaced. Opening a FIFO waits
///   for its reader. A name of one of the process's own descriptors (/dev/stdout, /dev/fd/N,
///   /proc/self/fd/N) writes to that descriptor as it is: its offset and append mode stay (a
///   shell's `>>` appends).
/// A path ending in ".gz" gets gzip-compressed bytes.
///
/// The temporary file is registered with cli/interrupt.hpp, so SIGINT/SIGTERM remove it.
/// Replacing a file breaks its hard links and drops its ACLs and extended attributes (as
/// `sed -i` does). Not thread-safe; one OutputFile at a time in a process (the interrupt
/// handler knows one temporary file).

#include <string>

#include "vpcflow/byte_sink.hpp"
#include "vpcflow/status.hpp"

namespace vpcflow {

class OutputFile {
 public:
  /// How the output is written (see above).
  enum class Mode { kNone, kStdout, kReplace, kInPlace };

  OutputFile() = default;
  /// Discards an output that was not committed.
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  /// Opens the output named `path`. Returns InvalidArgument when `path` names a directory,
  /// when the directory of the file to create does not exist, or for a loop of links; the
  /// error of creating or opening the file otherwise (PermissionDenied, Unavailable). Every
  /// message starts with "--output: ".
  [[nodiscard]] Status Open(const std::string& path);

  /// The sink to write to (after a successful Open, until Commit or Discard).
  ByteSink& sink() { return gzip_ ? *gzip_ : *file_; }

  /// Finishes the output: closes the sink (and gzip stream), and for kReplace syncs the
  /// temporary file and renames it over the target. On error the temporary file is removed
  /// and the target is untouched. Returns the write, sync or rename error.
  [[nodiscard]] Status Commit();

  /// Abandons the output: a gzip stream is left unfinished (a reader sees it truncated), the
  /// file is closed and the temporary file (kReplace) removed. Idempotent.
  void Discard();

  Mode mode() const { return mode_; }
  /// The file that is replaced (kReplace: the final target of the links) or written.
  const std::string& target() const { return target_; }
  /// The temporary file (kReplace, until Commit or Discard), else "".
  const std::string& temporary() const { return temporary_; }

 private:
  Mode mode_ = Mode::kNone;
  std::string target_;
  std::string temporary_;
  ByteSinkPtr file_;  // the file's own sink (stdout's for kStdout)
  ByteSinkPtr gzip_;  // in front of file_ when the path ends in ".gz"
};

}  // namespace vpcflow
