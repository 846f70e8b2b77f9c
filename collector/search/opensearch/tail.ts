/**
 * What the live tail (../tail.ts) reads from OpenSearch: the documents the
 * opensearch sinks of every collector wrote after a position that match a
 * query, in the order of their `indexed_at` stamp, then id
 * (tail-position.ts has the positions; docs/SEARCH.md, "Live tail from
 * OpenSearch", the why).
 *
 * OpenSearch has no notification of new documents, so the source polls:
 * every `pollIntervalMs` it searches the tenant's indices for matching
 * documents after its position stamped at most `now − settleMs` (the
 * horizon), CHUNK_HITS at a time and at its client's pace (the next chunk
 * only once the last batch was written), and moves its position to the
 * last hit of a full chunk, or past the horizon once it read fewer. The
 * query is the search backend's superset translation, and the evaluator
 * checks every hit, as /v1/search does.
 *
 * A poll that fails (OpenSearch unreachable, an error answer, a shard that
 * cannot answer: never a partial answer, which would move the position
 * past the missing shard's documents) ends the stream; the client
 * reconnects with its Last-Event-ID and loses nothing.
 */
import type { Event } from "../../../shared/event.ts";
import { compileQuery } from "../../../shared/query/index.ts";
import { OpenSearchError, type OpenSearchClient } from "../../opensearch/client.ts";
import { documentEvent } from "../../opensearch/documents.ts";
import type { IndexNames } from "../../opensearch/index-name.ts";
import type { TailBatch, TailRequest, TailSource } from "../tail.ts";
import { formatStampPosition, parseStampPosition, positionAfterRead, tailSearchBody, type StampPosition } from "./tail-position.ts";
import { translateToOpenSearch, type OpenSearchQuery } from "./translate.ts";

/** Hits per poll request; a full chunk is followed by the next one at once. */
const CHUNK_HITS = 1000;

export interface OpenSearchTailLimits {
  /** A stream that has read up to the horizon searches again after this long. */
  pollIntervalMs: number;
  /** A document stamped this long ago is assumed searchable: the horizon is `now − settleMs` (config `search.tail_settle`). */
  settleMs: number;
}

/** 500 ms of polling on top of the settle time; 3 s covers OpenSearch's default 1 s refresh, a bulk request of up to ~2 s and the clock spread of NTP-synchronised collectors. */
export const OPENSEARCH_TAIL_LIMITS_DEFAULT: OpenSearchTailLimits = { pollIntervalMs: 500, settleMs: 3000 };

interface TailHit {
  _source: Record<string, unknown>;
  sort: [number, string];
}

export class OpenSearchTailSource implements TailSource {
  readonly start: string;
  private readonly client: OpenSearchClient;
  private readonly names: IndexNames;
  private readonly tenant: string;
  private readonly query: OpenSearchQuery;
  private readonly predicate: (event: Event) => boolean;
  private readonly limits: OpenSearchTailLimits;
  private readonly nowMs: () => number;
  private position: StampPosition;
  /** When the last read that reached the horizon ran; the next waits until pollIntervalMs after it. */
  private caughtUpAtMs: number | undefined;

  constructor(options: { client: OpenSearchClient; names: IndexNames; request: TailRequest; limits: OpenSearchTailLimits; nowMs?: () => number }) {
    const { request } = options;
    this.client = options.client;
    this.names = options.names;
    this.tenant = request.tenant;
    this.query = translateToOpenSearch(request.query);
    this.predicate = compileQuery(request.query);
    this.limits = options.limits;
    this.nowMs = options.nowMs ?? Date.now;
    this.position = request.after === undefined ? { indexedAtMs: this.nowMs(), id: "" } : parseStampPosition(request.after);
    this.start = formatStampPosition(this.position);
  }

  async next(signal: AbortSignal): Promise<TailBatch | undefined> {
    for (;;) {
      const waitMs = this.caughtUpAtMs === undefined ? 0 : this.caughtUpAtMs + this.limits.pollIntervalMs - this.nowMs();
      if (waitMs > 0) await sleep(waitMs, signal);
      if (signal.aborted) return undefined;
      const horizonMs = this.nowMs() - this.limits.settleMs;
      // Nothing can have settled after a position that is still ahead of the horizon (a start "now", a clock set back).
      if (horizonMs < this.position.indexedAtMs) {
        this.caughtUpAtMs = this.nowMs();
        continue;
      }
      let hits: TailHit[];
      try {
        hits = await this.read(horizonMs, signal);
      } catch (error) {
        if (signal.aborted) return undefined;
        throw error;
      }
      return this.batch(hits, horizonMs);
    }
  }

  /** The matching events of `hits` and the position they take the source to. */
  private batch(hits: readonly TailHit[], horizonMs: number): TailBatch {
    const events: TailBatch["events"] = [];
    let last: StampPosition | undefined;
    for (const hit of hits) {
      last = { indexedAtMs: hit.sort[0], id: hit.sort[1] };
      const event = documentEvent(hit._source);
      if (this.predicate(event)) events.push({ position: formatStampPosition(last), event });
    }
    const full = hits.length === CHUNK_HITS;
    this.position = positionAfterRead(this.position, { lastHit: last, full, horizonMs });
    this.caughtUpAtMs = full ? undefined : this.nowMs();
    return { events, reached: formatStampPosition(this.position) };
  }

  private async read(horizonMs: number, signal: AbortSignal): Promise<TailHit[]> {
    const body = tailSearchBody({ tenant: this.tenant, query: this.query, after: this.position, horizonMs, size: CHUNK_HITS });
    const response = await this.client.request("POST", this.names.tenantSearchPath(this.tenant), { body, signal });
    if (response.status !== 200) {
      throw new OpenSearchError("LOGSHIP_OPENSEARCH_RESPONSE", `OpenSearch tail search answered ${response.status}: ${response.text.slice(0, 300)}`, { status: response.status });
    }
    return (response.body as { hits: { hits: TailHit[] } }).hits.hits;
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done);
  });
}
