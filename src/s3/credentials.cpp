#include "s3/credentials.hpp"

#include <utility>

#include "s3/credentials_http.hpp"

namespace vpcflow {
namespace {

class StaticProvider final : public CredentialsProvider {
 public:
  StaticProvider(AwsCredentials credentials, std::string description)
      : credentials_(std::move(credentials)), description_(std::move(description)) {}

  Result<AwsCredentials> Get() override { return credentials_; }
  std::string Describe() const override { return description_; }

 private:
  const AwsCredentials credentials_;
  const std::string description_;
};

}  // namespace

CredentialsProviderPtr NewStaticCredentialsProvider(AwsCredentials credentials,
                                                    std::string description) {
  return std::make_shared<StaticProvider>(std::move(credentials), std::move(description));
}

}  // namespace vpcflow
