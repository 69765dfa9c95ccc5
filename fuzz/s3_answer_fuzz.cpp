// libFuzzer target: everything the S3 client and the credential providers parse from a server.
// The first byte picks the operation and the answer's status; the rest is the answer (for
// GetObject: a Content-Range header value, a newline, the body). Whatever arrives, the client
// must return a value or an error, never crash, hang or read out of bounds, and every listed key
// must be one that the body actually holds.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "s3/container_credentials.hpp"
#include "s3/credentials.hpp"
#include "s3/imds.hpp"
#include "s3/process_credentials.hpp"
#include "s3/profile_file.hpp"
#include "s3/s3_client.hpp"
#include "s3/sts.hpp"
#include "vpcflow/clock.hpp"

namespace vpcflow {
namespace {

void Check(bool ok) {
  if (!ok) std::abort();
}

// Answers every request with the same response.
class FixedHttpClient final : public HttpClient {
 public:
  explicit FixedHttpClient(HttpResponse response) : response_(std::move(response)) {}
  Result<HttpResponse> Send(const HttpRequest&) override { return response_; }

 private:
  HttpResponse response_;
};

constexpr int kStatuses[] = {200, 206, 400, 403, 404, 409, 412, 500, 503};

void FuzzClient(int operation, int status, std::string_view data) {
  HttpResponse response{.status = status};
  if (operation == 2) {  // GetObject: "<content-range>\n<body>"
    const size_t newline = data.find('\n');
    response.headers.emplace_back("content-range", std::string(data.substr(0, newline)));
    response.headers.emplace_back("etag", "\"e\"");
    data = newline == std::string_view::npos ? "" : data.substr(newline + 1);
  }
  response.body = std::string(data);
  auto http = std::make_shared<FixedHttpClient>(std::move(response));
  AwsCredentials keys;
  keys.keys.access_key_id = "AKID";
  keys.keys.secret_access_key = "secret";
  S3ClientOptions options{.endpoint = "http://127.0.0.1:9"};
  options.retry = {.max_attempts = 2, .base_delay_ms = 0, .max_delay_ms = 0};
  options.sleep = [](int64_t) { return true; };
  S3Client client(options, NewStaticCredentialsProvider(keys, "fuzz"), http);
  switch (operation) {
    case 0: {
      Result<ListPage> page = client.ListObjectsV2("b", {.prefix = "p/", .delimiter = "/"});
      if (page.ok()) {
        for (const ObjectInfo& o : page->objects) Check(data.find(o.key) != std::string_view::npos);
      }
      break;
    }
    case 1:
      (void)client.CreateMultipartUpload("b", "k");
      (void)client.CompleteMultipartUpload("b", "k", "u", {"\"a\"", "\"b\""});
      break;
    case 2: {
      Result<S3GetResult> got = client.GetObject("b", "k", S3Range{.first = 3, .last = 9});
      if (got.ok() && status == 200) Check(got->body.size() <= 7);
      Result<ObjectReaderPtr> reader = client.OpenReader("b", "k", 4);
      if (reader.ok()) {
        char buffer[64];
        for (int i = 0; i < 64; ++i) {
          Result<size_t> n = (*reader)->Read(std::span<char>(buffer, sizeof(buffer)));
          if (!n.ok() || *n == 0) break;
        }
      }
      break;
    }
    default:
      (void)client.HeadObject("b", "k");
      (void)client.PutObject("b", "k", "x", {.if_match = "\"e\""});
      (void)client.DeleteObject("b", "k");
      (void)client.CreateBucket("b");
      break;
  }
}

// STS (XML), IMDS and container (JSON) answers through the providers, credential_process
// output; the shared files.
void FuzzCredentials(int which, int status, std::string_view data) {
  HttpResponse response{.status = status, .body = std::string(data)};
  auto http = std::make_shared<FixedHttpClient>(std::move(response));
  CredentialsSettings settings;
  settings.use_iam = true;
  settings.ec2_metadata_endpoint = "http://127.0.0.1:9";
  settings.sts_endpoint = "http://127.0.0.1:9";
  settings.container_full_uri = "http://127.0.0.1:9/credentials";
  settings.sleep = [](int64_t) { return true; };  // retries do not slow the fuzzer
  if (which == 0) {
    AwsCredentials base;
    base.keys.access_key_id = "AKID";
    base.keys.secret_access_key = "secret";
    CredentialsProviderPtr provider =
        NewAssumeRoleProvider(NewStaticCredentialsProvider(base, "fuzz"),
                              "arn:aws:iam::123456789012:role/r", settings, http, SystemClock());
    (void)provider->Get();
  } else if (which == 1) {
    (void)NewImdsProvider(settings, http, SystemClock())->Get();
    (void)ImdsRegion(settings, *http);
  } else if (which == 2) {
    Result<CredentialsProviderPtr> container = NewContainerProvider(settings, http, SystemClock());
    Check(container.ok());
    (void)(*container)->Get();
    (void)ParseProcessCredentials(data, "fuzz");
  } else {
    // The file through a descriptor of its own: no directory to clean up.
    static const std::string path = [] {
      char name[] = "/tmp/vpcflow-credentials-fuzz-XXXXXX";
      int fd = ::mkstemp(name);
      Check(fd >= 0);
      ::close(fd);
      return std::string(name);
    }();
    FILE* file = std::fopen(path.c_str(), "wb");
    Check(file != nullptr);
    std::fwrite(data.data(), 1, data.size(), file);
    std::fclose(file);
    (void)LoadProfileCredentials(path, "default");
    (void)LoadProfileCredentials(path, "p");
    (void)ParseProfileText(data, ProfileFileKind::kConfig);
  }
}

}  // namespace
}  // namespace vpcflow

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {
  if (size == 0) return 0;
  const int selector = bytes[0];
  const std::string_view data(reinterpret_cast<const char*>(bytes) + 1, size - 1);
  const int status = vpcflow::kStatuses[(selector >> 3) % std::size(vpcflow::kStatuses)];
  const int choice = selector & 7;
  if (choice < 4) {
    vpcflow::FuzzClient(choice, status, data);
  } else {
    vpcflow::FuzzCredentials(choice - 4, status == 206 ? 200 : status, data);
  }
  return 0;
}
