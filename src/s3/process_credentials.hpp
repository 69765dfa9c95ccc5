#pragma once
/// Credentials from an external program, a profile's `credential_process` (AWS SDKs and Tools
/// Reference Guide, "Process credential provider"). The command line runs under /bin/sh -c (as
/// the Java and C++ SDKs run it) through RunProgram (common/subprocess.hpp): with a time limit
/// and an output limit, stdin empty, and only PATH, HOME, TMPDIR, LANG and LC_* of this process's
/// environment. Its stdout must be JSON: {"Version": 1, "AccessKeyId", "SecretAccessKey",
/// "SessionToken" (optional), "Expiration" (RFC 3339, optional: none = does not expire)}.
/// Cached and refreshed (caching_provider.hpp). Messages never quote the command line (it may
/// hold a secret), its output or its stderr: only the source, the exit code and what was wrong.

#include <cstdint>
#include <string>

#include "common/subprocess.hpp"
#include "s3/credentials.hpp"
#include "vpcflow/clock.hpp"

namespace vpcflow {

struct ProcessCredentialsOptions {
  std::string command{};      ///< the credential_process value
  std::string description{};  ///< "credential_process of profile p in <file>": Describe()
  /// A minute to run (an SSO helper may wait on a browser) and 64 KiB of output.
  ProgramLimits limits{.timeout_ms = 60000, .max_output_bytes = size_t{64} * 1024};
};

/// The source. Get() returns FailedPrecondition when the program cannot be started, exits with
/// a code other than 0, or prints no usable Version 1 document; DeadlineExceeded when it ran
/// too long, ResourceExhausted when it wrote too much. `clock` null = SystemClock().
CredentialsProviderPtr NewProcessProvider(ProcessCredentialsOptions options,
                                          const CredentialsSettings& settings, ClockPtr clock);

/// Parses the program's output (the JSON above). FailedPrecondition naming what is wrong (never
/// a value). Pure.
Result<AwsCredentials> ParseProcessCredentials(std::string_view output, const std::string& what);

}  // namespace vpcflow
