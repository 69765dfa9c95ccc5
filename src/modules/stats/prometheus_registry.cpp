#include "modules/stats/prometheus_registry.hpp"

#include <algorithm>

#include "modules/text_format.hpp"

namespace vpcflow {

std::vector<std::pair<std::string, std::string>> ParseStatTags(std::string_view tags) {
  std::vector<std::pair<std::string, std::string>> out;
  while (!tags.empty()) {
    size_t comma = tags.find(',');
    std::string_view tag = tags.substr(0, comma);
    tags.remove_prefix(comma == std::string_view::npos ? tags.size() : comma + 1);
    while (!tag.empty() && tag.front() == ' ') tag.remove_prefix(1);
    while (!tag.empty() && tag.back() == ' ') tag.remove_suffix(1);
    if (tag.empty()) continue;
    size_t colon = tag.find(':');
    if (colon == std::string_view::npos) {
      out.emplace_back(std::string(tag), "");
    } else {
      out.emplace_back(std::string(tag.substr(0, colon)), std::string(tag.substr(colon + 1)));
    }
  }
  return out;
}

namespace {

// Prometheus names allow [a-zA-Z0-9_] (and ':', reserved for recording rules).
std::string SanitizeName(std::string_view name) {
  std::string out;
  out.reserve(name.size() + 1);
  if (!name.empty() && name[0] >= '0' && name[0] <= '9') out += '_';
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    out += ok ? c : '_';
  }
  return out;
}

// Label values escape backslash, newline and double quote; HELP text only the first two.
void AppendEscaped(std::string& out, std::string_view text, bool quote) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

void AppendSample(std::string& out, std::string_view name, std::string_view labels,
                  std::string_view extra_label, double value) {
  out += name;
  if (!labels.empty() || !extra_label.empty()) {
    out += '{';
    out += labels;
    if (!labels.empty() && !extra_label.empty()) out += ',';
    out += extra_label;
    out += '}';
  }
  out += ' ';
  AppendDouble(out, value, value > 0 ? "+Inf" : (value < 0 ? "-Inf" : "NaN"));
  out += '\n';
}

}  // namespace

PrometheusRegistry::PrometheusRegistry(
    const std::string& prefix, std::vector<std::pair<std::string, std::string>> constant_labels)
    : prefix_(prefix.empty() ? "" : SanitizeName(prefix) + "_"),
      help_prefix_(prefix.empty() ? "" : prefix + "."),
      constant_labels_(std::move(constant_labels)) {}

PrometheusRegistry::Series& PrometheusRegistry::Find(Type type, std::string_view name,
                                                     std::string_view suffix,
                                                     std::initializer_list<StatTag> tags) {
  std::string full = prefix_ + SanitizeName(name);
  full += suffix;
  // Labels: the constant ones, overridden by the call's; sorted by name.
  std::vector<std::pair<std::string, std::string_view>> labels;
  labels.reserve(constant_labels_.size() + tags.size());
  for (const auto& [key, value] : constant_labels_) labels.emplace_back(SanitizeName(key), value);
  for (const auto& [key, value] : tags) {
    std::string sanitized = SanitizeName(key);
    auto it = std::find_if(labels.begin(), labels.end(),
                           [&](const auto& label) { return label.first == sanitized; });
    if (it != labels.end()) {
      it->second = value;
    } else {
      labels.emplace_back(std::move(sanitized), value);
    }
  }
  std::sort(labels.begin(), labels.end());
  std::string label_text;
  for (const auto& [key, value] : labels) {
    if (!label_text.empty()) label_text += ',';
    label_text += key;
    label_text += "=\"";
    AppendEscaped(label_text, value, /*quote=*/true);
    label_text += '"';
  }
  Family& family = families_[full];
  if (family.series.empty()) {
    family.type = type;
    family.help = help_prefix_ + std::string(name);
  }
  return family.series[label_text];
}

void PrometheusRegistry::Count(std::string_view name, int64_t delta,
                               std::initializer_list<StatTag> tags) {
  std::lock_guard lock(mu_);
  Find(Type::kCounter, name, "_total", tags).value += static_cast<double>(delta);
}

void PrometheusRegistry::Gauge(std::string_view name, double value,
                               std::initializer_list<StatTag> tags) {
  std::lock_guard lock(mu_);
  Find(Type::kGauge, name, "", tags).value = value;
}

void PrometheusRegistry::Timing(std::string_view name, double ms,
                                std::initializer_list<StatTag> tags) {
  if (name.ends_with("_ms") || name.ends_with(".ms")) name.remove_suffix(3);
  double seconds = ms / 1000.0;
  std::lock_guard lock(mu_);
  Series& series = Find(Type::kHistogram, name, "_seconds", tags);
  series.value += seconds;
  ++series.count;
  auto bucket =
      std::lower_bound(kTimingBucketsSeconds.begin(), kTimingBucketsSeconds.end(), seconds);
  if (bucket != kTimingBucketsSeconds.end())
    ++series.buckets[bucket - kTimingBucketsSeconds.begin()];
}

std::string PrometheusRegistry::Text() const {
  std::lock_guard lock(mu_);
  std::string out;
  for (const auto& [name, family] : families_) {
    out += "# HELP ";
    out += name;
    out += ' ';
    AppendEscaped(out, family.help, /*quote=*/false);
    out += "\n# TYPE ";
    out += name;
    out += family.type == Type::kCounter ? " counter\n"
           : family.type == Type::kGauge ? " gauge\n"
                                         : " histogram\n";
    for (const auto& [labels, series] : family.series) {
      if (family.type != Type::kHistogram) {
        AppendSample(out, name, labels, "", series.value);
        continue;
      }
      uint64_t cumulative = 0;
      std::string le;
      for (size_t i = 0; i < kTimingBucketsSeconds.size(); ++i) {
        cumulative += series.buckets[i];
        le = "le=\"";
        AppendDouble(le, kTimingBucketsSeconds[i]);
        le += '"';
        AppendSample(out, name + "_bucket", labels, le, static_cast<double>(cumulative));
      }
      AppendSample(out, name + "_bucket", labels, "le=\"+Inf\"", static_cast<double>(series.count));
      AppendSample(out, name + "_sum", labels, "", series.value);
      AppendSample(out, name + "_count", labels, "", static_cast<double>(series.count));
    }
  }
  return out;
}

}  // namespace vpcflow
