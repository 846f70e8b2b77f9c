/**
 * The `search` sink with `sinks.search.type: opensearch`: writes every event
 * into OpenSearch through `_bulk` (bulk.ts), one index per tenant per UTC
 * day (collector/opensearch/index-name.ts), the event id as `_id`. One
 * attempt per send; the runner owns retries (types.ts).
 *
 * On its first send (and again after a failed try) it puts its index
 * template (collector/opensearch/documents.ts: the mapping) so every index
 * it creates is mapped before the first document arrives, and adds the
 * current version's fields to the indices that already exist (an index
 * made by an older template is `dynamic: strict` and would refuse
 * `indexed_at`).
 *
 * Each bulk request stamps its documents' `indexed_at` with the clock when
 * it is sent (bulk.ts `bulkBody`). A live tail (search/opensearch/tail.ts)
 * assumes a document is searchable `tailSettleMs` after its stamp: a
 * request answered so late that a refresh after it (REFRESH_INTERVAL_MS_ASSUMED)
 * would come after that is logged as a warning, since tails may not show
 * its events.
 *
 *   delivered  every event is stored or was already (409 on `create`).
 *   retry      OpenSearch did not answer, answered a whole request with
 *              429/5xx/401/403, or some items failed retriably (429, 5xx).
 *              The sink remembers which events of the send are done, so
 *              when the runner sends the same events again only the failed
 *              items go out again.
 *   reject     items OpenSearch refuses for good (a mapping error: a field
 *              of the wrong type), named one by one (`rejected`), each with
 *              OpenSearch's reason: the runner dead-letters exactly those,
 *              the rest of the send is delivered. Reported once every other
 *              event of the send is done.
 *
 * 429 slows the whole sink down, not just one runner: after one, every
 * send (every tenant) waits out a pause (Retry-After when given, else
 * doubling from THROTTLE_FIRST_MS to THROTTLE_MAX_MS) before it sends
 * anything; a send without 429 ends the pausing.
 *
 * A request refused as too large (413) halves the sink's bulk bytes (not
 * below BULK_BYTES_MIN) and is retried.
 */
import { assert } from "../../../shared/errors.ts";
import type { Logger } from "../../../shared/logger.ts";
import { describeErrorBody, OpenSearchError, type OpenSearchClient } from "../../opensearch/client.ts";
import { indexMappingUpdate, indexTemplateBody, indexTemplateName, type IndexTemplateSettings } from "../../opensearch/documents.ts";
import type { IndexNames } from "../../opensearch/index-name.ts";
import type { RejectedEvent, SendOutcome, Sink, SinkEvent } from "../types.ts";
import { bulkBody, encodeBulk, type BulkRequest } from "./bulk.ts";
import { judgeBulkItems } from "./bulk-response.ts";

/** The first pause after a 429; each next one doubles, up to THROTTLE_MAX_MS. */
export const THROTTLE_FIRST_MS = 1000;
export const THROTTLE_MAX_MS = 30_000;
/** Bulk requests of one send in flight at once (each at most bulkEventsMax events and bulkBytesMax bytes). */
export const BULK_CONCURRENCY = 2;
/**
 * 4xx answers to a whole `_bulk` request that say something about the
 * cluster or the sink's access to it, not about the events (unauthorised,
 * forbidden, no such path behind a proxy, timeout, overloaded): retried.
 * Any other 4xx refuses the request's events for good.
 */
const REQUEST_STATUSES_RETRIED: readonly number[] = [401, 403, 404, 408, 429];
/** Bulk requests never shrink below this on 413. */
const BULK_BYTES_MIN = 64 * 1024;
/** OpenSearch's default `index.refresh_interval`: a document is searchable at most this long after its bulk request was answered. */
export const REFRESH_INTERVAL_MS_ASSUMED = 1000;
/** Late bulk requests are logged at most this often (with how many since the last warning). */
const LATE_WARNING_INTERVAL_MS = 60_000;
/** The live tail's settle time when the options give none (config `search.tail_settle`'s default). */
export const TAIL_SETTLE_MS_DEFAULT = 3000;
/** Only what the sink reads of a bulk answer (a full answer repeats index, id and shard counts per item). */
const BULK_FILTER = "filter_path=errors,items.*.status,items.*.error";

export interface OpenSearchSinkOptions {
  client: OpenSearchClient;
  names: IndexNames;
  gzip: boolean;
  bulkBytesMax: number;
  bulkEventsMax: number;
  template: IndexTemplateSettings;
  /** How long after its stamp a live tail assumes a document is searchable (config `search.tail_settle`); default TAIL_SETTLE_MS_DEFAULT. */
  tailSettleMs?: number;
  logger: Logger;
  nowMs?: () => number;
}

/** What is done of the send a runner keeps sending (one per tenant: runners of several tenants share the sink). */
interface SendProgress {
  key: string;
  done: Set<number>;
  rejected: RejectedEvent[];
}

export class OpenSearchSink implements Sink {
  readonly name = "search";
  private readonly options: OpenSearchSinkOptions;
  private readonly nowMs: () => number;
  private templateReady: Promise<void> | null = null;
  private readonly progress = new Map<string, SendProgress>();
  private bulkBytesMax: number;
  private pausedUntilMs = 0;
  private throttleMs = 0;
  /** Bulk requests answered too late for live tails since the last warning, and when that was. */
  private lateRequests = 0;
  private lateWarnedAtMs = Number.NEGATIVE_INFINITY;

  constructor(options: OpenSearchSinkOptions) {
    this.options = options;
    this.nowMs = options.nowMs ?? Date.now;
    this.bulkBytesMax = options.bulkBytesMax;
  }

  get client(): OpenSearchClient {
    return this.options.client;
  }

  get names(): IndexNames {
    return this.options.names;
  }

  async send(events: SinkEvent[], signal: AbortSignal): Promise<SendOutcome> {
    signal.throwIfAborted();
    const tenant = events[0]?.tenant;
    if (tenant === undefined) return { kind: "delivered" };
    const pauseMs = this.pausedUntilMs - this.nowMs();
    if (pauseMs > 0) return { kind: "retry", afterMs: pauseMs, reason: `OpenSearch ${this.client.url} is overloaded (429); the sink pauses` };
    try {
      await this.ensureTemplate();
    } catch (error) {
      return { kind: "retry", reason: `OpenSearch ${this.client.url}: cannot put the index template: ${error instanceof Error ? error.message : String(error)}` };
    }
    const progress = this.progressOf(tenant, events);
    const pending = Array.from(events.keys()).filter((index) => !progress.done.has(index));
    // A send of many events goes as BULK_CONCURRENCY requests at once: OpenSearch indexes them on as many threads.
    const eventsMax = Math.min(this.options.bulkEventsMax, Math.max(1, Math.ceil(pending.length / BULK_CONCURRENCY)));
    const encoded = encodeBulk(events, pending, this.options.names, { bytesMax: this.bulkBytesMax, eventsMax });
    for (const refused of encoded.refused) this.finish(progress, refused.index, refused.reason);
    let retry: { reason: string; throttled: boolean; afterMs?: number } | undefined;
    for (let first = 0; first < encoded.requests.length; first += BULK_CONCURRENCY) {
      signal.throwIfAborted();
      const group = encoded.requests.slice(first, first + BULK_CONCURRENCY);
      const failures = await Promise.all(group.map((request) => this.sendBulk(request, events.length, progress, signal)));
      const failure = failures.find((candidate) => candidate?.throttled === true) ?? failures.find((candidate) => candidate !== undefined);
      if (failure !== undefined) {
        retry ??= failure;
        // The cluster is unreachable, refusing or overloaded: the rest of the send waits for the next try.
        if (failure.whole) break;
      }
    }
    if (retry !== undefined) {
      if (retry.throttled) this.pause(retry.afterMs);
      return { kind: "retry", reason: retry.reason, ...(retry.throttled ? { afterMs: this.pausedUntilMs - this.nowMs() } : {}) };
    }
    this.throttleMs = 0;
    this.progress.delete(tenant);
    if (progress.rejected.length === 0) return { kind: "delivered" };
    const rejected = [...progress.rejected].sort((a, b) => a.index - b.index);
    return { kind: "reject", rejected, reason: `OpenSearch refused ${rejected.length} of ${events.length} events (${rejected[0]?.reason ?? ""}${rejected.length > 1 ? ", …" : ""}); the other ${events.length - rejected.length} were stored` };
  }

  /** Sends one bulk request and records each item's verdict; a failure to retry, or undefined. */
  private async sendBulk(request: BulkRequest, sendSize: number, progress: SendProgress, signal: AbortSignal): Promise<{ reason: string; throttled: boolean; afterMs?: number; whole: boolean } | undefined> {
    const { client } = this.options;
    const indexedAtMs = this.nowMs();
    let response;
    try {
      response = await client.request("POST", `/_bulk?${BULK_FILTER}`, { body: bulkBody(request, indexedAtMs), contentType: "application/x-ndjson", gzip: this.options.gzip, signal });
    } catch (error) {
      signal.throwIfAborted();
      if (error instanceof OpenSearchError) return { reason: error.message, throttled: false, whole: true };
      throw error;
    }
    const answeredAfterMs = this.nowMs() - indexedAtMs;
    const tailSettleMs = this.options.tailSettleMs ?? TAIL_SETTLE_MS_DEFAULT;
    if (answeredAfterMs + REFRESH_INTERVAL_MS_ASSUMED > tailSettleMs) this.noteLate(answeredAfterMs, tailSettleMs);
    if (response.status === 413 && request.items.length > 1) {
      this.bulkBytesMax = Math.max(BULK_BYTES_MIN, Math.floor(request.bytes / 2));
      this.options.logger.warn("opensearch sink: a bulk request was refused as too large (413); sending smaller ones from now on", { bytes: request.bytes, bulk_bytes_max: this.bulkBytesMax });
      return { reason: `OpenSearch ${client.url}: 413 for a ${request.bytes}-byte bulk request`, throttled: false, whole: false };
    }
    if (response.status !== 200) {
      const reason = `OpenSearch ${client.url}: _bulk answered ${response.status} ${describeErrorBody(response)}`;
      if (response.status >= 400 && response.status < 500 && !REQUEST_STATUSES_RETRIED.includes(response.status)) {
        // The request itself is refused (not the cluster's state): its events can never go in this form.
        for (const index of request.items) this.finish(progress, index, reason);
        return undefined;
      }
      return { reason, throttled: response.status === 429, whole: true, ...(response.retryAfterMs === undefined ? {} : { afterMs: response.retryAfterMs }) };
    }
    const verdicts = judgeBulkItems(response.body, request.items.length);
    let failure: { reason: string; throttled: boolean; whole: boolean } | undefined;
    let failed = 0;
    verdicts.forEach((verdict, position) => {
      const index = request.items[position] as number;
      if (verdict.kind === "done") progress.done.add(index);
      else if (verdict.kind === "reject") this.finish(progress, index, verdict.reason);
      else {
        failed++;
        if (failure === undefined || (verdict.throttled && !failure.throttled)) failure = { reason: verdict.reason, throttled: verdict.throttled, whole: false };
      }
    });
    if (failure === undefined) return undefined;
    return { ...failure, reason: `OpenSearch ${client.url}: ${failed} of ${sendSize} events to retry (${failure.reason})` };
  }

  /** Counts a bulk request answered too late for live tails; warns at most every LATE_WARNING_INTERVAL_MS. */
  private noteLate(answeredAfterMs: number, tailSettleMs: number): void {
    this.lateRequests++;
    if (this.nowMs() - this.lateWarnedAtMs < LATE_WARNING_INTERVAL_MS) return;
    this.options.logger.warn("opensearch sink: bulk requests were answered too late for live tails' settle time; tails may not show their events (they stay searchable)", {
      late_requests: this.lateRequests,
      answered_after_ms: answeredAfterMs,
      tail_settle_ms: tailSettleMs,
    });
    this.lateRequests = 0;
    this.lateWarnedAtMs = this.nowMs();
  }

  /** The event at `index` is refused for good. */
  private finish(progress: SendProgress, index: number, reason: string): void {
    assert(!progress.done.has(index), "an event is judged once per send");
    progress.done.add(index);
    progress.rejected.push({ index, reason });
  }

  /** The progress of this send, or a fresh one when the runner moved on to other events (or rewound). */
  private progressOf(tenant: string, events: readonly SinkEvent[]): SendProgress {
    const key = `${events.length}:${events[0]?.id}:${events.at(-1)?.id}`;
    const known = this.progress.get(tenant);
    if (known !== undefined && known.key === key) return known;
    const fresh: SendProgress = { key, done: new Set(), rejected: [] };
    this.progress.set(tenant, fresh);
    return fresh;
  }

  private pause(retryAfterMs: number | undefined): void {
    this.throttleMs = Math.min(THROTTLE_MAX_MS, this.throttleMs === 0 ? THROTTLE_FIRST_MS : this.throttleMs * 2);
    const pauseMs = retryAfterMs ?? this.throttleMs;
    this.pausedUntilMs = Math.max(this.pausedUntilMs, this.nowMs() + pauseMs);
    this.options.logger.warn("opensearch sink: OpenSearch is overloaded (429); every send pauses", { pause_ms: pauseMs });
  }

  /** Puts the index template once (again after a failure). */
  private ensureTemplate(): Promise<void> {
    this.templateReady ??= (async () => {
      const pattern = this.options.names.allPattern();
      await this.client.expect("PUT", `/_index_template/${encodeURIComponent(indexTemplateName(pattern))}`, { body: indexTemplateBody(pattern, this.options.template) });
      await this.client.expect("PUT", `/${pattern}/_mapping?ignore_unavailable=true&allow_no_indices=true`, { body: indexMappingUpdate() });
      this.options.logger.info("opensearch sink: index template and the mappings of existing indices in place", { url: this.client.url, pattern });
    })();
    const ready = this.templateReady;
    ready.catch(() => {
      if (this.templateReady === ready) this.templateReady = null;
    });
    return ready;
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

/** The opensearch sink among `sinks`, if there is one (the OpenSearch search backend reads what it writes, through its client). */
export function openSearchSinkOf(sinks: readonly Sink[]): OpenSearchSink | undefined {
  return sinks.find((sink): sink is OpenSearchSink => sink instanceof OpenSearchSink);
}
