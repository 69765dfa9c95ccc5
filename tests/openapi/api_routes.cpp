// Prints every route vpcflow-digesterd serves (the API role's: AddApiRoutes with every route),
// one "METHOD PATTERN" a line, for openapi_lint.py. Routes are registered by the same function
// the service calls, so a route added there is listed here without a change.
#include <cstdio>

#include "api/handlers.hpp"
#include "api/router.hpp"

int main() {
  vpcflow::ApiContext ctx;  // handlers keep a pointer to it; none runs here
  ctx.routes = vpcflow::ApiRoutes::kAll;
  vpcflow::Router router;
  vpcflow::AddApiRoutes(router, &ctx);
  for (const vpcflow::Route& route : router.routes()) {
    std::printf("%s %s\n", route.method.c_str(), route.pattern.c_str());
  }
  return 0;
}
