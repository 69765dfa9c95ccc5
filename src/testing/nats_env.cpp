#include "testing/nats_env.hpp"

#include <cstdlib>
#include <fstream>

#include "common/subprocess.hpp"

namespace vpcflow {

Result<std::string> LoadNatsUrl() {
  const char* path = std::getenv(kNatsEnvVariable);
  if (path == nullptr || *path == '\0') {
    return FailedPreconditionError(
        std::string(kNatsEnvVariable) +
        " is not set: run this test with ctest (it needs the \"nats\" fixture) or start a server "
        "with `scripts/nats.sh start DIR` and set " +
        kNatsEnvVariable + "=DIR/env");
  }
  return LoadNatsUrlFile(path);
}

Result<std::string> LoadNatsUrlFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    return NotFoundError("cannot read the NATS env file " + path +
                         " (did the nats_start fixture fail?)");
  }
  constexpr std::string_view kKey = "VPCFLOW_NATS_URL=";
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with(kKey) && line.size() > kKey.size()) return line.substr(kKey.size());
  }
  return InvalidArgumentError("VPCFLOW_NATS_URL is missing from " + path);
}

Result<std::unique_ptr<NatsConnection>> ConnectToTestNats() {
  VPCFLOW_ASSIGN_OR_RETURN(std::string url, LoadNatsUrl());
  VPCFLOW_ASSIGN_OR_RETURN(NatsOptions options, NatsOptionsFromUrls(url));
  return NatsConnection::Connect(options);
}

Status RunNatsScript(const std::string& script, const std::string& command,
                     const std::string& dir) {
  VPCFLOW_ASSIGN_OR_RETURN(ProgramResult r,
                           RunProgram({script, command, dir}, "", {.timeout_ms = 60000}));
  if (r.exit_code != 0) return InternalError("nats.sh " + command + ": " + r.err);
  return OkStatus();
}

}  // namespace vpcflow
