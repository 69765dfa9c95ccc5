#include "vpcflow/object_source.hpp"

#include <algorithm>
#include <cstring>
#include <iterator>
#include <optional>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace vpcflow {
namespace {

class MemoryRandomAccessObject final : public RandomAccessObject {
 public:
  explicit MemoryRandomAccessObject(std::shared_ptr<const std::string> bytes)
      : bytes_(std::move(bytes)) {}
  uint64_t size() const override { return bytes_->size(); }
  Status ReadAt(uint64_t offset, std::span<char> out) override {
    if (offset > bytes_->size() || out.size() > bytes_->size() - offset) {
      return InvalidArgumentError("read of " + std::to_string(out.size()) + " bytes at " +
                                  std::to_string(offset) + " passes the end of a " +
                                  std::to_string(bytes_->size()) + "-byte object");
    }
    if (!out.empty()) std::memcpy(out.data(), bytes_->data() + offset, out.size());
    return OkStatus();
  }

 private:
  std::shared_ptr<const std::string> bytes_;
};

}  // namespace

RandomAccessObjectPtr NewMemoryRandomAccessObject(std::shared_ptr<const std::string> bytes) {
  return std::make_unique<MemoryRandomAccessObject>(std::move(bytes));
}

Result<RandomAccessObjectPtr> OpenRandomAccessOrRead(ObjectSource& source, std::string_view key,
                                                     uint64_t tail_bytes, uint64_t max_read_bytes) {
  Result<RandomAccessObjectPtr> opened = source.OpenRandomAccess(key, tail_bytes);
  if (opened.ok() || !IsUnimplemented(opened.status())) return opened;
  VPCFLOW_ASSIGN_OR_RETURN(ObjectReaderPtr reader, source.Open(key));
  std::string bytes;
  const auto too_large = [&] {
    return ResourceExhaustedError("'" + std::string(key) + "' is larger than " +
                                  std::to_string(max_read_bytes) +
                                  " bytes, the most read into memory from a source without "
                                  "random access");
  };
  if (std::optional<std::string_view> held = reader->TakeInMemory()) {
    // One copy of the held bytes (they live only as long as the reader), no read loop.
    if (held->size() > max_read_bytes) return too_large();
    bytes.assign(*held);
  } else {
    std::vector<char> buffer(size_t{256} * 1024);
    for (;;) {
      VPCFLOW_ASSIGN_OR_RETURN(const size_t n, reader->Read(buffer));
      if (n == 0) break;
      if (n > max_read_bytes - bytes.size()) return too_large();
      bytes.append(buffer.data(), n);
    }
  }
  return NewMemoryRandomAccessObject(std::make_shared<const std::string>(std::move(bytes)));
}

Result<ListPage> ListAll(ObjectSource& source, ListRequest request) {
  ListPage all;
  // A source that hands out a token it gave before would make this loop forever.
  std::unordered_set<std::string> seen_tokens;
  for (;;) {
    Result<ListPage> page = source.List(request);
    if (!page.ok()) return page.status();
    std::move(page->objects.begin(), page->objects.end(), std::back_inserter(all.objects));
    std::move(page->common_prefixes.begin(), page->common_prefixes.end(),
              std::back_inserter(all.common_prefixes));
    if (page->next_token.empty()) return all;
    if (!seen_tokens.insert(page->next_token).second) {
      return InternalError(source.Describe() + ": listing of '" + request.prefix +
                           "' does not advance (continuation token repeated)");
    }
    request.continuation_token = std::move(page->next_token);
  }
}

}  // namespace vpcflow
