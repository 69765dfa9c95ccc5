#include "query/row_source.hpp"

#include <algorithm>
#include <cstring>
#include <string>

#include "common/gzip_reader.hpp"
#include "common/read_ahead_stream.hpp"
#include "query/row_file.hpp"

namespace vpcflow {
namespace {

class DigestRowSource final : public RowSource {
 public:
  explicit DigestRowSource(const Digest& digest) : digest_(digest) {}
  bool has_flows() const override { return true; }
  Status ForEach(const std::function<bool(const RowView&)>& fn) override {
    return digest_.ForEachRowView(fn);
  }

 private:
  const Digest& digest_;
};

// Lines of the stored text, each parsed with the default format: the stored line is exactly
// the default (version 2) flow-log line.
class FlowLogRowSource final : public RowSource {
 public:
  FlowLogRowSource(std::unique_ptr<TextStream> text, ObjectReaderPtr keep_alive)
      : keep_alive_(std::move(keep_alive)), text_(std::move(text)) {}
  bool has_flows() const override { return false; }

  Status ForEach(const std::function<bool(const RowView&)>& fn) override {
    LineReader lines(text_.get());
    const FlowFormat& format = FlowFormat::Default();
    RowView row;
    row.has_flows = false;
    std::string_view line;
    uint64_t line_number = 0;
    while (lines.Next(&line)) {
      ++line_number;
      if (line.empty()) continue;
      if (ParseFlowLine(format, line, &row.record) != LineOutcome::kUsed) {
        return DataLossError("line " + std::to_string(line_number) +
                             " of the stored digest is not a flowlog line");
      }
      if (!fn(row)) return OkStatus();
    }
    if (!lines.status().ok()) {
      return DataLossError("the stored digest cannot be read: " + lines.status().ToString());
    }
    return OkStatus();
  }

 private:
  ObjectReaderPtr keep_alive_;
  std::unique_ptr<TextStream> text_;
};

// A text stream that first returns bytes already read from it (OpenStoredRows peeks).
class PeekedTextStream final : public TextStream {
 public:
  PeekedTextStream(std::unique_ptr<TextStream> inner, std::string head)
      : inner_(std::move(inner)), head_(std::move(head)) {}
  Result<size_t> Read(char* out, size_t size) override {
    if (pos_ < head_.size()) {
      const size_t n = std::min(size, head_.size() - pos_);
      std::memcpy(out, head_.data() + pos_, n);
      pos_ += n;
      return n;
    }
    return inner_->Read(out, size);
  }
  uint64_t compressed_bytes() const override { return inner_->compressed_bytes(); }

 private:
  std::unique_ptr<TextStream> inner_;
  std::string head_;
  size_t pos_ = 0;
};

}  // namespace

RowSourcePtr NewDigestRowSource(const Digest& digest) {
  return std::make_unique<DigestRowSource>(digest);
}

RowSourcePtr NewFlowLogRowSource(ObjectReaderPtr reader) {
  std::unique_ptr<TextStream> text = NewReadAheadTextStream(NewGzipTextStream(reader.get()));
  return std::make_unique<FlowLogRowSource>(std::move(text), std::move(reader));
}

Result<RowSourcePtr> OpenStoredRows(ObjectReaderPtr reader) {
  std::unique_ptr<TextStream> text = NewGzipTextStream(reader.get());
  std::string head(kRowFileMagic.size(), '\0');
  Result<size_t> got = ReadFully(*text, head.data(), head.size());
  if (!got.ok()) {
    return IsDataLoss(got.status())
               ? DataLossError("not a stored digest: " + got.status().message())
               : got.status();
  }
  head.resize(*got);
  const bool rows_file = head == kRowFileMagic;
  // Decompression runs ahead on a second core while the rows are parsed and queried.
  auto peeked =
      std::make_unique<PeekedTextStream>(NewReadAheadTextStream(std::move(text)), std::move(head));
  if (rows_file) return NewRowFileSource(std::move(peeked), std::move(reader));
  return RowSourcePtr(std::make_unique<FlowLogRowSource>(std::move(peeked), std::move(reader)));
}

}  // namespace vpcflow
