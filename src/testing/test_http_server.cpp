#include "testing/test_http_server.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <string_view>

namespace vpcflow {
namespace {

std::string Lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool SendAll(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    bytes.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Reads more bytes into `buffer`; false at EOF or error.
bool ReadMore(int fd, std::string& buffer) {
  char chunk[8192];
  for (;;) {
    ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buffer.append(chunk, static_cast<size_t>(n));
    return true;
  }
}

std::string_view Reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 409:
      return "Conflict";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Status";
  }
}

}  // namespace

std::string TestHttpRequest::Header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) return value;
  }
  return "";
}

Result<std::unique_ptr<TestHttpServer>> TestHttpServer::Start(Handler handler) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return UnavailableError("test server socket failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::listen(fd, 128) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    ::close(fd);
    return UnavailableError("test server bind/listen failed");
  }
  return std::unique_ptr<TestHttpServer>(
      new TestHttpServer(fd, ntohs(address.sin_port), std::move(handler)));
}

TestHttpServer::TestHttpServer(int listen_fd, int port, Handler handler)
    : listen_fd_(listen_fd), port_(port), handler_(std::move(handler)) {
  accept_thread_ = std::thread([this] { AcceptLoop(); });
}

TestHttpServer::~TestHttpServer() {
  Stop();
  ::close(listen_fd_);
}

void TestHttpServer::Push(TestHttpReply reply) {
  std::lock_guard lock(mu_);
  script_.push_back(std::move(reply));
}

void TestHttpServer::PushStatus(int status, int times) {
  for (int i = 0; i < times; ++i) Push(TestHttpReply{.status = status});
}

std::string TestHttpServer::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

std::vector<TestHttpRequest> TestHttpServer::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

size_t TestHttpServer::request_count() const {
  std::lock_guard lock(mu_);
  return requests_.size();
}

size_t TestHttpServer::connection_count() const {
  std::lock_guard lock(mu_);
  return connections_;
}

bool TestHttpServer::WaitForRequests(size_t n, int64_t timeout_ms) const {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                      [&] { return requests_.size() >= n; });
}

void TestHttpServer::Stop() {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      stopping_ = true;
      ::shutdown(listen_fd_, SHUT_RDWR);  // wakes accept() on Linux
      for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
      cv_.notify_all();
    }
  }
  if (accept_thread_.joinable()) accept_thread_.join();
  // No thread is added once stopping_ is set and the accept loop has ended.
  for (std::thread& thread : connection_threads_) {
    if (thread.joinable()) thread.join();
  }
}

void TestHttpServer::AcceptLoop() {
  for (;;) {
    int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
    std::lock_guard lock(mu_);
    if (fd < 0) {
      if (!stopping_ && (errno == EINTR || errno == ECONNABORTED)) continue;
      return;
    }
    if (stopping_) {
      ::close(fd);
      return;
    }
    open_fds_.push_back(fd);
    ++connections_;
    connection_threads_.emplace_back([this, fd] { Serve(fd); });
  }
}

TestHttpReply TestHttpServer::NextReply(const TestHttpRequest& request) {
  {
    std::lock_guard lock(mu_);
    requests_.push_back(request);
    cv_.notify_all();
    if (!script_.empty()) {
      TestHttpReply reply = std::move(script_.front());
      script_.pop_front();
      return reply;
    }
  }
  return handler_ ? handler_(request) : TestHttpReply{};
}

void TestHttpServer::Serve(int fd) {
  std::string buffer;
  while (ServeOne(fd, buffer)) {
  }
  std::lock_guard lock(mu_);
  open_fds_.erase(std::find(open_fds_.begin(), open_fds_.end(), fd));
  ::close(fd);
}

bool TestHttpServer::ServeOne(int fd, std::string& buffer) {
  size_t header_end;
  while ((header_end = buffer.find("\r\n\r\n")) == std::string::npos) {
    if (buffer.size() > 65536 || !ReadMore(fd, buffer)) return false;
  }
  TestHttpRequest request;
  std::string_view head(buffer.data(), header_end);
  size_t line_end = head.find("\r\n");
  std::string_view request_line = head.substr(0, line_end);
  size_t space1 = request_line.find(' ');
  size_t space2 = request_line.find(' ', space1 + 1);
  if (space1 == std::string_view::npos || space2 == std::string_view::npos) return false;
  request.method = std::string(request_line.substr(0, space1));
  request.target = std::string(request_line.substr(space1 + 1, space2 - space1 - 1));
  bool close_after = request_line.substr(space2 + 1) == "HTTP/1.0";
  while (line_end != std::string_view::npos) {
    head.remove_prefix(line_end + 2);
    line_end = head.find("\r\n");
    std::string_view line = head.substr(0, line_end);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    request.headers.emplace_back(Lower(line.substr(0, colon)), std::string(value));
  }
  std::string length = request.Header("content-length");
  size_t content_length = length.empty() ? 0 : std::stoul(length);
  if (Lower(request.Header("connection")) == "close") close_after = true;
  buffer.erase(0, header_end + 4);
  while (buffer.size() < content_length) {
    if (!ReadMore(fd, buffer)) return false;
  }
  request.body = buffer.substr(0, content_length);
  buffer.erase(0, content_length);

  TestHttpReply reply = NextReply(request);
  if (reply.drop) return false;
  if (reply.hang) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return stopping_; });
    return false;
  }
  std::string response =
      "HTTP/1.1 " + std::to_string(reply.status) + " " + std::string(Reason(reply.status)) + "\r\n";
  for (const auto& [name, value] : reply.headers) {
    response.append(name).append(": ").append(value).append("\r\n");
  }
  bool bodyless = reply.status == 204 || reply.status == 304 || reply.status < 200;
  if (!bodyless) response += "Content-Length: " + std::to_string(reply.body.size()) + "\r\n";
  if (close_after) response += "Connection: close\r\n";
  response += "\r\n";
  if (!bodyless && request.method != "HEAD") {
    response.append(reply.body, 0, reply.cut_body_at.value_or(reply.body.size()));
  }
  return SendAll(fd, response) && !close_after && !reply.cut_body_at;
}

int RefusedLocalPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof(address);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    address.sin_port = 0;  // port 0 refuses connections too
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

}  // namespace vpcflow
