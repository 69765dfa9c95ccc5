#include "service/config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "testing/matchers.hpp"
#include "vpcflow/service.hpp"

namespace vpcflow {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

using Env = std::map<std::string, std::string>;

TEST(ConfigTest, NoVariablesGiveTheDefaults) {
  Result<Config> c = ConfigFromEnvironment({});
  ASSERT_OK(c.status());
  EXPECT_EQ(c->port, 8080);
  EXPECT_EQ(c->listen_address, "0.0.0.0");
  EXPECT_EQ(c->data_dir, "var");
  EXPECT_EQ(c->flowlogs_dir, "");
  EXPECT_EQ(c->max_bytes_prefetch, 150000000);
  EXPECT_EQ(c->max_concurrent_prefetch, 2);
  EXPECT_EQ(c->progress_timeout_ms, 600000);
  EXPECT_EQ(c->max_window_seconds, 7 * 24 * 3600);
  EXPECT_EQ(c->stream_endpoint, "");
  EXPECT_EQ(c->stream_topic, "digests");
  EXPECT_EQ(c->statsd_address, "localhost:8126");
  EXPECT_EQ(c->log_level, LogLevel::kInfo);
  EXPECT_FALSE(c->use_iam);
}

TEST(ConfigTest, ReadsEveryVariable) {
  const Env env = {
      {"LISTEN_ADDRESS", "127.0.0.1"},
      {"PORT", "9090"},
      {"DATA_DIR", "/data"},
      {"VPC_FLOW_LOGS_DIR", "/logs"},
      {"DIGEST_STORAGE_DIR", "/digests"},
      {"DIGEST_PROGRESS_DIR", "/progress"},
      {"VPC_FLOW_LOGS_BUCKET", "logs-bucket"},
      {"VPC_FLOW_LOGS_BUCKET_REGION", "eu-west-1"},
      {"VPC_FLOW_LOGS_BUCKET_ROLE", "arn:aws:iam::123456789012:role/read"},
      {"VPC_FLOW_LOGS_SCAN_ACCOUNTS", "123456789012, 210987654321,"},
      {"VPC_FLOW_LOGS_SCAN_REGIONS", "us-east-1,eu-west-1"},
      {"VPC_FLOW_LOGS_PREFIX", "team/"},
      {"VPC_MAX_BYTES_PREFETCH", "1000"},
      {"VPC_MAX_CONCURRENT_PREFETCH", "8"},
      {"DIGEST_STORAGE_BUCKET", "digest-bucket"},
      {"DIGEST_STORAGE_BUCKET_REGION", "us-west-2"},
      {"DIGEST_STORAGE_BUCKET_ROLE", "role-d"},
      {"DIGEST_PROGRESS_BUCKET", "progress-bucket"},
      {"DIGEST_PROGRESS_BUCKET_REGION", "us-west-1"},
      {"DIGEST_PROGRESS_BUCKET_ROLE", "role-p"},
      {"DIGEST_PROGRESS_TIMEOUT", "5000"},
      {"DIGEST_MAX_WINDOW", "1h30m"},
      {"DIGEST_WORKERS", "4"},
      {"DIGEST_THREADS", "3"},
      {"SHUTDOWN_GRACE_PERIOD", "100"},
      {"STREAM_APPLIANCE_ENDPOINT", "http://bus:8080"},
      {"STREAM_APPLIANCE_TOPIC", "flows"},
      {"STATSD_ADDRESS", "statsd:9125"},
      {"STATSD_TAGS", "env:test, team:net"},
      {"LOG_LEVEL", "DEBUG"},
      {"HTTP_REQUEST_TIMEOUT", "1500"},
      {"HTTP_MAX_HEADER_BYTES", "4096"},
      {"HTTP_MAX_BODY_BYTES", "2048"},
      {"HTTP_THREADS", "6"},
      {"USE_IAM", "yes"},
      {"AWS_CREDENTIALS_FILE", "/creds"},
      {"AWS_CREDENTIALS_PROFILE", "prof"},
      {"AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"},
      {"AWS_SECRET_ACCESS_KEY", "secret"},
      {"AWS_SESSION_TOKEN", "token"},
      {"AWS_REGION", "ap-south-1"},
      {"AWS_PROFILE", "p2"},
      {"AWS_SHARED_CREDENTIALS_FILE", "/shared"},
      {"AWS_ENDPOINT_URL", "http://127.0.0.1:7480"},
      {"AWS_ENDPOINT_URL_S3", "https://s3.example.com"},
      {"AWS_ENDPOINT_URL_STS", "https://sts.example.com"},
      {"AWS_DEFAULT_REGION", "eu-north-1"},
      {"AWS_WEB_IDENTITY_TOKEN_FILE", "/var/run/token"},
      {"AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/web"},
      {"AWS_ROLE_SESSION_NAME", "session"},
      {"AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:9999"},
      {"AWS_CONFIG_FILE", "/config"},
      {"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/task"},
      {"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://127.0.0.1:8080/creds"},
      {"AWS_CONTAINER_AUTHORIZATION_TOKEN", "container-token"},
      {"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "/var/run/container-token"},
  };
  Result<Config> c = ConfigFromEnvironment(env);
  ASSERT_OK(c.status());
  EXPECT_EQ(c->listen_address, "127.0.0.1");
  EXPECT_EQ(c->port, 9090);
  EXPECT_EQ(c->data_dir, "/data");
  EXPECT_EQ(c->flowlogs_dir, "/logs");
  EXPECT_EQ(c->digest_dir, "/digests");
  EXPECT_EQ(c->progress_dir, "/progress");
  EXPECT_EQ(c->flowlogs_bucket.bucket, "logs-bucket");
  EXPECT_EQ(c->flowlogs_bucket.region, "eu-west-1");
  EXPECT_EQ(c->flowlogs_bucket.role, "arn:aws:iam::123456789012:role/read");
  EXPECT_THAT(c->scan.accounts, ElementsAre("123456789012", "210987654321"));
  EXPECT_THAT(c->scan.regions, ElementsAre("us-east-1", "eu-west-1"));
  EXPECT_EQ(c->scan.prefix, "team/");
  EXPECT_EQ(c->max_bytes_prefetch, 1000);
  EXPECT_EQ(c->max_concurrent_prefetch, 8);
  EXPECT_EQ(c->digest_bucket.bucket, "digest-bucket");
  EXPECT_EQ(c->digest_bucket.region, "us-west-2");
  EXPECT_EQ(c->digest_bucket.role, "role-d");
  EXPECT_EQ(c->progress_bucket.bucket, "progress-bucket");
  EXPECT_EQ(c->progress_bucket.region, "us-west-1");
  EXPECT_EQ(c->progress_bucket.role, "role-p");
  EXPECT_EQ(c->progress_timeout_ms, 5000);
  EXPECT_EQ(c->max_window_seconds, 5400);
  EXPECT_EQ(c->workers, 4);
  EXPECT_EQ(c->digest_threads, 3);
  EXPECT_EQ(c->shutdown_grace_ms, 100);
  EXPECT_EQ(c->stream_endpoint, "http://bus:8080");
  EXPECT_EQ(c->stream_topic, "flows");
  EXPECT_EQ(c->statsd_address, "statsd:9125");
  EXPECT_EQ(c->statsd_tags, "env:test,team:net");
  EXPECT_EQ(c->log_level, LogLevel::kDebug);
  EXPECT_EQ(c->request_timeout_ms, 1500);
  EXPECT_EQ(c->max_header_bytes, 4096u);
  EXPECT_EQ(c->max_body_bytes, 2048u);
  EXPECT_EQ(c->http_threads, 6);
  EXPECT_TRUE(c->use_iam);
  EXPECT_EQ(c->aws_credentials_file, "/creds");
  EXPECT_EQ(c->aws_credentials_profile, "prof");
  EXPECT_EQ(c->aws_access_key_id, "AKIDEXAMPLE");
  EXPECT_EQ(c->aws_secret_access_key, "secret");
  EXPECT_EQ(c->aws_session_token, "token");
  EXPECT_EQ(c->aws_region, "ap-south-1");
  EXPECT_EQ(c->aws_profile, "p2");
  EXPECT_EQ(c->aws_shared_credentials_file, "/shared");
  EXPECT_EQ(c->aws_endpoint_url, "http://127.0.0.1:7480");
  EXPECT_EQ(c->aws_endpoint_url_s3, "https://s3.example.com");
  EXPECT_EQ(c->aws_endpoint_url_sts, "https://sts.example.com");
  EXPECT_EQ(c->aws_default_region, "eu-north-1");
  EXPECT_EQ(c->aws_web_identity_token_file, "/var/run/token");
  EXPECT_EQ(c->aws_role_arn, "arn:aws:iam::123456789012:role/web");
  EXPECT_EQ(c->aws_role_session_name, "session");
  EXPECT_EQ(c->aws_ec2_metadata_endpoint, "http://127.0.0.1:9999");
  EXPECT_EQ(c->aws_config_file, "/config");
  EXPECT_EQ(c->aws_container_credentials_relative_uri, "/v2/credentials/task");
  EXPECT_EQ(c->aws_container_credentials_full_uri, "http://127.0.0.1:8080/creds");
  EXPECT_EQ(c->aws_container_authorization_token, "container-token");
  EXPECT_EQ(c->aws_container_authorization_token_file, "/var/run/container-token");
}

TEST(ConfigTest, ReadsTheHttpEdgeVariables) {
  Result<Config> c = ConfigFromEnvironment({{"DIGEST_QUEUE_CAPACITY", "7"},
                                            {"STREAM_APPLIANCE_TOKEN", "bus-token"},
                                            {"DIGEST_API_TOKENS_FILE", "/etc/api"},
                                            {"DIGEST_WORKER_TOKENS_FILE", "/etc/worker"},
                                            {"TLS_CERT_FILE", "/etc/tls.crt"},
                                            {"TLS_KEY_FILE", "/etc/tls.key"},
                                            {"SSL_CERT_FILE", "/etc/ssl-ca.pem"}});
  ASSERT_OK(c.status());
  EXPECT_EQ(c->queue_capacity, 7u);
  EXPECT_EQ(c->stream_token, "bus-token");
  EXPECT_EQ(c->api_tokens_file, "/etc/api");
  EXPECT_EQ(c->worker_tokens_file, "/etc/worker");
  EXPECT_EQ(c->tls_cert_file, "/etc/tls.crt");
  EXPECT_EQ(c->tls_key_file, "/etc/tls.key");
  EXPECT_EQ(c->ca_file, "/etc/ssl-ca.pem");
  // AWS_CA_BUNDLE wins over SSL_CERT_FILE.
  c = ConfigFromEnvironment({{"SSL_CERT_FILE", "/a"}, {"AWS_CA_BUNDLE", "/b"}});
  ASSERT_OK(c.status());
  EXPECT_EQ(c->ca_file, "/b");
  EXPECT_THAT(ConfigFromEnvironment({{"TLS_KEY_FILE", "/k"}, {"DIGEST_QUEUE_CAPACITY", "0"}}),
              StatusIs(StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("TLS_CERT_FILE and TLS_KEY_FILE must be set together"),
                             HasSubstr("DIGEST_QUEUE_CAPACITY"))));
}

TEST(ConfigTest, ReportsEveryProblemAtOnce) {
  const Env env = {{"PORT", "80a"},
                   {"LISTEN_ADDRESS", "localhost"},
                   {"DIGEST_WORKERS", "0"},
                   {"DIGEST_PROGRESS_TIMEOUT", "-5"},
                   {"DIGEST_MAX_WINDOW", "1h30"},
                   {"VPC_FLOW_LOGS_SCAN_ACCOUNTS", "123,123456789012"},
                   {"VPC_FLOW_LOGS_SCAN_REGIONS", "US-EAST-1"},
                   {"STREAM_APPLIANCE_ENDPOINT", "bus:8080"},
                   {"STREAM_APPLIANCE_TOPIC", "a/b"},
                   {"STATSD_ADDRESS", "statsd"},
                   {"LOG_LEVEL", "loud"},
                   {"USE_IAM", "maybe"},
                   {"HTTP_THREADS", "99999999999999999999"}};
  Result<Config> c = ConfigFromEnvironment(env);
  ASSERT_THAT(c.status(), StatusIs(StatusCode::kInvalidArgument));
  const std::string m = c.status().message();
  for (const char* name :
       {"PORT: \"80a\"", "LISTEN_ADDRESS", "DIGEST_WORKERS", "DIGEST_PROGRESS_TIMEOUT",
        "DIGEST_MAX_WINDOW", "VPC_FLOW_LOGS_SCAN_ACCOUNTS: \"123\"",
        "VPC_FLOW_LOGS_SCAN_REGIONS: \"US-EAST-1\"", "STREAM_APPLIANCE_ENDPOINT",
        "STREAM_APPLIANCE_TOPIC", "STATSD_ADDRESS", "LOG_LEVEL", "USE_IAM", "HTTP_THREADS"}) {
    EXPECT_THAT(m, HasSubstr(name));
  }
  EXPECT_EQ(std::count(m.begin(), m.end(), '\n'), 13) << m;
}

TEST(ConfigTest, FollowLinksIsOffUnlessSetToTrue) {
  EXPECT_FALSE(ConfigFromEnvironment({})->flowlogs_follow_links);
  Result<Config> c = ConfigFromEnvironment({{"VPC_FLOW_LOGS_FOLLOW_LINKS", "true"}});
  ASSERT_OK(c.status());
  EXPECT_TRUE(c->flowlogs_follow_links);
  EXPECT_THAT(ConfigFromEnvironment({{"VPC_FLOW_LOGS_FOLLOW_LINKS", "sometimes"}}),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("VPC_FLOW_LOGS_FOLLOW_LINKS")));
}

TEST(ConfigTest, MaxWindowIsSecondsOrADuration) {
  for (const auto& [text, seconds] : std::vector<std::pair<std::string, int64_t>>{
           {"3600", 3600}, {"168h", 604800}, {"90m", 5400}, {"1h1m1s", 3661}, {"45s", 45}}) {
    Result<Config> c = ConfigFromEnvironment({{"DIGEST_MAX_WINDOW", text}});
    ASSERT_OK(c.status()) << text;
    EXPECT_EQ(c->max_window_seconds, seconds) << text;
  }
  for (const char* bad : {"0", "h", "1d", "-1h", "1.5h", "10 h"}) {
    EXPECT_THAT(ConfigFromEnvironment({{"DIGEST_MAX_WINDOW", bad}}),
                StatusIs(StatusCode::kInvalidArgument))
        << bad;
  }
}

TEST(ConfigTest, EmptyValuesKeepTheDefaultsAndStatsdMayBeDisabled) {
  Result<Config> c = ConfigFromEnvironment({{"PORT", ""}, {"STATSD_ADDRESS", ""}});
  ASSERT_OK(c.status());
  EXPECT_EQ(c->port, 8080);
  EXPECT_EQ(c->statsd_address, "");
}

TEST(ConfigTest, BucketsAreAcceptedNowThatS3IsBuilt) {
  const Env env = {{"VPC_FLOW_LOGS_BUCKET", "logs"},
                   {"DIGEST_STORAGE_BUCKET", "digests"},
                   {"DIGEST_PROGRESS_BUCKET", "progress"}};
  Result<Config> c = ConfigFromEnvironment(env);
  ASSERT_OK(c.status());
  EXPECT_EQ(c->flowlogs_bucket.bucket, "logs");
}

TEST(ConfigTest, NeverEchoesSecrets) {
  Result<Config> c = ConfigFromEnvironment(
      {{"AWS_SECRET_ACCESS_KEY", "s3cr3t-value"}, {"AWS_SESSION_TOKEN", "t0ken-value"}});
  ASSERT_THAT(c.status(), StatusIs(StatusCode::kInvalidArgument));
  EXPECT_THAT(c.status().message(), AllOf(HasSubstr("AWS_ACCESS_KEY_ID"), Not(HasSubstr("s3cr3t")),
                                          Not(HasSubstr("t0ken"))));
}

TEST(ConfigTest, EveryNumberHasASaneRange) {
  // DIGEST_PROGRESS_TIMEOUT=9223372036854775807 once overflowed "written + ttl" and let two
  // copies of one job run at once.
  for (const auto& [name, bad] : std::vector<std::pair<std::string, std::string>>{
           {"DIGEST_PROGRESS_TIMEOUT", "9223372036854775807"},
           {"DIGEST_PROGRESS_TIMEOUT", "999"},
           {"DIGEST_PROGRESS_TIMEOUT", "604800001"},
           {"SHUTDOWN_GRACE_PERIOD", "9223372036854775807"},
           {"SHUTDOWN_GRACE_PERIOD", "3600001"},
           {"VPC_MAX_BYTES_PREFETCH", "9223372036854775807"},
           {"VPC_MAX_CONCURRENT_PREFETCH", "257"},
           {"DIGEST_WORKERS", "257"},
           {"DIGEST_THREADS", "257"},
           {"HTTP_REQUEST_TIMEOUT", "2147483647"},
           {"HTTP_REQUEST_TIMEOUT", "99"},
           {"HTTP_MAX_HEADER_BYTES", "2147483647"},
           {"HTTP_MAX_BODY_BYTES", "2147483647"},
           {"HTTP_THREADS", "65"},
           {"PORT", "65536"},
           {"DIGEST_MAX_WINDOW", "367d"},
           {"DIGEST_MAX_WINDOW", "8784h1s"},
           {"DIGEST_SETTLE", "0"},
           {"DIGEST_SETTLE", "721h"},
           {"DIGEST_HEARTBEAT_INTERVAL", "0"},
           {"DIGEST_HEARTBEAT_INTERVAL", "601"},
           {"DIGEST_HEARTBEAT_INTERVAL", "9223372036854775807"}}) {
    Result<Config> c = ConfigFromEnvironment({{name, bad}});
    EXPECT_THAT(c.status(), StatusIs(StatusCode::kInvalidArgument, HasSubstr(name)))
        << name << "=" << bad;
  }
  Result<Config> edges = ConfigFromEnvironment({{"DIGEST_PROGRESS_TIMEOUT", "604800000"},
                                                {"SHUTDOWN_GRACE_PERIOD", "3600000"},
                                                {"DIGEST_SETTLE", "720h"},
                                                {"DIGEST_HEARTBEAT_INTERVAL", "10m"}});
  ASSERT_OK(edges.status());
  EXPECT_EQ(edges->progress_timeout_ms, 604800000);
  EXPECT_EQ(edges->settle_seconds, 720 * 3600);
  EXPECT_EQ(edges->heartbeat_ms, 600000);
}

TEST(ConfigTest, SettleAndHeartbeatAreDurations) {
  Result<Config> defaults = ConfigFromEnvironment({});
  ASSERT_OK(defaults.status());
  EXPECT_EQ(defaults->settle_seconds, 1200);
  EXPECT_EQ(defaults->heartbeat_ms, 5000);
  Result<Config> c =
      ConfigFromEnvironment({{"DIGEST_SETTLE", "30m"}, {"DIGEST_HEARTBEAT_INTERVAL", "2"}});
  ASSERT_OK(c.status());
  EXPECT_EQ(c->settle_seconds, 1800);
  EXPECT_EQ(c->heartbeat_ms, 2000);
}

TEST(ConfigTest, ReadsTheNatsQueueAndTheRole) {
  Result<Config> defaults = ConfigFromEnvironment({});
  ASSERT_OK(defaults.status());
  EXPECT_EQ(defaults->queue_url, "");
  EXPECT_EQ(defaults->role, ServiceRole::kAll);
  EXPECT_EQ(defaults->nats_ack_wait_ms, 30000);
  EXPECT_EQ(defaults->nats_max_deliver, 5);
  Result<Config> c = ConfigFromEnvironment({{"DIGEST_QUEUE_URL", "nats://a:4222,nats://b:4222"},
                                            {"DIGEST_ROLE", "worker"},
                                            {"NATS_ACK_WAIT", "3s"},
                                            {"NATS_MAX_DELIVER", "2"},
                                            {"NATS_TOKEN", "t0k3n"}});
  ASSERT_OK(c.status());
  EXPECT_EQ(c->queue_url, "nats://a:4222,nats://b:4222");
  EXPECT_EQ(c->role, ServiceRole::kWorker);
  EXPECT_EQ(c->nats_ack_wait_ms, 3000);
  EXPECT_EQ(c->nats_max_deliver, 2);
  EXPECT_EQ(c->nats_token, "t0k3n");
}

TEST(ConfigTest, RefusesABadNatsQueueOrRoleWithoutShowingSecrets) {
  Result<Config> c = ConfigFromEnvironment({{"DIGEST_QUEUE_URL", "http://user:s3cr3t@a:4222"},
                                            {"DIGEST_ROLE", "boss"},
                                            {"NATS_MAX_DELIVER", "0"}});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("DIGEST_QUEUE_URL"));
  EXPECT_THAT(c.status().message(), HasSubstr("DIGEST_ROLE"));
  EXPECT_THAT(c.status().message(), HasSubstr("NATS_MAX_DELIVER"));
  EXPECT_THAT(c.status().message(), Not(HasSubstr("s3cr3t")));
  // The api and worker roles need the queue between them; one queue at a time.
  EXPECT_FALSE(ConfigFromEnvironment({{"DIGEST_ROLE", "api"}}).ok());
  EXPECT_FALSE(ConfigFromEnvironment({{"DIGEST_QUEUE_URL", "nats://a:4222"},
                                      {"STREAM_APPLIANCE_ENDPOINT", "http://bus:8080"}})
                   .ok());
}

TEST(ConfigTest, MemoryLimitIsASizeAndTheSpillDirAPath) {
  Result<Config> defaults = ConfigFromEnvironment({});
  ASSERT_OK(defaults.status());
  EXPECT_EQ(defaults->memory_limit, kDefaultMemoryLimit);
  EXPECT_EQ(defaults->spill_dir, "");
  Result<Config> c =
      ConfigFromEnvironment({{"DIGEST_MEMORY_LIMIT", "256M"}, {"DIGEST_SPILL_DIR", "/scratch"}});
  ASSERT_OK(c.status());
  EXPECT_EQ(c->memory_limit, uint64_t{256} << 20);
  EXPECT_EQ(c->spill_dir, "/scratch");
  for (const char* bad : {"lots", "512K", "2T", "-1"}) {
    EXPECT_THAT(ConfigFromEnvironment({{"DIGEST_MEMORY_LIMIT", bad}}).status(),
                StatusIs(StatusCode::kInvalidArgument, HasSubstr("DIGEST_MEMORY_LIMIT")))
        << bad;
  }
}

TEST(ConfigTest, ReadsTheShardTarget) {
  Result<Config> defaults = ConfigFromEnvironment({});
  ASSERT_OK(defaults.status());
  EXPECT_EQ(defaults->shard_target_bytes, 0u);
  Result<Config> c = ConfigFromEnvironment({{"DIGEST_SHARD_TARGET", "1K"}});
  ASSERT_OK(c.status());
  EXPECT_EQ(c->shard_target_bytes, 1024u);
  EXPECT_THAT(ConfigFromEnvironment({{"DIGEST_SHARD_TARGET", "lots"}}).status(),
              StatusIs(StatusCode::kInvalidArgument, HasSubstr("DIGEST_SHARD_TARGET")));
}

TEST(ConfigTest, UrlsAreQuotedWithoutTheirSecrets) {
  Result<Config> c = ConfigFromEnvironment(
      {{"AWS_ENDPOINT_URL_S3", "http://user:s3cr3t@127.0.0.1:7480/?X-Amz-Signature=abc123"},
       {"AWS_ENDPOINT_URL", "https://token@s3.example.com"},
       {"STREAM_APPLIANCE_ENDPOINT", "ftp://user:s3cr3t@bus/?token=abc123"}});
  ASSERT_THAT(c.status(), StatusIs(StatusCode::kInvalidArgument));
  const std::string m = c.status().message();
  EXPECT_THAT(m, AllOf(HasSubstr("AWS_ENDPOINT_URL_S3: \"http://***@127.0.0.1:7480/?***\""),
                       HasSubstr("AWS_ENDPOINT_URL: \"https://***@s3.example.com\""),
                       HasSubstr("STREAM_APPLIANCE_ENDPOINT"), Not(HasSubstr("s3cr3t")),
                       Not(HasSubstr("abc123")), Not(HasSubstr("token@"))));
  // A bus may take a password or a token in its URL (it is used, never shown).
  Result<Config> bus =
      ConfigFromEnvironment({{"STREAM_APPLIANCE_ENDPOINT", "http://user:pw@bus:8080/?k=v"}});
  ASSERT_OK(bus.status());
  EXPECT_EQ(bus->stream_endpoint, "http://user:pw@bus:8080/?k=v");
}

TEST(ConfigTest, EnvironmentMapReadsTheProcessEnvironment) {
  ASSERT_EQ(setenv("VPCFLOW_CONFIG_TEST", "a=b", 1), 0);
  std::map<std::string, std::string> env = EnvironmentMap();
  EXPECT_EQ(env["VPCFLOW_CONFIG_TEST"], "a=b");
  unsetenv("VPCFLOW_CONFIG_TEST");
}

TEST(ConfigTest, MaxWindowAloneIsReadAsTheWholeConfigurationReadsIt) {
  EXPECT_THAT(MaxWindowFromEnvironment({}), IsOkAndHolds(kDefaultMaxWindowSeconds));
  EXPECT_THAT(MaxWindowFromEnvironment({{"DIGEST_MAX_WINDOW", "1h30m"}}), IsOkAndHolds(5400));
  // Out of range for the service is out of range for the CLI too (it was not checked there).
  for (const char* bad : {"0", "400d", "9223372036854775807", "1h30"}) {
    const Result<int64_t> alone = MaxWindowFromEnvironment({{"DIGEST_MAX_WINDOW", bad}});
    EXPECT_THAT(alone, StatusIs(StatusCode::kInvalidArgument, HasSubstr("DIGEST_MAX_WINDOW")))
        << bad;
    EXPECT_FALSE(ConfigFromEnvironment({{"DIGEST_MAX_WINDOW", bad}}).ok()) << bad;
  }
}

}  // namespace
}  // namespace vpcflow
