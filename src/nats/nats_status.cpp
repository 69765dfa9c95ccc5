#include "nats/nats_status.hpp"

#include <string>

#include "common/redact.hpp"

namespace vpcflow {
namespace {

StatusCode CodeOf(natsStatus s, jsErrCode code) {
  switch (code) {
    case JSStreamNotFoundErr:
    case JSConsumerNotFoundErr:
      return StatusCode::kNotFound;
    case JSStreamNameExistErr:
    case JSConsumerNameExistErr:
      return StatusCode::kAlreadyExists;
    case JSStreamWrongLastSequenceErr:
    case JSNotEnabledErr:
    case JSNotEnabledForAccountErr:
      return StatusCode::kFailedPrecondition;
    default:
      break;
  }
  switch (s) {
    case NATS_OK:
      return StatusCode::kOk;
    case NATS_IO_ERROR:
    case NATS_CONNECTION_CLOSED:
    case NATS_NO_SERVER:
    case NATS_STALE_CONNECTION:
    case NATS_CONNECTION_DISCONNECTED:
    case NATS_NOT_YET_CONNECTED:
    case NATS_NO_RESPONDERS:
    case NATS_TIMEOUT:
    case NATS_SSL_ERROR:
    case NATS_SECURE_CONNECTION_WANTED:
    case NATS_SECURE_CONNECTION_REQUIRED:
    case NATS_MISSED_HEARTBEAT:
    case NATS_PROTOCOL_ERROR:
      return StatusCode::kUnavailable;
    case NATS_CONNECTION_AUTH_FAILED:
    case NATS_NOT_PERMITTED:
      return StatusCode::kPermissionDenied;
    case NATS_NOT_FOUND:
      return StatusCode::kNotFound;
    case NATS_ADDRESS_MISSING:
    case NATS_INVALID_SUBJECT:
    case NATS_INVALID_ARG:
    case NATS_INVALID_SUBSCRIPTION:
    case NATS_INVALID_TIMEOUT:
    case NATS_INVALID_QUEUE_NAME:
    case NATS_MAX_PAYLOAD:
    case NATS_LINE_TOO_LONG:
      return StatusCode::kInvalidArgument;
    case NATS_ILLEGAL_STATE:
    case NATS_DRAINING:
    case NATS_MISMATCH:
    case NATS_MAX_DELIVERED_MSGS:
    case NATS_NOT_INITIALIZED:
      return StatusCode::kFailedPrecondition;
    case NATS_SLOW_CONSUMER:
    case NATS_NO_MEMORY:
    case NATS_INSUFFICIENT_BUFFER:
      return StatusCode::kResourceExhausted;
    case NATS_NO_SERVER_SUPPORT:
      return StatusCode::kUnimplemented;
    default:
      return StatusCode::kInternal;
  }
}

}  // namespace

Status NatsError(natsStatus s, std::string_view what, jsErrCode code) {
  if (s == NATS_OK) return OkStatus();
  std::string message = std::string(what) + ": " + natsStatus_GetText(s);
  if (code != 0) message += " (JetStream error " + std::to_string(static_cast<int>(code)) + ")";
  // After a timeout the last error may be an older, unrelated one (SCALE.md).
  if (s != NATS_TIMEOUT) {
    natsStatus last = NATS_OK;
    const char* text = nats_GetLastError(&last);
    if (last == s && text != nullptr && *text != '\0' &&
        std::string_view(text) != natsStatus_GetText(s)) {
      message += " (";
      message += text;
      message += ")";
    }
  }
  return Status(CodeOf(s, code), RedactUrls(message));
}

}  // namespace vpcflow
