/**
 * Searches and histograms answered by OpenSearch (`search.backend:
 * opensearch`), over the indices the opensearch sink writes, with the
 * embedded index's request and result shapes (../backend.ts).
 *
 * Search: a tenant's indices (its index pattern, and always the `tenant`
 * keyword), the time range as a range filter, the query through
 * translate.ts, sorted by (time, id) — `search_after` continues from a
 * cursor, which is the embedded index's own format (../search.ts
 * `encodeCursor`), so a page from either backend resumes the same way.
 * Every hit is checked by the evaluator: when the translation is not exact,
 * hits are read in chunks until `limit` events match or `scanRowsMax` hits
 * were read (then a cursor and possibly fewer events, as the embedded index
 * does).
 *
 * Histogram: an exact translation is counted by OpenSearch
 * (`date_histogram` with a fixed interval of the bucket size: buckets start
 * at multiples of it since the epoch, as the embedded index's do); anything
 * else is read newest first and counted by the evaluator, at most
 * `scanRowsMax` hits (`complete: false` past that).
 *
 * Context: the event by its id, then its file's documents (same tenant,
 * host, path and id stream prefix, as ../context.ts) with the nearest
 * offsets below and above it, sorted by offset in OpenSearch (exact: no
 * time window).
 *
 * Facets: the query's matches read newest first, each checked by the
 * evaluator and counted in Node (../facets.ts `FacetCounter`), the newest
 * `eventsMax` matches and at most `scanRowsMax` hits, so the answer is the
 * embedded index's for the same documents.
 *
 * Tail: tail.ts, polling by the sinks' `indexed_at` stamps.
 *
 * Documents are searchable once OpenSearch refreshed the index (every
 * second by default): the embedded index shows them as soon as the sink
 * wrote them.
 *
 * A read never takes a partial answer (IndexNames.tenantSearchPath): a
 * shard that cannot answer fails it with OpenSearchError, which the routes
 * answer 503 (routes.ts `backendErrorStatus`).
 */
import { eventIdStream, type Event } from "../../../shared/event.ts";
import { compileQuery } from "../../../shared/query/index.ts";
import { OpenSearchError, type OpenSearchClient } from "../../opensearch/client.ts";
import { documentEvent } from "../../opensearch/documents.ts";
import type { IndexNames } from "../../opensearch/index-name.ts";
import type { SearchBackend } from "../backend.ts";
import type { ContextRequest, EventContext } from "../context.ts";
import { facetEventsMax, FacetCounter, type FacetsRequest, type FacetsResult } from "../facets.ts";
import { bucketSize, type HistogramRequest, type HistogramResult } from "../histogram.ts";
import { SEARCH_LIMIT_MAX } from "../params.ts";
import { decodeCursor, encodeCursor, SCAN_ROWS_MAX_DEFAULT, type Position, type SearchRequest, type SearchResult } from "../search.ts";
import type { TailRequest, TailSource } from "../tail.ts";
import { OPENSEARCH_TAIL_LIMITS_DEFAULT, OpenSearchTailSource, type OpenSearchTailLimits } from "./tail.ts";
import { exactOpenSearchQuery, translateToOpenSearch, type OpenSearchQuery } from "./translate.ts";

/** Hits per request when the evaluator filters them (OpenSearch's own default cap on a page is 10,000). */
const CHUNK_HITS = 1000;

export interface OpenSearchBackendOptions {
  client: OpenSearchClient;
  names: IndexNames;
  /** Hits read per call at most when the evaluator filters (default SCAN_ROWS_MAX_DEFAULT). */
  scanRowsMax?: number;
  /** The live tail's polling and settle time (default OPENSEARCH_TAIL_LIMITS_DEFAULT). */
  tail?: Partial<OpenSearchTailLimits>;
}

interface Hit {
  _source: Record<string, unknown>;
  sort: [number, string];
}

export class OpenSearchBackend implements SearchBackend {
  readonly kind = "opensearch";
  private readonly options: OpenSearchBackendOptions;

  constructor(options: OpenSearchBackendOptions) {
    this.options = options;
  }

  async search(request: SearchRequest): Promise<SearchResult> {
    const order = request.order ?? "desc";
    if (!Number.isInteger(request.limit) || request.limit < 1 || request.limit > SEARCH_LIMIT_MAX) throw new RangeError(`limit must be an integer from 1 to ${SEARCH_LIMIT_MAX}; got ${request.limit}`);
    const scanRowsMax = request.scanRowsMax ?? this.options.scanRowsMax ?? SCAN_ROWS_MAX_DEFAULT;
    const exact = exactOpenSearchQuery(request.query);
    const predicate = compileQuery(request.query);
    const filter = this.filter(request.tenant, exact ?? translateToOpenSearch(request.query), request.sinceMs, request.untilMs);
    let after = request.cursor === undefined ? undefined : decodeCursor(request.cursor, order);
    const events: Event[] = [];
    let hitsRead = 0;
    for (;;) {
      const size = Math.min(exact === undefined ? CHUNK_HITS : request.limit - events.length, scanRowsMax - hitsRead);
      const hits = await this.hits(request.tenant, filter, order, size, after);
      for (const hit of hits) {
        hitsRead++;
        after = { timeMs: hit.sort[0], id: hit.sort[1] };
        const event = documentEvent(hit._source);
        if (predicate(event)) events.push(event);
        if (events.length === request.limit) return { events, cursor: encodeCursor(after, order) };
      }
      if (hits.length < size) return { events, cursor: null };
      // Stopped at the budget: the range may go on (the next page may also be empty).
      if (hitsRead >= scanRowsMax && after !== undefined) return { events, cursor: encodeCursor(after, order) };
    }
  }

  async histogram(request: HistogramRequest): Promise<HistogramResult> {
    const { tenant, query, sinceMs, untilMs } = request;
    if (!Number.isSafeInteger(sinceMs) || !Number.isSafeInteger(untilMs) || sinceMs >= untilMs) throw new RangeError(`the range must be whole milliseconds with since before until; got ${sinceMs} to ${untilMs}`);
    const bucketMs = bucketSize(untilMs - sinceMs);
    const counts = new Map<number, number>();
    const result: HistogramResult = { bucketMs, buckets: [], complete: true };
    const exact = exactOpenSearchQuery(query);
    if (exact !== undefined) {
      const body = {
        size: 0,
        track_total_hits: false,
        query: this.filter(tenant, exact, sinceMs, untilMs),
        aggs: { buckets: { date_histogram: { field: "time", fixed_interval: `${bucketMs}ms`, min_doc_count: 1 } } },
      };
      const response = await this.options.client.expect("POST", this.options.names.tenantSearchPath(tenant), { body });
      const buckets = (response.body as { aggregations?: { buckets?: { buckets?: { key: number; doc_count: number }[] } } }).aggregations?.buckets?.buckets ?? [];
      for (const bucket of buckets) counts.set(bucket.key, bucket.doc_count);
    } else {
      const predicate = compileQuery(query);
      const scanRowsMax = request.scanRowsMax ?? this.options.scanRowsMax ?? SCAN_ROWS_MAX_DEFAULT;
      const filter = this.filter(tenant, translateToOpenSearch(query), sinceMs, untilMs);
      let after: Position | undefined;
      let hitsRead = 0;
      for (;;) {
        const size = Math.min(CHUNK_HITS, scanRowsMax - hitsRead);
        const hits = await this.hits(tenant, filter, "desc", size, after);
        for (const hit of hits) {
          hitsRead++;
          after = { timeMs: hit.sort[0], id: hit.sort[1] };
          if (!predicate(documentEvent(hit._source))) continue;
          const bucket = bucketStart(hit.sort[0], bucketMs);
          counts.set(bucket, (counts.get(bucket) ?? 0) + 1);
        }
        if (hits.length < size) break;
        if (hitsRead >= scanRowsMax && after !== undefined) {
          result.complete = false;
          result.countedSinceMs = after.timeMs;
          break;
        }
      }
    }
    for (let timeMs = bucketStart(sinceMs, bucketMs); timeMs < untilMs; timeMs += bucketMs) result.buckets.push({ timeMs, count: counts.get(timeMs) ?? 0 });
    return result;
  }

  async context(request: ContextRequest): Promise<EventContext | undefined> {
    const [found] = await this.sources(request.tenant, { bool: { filter: [{ term: { tenant: request.tenant } }, { term: { id: request.id } }] } }, [], 1);
    if (found === undefined) return undefined;
    const event = documentEvent(found);
    const file = [{ term: { tenant: request.tenant } }, { term: { host: event.host } }, { term: { path: event.path } }, { prefix: { id: eventIdStream(event.id) } }];
    const side = async (count: number, bound: "lt" | "gt"): Promise<Event[]> => {
      const order = bound === "lt" ? "desc" : "asc";
      const sources = await this.sources(request.tenant, { bool: { filter: [...file, { range: { offset: { [bound]: event.offset } } }] } }, [{ offset: { order } }, { id: { order } }], count);
      return sources.map(documentEvent);
    };
    return { event, before: (await side(request.before, "lt")).reverse(), after: await side(request.after, "gt") };
  }

  async facets(request: FacetsRequest): Promise<FacetsResult> {
    const eventsMax = facetEventsMax(request);
    const scanRowsMax = request.scanRowsMax ?? this.options.scanRowsMax ?? SCAN_ROWS_MAX_DEFAULT;
    const predicate = compileQuery(request.query);
    const filter = this.filter(request.tenant, translateToOpenSearch(request.query), request.sinceMs, request.untilMs);
    const counter = new FacetCounter();
    let after: Position | undefined;
    let hitsRead = 0;
    for (;;) {
      const size = Math.min(CHUNK_HITS, scanRowsMax - hitsRead);
      const hits = await this.hits(request.tenant, filter, "desc", size, after);
      for (const hit of hits) {
        hitsRead++;
        after = { timeMs: hit.sort[0], id: hit.sort[1] };
        const event = documentEvent(hit._source);
        if (!predicate(event)) continue;
        counter.add(event);
        if (counter.events === eventsMax) return counter.result(false);
      }
      if (hits.length < size) return counter.result(true);
      if (hitsRead >= scanRowsMax) return counter.result(false);
    }
  }

  async tail(request: TailRequest): Promise<TailSource> {
    return new OpenSearchTailSource({ client: this.options.client, names: this.options.names, request, limits: { ...OPENSEARCH_TAIL_LIMITS_DEFAULT, ...this.options.tail } });
  }

  /** The _source of up to `size` of the tenant's documents that `query` selects, in `sort` order. */
  private async sources(tenant: string, query: OpenSearchQuery, sort: Record<string, unknown>[], size: number): Promise<Record<string, unknown>[]> {
    if (size <= 0) return [];
    const hits = await this.searchHits(tenant, { size, track_total_hits: false, query, ...(sort.length === 0 ? {} : { sort }) });
    return hits.map((hit) => hit._source);
  }

  /** The tenant's documents in [sinceMs, untilMs) that `query` selects. */
  private filter(tenant: string, query: OpenSearchQuery, sinceMs: number | undefined, untilMs: number | undefined): OpenSearchQuery {
    const filter: OpenSearchQuery[] = [{ term: { tenant } }];
    if (sinceMs !== undefined || untilMs !== undefined) {
      filter.push({ range: { time: { ...(sinceMs === undefined ? {} : { gte: sinceMs }), ...(untilMs === undefined ? {} : { lt: untilMs }), format: "epoch_millis" } } });
    }
    filter.push(query);
    return { bool: { filter } };
  }

  /** `size` hits in (time, id) order strictly after `after`. */
  private async hits(tenant: string, query: OpenSearchQuery, order: "asc" | "desc", size: number, after: Position | undefined): Promise<Hit[]> {
    if (size <= 0) return [];
    const body = { size, track_total_hits: false, query, sort: [{ time: { order } }, { id: { order } }], ...(after === undefined ? {} : { search_after: [after.timeMs, after.id] }) };
    return this.searchHits(tenant, body);
  }

  /** The hits of one search request over the tenant's indices. */
  private async searchHits(tenant: string, body: Record<string, unknown>): Promise<Hit[]> {
    const response = await this.options.client.request("POST", this.options.names.tenantSearchPath(tenant), { body });
    if (response.status !== 200) {
      throw new OpenSearchError("LOGSHIP_OPENSEARCH_RESPONSE", `OpenSearch search answered ${response.status}: ${response.text.slice(0, 300)}`, { status: response.status });
    }
    return (response.body as { hits: { hits: Hit[] } }).hits.hits;
  }
}

/** The start of the bucket holding `timeMs` (also before the epoch). */
function bucketStart(timeMs: number, bucketMs: number): number {
  return timeMs - (((timeMs % bucketMs) + bucketMs) % bucketMs);
}
