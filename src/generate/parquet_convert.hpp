#pragma once
/// Flow-log text to Parquet with the same records: what AWS would have delivered had the flow
/// log been created with FileFormat=parquet (FLOWLOGS.md, "Parquet delivery"). For the sample
/// corpus (`vpcflow-digest generate --format parquet`) and the tests' text twins. Pure.

#include <string>
#include <string_view>

#include "parquet/writer.hpp"
#include "vpcflow/status.hpp"

namespace vpcflow {

/// Converts one object's text (a header line naming the fields, as S3 delivers it; without one
/// the default format applies) into a Parquet file: one OPTIONAL column per field, named with
/// '_' for '-', in the text's order; INT32 for version, srcport, dstport, protocol, tcp-flags,
/// traffic-path and encryption-status, INT64 for packets, bytes, start, end and the Transit
/// Gateway packet counts, UTF-8 strings otherwise (AWS's type table); '-' is NULL. A numeric
/// column with a token that is not such a number becomes a string column (so a twin of bad
/// input keeps its bad values). Blank lines are dropped. Returns InvalidArgument for a line
/// whose token count differs from the header's (Parquet cannot hold it).
Result<std::string> FlowLogTextToParquet(std::string_view text,
                                         const parquet::WriterOptions& options = {});

}  // namespace vpcflow
