// The service on the NATS queue, against a nats-server of this test's own (fixture "nats_own":
// the service's stream and bucket have fixed names, and one test stops the server): an API
// process and a worker process (two Services here) share the stores and the work.
#include <gtest/gtest.h>

#include "service/marker_keeper.hpp"
#include "testing/matchers.hpp"
#include "testing/memory_logger.hpp"
#include "testing/memory_marker.hpp"
#include "testing/memory_object_source.hpp"
#include "testing/memory_stats.hpp"
#include "testing/memory_storage.hpp"
#include "testing/nats_env.hpp"
#include "testing/poll.hpp"
#include "testing/scratch_dir.hpp"
#include "testing/service_corpus.hpp"
#include "vpcflow/service.hpp"

namespace vpcflow {
namespace {

using ::testing::HasSubstr;

const std::string kQuery = std::string("?start=") + kCorpusStart + "&stop=" + kCorpusStop;
const std::string kId = DigestId(kCorpusWindow);

Status Script(const std::string& command) {
  return RunNatsScript(VPCFLOW_NATS_SCRIPT, command, VPCFLOW_NATS_OWN_DIR);
}

class ServiceNatsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_THAT(Script("start"), IsOk());
    Result<std::string> url = LoadNatsUrlFile(std::string(VPCFLOW_NATS_OWN_DIR) + "/env");
    ASSERT_THAT(url, IsOk());
    url_ = *url;
    client_ = NewCurlHttpClient();
  }
  void TearDown() override {
    services_.clear();
    EXPECT_THAT(Script("stop"), IsOk());
  }

  // A service in `role` on the shared stores; started.
  Service* Start(ServiceRole role) {
    Config config;
    config.listen_address = "127.0.0.1";
    config.port = 0;
    config.data_dir = scratch_.path();
    config.statsd_address = "";
    config.shutdown_grace_ms = 0;
    config.queue_url = url_;
    config.role = role;
    config.nats_ack_wait_ms = 2000;
    auto service = std::make_unique<Service>(config);
    auto source = std::make_unique<MemoryObjectSource>();
    PutCorpus(*source);
    service->SetObjectSource(std::move(source));
    service->SetStorage(std::make_unique<StorageWrapper>(&storage_));
    service->SetMarker(std::make_unique<MemoryMarker>(MarkerOptionsFor(config, nullptr), markers_));
    service->SetLogger(std::make_unique<MemoryLogger>());
    service->SetStats(std::make_unique<MemoryStats>());
    Status st = service->Start();
    EXPECT_THAT(st, IsOk());
    if (!st.ok()) return nullptr;
    services_.push_back(std::move(service));
    return services_.back().get();
  }

  Result<HttpResponse> Send(Service* s, std::string method, const std::string& path) {
    return client_->Send({.method = std::move(method),
                          .url = "http://127.0.0.1:" + std::to_string(s->port()) + path,
                          .timeout_ms = 20000});
  }

  std::string url_;
  ScratchDir scratch_;
  MemoryStorage storage_;
  std::shared_ptr<MemoryMarkerStore> markers_ = std::make_shared<MemoryMarkerStore>();
  HttpClientPtr client_;
  std::vector<std::unique_ptr<Service>> services_;  // last: stopped first
};

TEST_F(ServiceNatsTest, AnApiProcessPublishesAndAWorkerProcessDigests) {
  Service* api = Start(ServiceRole::kApi);
  Service* worker = Start(ServiceRole::kWorker);
  ASSERT_NE(api, nullptr);
  ASSERT_NE(worker, nullptr);
  // The worker serves the probes only.
  EXPECT_EQ(Send(worker, "GET", "/healthz")->status, 200);
  EXPECT_EQ(Send(worker, "GET", "/readyz")->status, 200);
  EXPECT_EQ(Send(worker, "GET", "/status" + kQuery)->status, 404);
  EXPECT_EQ(Send(worker, "POST", "/" + kQuery)->status, 404);

  Result<HttpResponse> post = Send(api, "POST", "/" + kQuery);
  ASSERT_THAT(post, IsOk());
  EXPECT_EQ(post->status, 202) << post->body;
  EXPECT_TRUE(PollUntil([&] { return storage_.Digest(kId).has_value(); }, 20000));
  EXPECT_TRUE(PollUntil([&] {
    Result<HttpResponse> get = Send(api, "GET", "/" + kQuery);
    return get.ok() && get->status == 200;
  }));
  Result<HttpResponse> status = Send(api, "GET", "/status" + kQuery);
  ASSERT_THAT(status, IsOk());
  EXPECT_THAT(status->body, HasSubstr(R"("state":"done")"));
  EXPECT_EQ(Send(api, "POST", "/" + kQuery)->status, 409);
}

TEST_F(ServiceNatsTest, NatsUnreachableAtPostIs503AndLeavesNoMarker) {
  Service* api = Start(ServiceRole::kApi);
  ASSERT_NE(api, nullptr);
  ASSERT_THAT(Script("stop"), IsOk());
  Result<HttpResponse> post = Send(api, "POST", "/" + kQuery);
  ASSERT_THAT(post, IsOk());
  EXPECT_EQ(post->status, 503);
  EXPECT_THAT(post->body, HasSubstr("nats://127.0.0.1:"));
  MemoryMarker look(MarkerOptions{}, markers_);
  Result<MarkInfo> mark = look.State(kId);
  ASSERT_THAT(mark, IsOk());
  EXPECT_EQ(mark->state, MarkState::kAbsent);
  EXPECT_EQ(Send(api, "GET", "/readyz")->status, 503);
  ASSERT_THAT(Script("start"), IsOk());  // TearDown stops it
}

}  // namespace
}  // namespace vpcflow
