#pragma once
/// A self-signed TLS certificate for tests, made with the OpenSSL API: an EC P-256 key and an
/// X.509 v3 certificate for 127.0.0.1 and localhost (subjectAltName), valid from an hour ago
/// for a day, that is its own CA (so a client trusting the certificate file trusts the server).

#include <string>

#include "vpcflow/status.hpp"

namespace vpcflow {

struct SelfSignedCert {
  std::string cert_file;  ///< PEM certificate (also the CA file a client trusts)
  std::string key_file;   ///< PEM private key (unencrypted)
};

/// Writes `<dir>/<name>.crt` and `<dir>/<name>.key`. Internal on an OpenSSL failure.
Result<SelfSignedCert> MakeSelfSignedCert(const std::string& dir, const std::string& name = "tls");

}  // namespace vpcflow
