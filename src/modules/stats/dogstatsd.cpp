#include <netdb.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "modules/posix_file.hpp"
#include "modules/stats/prometheus_registry.hpp"
#include "modules/text_format.hpp"
#include "vpcflow/stats.hpp"

namespace vpcflow {
namespace {

// DogStatsD reserves ':' '|' '@' '#' ',' in names and ',' '|' in tags.
void AppendEscaped(std::string& out, std::string_view text, std::string_view reserved) {
  for (char c : text) {
    out += (reserved.find(c) != std::string_view::npos || c == '\n' || c == ' ') ? '_' : c;
  }
}

// "host:port" or "[v6]:port" -> a connected non-blocking UDP socket.
Result<UniqueFd> ConnectUdp(const std::string& address) {
  size_t colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == address.size()) {
    return InvalidArgumentError("statsd address \"" + address + "\" is not host:port");
  }
  std::string host = address.substr(0, colon);
  std::string port = address.substr(colon + 1);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_DGRAM;
  addrinfo* found = nullptr;
  int rc = ::getaddrinfo(host.c_str(), port.c_str(), &hints, &found);
  if (rc != 0) {
    return UnavailableError("statsd address \"" + address + "\": " + ::gai_strerror(rc));
  }
  // Prefer IPv4: agents commonly listen on 127.0.0.1 only.
  const addrinfo* chosen = found;
  for (const addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    if (ai->ai_family == AF_INET) {
      chosen = ai;
      break;
    }
  }
  UniqueFd fd(::socket(chosen->ai_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  Status status;
  if (!fd.valid()) {
    status = ErrnoStatus("statsd socket", errno);
  } else if (::connect(fd.get(), chosen->ai_addr, chosen->ai_addrlen) != 0) {
    status = ErrnoStatus("statsd connect " + address, errno);
  }
  ::freeaddrinfo(found);
  if (!status.ok()) return status;
  return fd;
}

class DogStatsd final : public Stats {
 public:
  DogStatsd(const StatsOptions& options, UniqueFd fd)
      : prefix_(options.prefix),
        constant_tags_(ParseStatTags(options.tags)),
        fd_(std::move(fd)),
        registry_(options.prefix, constant_tags_) {}

  void Count(std::string_view name, int64_t delta, std::initializer_list<StatTag> tags) override {
    if (fd_.valid()) Send(name, std::to_string(delta), "c", tags);
    registry_.Count(name, delta, tags);
  }

  void Gauge(std::string_view name, double value, std::initializer_list<StatTag> tags) override {
    SendDouble(name, value, "g", tags);
    registry_.Gauge(name, value, tags);
  }

  void Timing(std::string_view name, double ms, std::initializer_list<StatTag> tags) override {
    SendDouble(name, ms, "ms", tags);
    registry_.Timing(name, ms, tags);
  }

  Result<std::string> Prometheus() const override { return registry_.Text(); }

 private:
  void SendDouble(std::string_view name, double value, std::string_view type,
                  std::initializer_list<StatTag> tags) {
    if (!fd_.valid()) return;
    std::string text;
    AppendDouble(text, value, "0");
    Send(name, text, type, tags);
  }

  void Send(std::string_view name, std::string_view value, std::string_view type,
            std::initializer_list<StatTag> tags) {
    std::string datagram;
    datagram.reserve(128);
    if (!prefix_.empty()) {
      AppendEscaped(datagram, prefix_, ":|@#,");
      datagram += '.';
    }
    AppendEscaped(datagram, name, ":|@#,");
    datagram += ':';
    datagram += value;
    datagram += '|';
    datagram += type;
    bool first = true;
    auto add_tag = [&](std::string_view key, std::string_view tag_value) {
      datagram += first ? "|#" : ",";
      first = false;
      AppendEscaped(datagram, key, ",|:");
      if (!tag_value.empty()) {
        datagram += ':';
        AppendEscaped(datagram, tag_value, ",|");
      }
    };
    for (const auto& [key, tag_value] : constant_tags_) add_tag(key, tag_value);
    for (const auto& [key, tag_value] : tags) add_tag(key, tag_value);
    // Non-blocking and fire-and-forget: a full buffer or an absent agent drops the sample.
    (void)::send(fd_.get(), datagram.data(), datagram.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  }

  const std::string prefix_;
  const std::vector<std::pair<std::string, std::string>> constant_tags_;
  const UniqueFd fd_;
  PrometheusRegistry registry_;
};

}  // namespace

StatsPtr NewDogStatsd(const StatsOptions& options, Status* warning) {
  UniqueFd fd;
  Status status;
  if (!options.address.empty()) {
    Result<UniqueFd> connected = ConnectUdp(options.address);
    if (connected.ok()) {
      fd = std::move(connected).value();
    } else {
      status = connected.status().WithContext("DogStatsD disabled");
    }
  }
  if (warning != nullptr) *warning = status;
  return std::make_unique<DogStatsd>(options, std::move(fd));
}

}  // namespace vpcflow
