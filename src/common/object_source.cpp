#include "vpcflow/object_source.hpp"

#include <algorithm>
#include <iterator>
#include <unordered_set>

namespace vpcflow {

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
