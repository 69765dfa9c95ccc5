#include "s3/process_credentials.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <utility>
#include <vector>

#include "s3/caching_provider.hpp"
#include "s3/credentials_http.hpp"

namespace vpcflow {

Result<AwsCredentials> ParseProcessCredentials(std::string_view output, const std::string& what) {
  boost::system::error_code ec;
  const boost::json::value json = boost::json::parse(output, ec);
  if (ec || !json.is_object()) {
    return FailedPreconditionError(what + ": the output is not a JSON object");
  }
  const boost::json::object& object = json.as_object();
  const boost::json::value* version = object.if_contains("Version");
  if (version == nullptr || !version->is_int64() || version->as_int64() != 1) {
    return FailedPreconditionError(what + ": the output lacks \"Version\": 1");
  }
  return CredentialsFromJson(object, "SessionToken", /*expiration_required=*/false,
                             StatusCode::kFailedPrecondition, what);
}

CredentialsProviderPtr NewProcessProvider(ProcessCredentialsOptions options,
                                          const CredentialsSettings& settings, ClockPtr clock) {
  const std::string what = options.description;
  CredentialsFetch fetch = [what, command = std::move(options.command),
                            limits = options.limits]() -> Result<AwsCredentials> {
    Result<ProgramResult> ran = RunProgram({"/bin/sh", "-c", command}, "", limits);
    if (!ran.ok()) {
      // RunProgram's messages name argv[0] (/bin/sh) and the limit, not the command line.
      return Status(ran.status().code() == StatusCode::kNotFound ? StatusCode::kFailedPrecondition
                                                                 : ran.status().code(),
                    what + ": " + ran.status().message());
    }
    if (ran->exit_code != 0) {
      return FailedPreconditionError(what + ": the program exited with code " +
                                     std::to_string(ran->exit_code));
    }
    return ParseProcessCredentials(ran->out, what);
  };
  return NewCachingProvider(what, std::move(fetch), std::move(clock), settings.refresh_margin_ms);
}

}  // namespace vpcflow
