#include "nats/work_queue.hpp"

#include "nats/nats_status.hpp"

namespace vpcflow {
namespace {

constexpr int64_t kNanosPerMs = 1000000;

}  // namespace

TaskMessage::TaskMessage(natsMsg* msg) : msg_(msg) {
  jsMsgMetaData* meta = nullptr;
  if (natsMsg_GetMetaData(&meta, msg_) == NATS_OK) {
    delivered_ = meta->NumDelivered;
    jsMsgMetaData_Destroy(meta);
  }
}

TaskMessage::~TaskMessage() { natsMsg_Destroy(msg_); }

std::string_view TaskMessage::subject() const {
  const char* s = natsMsg_GetSubject(msg_);
  return s == nullptr ? std::string_view() : std::string_view(s);
}

std::string_view TaskMessage::data() const {
  const char* d = natsMsg_GetData(msg_);
  return d == nullptr ? std::string_view()
                      : std::string_view(d, static_cast<size_t>(natsMsg_GetDataLength(msg_)));
}

Status TaskMessage::InProgress() {
  return NatsError(natsMsg_InProgress(msg_, nullptr), "in-progress of a task");
}

Status TaskMessage::Ack() {
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = natsMsg_AckSync(msg_, nullptr, &code);
  return NatsError(s, "ack of a task", code);
}

Status TaskMessage::Nak(int64_t delay_ms) {
  return NatsError(
      delay_ms > 0 ? natsMsg_NakWithDelay(msg_, delay_ms, nullptr) : natsMsg_Nak(msg_, nullptr),
      "nak of a task");
}

Status TaskMessage::Term() { return NatsError(natsMsg_Term(msg_, nullptr), "term of a task"); }

Result<std::unique_ptr<WorkQueue>> WorkQueue::Open(NatsConnection* connection,
                                                   WorkQueueOptions options) {
  if (options.max_deliver < 1 || options.ack_wait_ms < 1) {
    return InvalidArgumentError("NATS_ACK_WAIT and NATS_MAX_DELIVER must be positive");
  }
  jsCtx* js = connection->jetstream();
  jsErrCode code = static_cast<jsErrCode>(0);
  jsStreamInfo* si = nullptr;
  natsStatus s = js_GetStreamInfo(&si, js, options.stream.c_str(), nullptr, &code);
  if (s == NATS_OK) {
    jsStreamInfo_Destroy(si);
  } else if (s == NATS_NOT_FOUND || code == JSStreamNotFoundErr) {
    jsStreamConfig sc;
    jsStreamConfig_Init(&sc);
    const char* subjects[] = {options.subjects.c_str()};
    sc.Name = options.stream.c_str();
    sc.Subjects = subjects;
    sc.SubjectsLen = 1;
    sc.Retention = js_WorkQueuePolicy;
    sc.Storage = js_FileStorage;
    code = static_cast<jsErrCode>(0);
    s = js_AddStream(&si, js, &sc, nullptr, &code);
    // Another process created it meanwhile: use theirs.
    if (s != NATS_OK && code != JSStreamNameExistErr) {
      return NatsError(s, "create stream " + options.stream, code);
    }
    if (s == NATS_OK) jsStreamInfo_Destroy(si);
  } else {
    return NatsError(s, "stream " + options.stream + " on " + connection->Describe(), code);
  }

  jsConsumerInfo* ci = nullptr;
  code = static_cast<jsErrCode>(0);
  s = js_GetConsumerInfo(&ci, js, options.stream.c_str(), options.durable.c_str(), nullptr, &code);
  if (s == NATS_OK) {
    jsConsumerInfo_Destroy(ci);
  } else if (s == NATS_NOT_FOUND || code == JSConsumerNotFoundErr) {
    jsConsumerConfig cc;
    jsConsumerConfig_Init(&cc);
    cc.Durable = options.durable.c_str();
    cc.AckPolicy = js_AckExplicit;
    cc.AckWait = options.ack_wait_ms * kNanosPerMs;
    cc.MaxDeliver = options.max_deliver;
    code = static_cast<jsErrCode>(0);
    s = js_AddConsumer(&ci, js, options.stream.c_str(), &cc, nullptr, &code);
    if (s != NATS_OK && code != JSConsumerNameExistErr) {
      return NatsError(s, "create consumer " + options.durable, code);
    }
    if (s == NATS_OK) jsConsumerInfo_Destroy(ci);
  } else {
    return NatsError(s, "consumer " + options.durable, code);
  }

  jsOptions jo;
  jsOptions_Init(&jo);
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = options.stream.c_str();
  so.Consumer = options.durable.c_str();
  natsSubscription* sub = nullptr;
  code = static_cast<jsErrCode>(0);
  s = js_PullSubscribe(&sub, js, options.subjects.c_str(), options.durable.c_str(), &jo, &so,
                       &code);
  if (s != NATS_OK) return NatsError(s, "subscribe to consumer " + options.durable, code);
  return std::unique_ptr<WorkQueue>(new WorkQueue(connection, std::move(options), sub));
}

WorkQueue::~WorkQueue() {
  // Destroy, not Unsubscribe: unsubscribing a durable's subscription must not delete the
  // consumer the other workers share.
  natsSubscription_Destroy(sub_);
}

Result<bool> WorkQueue::Publish(std::string_view subject, std::string_view data,
                                std::string_view msg_id) {
  const std::string subj(subject);
  const std::string id(msg_id);
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MsgId = id.c_str();
  po.MaxWait = connection_->request_timeout_ms();
  po.ExpectStream = options_.stream.c_str();
  jsPubAck* ack = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s = js_Publish(&ack, connection_->jetstream(), subj.c_str(), data.data(),
                            static_cast<int>(data.size()), &po, &code);
  if (s != NATS_OK)
    return NatsError(s, "publish to " + subj + " on " + connection_->Describe(), code);
  bool duplicate = ack->Duplicate;
  jsPubAck_Destroy(ack);
  return duplicate;
}

Result<std::vector<TaskMessagePtr>> WorkQueue::Fetch(int batch, int64_t timeout_ms) {
  std::vector<TaskMessagePtr> out;
  natsMsgList list{nullptr, 0};
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s;
  {
    std::lock_guard lock(fetch_mu_);
    s = natsSubscription_Fetch(&list, sub_, batch, timeout_ms, &code);
  }
  if (s == NATS_TIMEOUT && list.Count == 0) {
    // Nothing to do, or the server is away: tell them apart.
    if (!connection_->Connected()) return connection_->Ready();
    return out;
  }
  for (int i = 0; i < list.Count; ++i) {
    out.push_back(std::make_unique<TaskMessage>(list.Msgs[i]));
    list.Msgs[i] = nullptr;  // owned by the TaskMessage now
  }
  natsMsgList_Destroy(&list);
  if (s != NATS_OK && s != NATS_TIMEOUT && out.empty()) {
    return NatsError(s, "fetch from consumer " + options_.durable, code);
  }
  return out;
}

Result<uint64_t> WorkQueue::Pending() {
  jsStreamInfo* si = nullptr;
  jsErrCode code = static_cast<jsErrCode>(0);
  natsStatus s =
      js_GetStreamInfo(&si, connection_->jetstream(), options_.stream.c_str(), nullptr, &code);
  if (s != NATS_OK) return NatsError(s, "stream " + options_.stream, code);
  uint64_t n = si->State.Msgs;
  jsStreamInfo_Destroy(si);
  return n;
}

}  // namespace vpcflow
