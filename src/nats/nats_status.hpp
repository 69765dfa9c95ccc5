#pragma once
/// The one mapping of the NATS C client's errors (natsStatus, and JetStream's jsErrCode) to
/// Status. Every call into libnats goes through NatsError, so each error gets the same code and
/// a message naming what failed. Pure apart from reading libnats's thread-local last error;
/// thread-safe.

#include <nats/nats.h>

#include <string_view>

#include "vpcflow/status.hpp"

namespace vpcflow {

/// The Status for `s` (with JetStream's `code`, 0 when none) from the call described by `what`
/// ("publish to vpcflow.tasks.plan"). OK for NATS_OK. Codes: Unavailable when the server cannot
/// be reached or did not answer (no server, I/O, disconnected, closed, timeout, no responders:
/// retrying may help); PermissionDenied for authentication and permission errors; NotFound for
/// a missing stream, consumer or key; AlreadyExists for a name in use; FailedPrecondition for a
/// wrong last sequence (a compare-and-set lost), JetStream not enabled, an illegal state;
/// InvalidArgument for bad arguments; ResourceExhausted for memory and slow consumers;
/// Unimplemented when the server lacks the feature; Internal otherwise. The message holds
/// libnats's text (and its last error's, except after a timeout, where it may be an older,
/// unrelated one), with every URL in it redacted.
Status NatsError(natsStatus s, std::string_view what, jsErrCode code = static_cast<jsErrCode>(0));

}  // namespace vpcflow
