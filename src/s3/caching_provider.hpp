#pragma once
/// The caching credentials provider every temporary-credentials source (STS, IMDS, the
/// container endpoint, credential_process) is wrapped in.
///
/// Temporary credentials are cached and refreshed `margin_ms` before they expire (for
/// short-lived ones, at half their remaining life); Get() is thread-safe and at most one fetch
/// runs at a time (others wait for it, or keep using the cached credentials while they are still
/// valid). A refresh that fails while the cached credentials are still valid returns the cached
/// ones and is tried again 10 s later; once they expired, the error.

#include <cstdint>
#include <functional>
#include <string>

#include "s3/credentials.hpp"
#include "vpcflow/clock.hpp"

namespace vpcflow {

/// Fetches fresh credentials from the source (called by one thread at a time).
using CredentialsFetch = std::function<Result<AwsCredentials>()>;

/// A provider that caches what `fetch` returns. `clock` null = SystemClock(). `description` is
/// Describe()'s answer and the context of an "expired and the refresh failed" error.
CredentialsProviderPtr NewCachingProvider(std::string description, CredentialsFetch fetch,
                                          ClockPtr clock, int64_t margin_ms);

}  // namespace vpcflow
