// libFuzzer target: bytes read as a partial digest (digest/partial_run.hpp), both kinds. Any
// outcome is fine as long as there is no crash, sanitizer report, hang or large allocation; a
// run that reads to its end must have counted the rows its trailer claims.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>

#include "digest/partial_run.hpp"

namespace {

class BytesReader final : public vpcflow::ObjectReader {
 public:
  explicit BytesReader(std::shared_ptr<const std::string> bytes) : bytes_(std::move(bytes)) {}
  vpcflow::Result<size_t> Read(std::span<char> buffer) override {
    // Small reads, so records straddle the reader's refills.
    const size_t n = std::min({buffer.size(), bytes_->size() - pos_, size_t{7}});
    std::memcpy(buffer.data(), bytes_->data() + pos_, n);
    pos_ += n;
    return n;
  }

 private:
  std::shared_ptr<const std::string> bytes_;
  size_t pos_ = 0;
};

template <typename Row>
void ReadAll(const std::shared_ptr<const std::string>& bytes, vpcflow::PartialKind kind) {
  auto reader = vpcflow::PartialReader::Open(std::make_unique<BytesReader>(bytes), kind);
  if (!reader.ok()) return;
  Row row;
  uint64_t rows = 0;
  for (;;) {
    auto more = (*reader)->Next(&row);
    if (!more.ok()) return;
    if (!*more) break;
    ++rows;
  }
  if (rows != (*reader)->rows()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  // The fuzzer mutates the bytes after the magic and the version: give it them.
  auto keyed =
      std::make_shared<const std::string>(std::string("VPCFPART\x01\0\0\0\x01\0\0\0", 16) + text);
  auto ordered =
      std::make_shared<const std::string>(std::string("VPCFPART\x01\0\0\0\x02\0\0\0", 16) + text);
  ReadAll<vpcflow::KeyedRow>(keyed, vpcflow::PartialKind::kKeyed);
  ReadAll<vpcflow::OrderedRow>(ordered, vpcflow::PartialKind::kOrdered);
  ReadAll<vpcflow::KeyedRow>(std::make_shared<const std::string>(text),
                             vpcflow::PartialKind::kKeyed);
  return 0;
}
