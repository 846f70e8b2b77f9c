/**
 * The seam between the search API (routes.ts, cluster.ts) and the index
 * that answers: the embedded SQLite index (search.ts, histogram.ts) or
 * OpenSearch (opensearch/backend.ts), chosen by `search.backend`. Both take
 * the same requests and give the same result shapes (SearchResult,
 * HistogramResult, the same opaque cursors), and both are held to the
 * evaluator by the shared query table (shared/query/fixture-queries.ts).
 */
import type { HistogramRequest, HistogramResult } from "./histogram.ts";
import type { SearchRequest, SearchResult } from "./search.ts";

export interface SearchBackend {
  /** Names the backend in errors and logs: "embedded" or "opensearch". */
  readonly kind: "embedded" | "opensearch";
  search(request: SearchRequest): Promise<SearchResult>;
  histogram(request: HistogramRequest): Promise<HistogramResult>;
}
