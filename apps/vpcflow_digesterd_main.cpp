// vpcflow-digesterd: the HTTP service (API + worker in one process). Configured from the
// environment (DESIGN.md, "Configuration"); logs JSON lines on stdout. See README.md.
//
// Exit codes: 0 after a clean shutdown (SIGTERM/SIGINT), 2 bad configuration, 1 any other
// start-up failure (port in use).

#include <cstdio>
#include <exception>

#include "vpcflow/service.hpp"

int main() {
  try {
    vpcflow::Result<vpcflow::Config> config =
        vpcflow::ConfigFromEnvironment(vpcflow::EnvironmentMap());
    if (!config.ok()) {
      std::fprintf(stderr, "vpcflow-digesterd: %s\n", config.status().message().c_str());
      return 2;
    }
    vpcflow::Service service(std::move(config).value());
    vpcflow::Status st = service.Run();
    if (!st.ok()) {
      std::fprintf(stderr, "vpcflow-digesterd: %s\n", st.message().c_str());
      return vpcflow::IsInvalidArgument(st) ? 2 : 1;
    }
    return 0;
  } catch (const std::exception& e) {  // a bug or out of memory: still one line, non-zero
    std::fprintf(stderr, "vpcflow-digesterd: internal error: %s\n", e.what());
    return 1;
  }
}
