/**
 * The cluster search (docs/SEARCH.md, "Cluster search"): a collector with
 * `peers` answers `GET /v1/search`, `GET /v1/histogram` and `GET /v1/facets`
 * for the whole cluster. It sends the request to every peer at once (peers.ts: one hop,
 * `Logship-Scope: local`, the caller's token, `search.peer_timeout`),
 * answers its own part from its index meanwhile, and combines the parts
 * (merge.ts). A peer that does not answer in time, cannot be reached,
 * refuses or answers nonsense is left out and named: the answer says
 * `partial: true` with `peers_failed: [{peer, code, reason}]`.
 *
 * Every node must search the same thing, so what the caller gave relative
 * to the coordinator's clock (`since=15m`, a histogram's default range) is
 * sent on as absolute RFC 3339 times. The cursor needs no translation: a
 * cluster cursor is a (time, id) position, which every node resumes from
 * (merge.ts).
 */
import { formatTime, type Event } from "../../shared/event.ts";
import type { Logger } from "../../shared/logger.ts";
import { parseTime, TIME_MAX_MS, TIME_MIN_MS } from "../../shared/query/values.ts";
import { SearchRequestError } from "./errors.ts";
import { mergeFacets, type Facet, type FacetsResult } from "./facets.ts";
import type { HistogramResult } from "./histogram.ts";
import { mergeHistograms, mergePages, type Order, type PositionedEvent, type SourcePage } from "./merge.ts";
import type { PeerAnswer, PeerClient, PeerFailure } from "./peers.ts";
import { decodeCursor, encodeCursor, type SearchResult } from "./search.ts";

export interface ClusterRequest {
  peers: PeerClient;
  /** This process's `Logship-Node`: an answer carrying it (this collector listed as its own peer) is dropped. */
  nodeId: string;
  /** The caller's `Authorization` header, passed on as it is. */
  authorization: string | undefined;
  logger: Logger;
}

export interface ClusterSearchParams {
  /** The query as the caller wrote it (every node parses it itself). */
  queryText: string;
  sinceMs?: number;
  untilMs?: number;
  limit: number;
  order: Order;
  cursor?: string;
  tenant?: string;
}

export interface ClusterSearchPage extends SearchResult {
  partial: boolean;
  peersFailed: PeerFailure[];
}

export interface ClusterHistogramParams {
  queryText: string;
  sinceMs: number;
  untilMs: number;
  tenant?: string;
}

export interface ClusterHistogram {
  result: HistogramResult;
  partial: boolean;
  peersFailed: PeerFailure[];
}

/** One page of the cluster's matches; `local` answers this collector's part (from the same parameters). */
export async function clusterSearch(cluster: ClusterRequest, params: ClusterSearchParams, local: () => SearchResult | Promise<SearchResult>): Promise<ClusterSearchPage> {
  const { order } = params;
  // A cursor no node would take is the caller's mistake: 400 before anyone is asked.
  if (params.cursor !== undefined) decodeCursor(params.cursor, order);
  const parameters = new URLSearchParams({ q: params.queryText, order, limit: String(params.limit) });
  if (params.sinceMs !== undefined) parameters.set("since", absoluteTime("since", params.sinceMs));
  if (params.untilMs !== undefined) parameters.set("until", absoluteTime("until", params.untilMs));
  if (params.cursor !== undefined) parameters.set("cursor", params.cursor);
  if (params.tenant !== undefined) parameters.set("tenant", params.tenant);
  const { own, answers } = await alongsidePeers(cluster, `/v1/search?${parameters}`, local);
  const pages: SourcePage[] = [sourcePage(own.events, own.cursor, order)];
  const failures = collect(cluster, answers, (json) => pages.push(peerPage(json, order)));
  const merged = mergePages(pages, params.limit, order);
  return { events: merged.events, cursor: merged.cursor === null ? null : encodeCursor(merged.cursor, order), partial: failures.length > 0, peersFailed: failures };
}

/** The cluster's counts per bucket over one absolute range; `local` counts this collector's. */
export async function clusterHistogram(cluster: ClusterRequest, params: ClusterHistogramParams, local: () => HistogramResult | Promise<HistogramResult>): Promise<ClusterHistogram> {
  const parameters = new URLSearchParams({ q: params.queryText, since: absoluteTime("since", params.sinceMs), until: absoluteTime("until", params.untilMs) });
  if (params.tenant !== undefined) parameters.set("tenant", params.tenant);
  const { own, answers } = await alongsidePeers(cluster, `/v1/histogram?${parameters}`, local);
  const histograms: HistogramResult[] = [own];
  const failures = collect(cluster, answers, (json) => histograms.push(peerHistogram(json, own)));
  return { result: mergeHistograms(histograms), partial: failures.length > 0, peersFailed: failures };
}

export interface ClusterFacetsParams {
  queryText: string;
  sinceMs?: number;
  untilMs?: number;
  tenant?: string;
}

export interface ClusterFacets {
  result: FacetsResult;
  partial: boolean;
  peersFailed: PeerFailure[];
}

/** The cluster's facets (each node's sample, summed: facets.ts `mergeFacets`); `local` counts this collector's. */
export async function clusterFacets(cluster: ClusterRequest, params: ClusterFacetsParams, local: () => Promise<FacetsResult>): Promise<ClusterFacets> {
  const parameters = new URLSearchParams({ q: params.queryText });
  if (params.sinceMs !== undefined) parameters.set("since", absoluteTime("since", params.sinceMs));
  if (params.untilMs !== undefined) parameters.set("until", absoluteTime("until", params.untilMs));
  if (params.tenant !== undefined) parameters.set("tenant", params.tenant);
  const { own, answers } = await alongsidePeers(cluster, `/v1/facets?${parameters}`, local);
  const results: FacetsResult[] = [own];
  const failures = collect(cluster, answers, (json) => results.push(peerFacets(json)));
  return { result: mergeFacets(results), partial: failures.length > 0, peersFailed: failures };
}

/** The peers' answers to `path`, and this collector's own part, computed while the requests are out. */
async function alongsidePeers<T>(cluster: ClusterRequest, path: string, local: () => T | Promise<T>): Promise<{ own: T; answers: PeerAnswer[] }> {
  const pending = cluster.peers.getAll(path, cluster.authorization);
  // One turn of the event loop lets the requests leave before the synchronous index read holds the loop.
  await new Promise((resolve) => setImmediate(resolve));
  // getAll never rejects, so a local failure leaves nothing unhandled; the peers' answers are then dropped.
  const own = await local();
  return { own, answers: await pending };
}

/**
 * Hands every usable answer to `use` (which throws PeerAnswerError for a
 * malformed one) and returns the failures, each logged. An answer from this
 * process, or a second one from the same process, is dropped quietly.
 */
function collect(cluster: ClusterRequest, answers: readonly PeerAnswer[], use: (json: unknown) => void): PeerFailure[] {
  const failures: PeerFailure[] = [];
  const nodes = new Set([cluster.nodeId]);
  for (const answer of answers) {
    let failure: PeerFailure | undefined;
    if (!answer.ok) failure = { peer: answer.peer, code: answer.code, reason: answer.reason };
    else if (answer.node !== undefined && nodes.has(answer.node)) continue;
    else {
      try {
        use(answer.json);
        if (answer.node !== undefined) nodes.add(answer.node);
      } catch (error) {
        if (!(error instanceof PeerAnswerError)) throw error;
        failure = { peer: answer.peer, code: "LOGSHIP_PEER_ANSWER", reason: error.message };
      }
    }
    if (failure !== undefined) {
      failures.push(failure);
      cluster.logger.warn("a peer is missing from a search answer", { peer: failure.peer, code: failure.code, reason: failure.reason });
    }
  }
  return failures;
}

/** A peer's answer that is not what the API promises (another version, a proxy's page). */
class PeerAnswerError extends Error {}

function sourcePage(events: readonly Event[], cursor: string | null, order: Order): SourcePage {
  return { events: events.map(positioned), cursor: cursor === null ? null : decodeCursor(cursor, order) };
}

function positioned(event: Event): PositionedEvent {
  const timeMs = parseTime(event.time);
  if (timeMs === undefined) throw new PeerAnswerError(`answered an event whose time is not an RFC 3339 time: ${JSON.stringify(event.time)}`);
  return { event, position: { timeMs, id: event.id } };
}

function peerPage(json: unknown, order: Order): SourcePage {
  const { events, cursor } = (isObject(json) ? json : {}) as Record<string, unknown>;
  if (!Array.isArray(events) || !(cursor === null || typeof cursor === "string")) throw new PeerAnswerError("answered something that is not a search page ({events, cursor})");
  for (const event of events) {
    if (!isObject(event) || typeof event["id"] !== "string" || typeof event["time"] !== "string") throw new PeerAnswerError("answered an event without a string id and time");
  }
  try {
    return sourcePage(events as Event[], cursor, order);
  } catch (error) {
    if (error instanceof PeerAnswerError) throw error;
    throw new PeerAnswerError(`answered a cursor this collector cannot resume from: ${(error as Error).message}`);
  }
}

/** A peer's histogram, which must have `own`'s buckets (same range, same version). */
function peerHistogram(json: unknown, own: HistogramResult): HistogramResult {
  const { bucket_ms: bucketMs, buckets, complete, counted_since: countedSince } = (isObject(json) ? json : {}) as Record<string, unknown>;
  if (typeof bucketMs !== "number" || !Array.isArray(buckets) || typeof complete !== "boolean") throw new PeerAnswerError("answered something that is not a histogram ({bucket_ms, buckets, complete})");
  const result: HistogramResult = { bucketMs, buckets: [], complete };
  for (const bucket of buckets) {
    const timeMs = isObject(bucket) && typeof bucket["time"] === "string" ? parseTime(bucket["time"]) : undefined;
    const count = isObject(bucket) ? bucket["count"] : undefined;
    if (timeMs === undefined || typeof count !== "number" || !Number.isSafeInteger(count) || count < 0) throw new PeerAnswerError("answered a bucket without an RFC 3339 time and a count");
    result.buckets.push({ timeMs, count });
  }
  const sameBuckets = bucketMs === own.bucketMs && result.buckets.length === own.buckets.length && result.buckets.every((bucket, index) => bucket.timeMs === own.buckets[index]?.timeMs);
  if (!sameBuckets) throw new PeerAnswerError(`answered ${result.buckets.length} buckets of ${bucketMs} ms where this collector counts ${own.buckets.length} of ${own.bucketMs} ms`);
  if (!complete) {
    const countedSinceMs = typeof countedSince === "string" ? parseTime(countedSince) : undefined;
    if (countedSinceMs === undefined) throw new PeerAnswerError("answered an incomplete histogram without counted_since");
    result.countedSinceMs = countedSinceMs;
  }
  return result;
}

function peerFacets(json: unknown): FacetsResult {
  const { events, complete, facets } = (isObject(json) ? json : {}) as Record<string, unknown>;
  if (typeof events !== "number" || typeof complete !== "boolean" || !Array.isArray(facets)) throw new PeerAnswerError("answered something that is not facets ({events, complete, facets})");
  for (const facet of facets as unknown[]) {
    const { field, events: having, values, other } = (isObject(facet) ? facet : {}) as Record<string, unknown>;
    const valuesOk = Array.isArray(values) && values.every((value: unknown) => isObject(value) && typeof value["value"] === "string" && Number.isSafeInteger(value["count"]));
    if (typeof field !== "string" || !Number.isSafeInteger(having) || !Number.isSafeInteger(other) || !valuesOk) throw new PeerAnswerError("answered a facet without field, events, values and other");
  }
  return { events, complete, facets: facets as Facet[] };
}

/** RFC 3339 of a bound; refused (400) outside the years every node can read back. */
function absoluteTime(name: string, timeMs: number): string {
  if (timeMs < TIME_MIN_MS || timeMs > TIME_MAX_MS) throw new SearchRequestError("LOGSHIP_SEARCH_REQUEST", `${name}: a cluster search passes times on to its peers, and only years 0000–9999 can be`);
  return formatTime(timeMs);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
