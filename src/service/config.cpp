// Configuration from the environment (DESIGN.md, "Configuration"). Every variable is read and
// checked; problems are collected, never returned one at a time.
#include <arpa/inet.h>

#include <algorithm>
#include <boost/url/parse.hpp>
#include <cctype>
#include <charconv>

#include "common/byte_size.hpp"
#include "common/redact.hpp"
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

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsRegionChar(char c) { return (c >= 'a' && c <= 'z') || IsDigit(c) || c == '-'; }
bool IsAccountId(std::string_view s) {
  return s.size() == 12 && std::all_of(s.begin(), s.end(), IsDigit);
}
bool IsRegion(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), IsRegionChar);
}

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
constexpr int64_t kDay = 24 * 3600;
constexpr int64_t kMaxPrefetchBytes = int64_t{64} << 30;
constexpr int64_t kMinProgressTimeoutMs = 1000;
constexpr int64_t kMaxProgressTimeoutMs = 7 * kDay * 1000;
constexpr int64_t kMaxGraceMs = 3600 * 1000;
constexpr int64_t kMinRequestTimeoutMs = 100;
constexpr int64_t kMaxRequestTimeoutMs = 3600 * 1000;
constexpr int64_t kMaxHeaderBytes = 1 << 20;
constexpr int64_t kMaxBodyBytes = 16 << 20;
constexpr int64_t kMaxSettleSeconds = 30 * kDay;
constexpr int64_t kMaxHeartbeatSeconds = 600;
constexpr uint64_t kMaxMemoryLimit = uint64_t{1} << 40;

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

  r.String("VPC_FLOW_LOGS_BUCKET", &c.flowlogs_bucket);
  r.String("VPC_FLOW_LOGS_BUCKET_REGION", &c.flowlogs_bucket_region);
  r.String("VPC_FLOW_LOGS_BUCKET_ROLE", &c.flowlogs_bucket_role);
  r.List("VPC_FLOW_LOGS_SCAN_ACCOUNTS", &c.scan.accounts, IsAccountId,
         "is not a 12-digit account id");
  r.List("VPC_FLOW_LOGS_SCAN_REGIONS", &c.scan.regions, IsRegion, "is not a region name");
  r.String("VPC_FLOW_LOGS_PREFIX", &c.scan.prefix);
  r.Integer("VPC_MAX_BYTES_PREFETCH", &c.max_bytes_prefetch, 1, kMaxPrefetchBytes);
  r.Integer("VPC_MAX_CONCURRENT_PREFETCH", &c.max_concurrent_prefetch, 1, 256);
  r.String("DIGEST_STORAGE_BUCKET", &c.digest_bucket);
  r.String("DIGEST_STORAGE_BUCKET_REGION", &c.digest_bucket_region);
  r.String("DIGEST_STORAGE_BUCKET_ROLE", &c.digest_bucket_role);
  r.String("DIGEST_PROGRESS_BUCKET", &c.progress_bucket);
  r.String("DIGEST_PROGRESS_BUCKET_REGION", &c.progress_bucket_region);
  r.String("DIGEST_PROGRESS_BUCKET_ROLE", &c.progress_bucket_role);
  for (const char* name : {"VPC_FLOW_LOGS_BUCKET_REGION", "DIGEST_STORAGE_BUCKET_REGION",
                           "DIGEST_PROGRESS_BUCKET_REGION", "AWS_REGION"}) {
    if (const std::string* v = r.Get(name); v != nullptr && !IsRegion(*v)) {
      r.Problem(name, *v, "is not a region name");
    }
  }

  r.Integer("DIGEST_PROGRESS_TIMEOUT", &c.progress_timeout_ms, kMinProgressTimeoutMs,
            kMaxProgressTimeoutMs);
  r.Duration("DIGEST_MAX_WINDOW", &c.max_window_seconds, 1, 366 * kDay);
  r.Duration("DIGEST_SETTLE", &c.settle_seconds, 1, kMaxSettleSeconds);
  int64_t heartbeat_s = c.heartbeat_ms / 1000;
  r.Duration("DIGEST_HEARTBEAT_INTERVAL", &heartbeat_s, 1, kMaxHeartbeatSeconds);
  c.heartbeat_ms = heartbeat_s * 1000;
  r.Integer("DIGEST_WORKERS", &c.workers, 1, 256);
  r.Integer("DIGEST_THREADS", &c.digest_threads, 0, 256);
  r.ByteSize("DIGEST_MEMORY_LIMIT", &c.memory_limit, kMinMemoryLimit, kMaxMemoryLimit);
  r.String("DIGEST_SPILL_DIR", &c.spill_dir);
  r.Integer("SHUTDOWN_GRACE_PERIOD", &c.shutdown_grace_ms, 0, kMaxGraceMs);

  r.Url("STREAM_APPLIANCE_ENDPOINT", &c.stream_endpoint);
  r.String("STREAM_APPLIANCE_TOPIC", &c.stream_topic);
  if (c.stream_topic.find('/') != std::string::npos) {
    r.Problem("STREAM_APPLIANCE_TOPIC", c.stream_topic, "must be one path segment (no '/')");
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
  c.ca_file = CaFileFromEnvironment(env);

  r.Bool("USE_IAM", &c.use_iam);
  r.String("AWS_CREDENTIALS_FILE", &c.aws_credentials_file);
  r.String("AWS_CREDENTIALS_PROFILE", &c.aws_credentials_profile);
  r.String("AWS_ACCESS_KEY_ID", &c.aws_access_key_id);
  r.String("AWS_SECRET_ACCESS_KEY", &c.aws_secret_access_key);
  r.String("AWS_SESSION_TOKEN", &c.aws_session_token);
  r.String("AWS_REGION", &c.aws_region);
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
  // Never echo secrets: these problems name the variables only.
  if (c.aws_access_key_id.empty() != c.aws_secret_access_key.empty()) {
    r.Problem("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY must be set together");
  }
  if (!c.aws_session_token.empty() && c.aws_access_key_id.empty()) {
    r.Problem("AWS_SESSION_TOKEN is set without AWS_ACCESS_KEY_ID");
  }

  std::vector<std::string> problems = r.TakeProblems();
  if (problems.empty()) return c;
  std::string message = "invalid configuration:";
  for (const std::string& p : problems) message += "\n  " + p;
  return InvalidArgumentError(std::move(message));
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
