#include "api/reencode.hpp"

#include <algorithm>
#include <cstring>

#include "common/chunk_writer.hpp"
#include "common/gzip_reader.hpp"
#include "digest/row_format.hpp"
#include "flowlog/line_parser.hpp"

namespace vpcflow {
namespace {

constexpr size_t kFillBytes = 64 * 1024;

class ReencodingReader final : public ObjectReader {
 public:
  ReencodingReader(ObjectReaderPtr stored, DigestFormat format)
      : stored_(std::move(stored)),
        text_(NewGzipTextStream(stored_.get())),
        lines_(text_.get()),
        json_(format == DigestFormat::kNdjson),
        out_(kFillBytes + 1024) {
    if (!json_) {
      out_.Append(kCsvColumns);
      out_.Append("\n");
    }
  }

  Result<size_t> Read(std::span<char> buffer) override {
    while (pos_ == out_.size()) {
      if (done_) return size_t{0};
      out_.Clear();
      pos_ = 0;
      RETURN_IF_ERROR(Fill());
    }
    const size_t n = std::min(buffer.size(), out_.size() - pos_);
    std::memcpy(buffer.data(), out_.data() + pos_, n);
    pos_ += n;
    return n;
  }

 private:
  Status Fill() {
    std::string_view line;
    RowView row;
    row.has_flows = false;  // not in the stored line
    while (out_.size() < kFillBytes) {
      if (!lines_.Next(&line)) {
        done_ = true;
        if (!lines_.status().ok()) {
          return DataLossError("the stored digest cannot be read: " + lines_.status().ToString());
        }
        return OkStatus();
      }
      ++line_number_;
      if (line.empty()) continue;
      if (ParseFlowLine(FlowFormat::Default(), line, &row.record) != LineOutcome::kUsed) {
        done_ = true;
        return DataLossError("line " + std::to_string(line_number_) +
                             " of the stored digest is not a flowlog line");
      }
      char* p = out_.Reserve(RowRoom(row));
      if (json_) {
        *p++ = '{';
        p = CharBuffer::Put(PutNdjsonMembers(p, row), "}\n");
      } else {
        p = PutCsvColumns(p, row);
        *p++ = '\n';
      }
      out_.Commit(p);
    }
    return OkStatus();
  }

  ObjectReaderPtr stored_;
  std::unique_ptr<TextStream> text_;
  LineReader lines_;
  const bool json_;
  CharBuffer out_;
  size_t pos_ = 0;
  uint64_t line_number_ = 0;
  bool done_ = false;
};

}  // namespace

ObjectReaderPtr NewReencodingReader(ObjectReaderPtr stored, DigestFormat format) {
  return std::make_unique<ReencodingReader>(std::move(stored), format);
}

}  // namespace vpcflow
