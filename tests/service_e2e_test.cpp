// vpcflow-digesterd end to end: the real binary on 127.0.0.1, driven over HTTP the way the
// older service's consumers did it, on a corpus made by `vpcflow-digest generate`, and checked
// against `vpcflow-digest`'s own digest of the same window.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <latch>
#include <sstream>

#include "service_harness.hpp"
#include "testing/files.hpp"
#include "testing/matchers.hpp"
#include "testing/poll.hpp"
#include "testing/scratch_dir.hpp"
#include "testing/self_signed_cert.hpp"
#include "testing/service_corpus.hpp"
#include "vpcflow/byte_sink.hpp"
#include "vpcflow/window.hpp"

namespace vpcflow {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;

// The file names in `dir` (none when it does not exist).
std::vector<std::string> FilesIn(const fs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) out.push_back(e.path().filename());
  return out;
}

std::vector<std::string> MarkersIn(const fs::path& dir) {
  std::vector<std::string> out;
  for (const std::string& f : FilesIn(dir)) {
    if (f.ends_with("_in_progress")) out.push_back(f);
  }
  return out;
}

std::string Message(const HttpResponse& r) {
  boost::system::error_code ec;
  json::value v = json::parse(r.body, ec);
  if (ec || !v.is_object() || !v.as_object().contains("message")) return "<no message>";
  return std::string(v.as_object().at("message").as_string());
}

class ServiceE2eTest : public ::testing::Test {
 protected:
  // One corpus for the whole suite: two hours of generated flow logs.
  static void SetUpTestSuite() {
    corpus_ = new ScratchDir();
    auto [code, out] = GenerateServiceCorpus(VPCFLOW_DIGEST_BIN, corpus_->path());
    ASSERT_EQ(code, 0) << out;
  }
  static void TearDownTestSuite() {
    delete corpus_;
    corpus_ = nullptr;
  }

  // Starts `binary` with a DATA_DIR of this test, the corpus, and `env`; waits for startup.
  std::unique_ptr<Process> Start(std::map<std::string, std::string> env = {},
                                 const std::string& binary = VPCFLOW_DIGESTERD_BIN) {
    std::map<std::string, std::string> all = {{"DATA_DIR", data_.path()},
                                              {"VPC_FLOW_LOGS_DIR", corpus_->path()},
                                              {"SHUTDOWN_GRACE_PERIOD", "10000"}};
    for (auto& [k, v] : env) all[k] = v;
    return StartDigesterd(binary, all, &port_);
  }

  Result<HttpResponse> Send(std::string method, const std::string& path, std::string body = "") {
    return client_->Send({.method = std::move(method),
                          .url = "http://127.0.0.1:" + std::to_string(port_) + path,
                          .body = std::move(body),
                          .timeout_ms = 30000});
  }

  Result<HttpResponse> PollGet(const std::string& path, int* no_content = nullptr) {
    return GetUntilNotInProgress(*client_, "http://127.0.0.1:" + std::to_string(port_) + path,
                                 60000, no_content);
  }

  // Polls /status until `state`, at most 60 s; returns the last status object.
  json::object PollStatus(const std::string& query, const std::string& state) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    json::object last;
    do {
      Result<HttpResponse> r = Send("GET", "/status" + query);
      if (!r.ok()) break;
      last = json::parse(r->body).as_object();
      if (last.at("state").as_string() == state) break;
    } while (std::chrono::steady_clock::now() < deadline);
    return last;
  }

  // vpcflow-digest's digest of the window (flowlog text), from `source`.
  static std::string CliDigest(const std::string& source, const std::string& start,
                               const std::string& stop) {
    auto [code, out] =
        RunToCompletion({VPCFLOW_DIGEST_BIN, "--source", source, "--start", start, "--stop", stop});
    EXPECT_EQ(code, 0);
    return out;
  }

  fs::path digests() const { return fs::path(data_.path()) / "digests"; }
  fs::path progress() const { return fs::path(data_.path()) / "progress"; }

  static ScratchDir* corpus_;
  ScratchDir data_;
  int port_ = 0;
  HttpClientPtr client_ = NewCurlHttpClient();
};

ScratchDir* ServiceE2eTest::corpus_ = nullptr;

TEST_F(ServiceE2eTest, FullCycleLikeTheOlderConsumers) {
  std::unique_ptr<Process> service = Start({{"LOG_LEVEL", "debug"}});
  ASSERT_NE(service, nullptr);
  ASSERT_EQ(DigestId(*MakeWindow(kStart, kStop)), kDesignId);

  Result<HttpResponse> post = Send("POST", "/" + kQuery);
  ASSERT_OK(post.status());
  EXPECT_EQ(post->status, 202);
  int no_content = 0;
  Result<HttpResponse> get = PollGet("/" + kQuery, &no_content);
  ASSERT_OK(get.status());
  ASSERT_EQ(get->status, 200) << get->body;
  EXPECT_EQ(get->Header("content-type"), "application/octet-stream");
  const std::string text = Gunzip(get->body);
  const std::string expected = CliDigest(corpus_->path(), kStart, kStop);
  EXPECT_GT(expected.size(), 1000u);
  EXPECT_TRUE(text == expected) << "service digest differs from the CLI's (" << text.size()
                                << " vs " << expected.size() << " bytes)";

  // Stored as DESIGN.md says, with its manifest, and no marker left.
  const fs::path file = digests() / (std::string(kDesignId) + ".log.gz");
  ASSERT_TRUE(fs::exists(file));
  EXPECT_TRUE(ReadFile(file) == get->body);
  json::value manifest =
      json::parse(ReadFile(digests() / (std::string(kDesignId) + ".manifest.json")));
  EXPECT_EQ(manifest.at("id").as_string(), kDesignId);
  // The digest is served before its job's clean-up ends, whose last step removes the marker.
  EXPECT_TRUE(PollUntil([&] { return MarkersIn(progress()).empty(); }, 30000));

  // Other spellings of the same window are the same digest.
  Result<HttpResponse> same =
      Send("GET", "/?start=2019-01-01T01:00:45%2B01:00&stop=2019-01-01T01:00:00.999Z");
  ASSERT_OK(same.status());
  EXPECT_EQ(same->status, 200);
  EXPECT_EQ(same->Header("x-digest-id"), kDesignId);

  Result<HttpResponse> again = Send("POST", "/" + kQuery);
  ASSERT_OK(again.status());
  EXPECT_EQ(again->status, 409);
  EXPECT_THAT(Message(*again), HasSubstr("exists"));
  Result<HttpResponse> unknown =
      Send("GET", "/?start=2019-01-01T05:00:00Z&stop=2019-01-01T06:00:00Z");
  ASSERT_OK(unknown.status());
  EXPECT_EQ(unknown->status, 404);
  EXPECT_NE(Message(*unknown), "<no message>");

  Result<HttpResponse> ndjson = Send("GET", "/" + kQuery + "&format=ndjson");
  ASSERT_OK(ndjson.status());
  EXPECT_EQ(ndjson->status, 200);
  EXPECT_EQ(ndjson->Header("transfer-encoding"), "chunked");
  EXPECT_EQ(std::count(ndjson->body.begin(), ndjson->body.end(), '\n'),
            std::count(expected.begin(), expected.end(), '\n'));

  json::object status = PollStatus(kQuery, "done");
  EXPECT_EQ(status.at("state").as_string(), "done");
  EXPECT_GT(status.at("counts").at("objects_read").to_number<int64_t>(), 0);

  for (const char* path : {"/healthz", "/readyz", "/metrics", "/openapi.yaml"}) {
    Result<HttpResponse> r = Send("GET", path);
    ASSERT_OK(r.status());
    EXPECT_EQ(r->status, 200) << path;
  }
  EXPECT_THAT(Send("GET", "/metrics")->body, HasSubstr("http_requests"));
  EXPECT_THAT(Send("GET", "/openapi.yaml")->body, StartsWith("openapi: 3"));

  // One JSON log line per request, at debug level.
  std::optional<json::object> logged =
      service->WaitForEvent("request", {{"method", "POST"}, {"path", "/"}, {"status", "202"}});
  ASSERT_TRUE(logged.has_value());
  EXPECT_TRUE(logged->contains("duration_ms"));
  EXPECT_TRUE(logged->contains("bytes"));
  EXPECT_TRUE(logged->contains("time"));
  EXPECT_EQ(logged->at("level").as_string(), "debug");

  service->Signal(SIGTERM);
  EXPECT_EQ(service->Wait(), 0);
  EXPECT_EQ(service->Events("shutdown").size(), 1u);
  EXPECT_GE(service->Events("request").size(), static_cast<size_t>(no_content) + 10);
}

TEST_F(ServiceE2eTest, TwentyConcurrentPostsGiveOne202) {
  std::unique_ptr<Process> service = Start();
  ASSERT_NE(service, nullptr);
  const std::string query = "?start=2019-01-01T01:00:00Z&stop=2019-01-01T02:00:00Z";
  constexpr int kClients = 20;
  std::latch go(kClients);
  std::atomic<int> accepted{0};
  std::atomic<int> conflicts{0};
  std::atomic<int> other{0};
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&] {
      HttpClientPtr client = NewCurlHttpClient();  // a connection of its own
      go.arrive_and_wait();
      Result<HttpResponse> r = client->Send(
          {.method = "POST", .url = "http://127.0.0.1:" + std::to_string(port_) + "/" + query});
      if (r.ok() && r->status == 202) {
        ++accepted;
      } else if (r.ok() && r->status == 409) {
        ++conflicts;
      } else {
        ++other;
      }
    });
  }
  for (std::thread& t : clients) t.join();
  EXPECT_EQ(accepted, 1);
  EXPECT_EQ(conflicts, kClients - 1);
  EXPECT_EQ(other, 0);
  Result<HttpResponse> get = PollGet("/" + query);
  ASSERT_OK(get.status());
  EXPECT_EQ(get->status, 200);
}

TEST_F(ServiceE2eTest, BadInputIs400WithAMessageAndStoresNothing) {
  std::unique_ptr<Process> service = Start({{"DIGEST_MAX_WINDOW", "24h"}});
  ASSERT_NE(service, nullptr);
  for (const char* query :
       {"", "?start=2019-01-01T00:00:00Z", "?stop=2019-01-01T00:00:00Z",
        "?start=&stop=2019-01-01T01:00:00Z", "?start=noon&stop=2019-01-01T01:00:00Z",
        "?start=2019-01-01T00:00:00Z&stop=2019-02-30T00:00:00Z",
        "?start=2019-01-01T01:00:00Z&stop=2019-01-01T00:00:00Z",
        "?start=2019-01-01T00:00:00Z&stop=2019-01-01T00:00:59Z",
        "?start=2019-01-01T00:00:00Z&stop=2019-01-02T00:01:00Z"}) {
    for (const char* method : {"POST", "GET"}) {
      Result<HttpResponse> r = Send(method, std::string("/") + query);
      ASSERT_OK(r.status());
      EXPECT_EQ(r->status, 400) << method << " " << query;
      EXPECT_EQ(r->Header("content-type"), "application/json");
      EXPECT_NE(Message(*r), "<no message>") << method << " " << query;
    }
  }
  for (
      const char* body :
      {"", "{", R"({"start":"2019-01-01T00:00:00Z"})",
       R"({"start":"2019-01-01T00:00:00Z","stop":"2019-01-03T00:00:00Z"})",
       R"({"id":"9740a140-ba85-5600-8b93-000000000000","start":"2019-01-01T00:00:00Z","stop":"2019-01-01T01:00:00Z"})"}) {
    Result<HttpResponse> r = Send("POST", "/digests/digest", body);
    ASSERT_OK(r.status()) << service->output();
    EXPECT_EQ(r->status, 400) << body;
    EXPECT_NE(Message(*r), "<no message>") << body;
  }
  EXPECT_THAT(FilesIn(digests()), IsEmpty());
  EXPECT_THAT(FilesIn(progress()), IsEmpty());
  int invalid = 0;  // every refusal is logged
  EXPECT_TRUE(service->WaitForLine([&invalid](const std::string& line) {
    return line.find("\"event\":\"invalid-input\"") != std::string::npos && ++invalid >= 23;
  }));
}

TEST_F(ServiceE2eTest, StandaloneHttpQueueLoop) {
  const int port = FreeLocalPort();
  ASSERT_GT(port, 0);
  std::unique_ptr<Process> service =
      Start({{"PORT", std::to_string(port)},
             {"STREAM_APPLIANCE_ENDPOINT", "http://127.0.0.1:" + std::to_string(port)},
             {"STREAM_APPLIANCE_TOPIC", "flows"},
             {"LOG_LEVEL", "debug"}});
  ASSERT_NE(service, nullptr);
  ASSERT_EQ(port_, port);
  Result<HttpResponse> post = Send("POST", "/" + kQuery);
  ASSERT_OK(post.status());
  EXPECT_EQ(post->status, 202);
  Result<HttpResponse> get = PollGet("/" + kQuery);
  ASSERT_OK(get.status());
  ASSERT_EQ(get->status, 200);
  EXPECT_TRUE(Gunzip(get->body) == CliDigest(corpus_->path(), kStart, kStop));
  // The job went through the bus entry of this very service.
  EXPECT_TRUE(
      service->WaitForEvent("request", {{"path", "/flows/digest"}, {"status", "204"}}).has_value());
}

// Standalone mode as it would be deployed: HTTPS with a certificate made here, API and worker
// tokens, and the HTTP queuer delivering to the service's own worker route with its token.
TEST_F(ServiceE2eTest, StandaloneWithTokensAndTls) {
  ScratchDir secrets;
  Result<SelfSignedCert> cert = MakeSelfSignedCert(secrets.path());
  ASSERT_OK(cert.status());
  std::ofstream(secrets.Sub("api")) << "# operators\napi-t0ken-1\n";
  std::ofstream(secrets.Sub("worker")) << "bus-t0ken-7\n";
  const int port = FreeLocalPort();
  ASSERT_GT(port, 0);
  std::unique_ptr<Process> service =
      Start({{"PORT", std::to_string(port)},
             {"TLS_CERT_FILE", cert->cert_file},
             {"TLS_KEY_FILE", cert->key_file},
             {"DIGEST_API_TOKENS_FILE", secrets.Sub("api")},
             {"DIGEST_WORKER_TOKENS_FILE", secrets.Sub("worker")},
             {"STREAM_APPLIANCE_ENDPOINT", "https://127.0.0.1:" + std::to_string(port)},
             {"STREAM_APPLIANCE_TOKEN", "bus-t0ken-7"},
             // The queuer trusts the service's certificate (AWS_CA_BUNDLE would win).
             {"AWS_CA_BUNDLE", ""},
             {"SSL_CERT_FILE", cert->cert_file},
             {"LOG_LEVEL", "debug"}});
  ASSERT_NE(service, nullptr);
  HttpClientPtr https = NewCurlHttpClient({.ca_file = cert->cert_file});
  const std::string base = "https://127.0.0.1:" + std::to_string(port);
  auto send = [&](HttpClient& client, std::string method, const std::string& path,
                  const std::string& token) {
    HttpRequest request{.method = std::move(method), .url = base + path, .timeout_ms = 30000};
    if (!token.empty()) request.headers.emplace_back("Authorization", "Bearer " + token);
    return client.Send(request);
  };
  // Health is open; everything else wants the right token.
  EXPECT_EQ(send(*https, "GET", "/healthz", "")->status, 200);
  EXPECT_EQ(send(*https, "GET", "/readyz", "")->status, 200);
  Result<HttpResponse> anonymous = send(*https, "POST", "/" + kQuery, "");
  ASSERT_OK(anonymous.status());
  EXPECT_EQ(anonymous->status, 401);
  EXPECT_EQ(anonymous->Header("www-authenticate"), R"(Bearer realm="vpcflow-digesterd")");
  EXPECT_NE(Message(*anonymous), "<no message>");
  EXPECT_EQ(send(*https, "POST", "/" + kQuery, "wrong")->status, 401);
  EXPECT_EQ(send(*https, "POST", "/" + kQuery, "bus-t0ken-7")->status, 401);
  EXPECT_EQ(send(*https, "GET", "/metrics", "")->status, 401);
  // Without the CA the certificate is refused; plain HTTP gets no answer.
  EXPECT_FALSE(send(*client_, "GET", "/healthz", "").ok());
  port_ = port;
  Result<HttpResponse> plain = Send("GET", "/healthz");
  EXPECT_FALSE(plain.ok() && plain->status == 200);

  Result<HttpResponse> post = send(*https, "POST", "/" + kQuery, "api-t0ken-1");
  ASSERT_OK(post.status());
  ASSERT_EQ(post->status, 202) << post->body;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  Result<HttpResponse> get = send(*https, "GET", "/" + kQuery, "api-t0ken-1");
  while (get.ok() && get->status == 204 && std::chrono::steady_clock::now() < deadline) {
    get = send(*https, "GET", "/" + kQuery, "api-t0ken-1");
  }
  ASSERT_OK(get.status());
  ASSERT_EQ(get->status, 200) << get->body;
  EXPECT_TRUE(Gunzip(get->body) == CliDigest(corpus_->path(), kStart, kStop));
  // The job came through the worker route, delivered with the bus's token.
  EXPECT_TRUE(service->WaitForEvent("request", {{"path", "/digests/digest"}, {"status", "204"}})
                  .has_value());
  std::optional<json::object> startup = service->WaitForEvent("startup");
  ASSERT_TRUE(startup.has_value());
  EXPECT_EQ(startup->at("tls"), json::value(true));
  EXPECT_EQ(startup->at("api_auth"), json::value(true));
  EXPECT_THAT(service->Events("startup-warning"), IsEmpty());
  service->Signal(SIGTERM);
  EXPECT_EQ(service->Wait(), 0);
  // No token in any log line.
  EXPECT_THAT(service->output(), ::testing::Not(HasSubstr("t0ken")));
}

TEST_F(ServiceE2eTest, TlsAndTokenMistakesAreStartUpErrors) {
  ScratchDir secrets;
  std::ofstream(secrets.Sub("empty")) << "\n# none yet\n";
  Result<std::unique_ptr<Process>> p =
      Process::Start({VPCFLOW_DIGESTERD_BIN},
                     {{"DATA_DIR", data_.path()},
                      {"TLS_CERT_FILE", secrets.Sub("cert.pem")},
                      {"DIGEST_API_TOKENS_FILE", secrets.Sub("empty")}},
                     /*capture_stderr=*/true);
  ASSERT_OK(p.status());
  EXPECT_EQ((*p)->Wait(), 2);
  EXPECT_THAT((*p)->output(), HasSubstr("TLS_CERT_FILE and TLS_KEY_FILE"));
  Result<std::unique_ptr<Process>> q = Process::Start(
      {VPCFLOW_DIGESTERD_BIN},
      {{"DATA_DIR", data_.path()}, {"PORT", "0"}, {"DIGEST_API_TOKENS_FILE", secrets.Sub("empty")}},
      /*capture_stderr=*/true);
  ASSERT_OK(q.status());
  EXPECT_EQ((*q)->Wait(), 2);
  EXPECT_THAT((*q)->output(), HasSubstr("DIGEST_API_TOKENS_FILE"));
}

// CPU seconds (user + system) the process has used so far, from /proc/<pid>/stat.
double CpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && fields >> field; ++i) {
    if (i == 14 || i == 15) ticks += std::stod(field);  // utime, stime
  }
  return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

TEST_F(ServiceE2eTest, OutOfDescriptorsItBacksOffAndRecovers) {
  std::unique_ptr<Process> service = Start();
  ASSERT_NE(service, nullptr);
  const rlimit low{.rlim_cur = 64, .rlim_max = 64};
  ASSERT_EQ(::prlimit(service->pid(), RLIMIT_NOFILE, &low, nullptr), 0) << std::strerror(errno);
  // Idle connections until the service has no descriptor left; the rest wait in the backlog.
  std::vector<int> idle;
  for (int i = 0; i < 100; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port_));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    idle.push_back(fd);
  }
  ASSERT_TRUE(service->WaitForEvent("accept-failed").has_value());
  const auto t0 = std::chrono::steady_clock::now();
  const double cpu0 = CpuSeconds(service->pid());
  // Three lines: with at most one a second, that is two seconds or more of exhaustion.
  int failed = 0;
  ASSERT_TRUE(service->WaitForLine([&failed](const std::string& line) {
    return line.find("\"event\":\"accept-failed\"") != std::string::npos && ++failed >= 3;
  }));
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = CpuSeconds(service->pid()) - cpu0;
  const std::vector<json::object> lines = service->Events("accept-failed");
  EXPECT_LE(static_cast<double>(lines.size()), wall + 2.0) << lines.size() << " lines in " << wall;
  EXPECT_LT(cpu, 0.5 * wall) << cpu << " s of CPU in " << wall << " s";
  int64_t errors = 0;
  for (const json::object& line : lines) errors += line.at("errors").to_number<int64_t>();
  EXPECT_GE(errors, static_cast<int64_t>(lines.size()));  // each line counts what it stands for
  // As the connections go, descriptors come back and the service answers again.
  for (int fd : idle) ::close(fd);
  Result<HttpResponse> health = Send("GET", "/healthz");
  ASSERT_OK(health.status());
  EXPECT_EQ(health->status, 200);
  service->Signal(SIGTERM);
  EXPECT_EQ(service->Wait(), 0);
}

TEST_F(ServiceE2eTest, AFailedJobLeavesNoMarkerShowsInStatusAndCanBeRetried) {
  ScratchDir logs;
  std::unique_ptr<Process> service = Start({{"VPC_FLOW_LOGS_DIR", logs.path()}});
  ASSERT_NE(service, nullptr);
  fs::remove_all(logs.path());  // the source becomes unreadable
  ASSERT_EQ(Send("POST", "/" + kQuery)->status, 202);
  json::object status = PollStatus(kQuery, "failed");
  ASSERT_EQ(status.at("state").as_string(), "failed");
  EXPECT_EQ(status.at("error").at("code").as_string(), "NOT_FOUND");
  EXPECT_THAT(MarkersIn(progress()), IsEmpty());
  EXPECT_EQ(Send("GET", "/" + kQuery)->status, 404);
  EXPECT_TRUE(service->WaitForEvent("job-failed", {{"id", kDesignId}}).has_value());

  // A source without AWSLogs/ (a forgotten prefix) fails too, saying so.
  fs::create_directories(logs.path());
  ASSERT_EQ(Send("POST", "/" + kQuery)->status, 202);
  status = PollStatus(kQuery, "failed");
  ASSERT_EQ(status.at("state").as_string(), "failed");
  EXPECT_EQ(status.at("error").at("code").as_string(), "NOT_FOUND");
  EXPECT_THAT(std::string(status.at("error").at("message").as_string()),
              HasSubstr("no AWSLogs/ folder found at the root"));

  // Flow logs, none for the window: an empty digest.
  const fs::path other_day =
      fs::path(logs.path()) / "AWSLogs/123456789012/vpcflowlogs/us-east-1/2018/01/01";
  fs::create_directories(other_day);
  std::ofstream(other_day / "notes.txt") << "x";
  ASSERT_EQ(Send("POST", "/" + kQuery)->status, 202);
  Result<HttpResponse> get = PollGet("/" + kQuery);
  ASSERT_OK(get.status());
  EXPECT_EQ(get->status, 200);
  EXPECT_EQ(Gunzip(get->body), "");
}

TEST_F(ServiceE2eTest, SigtermDuringAJobExitsZeroAndTheNextStartFinishesIt) {
  // One big object keeps the job busy for seconds: long enough to be certainly running when
  // SIGTERM arrives.
  ScratchDir logs;
  ASSERT_OK(WriteBusyFlowLog(logs.path(), 500));
  const std::map<std::string, std::string> env = {
      {"VPC_FLOW_LOGS_DIR", logs.path()}, {"DIGEST_THREADS", "1"}, {"SHUTDOWN_GRACE_PERIOD", "0"}};
  std::unique_ptr<Process> service = Start(env);
  ASSERT_NE(service, nullptr);
  ASSERT_EQ(Send("POST", "/" + kQuery)->status, 202);
  ASSERT_TRUE(service->WaitForEvent("job-start").has_value());
  EXPECT_EQ(Send("GET", "/" + kQuery)->status, 204);
  EXPECT_THAT(MarkersIn(progress()), ::testing::SizeIs(1));
  service->Signal(SIGTERM);
  EXPECT_EQ(service->Wait(), 0);
  EXPECT_EQ(service->Events("job-cancelled").size(), 1u);
  EXPECT_EQ(service->Events("shutdown").size(), 1u);
  EXPECT_THAT(FilesIn(digests()), IsEmpty());
  // The job was handed back: its marker stays for the next start, which finishes it without a
  // new POST (its holder, this process, is gone).
  EXPECT_THAT(MarkersIn(progress()), ::testing::SizeIs(1));
  service = Start(env);
  ASSERT_NE(service, nullptr);
  EXPECT_TRUE(service->WaitForEvent("job-recovered", {{"id", kDesignId}}).has_value());
  Result<HttpResponse> get = PollGet("/" + kQuery);
  ASSERT_OK(get.status());
  EXPECT_EQ(get->status, 200);
  // Served before the recovered job's clean-up removes its marker.
  EXPECT_TRUE(PollUntil([&] { return MarkersIn(progress()).empty(); }, 30000));
}

TEST_F(ServiceE2eTest, AStaleMarkerDoesNotBlockButALiveOneDoes) {
  fs::create_directories(progress());
  // Written by a worker that crashed long ago.
  std::ofstream(progress() / (std::string(kDesignId) + "_in_progress")) << "2019-01-01T00:00:00Z";
  // A live marker of another worker, written just now.
  const std::string live_query = "?start=2019-01-01T01:00:00Z&stop=2019-01-01T02:00:00Z";
  const std::string live_id = DigestId(*MakeWindow("2019-01-01T01:00:00Z", "2019-01-01T02:00:00Z"));
  std::ofstream(progress() / (live_id + "_in_progress")) << "2999-01-01T00:00:00Z";
  std::unique_ptr<Process> service = Start({{"DIGEST_PROGRESS_TIMEOUT", "60000"}});
  ASSERT_NE(service, nullptr);
  EXPECT_EQ(Send("GET", "/" + kQuery)->status, 404);
  EXPECT_EQ(Send("POST", "/" + kQuery)->status, 202);
  Result<HttpResponse> get = PollGet("/" + kQuery);
  ASSERT_OK(get.status());
  EXPECT_EQ(get->status, 200);
  EXPECT_EQ(Send("GET", "/" + live_query)->status, 204);
  EXPECT_EQ(Send("POST", "/" + live_query)->status, 409);
  // At the default level (info) requests are not logged one by one; an open API is.
  EXPECT_THAT(service->Events("request"), IsEmpty());
  EXPECT_THAT(service->Events("startup-warning"), ::testing::SizeIs(1));
}

TEST_F(ServiceE2eTest, ReportsEveryConfigurationProblemAtOnce) {
  Result<std::unique_ptr<Process>> p = Process::Start({VPCFLOW_DIGESTERD_BIN},
                                                      {{"PORT", "eighty"},
                                                       {"DIGEST_WORKERS", "0"},
                                                       {"DIGEST_STORAGE_BUCKET", "digests"},
                                                       {"AWS_SECRET_ACCESS_KEY", "do-not-print-me"},
                                                       {"DATA_DIR", data_.path()}},
                                                      /*capture_stderr=*/true);
  ASSERT_OK(p.status());
  EXPECT_EQ((*p)->Wait(), 2);
  const std::string out = (*p)->output();
  EXPECT_THAT(out, HasSubstr("PORT"));
  EXPECT_THAT(out, HasSubstr("DIGEST_WORKERS"));
  EXPECT_THAT(out, HasSubstr("AWS_ACCESS_KEY_ID"));
  EXPECT_THAT(out, ::testing::Not(HasSubstr("do-not-print-me")));
}

TEST_F(ServiceE2eTest, TheCustomStorageExampleKeepsACopy) {
  ScratchDir mirror;
  std::unique_ptr<Process> service =
      Start({{"MIRROR_DIR", mirror.path()}}, VPCFLOW_CUSTOM_STORAGE_BIN);
  ASSERT_NE(service, nullptr);
  ASSERT_EQ(Send("POST", "/" + kQuery)->status, 202);
  Result<HttpResponse> get = PollGet("/" + kQuery);
  ASSERT_OK(get.status());
  ASSERT_EQ(get->status, 200);
  const std::string name = std::string(kDesignId) + ".log.gz";
  EXPECT_TRUE(ReadFile(digests() / name) == get->body);
  EXPECT_TRUE(ReadFile(fs::path(mirror.path()) / name) == get->body);
  EXPECT_THAT(service->WaitForEvent("startup")->at("storage").as_string().c_str(),
              HasSubstr("mirror:"));
  service->Signal(SIGINT);
  EXPECT_EQ(service->Wait(), 0);
}

}  // namespace
}  // namespace vpcflow
