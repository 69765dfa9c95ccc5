#pragma once
/// The API description served on GET /openapi.yaml: api/openapi.yaml, embedded at build time.

#include <string_view>

namespace vpcflow {

/// The text of api/openapi.yaml.
std::string_view OpenApiYaml();

}  // namespace vpcflow
