#include "nats/nats_status.hpp"

#include <gtest/gtest.h>

namespace vpcflow {
namespace {

TEST(NatsErrorTest, MapsOkToOk) { EXPECT_TRUE(NatsError(NATS_OK, "x").ok()); }

TEST(NatsErrorTest, MapsUnreachableServerToUnavailable) {
  for (natsStatus s : {NATS_NO_SERVER, NATS_IO_ERROR, NATS_CONNECTION_CLOSED, NATS_TIMEOUT,
                       NATS_CONNECTION_DISCONNECTED, NATS_NO_RESPONDERS}) {
    Status st = NatsError(s, "publish to a.b");
    EXPECT_EQ(st.code(), StatusCode::kUnavailable) << natsStatus_GetText(s);
    EXPECT_EQ(st.message().rfind("publish to a.b: ", 0), 0u) << st.message();
  }
}

TEST(NatsErrorTest, MapsJetStreamCodesBeforeTheGenericError) {
  EXPECT_EQ(NatsError(NATS_ERR, "s", JSStreamNotFoundErr).code(), StatusCode::kNotFound);
  EXPECT_EQ(NatsError(NATS_ERR, "s", JSConsumerNameExistErr).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(NatsError(NATS_ERR, "s", JSStreamWrongLastSequenceErr).code(),
            StatusCode::kFailedPrecondition);
  EXPECT_EQ(NatsError(NATS_ERR, "s", JSNotEnabledErr).code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(NatsError(NATS_ERR, "s").code(), StatusCode::kInternal);
  EXPECT_NE(NatsError(NATS_ERR, "s", JSStreamNotFoundErr).message().find("10059"),
            std::string::npos);
}

TEST(NatsErrorTest, MapsAuthArgumentsAndMissingThings) {
  EXPECT_EQ(NatsError(NATS_CONNECTION_AUTH_FAILED, "c").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(NatsError(NATS_NOT_PERMITTED, "c").code(), StatusCode::kPermissionDenied);
  EXPECT_EQ(NatsError(NATS_NOT_FOUND, "c").code(), StatusCode::kNotFound);
  EXPECT_EQ(NatsError(NATS_INVALID_ARG, "c").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(NatsError(NATS_NO_MEMORY, "c").code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(NatsError(NATS_NO_SERVER_SUPPORT, "c").code(), StatusCode::kUnimplemented);
}

TEST(NatsErrorTest, RedactsUrlsInTheMessage) {
  Status st = NatsError(NATS_NO_SERVER, "connect to nats://user:secret@h:4222");
  EXPECT_EQ(st.message().find("secret"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("nats://***@h:4222"), std::string::npos) << st.message();
}

}  // namespace
}  // namespace vpcflow
