/**
 * The embedded index (search-index.ts) behind the backend seam
 * (backend.ts): searchIndex and histogramIndex, which are synchronous
 * (node:sqlite), as promises.
 */
import type { SearchBackend } from "./backend.ts";
import { histogramIndex, type HistogramRequest, type HistogramResult } from "./histogram.ts";
import { searchIndex, type SearchRequest, type SearchResult } from "./search.ts";
import type { SearchIndex } from "./search-index.ts";

export class EmbeddedBackend implements SearchBackend {
  readonly kind = "embedded";
  readonly index: SearchIndex;

  constructor(index: SearchIndex) {
    this.index = index;
  }

  async search(request: SearchRequest): Promise<SearchResult> {
    return searchIndex(this.index, request);
  }

  async histogram(request: HistogramRequest): Promise<HistogramResult> {
    return histogramIndex(this.index, request);
  }
}
