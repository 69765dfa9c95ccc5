#include "nats/nats_connection.hpp"

#include <boost/url/parse.hpp>

#include "common/redact.hpp"
#include "nats/nats_status.hpp"

namespace vpcflow {
namespace {

// Owns a natsOptions until Connect has used it.
struct OptionsDeleter {
  void operator()(natsOptions* o) const { natsOptions_Destroy(o); }
};

std::string_view Trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

}  // namespace

Result<NatsOptions> NatsOptionsFromUrls(std::string_view urls, std::string_view creds_file,
                                        std::string_view token) {
  NatsOptions options;
  options.creds_file = std::string(creds_file);
  options.token = std::string(token);
  bool url_credentials = false;
  std::string_view rest = urls;
  while (!rest.empty()) {
    size_t comma = rest.find(',');
    std::string_view item = Trim(rest.substr(0, comma));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    if (item.empty()) continue;
    auto url = boost::urls::parse_absolute_uri(item);
    if (!url || (url->scheme() != "nats" && url->scheme() != "tls") || url->host().empty() ||
        (url->path() != "" && url->path() != "/") || url->has_query() || url->has_fragment()) {
      return InvalidArgumentError("\"" + RedactUrl(item) +
                                  "\" is not a NATS URL (nats://[user:password@]host[:port])");
    }
    std::string user, password, url_token;
    if (url->has_userinfo()) {
      if (url->has_password()) {
        user = url->user();
        password = url->password();
      } else {
        url_token = url->user();
      }
      if (url_credentials && (user != options.user || password != options.password ||
                              (!url_token.empty() && url_token != options.token))) {
        return InvalidArgumentError("the NATS URLs carry different credentials: \"" +
                                    RedactUrl(item) + "\"");
      }
      if (!url_token.empty() && !options.token.empty() && url_token != options.token) {
        return InvalidArgumentError("the token of \"" + RedactUrl(item) +
                                    "\" differs from NATS_TOKEN");
      }
      url_credentials = true;
      options.user = user;
      options.password = password;
      if (!url_token.empty()) options.token = url_token;
    }
    std::string clean = std::string(url->scheme()) + "://" + std::string(url->encoded_host());
    if (url->has_port()) clean += ":" + std::string(url->port());
    options.urls.push_back(std::move(clean));
  }
  if (options.urls.empty()) return InvalidArgumentError("no NATS URL given");
  return options;
}

std::string DescribeNatsUrls(const NatsOptions& options) {
  std::string out;
  for (const std::string& url : options.urls) {
    if (!out.empty()) out += ",";
    out += RedactUrl(url);
  }
  return out;
}

Result<std::unique_ptr<NatsConnection>> NatsConnection::Connect(const NatsOptions& options) {
  if (options.urls.empty()) return InvalidArgumentError("no NATS URL given");
  const std::string describe = DescribeNatsUrls(options);
  natsOptions* raw = nullptr;
  VPCFLOW_RETURN_IF_ERROR(NatsError(natsOptions_Create(&raw), "NATS options"));
  std::unique_ptr<natsOptions, OptionsDeleter> opts(raw);
  std::vector<const char*> servers;
  for (const std::string& url : options.urls) servers.push_back(url.c_str());
  VPCFLOW_RETURN_IF_ERROR(NatsError(
      natsOptions_SetServers(opts.get(), servers.data(), static_cast<int>(servers.size())),
      "NATS servers " + describe));
  if (!options.user.empty()) {
    VPCFLOW_RETURN_IF_ERROR(NatsError(
        natsOptions_SetUserInfo(opts.get(), options.user.c_str(), options.password.c_str()),
        "NATS user"));
  }
  if (!options.token.empty()) {
    VPCFLOW_RETURN_IF_ERROR(
        NatsError(natsOptions_SetToken(opts.get(), options.token.c_str()), "NATS token"));
  }
  if (!options.creds_file.empty()) {
    VPCFLOW_RETURN_IF_ERROR(NatsError(
        natsOptions_SetUserCredentialsFromFiles(opts.get(), options.creds_file.c_str(), nullptr),
        "NATS credentials file " + options.creds_file));
  }
  VPCFLOW_RETURN_IF_ERROR(
      NatsError(natsOptions_SetName(opts.get(), options.name.c_str()), "NATS name"));
  VPCFLOW_RETURN_IF_ERROR(
      NatsError(natsOptions_SetTimeout(opts.get(), options.connect_timeout_ms), "NATS timeout"));
  // Once connected, reconnect forever (-1): a restarted server is found again; the buffer keeps
  // what is published meanwhile until the publish times out.
  VPCFLOW_RETURN_IF_ERROR(
      NatsError(natsOptions_SetMaxReconnect(opts.get(), -1), "NATS reconnect attempts"));
  VPCFLOW_RETURN_IF_ERROR(NatsError(
      natsOptions_SetReconnectWait(opts.get(), options.reconnect_wait_ms), "NATS reconnect wait"));

  natsConnection* nc = nullptr;
  if (Status st = NatsError(natsConnection_Connect(&nc, opts.get()), "connect to " + describe);
      !st.ok()) {
    return st;
  }
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.Wait = options.request_timeout_ms;
  jsCtx* js = nullptr;
  if (Status st = NatsError(natsConnection_JetStream(&js, nc, &jo), "JetStream on " + describe);
      !st.ok()) {
    natsConnection_Destroy(nc);
    return st;
  }
  return std::unique_ptr<NatsConnection>(
      new NatsConnection(nc, js, describe, options.request_timeout_ms));
}

NatsConnection::~NatsConnection() {
  jsCtx_Destroy(js_);
  natsConnection_Close(nc_);
  natsConnection_Destroy(nc_);
}

bool NatsConnection::Connected() const {
  return natsConnection_Status(nc_) == NATS_CONN_STATUS_CONNECTED;
}

Status NatsConnection::Ready() const {
  if (Connected()) return OkStatus();
  return UnavailableError("not connected to NATS at " + describe_);
}

}  // namespace vpcflow
