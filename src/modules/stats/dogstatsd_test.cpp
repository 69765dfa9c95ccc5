#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <set>

#include "modules/stats/prometheus_registry.hpp"
#include "testing/matchers.hpp"
#include "testing/memory_stats.hpp"
#include "vpcflow/stats.hpp"

namespace vpcflow {
namespace {

using ::testing::HasSubstr;

// A UDP socket on 127.0.0.1, port 0, that receives what DogStatsD sends.
class UdpReceiver {
 public:
  UdpReceiver() {
    fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof(address);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&address), &length);
    port_ = ntohs(address.sin_port);
    timeval timeout{.tv_sec = 10, .tv_usec = 0};  // a deadline, not a sleep
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  }
  ~UdpReceiver() { ::close(fd_); }
  std::string address() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string Receive() {
    char buffer[2048];
    ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
    return n < 0 ? "<nothing>" : std::string(buffer, static_cast<size_t>(n));
  }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST(DogStatsdTest, SendsCountsGaugesAndTimingsWithTags) {
  UdpReceiver receiver;
  Status warning = InternalError("unset");
  StatsPtr stats = NewDogStatsd(
      {.address = receiver.address(), .prefix = "vpcflow_digesterd", .tags = "env:test, team:net"},
      &warning);
  EXPECT_OK(warning);
  stats->Count("requests", 1, {{"status", "200"}, {"route", "get"}});
  EXPECT_EQ(receiver.Receive(),
            "vpcflow_digesterd.requests:1|c|#env:test,team:net,status:200,route:get");
  stats->Gauge("jobs.running", 2.5);
  EXPECT_EQ(receiver.Receive(), "vpcflow_digesterd.jobs.running:2.5|g|#env:test,team:net");
  stats->Timing("digest.duration", 1234.5, {{"outcome", "done"}});
  EXPECT_EQ(receiver.Receive(),
            "vpcflow_digesterd.digest.duration:1234.5|ms|#env:test,team:net,outcome:done");
}

TEST(DogStatsdTest, ReplacesReservedCharacters) {
  UdpReceiver receiver;
  StatsPtr stats = NewDogStatsd({.address = receiver.address(), .prefix = ""});
  stats->Count("a:b|c", -3, {{"k,1", "v|2,3"}, {"flag", ""}});
  EXPECT_EQ(receiver.Receive(), "a_b_c:-3|c|#k_1:v_2_3,flag");
}

TEST(DogStatsdTest, AnUnresolvableAddressOnlyDisablesUdp) {
  Status warning;
  StatsPtr stats = NewDogStatsd({.address = "no-such-host.invalid:8126"}, &warning);
  EXPECT_THAT(warning, StatusIs(StatusCode::kUnavailable, HasSubstr("no-such-host.invalid")));
  stats->Count("requests", 1);
  EXPECT_THAT(stats->Prometheus().value(), HasSubstr("vpcflow_digesterd_requests_total 1"));
  EXPECT_THAT(NewDogStatsd({.address = "missing-port"}, &warning) != nullptr, true);
  EXPECT_THAT(warning, StatusIs(StatusCode::kInvalidArgument));
  NewDogStatsd({.address = ""}, &warning)->Count("x", 1);
  EXPECT_OK(warning);
}

TEST(DogStatsdTest, PrometheusExpositionOfEverything) {
  StatsPtr stats = NewDogStatsd({.address = "", .prefix = "vpcflow_digesterd", .tags = "env:prod"});
  stats->Count("requests", 2, {{"status", "200"}});
  stats->Count("requests", 3, {{"status", "200"}});
  stats->Count("requests", 1, {{"status", "404"}});
  stats->Gauge("jobs.running", 4);
  stats->Timing("request.duration_ms", 3);
  stats->Timing("request.duration_ms", 700);
  stats->Timing("request.duration_ms", 120000);
  Result<std::string> text = stats->Prometheus();
  ASSERT_OK(text);
  EXPECT_EQ(*text,
            "# HELP vpcflow_digesterd_jobs_running vpcflow_digesterd.jobs.running\n"
            "# TYPE vpcflow_digesterd_jobs_running gauge\n"
            "vpcflow_digesterd_jobs_running{env=\"prod\"} 4\n"
            "# HELP vpcflow_digesterd_request_duration_seconds "
            "vpcflow_digesterd.request.duration\n"
            "# TYPE vpcflow_digesterd_request_duration_seconds histogram\n"
            "vpcflow_digesterd_request_duration_seconds_bucket{env=\"prod\",le=\"0.001\"} 0\n"
            "vpcflow_digesterd_request_duration_seconds_bucket{env=\"prod\",le=\"0.005\"} 1\n"
            "vpcflow_digesterd_request_duration_seconds_bucket{env=\"prod\",le=\"0.01\"} 1\n"
            "vpcflow_digesterd_request_duration_seconds_bucket{env=\"prod\",le=\"0.025\"} 1\n"
            "vpcflow_digesterd_request_duration_seconds_bucket{env=\"prod\",le=\"0.05\"} 1\n"
            "vpcflow_digesterd_request_duration_seconds_bucket{env=\"prod\",le=\"0.1\"} 1\n"
            "vpcflow_digesterd_request_duration_seconds_bucket{env=\"prod\",le=\"0.25\"} 1\n"
            "vpcflow_digesterd_request_duration_seconds_bucket{env=\"prod\",le=\"0.5\"} 1\n"
            "vpcflow_digesterd_request_duration_seconds_bucket{env=\"prod\",le=\"1\"} 2\n"
            "vpcflow_digesterd_request_duration_seconds_bucket{env=\"prod\",le=\"2.5\"} 2\n"
            "vpcflow_digesterd_request_duration_seconds_bucket{env=\"prod\",le=\"5\"} 2\n"
            "vpcflow_digesterd_request_duration_seconds_bucket{env=\"prod\",le=\"10\"} 2\n"
            "vpcflow_digesterd_request_duration_seconds_bucket{env=\"prod\",le=\"30\"} 2\n"
            "vpcflow_digesterd_request_duration_seconds_bucket{env=\"prod\",le=\"60\"} 2\n"
            "vpcflow_digesterd_request_duration_seconds_bucket{env=\"prod\",le=\"+Inf\"} 3\n"
            "vpcflow_digesterd_request_duration_seconds_sum{env=\"prod\"} 120.703\n"
            "vpcflow_digesterd_request_duration_seconds_count{env=\"prod\"} 3\n"
            "# HELP vpcflow_digesterd_requests_total vpcflow_digesterd.requests\n"
            "# TYPE vpcflow_digesterd_requests_total counter\n"
            "vpcflow_digesterd_requests_total{env=\"prod\",status=\"200\"} 5\n"
            "vpcflow_digesterd_requests_total{env=\"prod\",status=\"404\"} 1\n");
}

TEST(PrometheusRegistryTest, EscapesLabelValuesAndSanitizesNames) {
  PrometheusRegistry registry("my-app", {{"region", "eu\"west"}});
  registry.Count("9lives.x-y", 1, {{"path", "a\\b\nc"}, {"bad-key", "v"}, {"region", "us"}});
  EXPECT_EQ(registry.Text(),
            "# HELP my_app__9lives_x_y_total my-app.9lives.x-y\n"
            "# TYPE my_app__9lives_x_y_total counter\n"
            "my_app__9lives_x_y_total{bad_key=\"v\",path=\"a\\\\b\\nc\",region=\"us\"} 1\n");
  PrometheusRegistry other("", {{"region", "eu\"west"}});
  other.Gauge("g", 1.25, {});
  EXPECT_EQ(other.Text(), "# HELP g g\n# TYPE g gauge\ng{region=\"eu\\\"west\"} 1.25\n");
}

TEST(PrometheusRegistryTest, ParsesConstantTags) {
  using Tags = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(ParseStatTags(""), Tags{});
  EXPECT_EQ(ParseStatTags("a:1, b:2:3,,flag"), (Tags{{"a", "1"}, {"b", "2:3"}, {"flag", ""}}));
}

TEST(MemoryStatsTest, RecordsSamplesAndServesPrometheus) {
  MemoryStats stats;
  stats.Count("requests", 1, {{"status", "200"}, {"route", "get"}});
  stats.Count("requests", 2, {{"status", "404"}});
  stats.Gauge("jobs", 1);
  stats.Gauge("jobs", 3);
  stats.Timing("job.duration", 5);
  EXPECT_EQ(stats.CounterTotal("requests"), 3);
  EXPECT_EQ(stats.CounterTotal("requests", {{"status", "200"}}), 1);
  EXPECT_EQ(stats.CounterTotal("requests", {{"status", "500"}}), 0);
  EXPECT_EQ(stats.LastGauge("jobs"), 3);
  EXPECT_EQ(stats.LastGauge("none"), std::nullopt);
  EXPECT_EQ(stats.TimingCount("job.duration"), 1u);
  EXPECT_EQ(stats.samples().size(), 5u);
  EXPECT_THAT(stats.Prometheus().value(),
              HasSubstr("vpcflow_digesterd_requests_total{route=\"get\",status=\"200\"} 1\n"));
}

}  // namespace
}  // namespace vpcflow
