#include "common/list_page_builder.hpp"

#include <algorithm>

namespace vpcflow {

ListPageBuilder::ListPageBuilder(const ListRequest& request)
    : prefix_(request.prefix),
      delimiter_(request.delimiter),
      max_keys_(request.max_keys > 0 ? request.max_keys : kDefaultMaxKeys) {
  // As in S3, a continuation token supersedes start_after.
  after_ = request.continuation_token.empty() ? request.start_after : request.continuation_token;
  const std::string& token = request.continuation_token;
  // A token that is a common prefix of this listing: keys under it were returned rolled up.
  if (!delimiter_.empty() && token.size() >= prefix_.size() + delimiter_.size() &&
      token.starts_with(prefix_) &&
      token.find(delimiter_, prefix_.size()) == token.size() - delimiter_.size()) {
    skip_prefix_ = token;
  }
}

bool ListPageBuilder::MayContain(std::string_view key_prefix) const {
  if (done_) return false;
  if (!key_prefix.starts_with(prefix_) && !std::string_view(prefix_).starts_with(key_prefix)) {
    return false;
  }
  // Below after_ entirely: key_prefix sorts before after_ and is not a prefix of it.
  if (key_prefix <= std::string_view(after_) && !std::string_view(after_).starts_with(key_prefix)) {
    return false;
  }
  return skip_prefix_.empty() || !key_prefix.starts_with(skip_prefix_);
}

std::string_view ListPageBuilder::first_candidate() const {
  return std::max(std::string_view(prefix_), std::string_view(after_));
}

bool ListPageBuilder::StopIfFull() {
  if (count_ < max_keys_) return false;
  done_ = true;
  page_.next_token = last_was_prefix_ ? page_.common_prefixes.back() : page_.objects.back().key;
  return true;
}

bool ListPageBuilder::Offer(std::string_view key) {
  if (done_ || !key.starts_with(prefix_)) return false;
  if (!after_.empty() && key <= std::string_view(after_)) return false;
  if (!skip_prefix_.empty() && key.starts_with(skip_prefix_)) return false;
  if (!delimiter_.empty()) {
    const size_t at = key.find(delimiter_, prefix_.size());
    if (at != std::string_view::npos) {
      if (StopIfFull()) return false;
      skip_prefix_ = key.substr(0, at + delimiter_.size());
      page_.common_prefixes.push_back(skip_prefix_);
      last_was_prefix_ = true;
      ++count_;
      return false;
    }
  }
  return !StopIfFull();
}

void ListPageBuilder::AddObject(std::string_view key, uint64_t size, std::string problem) {
  page_.objects.push_back(
      ObjectInfo{.key = std::string(key), .size = size, .problem = std::move(problem)});
  last_was_prefix_ = false;
  ++count_;
}

}  // namespace vpcflow
