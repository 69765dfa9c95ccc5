// `view` and `diff`: queries over stored digests (commands.hpp).

#include <unistd.h>

#include <string>
#include <utility>

#include "cli/commands.hpp"
#include "cli/output_file.hpp"
#include "cli/report.hpp"
#include "query/query.hpp"
#include "query/row_file.hpp"
#include "query/row_source.hpp"
#include "vpcflow/object_source.hpp"
#include "vpcflow/status.hpp"

namespace vpcflow {
namespace {

// A stored digest (`<id>.log.gz`) or rows sidecar (`<id>.rows.gz`) from FILE, or stdin for "-".
Result<RowSourcePtr> OpenStoredInput(const std::string& path) {
  ObjectReaderPtr reader;
  if (path == "-") {
    reader = NewFdReader(dup(STDIN_FILENO), "stdin");
  } else {
    VPCFLOW_ASSIGN_OR_RETURN(reader, OpenFileReader(path));
  }
  Result<RowSourcePtr> rows = OpenStoredRows(std::move(reader));
  if (!rows.ok()) return rows.status().WithContext(path);
  return rows;
}

}  // namespace

int RunViewCommand(const std::string& input, const QueryArgs& q) {
  Result<QuerySpec> spec = ParseQuery(q.Params());
  if (!spec.ok()) return Fail(kExitUsage, OptionMessage(spec.status()));
  Result<RowSourcePtr> rows = OpenStoredInput(input);
  if (!rows.ok()) return Fail(kExitFailure, rows.status().message());
  OutputFile output;
  if (Status st = output.Open(q.output); !st.ok()) {
    return Fail(IsInvalidArgument(st) ? kExitUsage : kExitFailure, st.message());
  }
  if (Status st = RunQuery(**rows, *spec, output.sink()); !st.ok()) return QueryFailure(st);
  if (Status st = output.Commit(); !st.ok()) return Fail(kExitFailure, st.ToString());
  return 0;
}

int RunDiffCommand(const std::string& base_path, const std::string& current_path,
                   const QueryArgs& q) {
  Result<QuerySpec> spec = ParseQuery(q.Params(), /*diff=*/true);
  if (!spec.ok()) return Fail(kExitUsage, OptionMessage(spec.status()));
  Result<RowSourcePtr> base = OpenStoredInput(base_path);
  if (!base.ok()) return Fail(kExitFailure, base.status().message());
  Result<RowSourcePtr> current = OpenStoredInput(current_path);
  if (!current.ok()) return Fail(kExitFailure, current.status().message());
  OutputFile output;
  if (Status st = output.Open(q.output); !st.ok()) {
    return Fail(IsInvalidArgument(st) ? kExitUsage : kExitFailure, st.message());
  }
  if (Status st = RunDiff(**base, **current, *spec, output.sink()); !st.ok()) {
    return QueryFailure(st);
  }
  if (Status st = output.Commit(); !st.ok()) return Fail(kExitFailure, st.ToString());
  return 0;
}

}  // namespace vpcflow
