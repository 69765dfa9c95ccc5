#include "api/reencode.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>

#include "common/gzip_reader.hpp"
#include "flowlog/line_parser.hpp"

namespace vpcflow {
namespace {

constexpr size_t kFillBytes = 64 * 1024;
constexpr std::string_view kCsvHeader =
    "account_id,interface_id,srcaddr,dstaddr,srcport,dstport,protocol,action,packets,bytes,"
    "flows,start,end\n";

// Writes one row as an ndjson object or a csv line, field by field, in the engine's column
// order and spelling.
class RowWriter {
 public:
  RowWriter(std::string& out, DigestFormat format)
      : out_(out), json_(format == DigestFormat::kNdjson) {}

  void Row(const FlowRecord& r) {
    first_ = true;
    if (json_) out_ += '{';
    Token("account_id", r.account_id);
    Token("interface_id", r.interface_id);
    Address("srcaddr", r.srcaddr);
    Address("dstaddr", r.dstaddr);
    Number("srcport", r.srcport);
    Number("dstport", r.dstport);
    Number("protocol", r.protocol);
    Token("action", ActionName(r.action));
    Number("packets", r.packets);
    Number("bytes", r.bytes);
    Key("flows");  // not in the stored line
    if (json_) out_ += "null";
    Number("start", r.start);
    Number("end", r.end);
    out_ += json_ ? "}\n" : "\n";
  }

 private:
  void Key(std::string_view key) {
    if (!first_) out_ += ',';
    first_ = false;
    if (json_) {
      out_ += '"';
      out_ += key;
      out_ += "\":";
    }
  }

  template <typename T>
  void Number(std::string_view key, T value) {
    Key(key);
    char buf[24];
    out_.append(buf, std::to_chars(buf, buf + sizeof(buf), value).ptr);
  }

  void Address(std::string_view key, const IpAddress& address) {
    Key(key);
    char buf[kMaxIpTextLength];
    if (json_) out_ += '"';
    out_.append(buf, FormatIpAddress(address, buf));
    if (json_) out_ += '"';
  }

  // A stored token has no spaces. JSON: escape what JSON forbids, and bytes above 0x7f as
  // \u00XX (ids are ASCII in practice). CSV: RFC 4180 quoting when needed.
  void Token(std::string_view key, std::string_view token) {
    static constexpr char kHex[] = "0123456789abcdef";
    Key(key);
    const bool quote = json_ || token.find_first_of(",\"\r") != std::string_view::npos;
    if (quote) out_ += '"';
    for (char ch : token) {
      const auto c = static_cast<unsigned char>(ch);
      if (!json_) {
        if (c == '"') out_ += '"';
        out_ += ch;
      } else if (c == '"' || c == '\\') {
        out_ += '\\';
        out_ += ch;
      } else if (c < 0x20 || c >= 0x80) {
        out_ += "\\u00";
        out_ += kHex[c >> 4];
        out_ += kHex[c & 15];
      } else {
        out_ += ch;
      }
    }
    if (quote) out_ += '"';
  }

  std::string& out_;
  const bool json_;
  bool first_ = true;
};

class ReencodingReader final : public ObjectReader {
 public:
  ReencodingReader(ObjectReaderPtr stored, DigestFormat format)
      : stored_(std::move(stored)),
        text_(NewGzipTextStream(stored_.get())),
        lines_(text_.get()),
        rows_(out_, format) {
    out_.reserve(kFillBytes + 1024);
    if (format == DigestFormat::kCsv) out_ = kCsvHeader;
  }

  Result<size_t> Read(std::span<char> buffer) override {
    while (pos_ == out_.size()) {
      if (done_) return size_t{0};
      out_.clear();
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
    FlowRecord record;
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
      if (ParseFlowLine(FlowFormat::Default(), line, &record) != LineOutcome::kUsed) {
        done_ = true;
        return DataLossError("line " + std::to_string(line_number_) +
                             " of the stored digest is not a flowlog line");
      }
      rows_.Row(record);
    }
    return OkStatus();
  }

  ObjectReaderPtr stored_;
  std::unique_ptr<TextStream> text_;
  LineReader lines_;
  std::string out_;
  RowWriter rows_;
  size_t pos_ = 0;
  uint64_t line_number_ = 0;
  bool done_ = false;
};

}  // namespace

ObjectReaderPtr NewReencodingReader(ObjectReaderPtr stored, DigestFormat format) {
  return std::make_unique<ReencodingReader>(std::move(stored), format);
}

}  // namespace vpcflow
