#include "jobs/merge_partials.hpp"

#include <algorithm>

#include "digest/partial_run.hpp"
#include "digest/spill.hpp"

namespace vpcflow {

Result<DigestRun> MergePartials(std::vector<ObjectReaderPtr> partials,
                                const DigestSummary& planning, const MergeOptions& options) {
  if (options.stop.stop_requested()) return CancelledError("digest cancelled");
  std::vector<std::unique_ptr<PartialReader>> readers;
  for (size_t i = 0; i < partials.size(); ++i) {
    Result<std::unique_ptr<PartialReader>> reader =
        PartialReader::Open(std::move(partials[i]), PartialKind::kKeyed);
    if (!reader.ok()) return reader.status().WithContext("partial " + std::to_string(i));
    readers.push_back(std::move(reader).value());
  }
  VPCFLOW_ASSIGN_OR_RETURN(std::shared_ptr<SpillDir> dir, SpillDir::Create(options.spill_dir));
  VPCFLOW_ASSIGN_OR_RETURN(
      MergedRuns merged,
      MergeKeyedRuns(std::move(readers), std::move(dir),
                     std::max(options.memory_limit, kMinMemoryLimit), options.stop));
  DigestSummary summary = planning;
  AddSummary(summary, merged.summary);
  summary.window = planning.window;
  summary.keys = merged.digest.size();
  std::sort(summary.problems.begin(), summary.problems.end(),
            [](const ObjectProblem& a, const ObjectProblem& b) { return a.key < b.key; });
  return DigestRun{std::move(merged.digest), std::move(summary)};
}

}  // namespace vpcflow
