#pragma once
/// The real NATS server of the tests: a nats-server with JetStream on 127.0.0.1 started by
/// scripts/nats.sh (CTest fixture "nats"; see cmake/nats.cmake). The script writes an env file
/// (VPCFLOW_NATS_URL=...) and CTest passes its path in VPCFLOW_NATS_ENV to every test labelled
/// "nats". Thread-safe.

#include <memory>
#include <string>
#include <string_view>

#include "nats/nats_connection.hpp"
#include "vpcflow/status.hpp"

namespace vpcflow {

/// The name of the environment variable holding the env file's path.
inline constexpr char kNatsEnvVariable[] = "VPCFLOW_NATS_ENV";

/// The server URL from the file named by $VPCFLOW_NATS_ENV. A test that needs the server must
/// fail, not skip, without it: FailedPrecondition when the variable is unset, NotFound when the
/// file cannot be read, InvalidArgument when it names no URL.
Result<std::string> LoadNatsUrl();
/// The same from the env file at `path` (a server a test started itself).
Result<std::string> LoadNatsUrlFile(const std::string& path);

/// A connection to the server of the "nats" fixture (LoadNatsUrl's errors, Connect's).
Result<std::unique_ptr<NatsConnection>> ConnectToTestNats();

/// Runs `script` (scripts/nats.sh) with `command` (start, stop, restart) on `dir`: for tests
/// with a server of their own. Internal naming the script's stderr when it fails.
Status RunNatsScript(const std::string& script, const std::string& command, const std::string& dir);

// Names of streams, consumers and buckets: UniqueBucketName (rgw_env.hpp) makes valid ones.

}  // namespace vpcflow
