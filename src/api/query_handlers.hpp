#pragma once
/// The query side of the HTTP API (DESIGN.md, "Queries"): `GET /?start&stop&filter&...`
/// answered by src/query over a stored digest (or its rows sidecar), `GET /diff`, and the web
/// view `GET /ui/`. Handlers only read parameters; ParseQuery checks them and RunQuery /
/// RunDiff answer, on a thread of the answer's own (WriterStream) so that a large answer
/// streams in bounded memory and no I/O thread waits for a query.
///
/// Thread safety: as handlers.hpp (everything in ApiContext is thread-safe).

#include <string>
#include <string_view>

#include "api/handlers.hpp"
#include "query/query_spec.hpp"

namespace vpcflow {

/// The most queries (GET with query parameters, /diff) answered at once by this process; one
/// more is 503 with Retry-After.
inline constexpr int kMaxConcurrentQueries = 4;

/// The counter of `GET /` answers, by outcome: ok (the whole answer was produced: the stored
/// digest handed to the server, or a query that ran to its end), invalid, not_found,
/// in_progress, busy, cancelled (the client went away during a query), error.
inline constexpr std::string_view kDigestGetsStat = "digest_gets";

/// The query parameters of `request` (filter, group_by, conversation, top, by, format and, for
/// a diff, change) parsed by ParseQuery: InvalidArgument naming the parameter otherwise.
Result<QuerySpec> QuerySpecFromRequest(const ApiRequest& request, bool diff = false);

/// The answer of `spec` over the digest `id`, whose stored gzip text `stored` the caller
/// opened: read from its rows sidecar when there is one (faster, and it has flows), else from
/// `stored`. 200 with the format's media type; 400 when the query needs flows and the digest
/// has no sidecar; 503 when kMaxConcurrentQueries run; the store's or the renderer's failure
/// otherwise (500 for a digest that cannot be read). Errors found once bytes were sent end the
/// body early (the server cuts the stream). Counts the outcome in `digest_queries` and
/// kDigestGetsStat when the query ends (ok only when its whole answer was written).
ApiResponse QueryDigestResponse(ApiContext& ctx, const std::string& id, StoredDigest stored,
                                QuerySpec spec);

/// The answer to HEAD of the query `spec` over the stored digest `id`: the status and headers
/// QueryDigestResponse would answer (200 with the media type, head_of_stream, X-Digest-Id; 400
/// when the query needs flows and the digest has no sidecar; the store's failure), without
/// running the query or reading the digest. Counts the outcome in kDigestGetsStat.
ApiResponse QueryDigestHead(ApiContext& ctx, const std::string& id, const QuerySpec& spec);

/// Registers `GET /diff` (HEAD of it answers its status and headers from whether both digests
/// are stored, without running the diff) and the web view (`GET /ui/`, `GET /ui/{file}`) on
/// `router`.
void AddQueryRoutes(Router& router, ApiContext* ctx);

}  // namespace vpcflow
