/**
 * The seam between the search API (routes.ts, cluster.ts) and the index
 * that answers: the embedded SQLite index (search.ts, histogram.ts,
 * context.ts, facets.ts) or OpenSearch (opensearch/backend.ts), chosen by
 * `search.backend`. Both take the same requests and give the same result
 * shapes (SearchResult, HistogramResult, EventContext, FacetsResult, the
 * same opaque cursors), and both are held to the evaluator by the shared
 * query table (shared/query/fixture-queries.ts). `context`, `facets` and
 * `tail` are optional: a backend without them answers those routes 404
 * LOGSHIP_SEARCH_UNAVAILABLE. `tail` gives what the live tail (tail.ts)
 * streams: each backend has its own positions (the embedded index's
 * sequences, OpenSearch's settled stamps), opaque to clients.
 */
import type { ContextRequest, EventContext } from "./context.ts";
import type { FacetsRequest, FacetsResult } from "./facets.ts";
import type { HistogramRequest, HistogramResult } from "./histogram.ts";
import type { SearchRequest, SearchResult } from "./search.ts";
import type { TailRequest, TailSource } from "./tail.ts";

export interface SearchBackend {
  /** Names the backend in errors and logs: "embedded" or "opensearch". */
  readonly kind: "embedded" | "opensearch";
  search(request: SearchRequest): Promise<SearchResult>;
  histogram(request: HistogramRequest): Promise<HistogramResult>;
  /** The event and the lines around it in its file; undefined when the tenant has no event with that id. */
  context?(request: ContextRequest): Promise<EventContext | undefined>;
  /** The most frequent values of the query's newest matches. */
  facets?(request: FacetsRequest): Promise<FacetsResult>;
  /** A reader of the matching events indexed after a position (refuses a position it did not make with 400 LOGSHIP_SEARCH_REQUEST). */
  tail?(request: TailRequest): Promise<TailSource>;
}
