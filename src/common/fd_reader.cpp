#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

#include "common/errno_status.hpp"
#include "vpcflow/object_source.hpp"

namespace vpcflow {
namespace {

class FdReader final : public ObjectReader {
 public:
  FdReader(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}
  ~FdReader() override { ::close(fd_); }

  Result<size_t> Read(std::span<char> buffer) override {
    for (;;) {
      const ssize_t n = ::read(fd_, buffer.data(), buffer.size());
      if (n >= 0) return static_cast<size_t>(n);
      if (errno != EINTR) return ErrnoStatus("read " + name_, errno);
    }
  }

 private:
  int fd_;
  std::string name_;
};

}  // namespace

ObjectReaderPtr NewFdReader(int fd, std::string name) {
  return std::make_unique<FdReader>(fd, std::move(name));
}

Result<ObjectReaderPtr> OpenFileReader(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return ErrnoStatus("open " + path, errno);
  return NewFdReader(fd, path);
}

}  // namespace vpcflow
