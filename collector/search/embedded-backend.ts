/**
 * The embedded index (search-index.ts) behind the backend seam
 * (backend.ts): searchIndex, histogramIndex, eventContext and facetsIndex,
 * which are synchronous (node:sqlite), as promises.
 */
import type { SearchBackend } from "./backend.ts";
import { eventContext, type ContextRequest, type EventContext } from "./context.ts";
import { facetsIndex, type FacetsRequest, type FacetsResult } from "./facets.ts";
import { histogramIndex, type HistogramRequest, type HistogramResult } from "./histogram.ts";
import { searchIndex, type SearchRequest, type SearchResult } from "./search.ts";
import type { SearchIndex } from "./search-index.ts";
import type { TailRequest, TailSource } from "./tail.ts";

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

  async context(request: ContextRequest): Promise<EventContext | undefined> {
    return eventContext(this.index, request);
  }

  async facets(request: FacetsRequest): Promise<FacetsResult> {
    return facetsIndex(this.index, request);
  }

  async tail(request: TailRequest): Promise<TailSource> {
    const { EmbeddedTailSource } = await import("./embedded-tail.ts");
    return new EmbeddedTailSource(this.index, request);
  }
}
