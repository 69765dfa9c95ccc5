#pragma once
/// ListPageBuilder: S3 ListObjectsV2 paging semantics over a sorted key space, for sources that
/// enumerate their keys themselves (in memory, a local directory).
///
/// The source offers keys in ascending byte order; the builder filters by prefix and by the
/// start-after key or continuation token, rolls keys up into common prefixes at the delimiter,
/// counts objects and prefixes against max_keys, and sets the continuation token only when one
/// more entry exists. The token is the last key or common prefix returned: the next page holds
/// what sorts after it (and, for a prefix, what does not roll up into it). Not thread-safe: one
/// builder per List call.

#include <cstdint>
#include <string>
#include <string_view>

#include "vpcflow/object_source.hpp"

namespace vpcflow {

class ListPageBuilder {
 public:
  /// The page size when `request.max_keys` is 0 or less (S3's default).
  static constexpr int kDefaultMaxKeys = 1000;

  explicit ListPageBuilder(const ListRequest& request);

  /// False when no key starting with `key_prefix` can enter this page any more (filtered by
  /// prefix or start, inside the common prefix just returned, or the page is complete): the
  /// source may skip that part of its key space.
  bool MayContain(std::string_view key_prefix) const;

  /// Offers the next key (ascending order). Returns true when the key is to be listed as an
  /// object: the caller then calls AddObject. Rolled-up keys are recorded here; filtered keys
  /// and keys beyond a full page are dropped.
  bool Offer(std::string_view key);
  /// `problem`: see ObjectInfo::problem.
  void AddObject(std::string_view key, uint64_t size, std::string problem = {});

  /// True once the page is complete and another entry exists (next_token is set): stop offering.
  bool done() const { return done_; }

  /// The start of the key space worth offering: every key of the page is >= this.
  std::string_view first_candidate() const;

  ListPage Finish() && { return std::move(page_); }

 private:
  bool StopIfFull();

  std::string prefix_;
  std::string delimiter_;
  std::string after_;        // keys <= this are not listed
  std::string skip_prefix_;  // keys starting with this roll up into a prefix already returned
  int max_keys_;
  int count_ = 0;
  bool last_was_prefix_ = false;
  bool done_ = false;
  ListPage page_;
};

}  // namespace vpcflow
