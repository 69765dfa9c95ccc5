#include "testing/flow_log_builder.hpp"

#include <charconv>
#include <cstdint>

#include "vpcflow/byte_sink.hpp"

namespace vpcflow {

namespace {

constexpr int64_t kDefaultStart = 1546300800;  // 2019-01-01T00:00:00Z

std::string DefaultValue(Field field, const std::map<Field, std::string>& values) {
  switch (field) {
    case Field::kVersion:
      return "2";
    case Field::kAccountId:
      return "123456789012";
    case Field::kInterfaceId:
      return "eni-0a1b2c3d";
    case Field::kSrcAddr:
      return "10.0.0.1";
    case Field::kDstAddr:
      return "10.0.0.2";
    case Field::kSrcPort:
      return "443";
    case Field::kDstPort:
      return "49152";
    case Field::kProtocol:
      return "6";
    case Field::kPackets:
      return "1";
    case Field::kBytes:
      return "100";
    case Field::kStart:
      return std::to_string(kDefaultStart);
    case Field::kEnd: {
      // start + 60, following a start given as a number.
      int64_t start = kDefaultStart;
      if (auto it = values.find(Field::kStart); it != values.end()) {
        const std::string& text = it->second;
        std::from_chars(text.data(), text.data() + text.size(), start);
      }
      return std::to_string(start + 60);
    }
    case Field::kAction:
      return "ACCEPT";
    case Field::kLogStatus:
      return "OK";
    default:
      return "-";
  }
}

}  // namespace

FlowLogBuilder::FlowLogBuilder() : FlowLogBuilder(FlowFormat::Default().columns()) {}

FlowLogBuilder::FlowLogBuilder(std::vector<Field> fields) : fields_(std::move(fields)) {}

FlowLogBuilder& FlowLogBuilder::WithoutHeader() {
  header_ = false;
  return *this;
}

FlowLogBuilder& FlowLogBuilder::Add(const std::map<Field, std::string>& values) {
  std::string line;
  for (Field field : fields_) {
    if (!line.empty()) line.push_back(' ');
    auto it = values.find(field);
    line += it != values.end() ? it->second : DefaultValue(field, values);
  }
  lines_.push_back(std::move(line));
  return *this;
}

FlowLogBuilder& FlowLogBuilder::AddRaw(std::string line) {
  lines_.push_back(std::move(line));
  return *this;
}

std::string FlowLogBuilder::Text() const {
  std::string text;
  if (header_) {
    for (size_t i = 0; i < fields_.size(); ++i) {
      if (i > 0) text.push_back(' ');
      text += FieldName(fields_[i]);
    }
    text.push_back('\n');
  }
  for (const std::string& line : lines_) {
    text += line;
    text.push_back('\n');
  }
  return text;
}

std::string FlowLogBuilder::Gzip() const { return GzipForTest(Text()); }

std::string GzipForTest(std::string_view text) {
  StringSink out;
  ByteSinkPtr gzip = NewGzipSink(&out, 1);
  // Appending to and closing an in-memory sink cannot fail.
  (void)gzip->Append(text);
  (void)gzip->Close();
  return out.Release();
}

}  // namespace vpcflow
