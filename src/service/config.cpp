// Configuration from the environment (DESIGN.md, "Configuration"). Every variable is read and
// checked; problems are collected, never returned one at a time.
#include "service/config.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <boost/url/parse.hpp>
#include <cctype>
#include <charconv>

#include "common/aws_names.hpp"
#include "common/byte_size.hpp"
#include "common/redact.hpp"
#include "nats/nats_connection.hpp"
#include "vpcflow/http_client.hpp"
#include "vpcflow/service.hpp"

extern char** environ;

namespace vpcflow {
namespace {

class EnvReader {
 public:
  explicit EnvReader(const std::map<std::string, std::string>& env) : env_(env) {}

  // The value of `name`, or nullptr when unset or empty.
  const std::string* Get(const char* name) const {
    auto it = env_.find(name);
    return it == env_.end() || it->second.empty() ? nullptr : &it->second;
  }

  void Problem(const char* name, const std::string& value, std::string_view what) {
    problems_.push_back(std::string(name) + ": \"" + value + "\" " + std::string(what));
  }
  void Problem(std::string line) { problems_.push_back(std::move(line)); }

  void String(const char* name, std::string* out) {
    if (const std::string* v = Get(name)) *out = *v;
  }

  template <typename T>
  void Integer(const char* name, T* out, int64_t min, int64_t max) {
    const std::string* v = Get(name);
    if (v == nullptr) return;
    int64_t n = 0;
    auto [ptr, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
    if (ec != std::errc() || ptr != v->data() + v->size() || n < min || n > max) {
      Problem(name, *v, "is not an integer in " + std::to_string(min) + ".." + std::to_string(max));
      return;
    }
    *out = static_cast<T>(n);
  }

  // A duration (ParseDurationSeconds: seconds, or h/m/s parts) in [min_s, max_s] seconds.
  void Duration(const char* name, int64_t* seconds_out, int64_t min_s, int64_t max_s) {
    const std::string* v = Get(name);
    if (v == nullptr) return;
    Result<int64_t> seconds = ParseDurationSeconds(*v);
    if (!seconds.ok()) {
      Problem(std::string(name) + ": " + seconds.status().message());
    } else if (*seconds < min_s || *seconds > max_s) {
      Problem(
          name, *v,
          "is not a duration in " + std::to_string(min_s) + ".." + std::to_string(max_s) + " s");
    } else {
      *seconds_out = *seconds;
    }
  }

  // A byte size (ParseByteSize: "256M", "2G") in [min, max].
  void ByteSize(const char* name, uint64_t* out, uint64_t min, uint64_t max) {
    const std::string* v = Get(name);
    if (v == nullptr) return;
    Result<uint64_t> bytes = ParseByteSize(*v);
    if (!bytes.ok()) {
      Problem(std::string(name) + ": " + bytes.status().message());
    } else if (*bytes < min || *bytes > max) {
      Problem(name, *v,
              "is not a size in " + std::to_string(min >> 20) + " MiB.." +
                  std::to_string(max >> 30) + " GiB");
    } else {
      *out = *bytes;
    }
  }

  void Bool(const char* name, bool* out) {
    const std::string* v = Get(name);
    if (v == nullptr) return;
    std::string lower;
    for (char c : *v) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "true" || lower == "1" || lower == "yes") {
      *out = true;
    } else if (lower == "false" || lower == "0" || lower == "no") {
      *out = false;
    } else {
      Problem(name, *v, "is not a boolean (true/false)");
    }
  }

  // An absolute http(s) URL with a host. `signed_requests`: an AWS endpoint, whose requests are
  // signed with the AWS credentials, so user-info or a query there is a mistake. URLs are quoted
  // redacted (they may carry a password or a token).
  // `name`, `name`_REGION and `name`_ROLE.
  void Bucket(const std::string& name, BucketConfig* out) {
    String(name.c_str(), &out->bucket);
    const std::string region = name + "_REGION";
    String(region.c_str(), &out->region);
    if (!out->region.empty() && !IsAwsRegionName(out->region)) {
      Problem(region.c_str(), out->region, "is not a region name");
    }
    String((name + "_ROLE").c_str(), &out->role);
  }

  void Url(const char* name, std::string* out, bool signed_requests = false) {
    const std::string* v = Get(name);
    if (v == nullptr) return;
    auto url = boost::urls::parse_absolute_uri(*v);
    if (!url || (url->scheme() != "http" && url->scheme() != "https") || url->host().empty()) {
      Problem(name, RedactUrl(*v), "is not an http(s) URL");
      return;
    }
    if (signed_requests && (url->has_userinfo() || url->has_query() || url->has_fragment())) {
      Problem(name, RedactUrl(*v),
              "must not carry user-info, a query or a fragment (requests are signed with the AWS "
              "credentials)");
      return;
    }
    *out = *v;
  }

  // A comma-separated list; spaces around items are dropped, empty items ignored. Each item
  // must satisfy `valid`.
  template <typename Pred>
  void List(const char* name, std::vector<std::string>* out, Pred valid, std::string_view what) {
    const std::string* v = Get(name);
    if (v == nullptr) return;
    std::string_view rest = *v;
    while (!rest.empty()) {
      size_t comma = rest.find(',');
      std::string_view item = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
      while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
      if (item.empty()) continue;
      if (!valid(item)) {
        Problem(name, std::string(item), what);
        continue;
      }
      out->emplace_back(item);
    }
  }

  std::vector<std::string> TakeProblems() { return std::move(problems_); }

 private:
  const std::map<std::string, std::string>& env_;
  std::vector<std::string> problems_;
};

bool IsHostPort(std::string_view s) {
  size_t colon = s.rfind(':');
  if (colon == std::string_view::npos || colon == 0) return false;
  std::string_view port = s.substr(colon + 1);
  int n = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), n);
  return ec == std::errc() && ptr == port.data() + port.size() && n > 0 && n <= 65535;
}

bool IsIpLiteral(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

// The ranges of the numeric settings: wide enough for any real deployment, narrow enough that
// no arithmetic on them (deadlines, TTLs, buffers) can overflow.
constexpr int64_t kDay = int64_t{24} * 3600;
constexpr int64_t kMaxPrefetchBytes = int64_t{64} << 30;
constexpr int64_t kMinProgressTimeoutMs = 1000;
constexpr int64_t kMaxProgressTimeoutMs = 7 * kDay * 1000;
constexpr int64_t kMaxGraceMs = int64_t{3600} * 1000;
constexpr int64_t kMinRequestTimeoutMs = 100;
constexpr int64_t kMaxRequestTimeoutMs = int64_t{3600} * 1000;
constexpr int64_t kMaxHeaderBytes = 1 << 20;
constexpr int64_t kMaxBodyBytes = 16 << 20;
constexpr int64_t kMaxSettleSeconds = 30 * kDay;
constexpr int64_t kMaxHeartbeatSeconds = 600;
constexpr int64_t kMaxWindowLimitSeconds = 366 * kDay;
constexpr uint64_t kMaxMemoryLimit = uint64_t{1} << 40;

// The settings of S3 access: credentials, endpoints, the CA bundle (never echoing secrets).
void ReadS3Access(EnvReader& r, const std::map<std::string, std::string>& env, Config& c) {
  c.ca_file = CaFileFromEnvironment(env);

  r.Bool("USE_IAM", &c.use_iam);
  r.String("AWS_CREDENTIALS_FILE", &c.aws_credentials_file);
  r.String("AWS_CREDENTIALS_PROFILE", &c.aws_credentials_profile);
  r.String("AWS_ACCESS_KEY_ID", &c.aws_access_key_id);
  r.String("AWS_SECRET_ACCESS_KEY", &c.aws_secret_access_key);
  r.String("AWS_SESSION_TOKEN", &c.aws_session_token);
  r.String("AWS_REGION", &c.aws_region);
  if (const std::string* v = r.Get("AWS_REGION"); v != nullptr && !IsAwsRegionName(*v)) {
    r.Problem("AWS_REGION", *v, "is not a region name");
  }
  r.String("AWS_PROFILE", &c.aws_profile);
  r.String("AWS_SHARED_CREDENTIALS_FILE", &c.aws_shared_credentials_file);
  r.Url("AWS_ENDPOINT_URL", &c.aws_endpoint_url, true);
  r.Url("AWS_ENDPOINT_URL_S3", &c.aws_endpoint_url_s3, true);
  r.Url("AWS_ENDPOINT_URL_STS", &c.aws_endpoint_url_sts, true);
  r.String("AWS_DEFAULT_REGION", &c.aws_default_region);
  r.String("AWS_WEB_IDENTITY_TOKEN_FILE", &c.aws_web_identity_token_file);
  r.String("AWS_ROLE_ARN", &c.aws_role_arn);
  r.String("AWS_ROLE_SESSION_NAME", &c.aws_role_session_name);
  r.Url("AWS_EC2_METADATA_SERVICE_ENDPOINT", &c.aws_ec2_metadata_endpoint, true);
  r.String("AWS_CONFIG_FILE", &c.aws_config_file);
  r.String("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", &c.aws_container_credentials_relative_uri);
  r.Url("AWS_CONTAINER_CREDENTIALS_FULL_URI", &c.aws_container_credentials_full_uri);
  r.String("AWS_CONTAINER_AUTHORIZATION_TOKEN", &c.aws_container_authorization_token);
  r.String("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", &c.aws_container_authorization_token_file);
  // Never echo secrets: these problems name the variables only.
  if (c.aws_access_key_id.empty() != c.aws_secret_access_key.empty()) {
    r.Problem("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together");
  }
  if (!c.aws_session_token.empty() && c.aws_access_key_id.empty()) {
    r.Problem("AWS_SESSION_TOKEN is set without AWS_ACCESS_KEY_ID");
  }
}

// The problems of `r` as one InvalidArgument, or OK.
Status ProblemsStatus(EnvReader& r) {
  std::vector<std::string> problems = r.TakeProblems();
  if (problems.empty()) return OkStatus();
  std::string message = "invalid configuration:";
  for (const std::string& p : problems) message += "\n  " + p;
  return InvalidArgumentError(std::move(message));
}

}  // namespace

Result<Config> ConfigFromEnvironment(const std::map<std::string, std::string>& env) {
  Config c;
  EnvReader r(env);

  r.String("LISTEN_ADDRESS", &c.listen_address);
  if (!IsIpLiteral(c.listen_address)) {
    r.Problem("LISTEN_ADDRESS", c.listen_address, "is not an IPv4 or IPv6 address");
  }
  r.Integer("PORT", &c.port, 0, 65535);
  r.String("DATA_DIR", &c.data_dir);
  r.String("VPC_FLOW_LOGS_DIR", &c.flowlogs_dir);
  r.Bool("VPC_FLOW_LOGS_FOLLOW_LINKS", &c.flowlogs_follow_links);
  r.String("DIGEST_STORAGE_DIR", &c.digest_dir);
  r.String("DIGEST_PROGRESS_DIR", &c.progress_dir);

  r.Bucket("VPC_FLOW_LOGS_BUCKET", &c.flowlogs_bucket);
  r.List("VPC_FLOW_LOGS_SCAN_ACCOUNTS", &c.scan.accounts, IsAwsAccountId,
         "is not a 12-digit account id");
  r.List("VPC_FLOW_LOGS_SCAN_REGIONS", &c.scan.regions, IsAwsRegionName, "is not a region name");
  r.String("VPC_FLOW_LOGS_PREFIX", &c.scan.prefix);
  r.Integer("VPC_MAX_BYTES_PREFETCH", &c.max_bytes_prefetch, 1, kMaxPrefetchBytes);
  r.Integer("VPC_MAX_CONCURRENT_PREFETCH", &c.max_concurrent_prefetch, 1, 256);
  r.Bucket("DIGEST_STORAGE_BUCKET", &c.digest_bucket);
  r.Bucket("DIGEST_PROGRESS_BUCKET", &c.progress_bucket);

  r.Integer("DIGEST_PROGRESS_TIMEOUT", &c.progress_timeout_ms, kMinProgressTimeoutMs,
            kMaxProgressTimeoutMs);
  r.Duration("DIGEST_MAX_WINDOW", &c.max_window_seconds, 1, kMaxWindowLimitSeconds);
  r.Duration("DIGEST_SETTLE", &c.settle_seconds, 1, kMaxSettleSeconds);
  int64_t heartbeat_s = c.heartbeat_ms / 1000;
  r.Duration("DIGEST_HEARTBEAT_INTERVAL", &heartbeat_s, 1, kMaxHeartbeatSeconds);
  c.heartbeat_ms = heartbeat_s * 1000;
  r.Integer("DIGEST_WORKERS", &c.workers, 1, 256);
  r.Integer("DIGEST_THREADS", &c.digest_threads, 0, 256);
  r.ByteSize("DIGEST_MEMORY_LIMIT", &c.memory_limit, kMinMemoryLimit, kMaxMemoryLimit);
  r.String("DIGEST_SPILL_DIR", &c.spill_dir);
  r.ByteSize("DIGEST_SHARD_TARGET", &c.shard_target_bytes, 1, kMaxMemoryLimit);
  r.Integer("SHUTDOWN_GRACE_PERIOD", &c.shutdown_grace_ms, 0, kMaxGraceMs);

  r.Url("STREAM_APPLIANCE_ENDPOINT", &c.stream_endpoint);
  r.String("STREAM_APPLIANCE_TOPIC", &c.stream_topic);
  if (c.stream_topic.find('/') != std::string::npos) {
    r.Problem("STREAM_APPLIANCE_TOPIC", c.stream_topic, "must be one path segment (no '/')");
  }

  r.String("DIGEST_QUEUE_URL", &c.queue_url);
  if (!c.queue_url.empty()) {
    if (Result<NatsOptions> nats = NatsOptionsFromUrls(c.queue_url); !nats.ok()) {
      r.Problem(std::string("DIGEST_QUEUE_URL: ") + nats.status().message());
    }
    if (!c.stream_endpoint.empty()) {
      r.Problem("DIGEST_QUEUE_URL and STREAM_APPLIANCE_ENDPOINT are both set: choose one queue");
    }
  }
  r.String("NATS_CREDS", &c.nats_creds);
  r.String("NATS_TOKEN", &c.nats_token);
  int64_t ack_wait_s = c.nats_ack_wait_ms / 1000;
  r.Duration("NATS_ACK_WAIT", &ack_wait_s, 1, kMaxHeartbeatSeconds);
  c.nats_ack_wait_ms = ack_wait_s * 1000;
  r.Integer("NATS_MAX_DELIVER", &c.nats_max_deliver, 1, 1000);
  if (const std::string* v = r.Get("DIGEST_ROLE")) {
    if (*v == "all") {
      c.role = ServiceRole::kAll;
    } else if (*v == "api") {
      c.role = ServiceRole::kApi;
    } else if (*v == "worker") {
      c.role = ServiceRole::kWorker;
    } else {
      r.Problem("DIGEST_ROLE", *v, "is not one of all, api, worker");
    }
    if (c.role != ServiceRole::kAll && c.queue_url.empty()) {
      r.Problem("DIGEST_ROLE", *v, "needs DIGEST_QUEUE_URL (a NATS queue between the roles)");
    }
  }

  if (auto it = env.find("STATSD_ADDRESS"); it != env.end()) c.statsd_address = it->second;
  if (!c.statsd_address.empty() && !IsHostPort(c.statsd_address)) {
    r.Problem("STATSD_ADDRESS", c.statsd_address, "is not host:port (or empty to disable)");
  }
  std::vector<std::string> tags;
  r.List(
      "STATSD_TAGS", &tags, [](std::string_view t) { return t.find(':') != 0; },
      "is not a tag (k:v)");
  for (const std::string& tag : tags) c.statsd_tags += (c.statsd_tags.empty() ? "" : ",") + tag;
  if (const std::string* v = r.Get("LOG_LEVEL"); v != nullptr && !ParseLogLevel(*v, &c.log_level)) {
    r.Problem("LOG_LEVEL", *v, "is not one of debug, info, warn, error");
  }

  r.Integer("HTTP_REQUEST_TIMEOUT", &c.request_timeout_ms, kMinRequestTimeoutMs,
            kMaxRequestTimeoutMs);
  r.Integer("HTTP_MAX_HEADER_BYTES", &c.max_header_bytes, 256, kMaxHeaderBytes);
  r.Integer("HTTP_MAX_BODY_BYTES", &c.max_body_bytes, 1, kMaxBodyBytes);
  r.Integer("HTTP_THREADS", &c.http_threads, 1, 64);
  r.Integer("DIGEST_QUEUE_CAPACITY", &c.queue_capacity, 1, 1000000);
  r.String("STREAM_APPLIANCE_TOKEN", &c.stream_token);
  r.String("DIGEST_API_TOKENS_FILE", &c.api_tokens_file);
  r.String("DIGEST_WORKER_TOKENS_FILE", &c.worker_tokens_file);
  r.String("TLS_CERT_FILE", &c.tls_cert_file);
  r.String("TLS_KEY_FILE", &c.tls_key_file);
  if (c.tls_cert_file.empty() != c.tls_key_file.empty()) {
    r.Problem("TLS_CERT_FILE and TLS_KEY_FILE must be set together");
  }
  ReadS3Access(r, env, c);
  VPCFLOW_RETURN_IF_ERROR(ProblemsStatus(r));
  return c;
}

Result<Config> S3AccessFromEnvironment(const std::map<std::string, std::string>& env) {
  EnvReader r(env);
  Config c;
  ReadS3Access(r, env, c);
  VPCFLOW_RETURN_IF_ERROR(ProblemsStatus(r));
  return c;
}

Result<int64_t> MaxWindowFromEnvironment(const std::map<std::string, std::string>& env) {
  EnvReader r(env);
  int64_t seconds = kDefaultMaxWindowSeconds;
  r.Duration("DIGEST_MAX_WINDOW", &seconds, 1, kMaxWindowLimitSeconds);
  std::vector<std::string> problems = r.TakeProblems();
  if (!problems.empty()) return InvalidArgumentError(problems.front());
  return seconds;
}

std::map<std::string, std::string> EnvironmentMap() {
  std::map<std::string, std::string> out;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    size_t eq = entry.find('=');
    if (eq == std::string_view::npos) continue;
    out.emplace(entry.substr(0, eq), entry.substr(eq + 1));
  }
  return out;
}

}  // namespace vpcflow
