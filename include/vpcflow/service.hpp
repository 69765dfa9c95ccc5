#pragma once
/// Service: the vpcflow-digesterd process (API + worker), composed from one module of each
/// kind. A user's main.cpp builds a Config (usually ConfigFromEnvironment), sets any module it
/// wants to replace, and calls Run(). Unset modules get their defaults from the Config when
/// Run() starts: the embedded file-system stores under DATA_DIR unless buckets are configured,
/// the in-process queue unless STREAM_APPLIANCE_ENDPOINT is set.
///
/// Thread safety: configure from one thread before Run(); Shutdown() may be called from any
/// thread (and from a signal-handling thread) at any time.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "vpcflow/clock.hpp"
#include "vpcflow/digest.hpp"
#include "vpcflow/http_client.hpp"
#include "vpcflow/logger.hpp"
#include "vpcflow/marker.hpp"
#include "vpcflow/object_source.hpp"
#include "vpcflow/queuer.hpp"
#include "vpcflow/stats.hpp"
#include "vpcflow/status.hpp"
#include "vpcflow/storage.hpp"

namespace vpcflow {

/// DIGEST_ROLE: what this process does (DESIGN.md, "Scaling out").
enum class ServiceRole {
  kAll,     ///< answers the API and runs jobs (the default)
  kApi,     ///< answers the API and publishes jobs to the NATS queue; runs none
  kWorker,  ///< takes jobs from the NATS queue; serves only /healthz, /readyz and /metrics
};

/// Where a module's objects live in S3 and how the bucket is reached. The service reads its
/// three from `<NAME>`, `<NAME>_REGION` and `<NAME>_ROLE` (e.g. DIGEST_STORAGE_BUCKET,
/// DIGEST_STORAGE_BUCKET_REGION, ..._ROLE); a program's own main.cpp passes them to
/// S3ModuleFactory (vpcflow/s3.hpp).
struct BucketConfig {
  std::string bucket{};  ///< the bucket's name ("" in a Config = that store is not on S3)
  /// The bucket's region; "" = the default region: AWS_REGION, else AWS_DEFAULT_REGION, else
  /// the profile's `region`, else with USE_IAM the instance's, else "us-east-1".
  std::string region{};
  /// An IAM role ARN assumed with STS AssumeRole over the chain's credentials ("" = the chain's
  /// credentials themselves). The role is assumed when the module is made.
  std::string role{};
  /// Keys below this prefix ("" = the bucket's root; usually ends with "/"). A Storage writes
  /// `<prefix><id>.log.gz` and `<prefix><id>.manifest.json`, a Marker `<prefix><id>_in_progress`
  /// and `<prefix><id>_failed`; an ObjectSource reads the keys below it and presents them
  /// without it, so the prefix looks like a bucket of its own. Not read from the environment.
  std::string prefix{};
};

/// Everything configurable, with the defaults of DESIGN.md ("Configuration").
struct Config {
  std::string listen_address = "0.0.0.0";  ///< LISTEN_ADDRESS
  int port = 8080;                         ///< PORT (0 = any free port, see Service::port())
  std::string data_dir = "var";            ///< DATA_DIR
  std::string flowlogs_dir;                ///< VPC_FLOW_LOGS_DIR ("" = DATA_DIR/flowlogs)
  /// VPC_FLOW_LOGS_FOLLOW_LINKS: follow links leaving VPC_FLOW_LOGS_DIR (LocalDirOptions).
  bool flowlogs_follow_links = false;
  std::string digest_dir;    ///< DIGEST_STORAGE_DIR ("" = DATA_DIR/digests)
  std::string progress_dir;  ///< DIGEST_PROGRESS_DIR ("" = DATA_DIR/progress)

  BucketConfig flowlogs_bucket;  ///< VPC_FLOW_LOGS_BUCKET[_REGION|_ROLE] (set: read from S3)
  ScanOptions scan;              ///< VPC_FLOW_LOGS_SCAN_ACCOUNTS/_REGIONS, VPC_FLOW_LOGS_PREFIX
  int64_t max_bytes_prefetch = 150000000;  ///< VPC_MAX_BYTES_PREFETCH
  int max_concurrent_prefetch = 2;         ///< VPC_MAX_CONCURRENT_PREFETCH
  BucketConfig digest_bucket;              ///< DIGEST_STORAGE_BUCKET[_REGION|_ROLE]
  BucketConfig progress_bucket;            ///< DIGEST_PROGRESS_BUCKET[_REGION|_ROLE]

  int64_t progress_timeout_ms = 600000;  ///< DIGEST_PROGRESS_TIMEOUT (ms): marker TTL
  /// DIGEST_HEARTBEAT_INTERVAL (a duration, whole seconds; ms here): how often the markers of
  /// the jobs this process holds are rewritten and orphaned ones looked for. At most a third of
  /// the TTL is used; a marker unrefreshed for 4 intervals is stale (marker.hpp).
  int64_t heartbeat_ms = 5000;
  int64_t max_window_seconds = kDefaultMaxWindowSeconds;  ///< DIGEST_MAX_WINDOW (seconds)
  /// DIGEST_SETTLE (a duration): flow logs arrive up to ~15 min late, so a digest planned less
  /// than this after its window's stop is provisional, replaced by a POST once settled.
  int64_t settle_seconds = kDefaultSettleSeconds;
  int workers = 2;               ///< DIGEST_WORKERS: jobs run at once
  size_t queue_capacity = 1024;  ///< DIGEST_QUEUE_CAPACITY: jobs waiting for a worker at most
  int digest_threads = 0;        ///< DIGEST_THREADS: threads per job (0 = cores)
  /// DIGEST_MEMORY_LIMIT ("256M", "2G"): the aggregation memory of one job; DIGEST_WORKERS jobs
  /// run at once, so the process needs about DIGEST_WORKERS times this (DigestOptions).
  uint64_t memory_limit = kDefaultMemoryLimit;
  std::string spill_dir;  ///< DIGEST_SPILL_DIR: where jobs spill ("" = DATA_DIR/spill)
  /// DIGEST_SHARD_TARGET ("256M"): the estimated text of one shard, and the most one job runs
  /// as a single task (a larger one is split into shard tasks on NATS, partials in-process).
  /// 0 = the defaults (shards of 256 MiB; jobs up to 4 GiB in one task).
  uint64_t shard_target_bytes = 0;
  int64_t shutdown_grace_ms = 30000;  ///< SHUTDOWN_GRACE_PERIOD (ms)

  std::string stream_endpoint;           ///< STREAM_APPLIANCE_ENDPOINT ("" = in-process)
  std::string stream_topic = "digests";  ///< STREAM_APPLIANCE_TOPIC
  std::string stream_token;  ///< STREAM_APPLIANCE_TOKEN: the queuer's bearer token (secret)

  /// DIGEST_QUEUE_URL: "nats://host:port[,nats://...]" selects the NATS JetStream queue (a
  /// URL's "user:password@" or "token@" is a secret). "" = STREAM_APPLIANCE_ENDPOINT or the
  /// in-process queue.
  std::string queue_url;
  std::string nats_creds;            ///< NATS_CREDS: a NATS credentials file (JWT and seed)
  std::string nats_token;            ///< NATS_TOKEN (secret)
  int64_t nats_ack_wait_ms = 30000;  ///< NATS_ACK_WAIT (a duration): a silent worker's task returns
  int nats_max_deliver = 5;          ///< NATS_MAX_DELIVER: deliveries before a task fails its job
  ServiceRole role =
      ServiceRole::kAll;  ///< DIGEST_ROLE: all | api | worker (api, worker need NATS)

  std::string statsd_address = "localhost:8126";  ///< STATSD_ADDRESS ("" disables UDP)
  std::string statsd_tags;                        ///< STATSD_TAGS "k:v,k:v"
  LogLevel log_level = LogLevel::kInfo;           ///< LOG_LEVEL

  int64_t request_timeout_ms = 30000;  ///< HTTP_REQUEST_TIMEOUT (ms): read/write of a request
  size_t max_header_bytes = size_t{16} * 1024;  ///< HTTP_MAX_HEADER_BYTES
  size_t max_body_bytes = size_t{64} * 1024;    ///< HTTP_MAX_BODY_BYTES
  int http_threads = 2;                         ///< HTTP_THREADS
  /// Files of bearer tokens, one per line (DESIGN.md, "Authentication"); "" = none.
  std::string api_tokens_file;     ///< DIGEST_API_TOKENS_FILE: every route but /healthz, /readyz
  std::string worker_tokens_file;  ///< DIGEST_WORKER_TOKENS_FILE: the worker route alone
  std::string tls_cert_file;       ///< TLS_CERT_FILE (PEM chain): with TLS_KEY_FILE, HTTPS on PORT
  std::string tls_key_file;        ///< TLS_KEY_FILE (PEM)
  /// CA certificates (PEM file) that outgoing HTTPS (S3, STS, the event bus) is verified
  /// against: AWS_CA_BUNDLE, else SSL_CERT_FILE; "" = the system's.
  std::string ca_file;

  bool use_iam = false;                 ///< USE_IAM
  std::string aws_credentials_file;     ///< AWS_CREDENTIALS_FILE
  std::string aws_credentials_profile;  ///< AWS_CREDENTIALS_PROFILE
  /// AWS SDK conventions (credentials and endpoints of the S3 stores). Secrets: never logged.
  std::string aws_access_key_id;            ///< AWS_ACCESS_KEY_ID
  std::string aws_secret_access_key;        ///< AWS_SECRET_ACCESS_KEY
  std::string aws_session_token;            ///< AWS_SESSION_TOKEN
  std::string aws_region;                   ///< AWS_REGION
  std::string aws_profile;                  ///< AWS_PROFILE
  std::string aws_shared_credentials_file;  ///< AWS_SHARED_CREDENTIALS_FILE
  std::string aws_endpoint_url;             ///< AWS_ENDPOINT_URL
  std::string aws_endpoint_url_s3;          ///< AWS_ENDPOINT_URL_S3 (wins over the former)
  std::string aws_endpoint_url_sts;         ///< AWS_ENDPOINT_URL_STS (wins over AWS_ENDPOINT_URL)
  std::string aws_default_region;           ///< AWS_DEFAULT_REGION (AWS_REGION wins)
  std::string aws_web_identity_token_file;  ///< AWS_WEB_IDENTITY_TOKEN_FILE
  std::string aws_role_arn;                 ///< AWS_ROLE_ARN (with the web identity token)
  std::string aws_role_session_name;        ///< AWS_ROLE_SESSION_NAME
  std::string aws_ec2_metadata_endpoint;    ///< AWS_EC2_METADATA_SERVICE_ENDPOINT (USE_IAM)
  std::string aws_config_file;              ///< AWS_CONFIG_FILE (profiles, role_arn, region)
  /// ECS/EKS container credentials (DESIGN.md, "S3 credentials").
  std::string aws_container_credentials_relative_uri;  ///< AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
  std::string aws_container_credentials_full_uri;      ///< AWS_CONTAINER_CREDENTIALS_FULL_URI
  std::string aws_container_authorization_token;  ///< AWS_CONTAINER_AUTHORIZATION_TOKEN (secret)
  /// AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (wins over the token).
  std::string aws_container_authorization_token_file;
};

/// Reads every variable from `env` (name -> value; pass the process environment with
/// EnvironmentMap()). Unset or empty variables keep the defaults of Config. Numbers must be
/// decimal integers in range (each has a range that keeps the arithmetic on it from
/// overflowing); DIGEST_MAX_WINDOW, DIGEST_SETTLE and DIGEST_HEARTBEAT_INTERVAL are seconds or a
/// duration of h/m/s parts ("168h", "1h30m"); USE_IAM is true/false/1/0/yes/no; URLs must be
/// absolute http(s) URLs. Returns InvalidArgument listing EVERY problem found, one per line ("PORT:
/// ...").
Result<Config> ConfigFromEnvironment(const std::map<std::string, std::string>& env);

/// The process environment as a map.
std::map<std::string, std::string> EnvironmentMap();

class ServiceImpl;

class Service {
 public:
  explicit Service(Config config);
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  /// Module setters: call before Run(). Null = the default.
  void SetObjectSource(ObjectSourcePtr source);
  void SetStorage(StoragePtr storage);
  void SetMarker(MarkerPtr marker);
  void SetQueuer(QueuerPtr queuer);
  void SetHttpClient(HttpClientPtr client);
  void SetLogger(LoggerPtr logger);
  void SetStats(StatsPtr stats);
  void SetClock(ClockPtr clock);

  /// Creates missing modules, binds the port and serves until Shutdown() (or SIGTERM/SIGINT
  /// when `handle_signals`: the calling thread blocks both signals before any thread starts,
  /// and a dedicated thread waits for them with sigwait). Returns OK after a clean shutdown,
  /// or the start-up error: InvalidArgument listing every problem with the configuration and
  /// the default modules (directory not creatable, S3 bucket unreachable or refused, no
  /// credentials), Unavailable
  /// when the port cannot be bound.
  [[nodiscard]] Status Run(bool handle_signals = true);
  /// Starts serving on background threads and returns once the port is bound (for tests and
  /// embedding). Shutdown() stops it. FailedPrecondition when already started.
  [[nodiscard]] Status Start();
  /// Stops accepting (and /readyz answers 503), lets running jobs finish within the grace
  /// period (SHUTDOWN_GRACE_PERIOD), then cancels them; clears the markers of jobs cancelled
  /// or never started, and returns when everything stopped. Idempotent; concurrent callers
  /// all return once it is done.
  void Shutdown();
  /// The bound port (after Start/Run bound it; 0 before).
  int port() const;

 private:
  std::unique_ptr<ServiceImpl> impl_;
};

}  // namespace vpcflow
