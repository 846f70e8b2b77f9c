/**
 * The search API of a collector (docs/SEARCH.md, "HTTP API"), served beside
 * ingest by collector/ingest/server.ts:
 *
 *   GET /v1/search     q since until limit order cursor [tenant]
 *                      → {"events", "cursor", "partial"}, or with
 *                        `Accept: application/x-ndjson` one event per line
 *                        (cursor and partial in the Logship-Cursor and
 *                        Logship-Partial headers)
 *   GET /v1/histogram  q since until [tenant] → {"bucket_ms", "buckets", "complete", "partial"}
 *   GET /v1/facets     q since until [tenant] → {"events", "complete", "facets", "partial"}:
 *                      top values of host, source, path and common fields
 *                      among the newest matches (facets.ts)
 *   GET /v1/tail       q [tenant] [last_event_id | Last-Event-ID header] → Server-Sent
 *                      Events of matching events as they are indexed (tail.ts,
 *                      read by the backend's `tail`)
 *   GET /v1/context    id [before] [after] [tenant] → {"event", "before", "after"}:
 *                      the lines around an event in its file (context.ts)
 *
 * Tokens of role search or admin; a token reads its own tenant, an admin
 * token any tenant through `tenant`. Refusals are `{"error", "code"}`; a
 * query that does not parse is 400 LOGSHIP_QUERY with its `column`.
 *
 * A collector with `peers` answers for the whole cluster (cluster.ts),
 * unless the request says `Logship-Scope: local` (what a peer's request
 * says): then, as without peers, from its own index only. Every answer
 * names the process in `Logship-Node` (peers.ts says why).
 *
 * The index modules load node:sqlite, and the cluster modules undici, so
 * they are imported on the first request, not with the collector's HTTP
 * server.
 */
import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { formatTime } from "../../shared/event.ts";
import type { Logger } from "../../shared/logger.ts";
import { assert, QueryError } from "../../shared/errors.ts";
import { MethodNotAllowed, sendError, type RouteHandler } from "../admin/routes.ts";
import type { Principal, TokenTable } from "../ingest/auth.ts";
import { IngestError } from "../ingest/errors.ts";
import { OpenSearchError } from "../opensearch/client.ts";
import { sendJson } from "../ingest/server.ts";
import { IndexError, SearchRequestError } from "./errors.ts";
import type { ClusterRequest } from "./cluster.ts";
import type { FacetsResult } from "./facets.ts";
import { contextParams, facetsParams, histogramParams, searchParams, tailParams } from "./params.ts";
import type { PeerClient, PeerFailure } from "./peers.ts";
import type { SearchBackend } from "./backend.ts";
import type { HistogramResult } from "./histogram.ts";
import type { SearchIndex } from "./search-index.ts";
import type { TailLimits, TailStreams } from "./tail.ts";

export interface SearchRoutesOptions {
  tokens: TokenTable;
  /** The embedded index the search sink writes; undefined: this collector has none. */
  index: SearchIndex | undefined;
  /** What answers /v1/search, /v1/histogram, /v1/facets, /v1/context and /v1/tail (`search.backend`); default: the embedded `index` (none: 404). */
  backend?: SearchBackend;
  logger: Logger;
  /** Other collectors searched together with this one (config `peers`); none: this collector answers alone. */
  peers?: readonly string[];
  /** How long a peer has to answer (config `search.peer_timeout`). */
  peerTimeoutMs?: number;
  /** Limits of `GET /v1/tail` (default TAIL_LIMITS_DEFAULT). */
  tail?: Partial<TailLimits>;
}

export const NDJSON = "application/x-ndjson";
/** Peers answer within this long unless the options say otherwise (the config's default). */
export const PEER_TIMEOUT_MS_DEFAULT = 5000;

/** The routes' state: this process's node id, and the peer client once a request fans out. */
interface RouteState {
  options: SearchRoutesOptions;
  nodeId: string;
  peerClient: PeerClient | undefined;
}

export function searchRoutes(options: SearchRoutesOptions): RouteHandler {
  const state: RouteState = { options, nodeId: randomUUID(), peerClient: undefined };
  let tailStreams: TailStreams | undefined;
  const streamsOf = async (): Promise<TailStreams> => {
    const { TailStreams } = await import("./tail.ts");
    return (tailStreams ??= new TailStreams({ logger: options.logger, ...(options.tail === undefined ? {} : { limits: options.tail }) }));
  };
  return (request, response, path) => {
    if (path === "/v1/tail" || path === "/v1/context") {
      void (path === "/v1/tail" ? tail(request, response, options, streamsOf) : context(request, response, options)).catch((error: unknown) => sendSearchError(response, options.logger, error));
      return true;
    }
    const route = path === "/v1/search" ? search : path === "/v1/histogram" ? histogram : path === "/v1/facets" ? facets : undefined;
    if (route === undefined) return false;
    void route(request, response, state).catch((error: unknown) => sendSearchError(response, options.logger, error));
    return true;
  };
}

async function search(request: IncomingMessage, response: ServerResponse, state: RouteState): Promise<void> {
  const { principal, parameters } = admit(request, state.options);
  const backend = await backendOf(state.options);
  const params = searchParams(parameters, Date.now());
  const tenant = tenantFor(principal, params.tenant);
  const local = () =>
    backend.search({
      tenant,
      query: params.query,
      limit: params.limit,
      order: params.order,
      ...(params.sinceMs === undefined ? {} : { sinceMs: params.sinceMs }),
      ...(params.untilMs === undefined ? {} : { untilMs: params.untilMs }),
      ...(params.cursor === undefined ? {} : { cursor: params.cursor }),
    });
  const cluster = await clusterRequest(request, state);
  const { sinceMs, untilMs, cursor, tenant: named } = params;
  const page =
    cluster === undefined
      ? { ...(await local()), partial: false, peersFailed: [] }
      : await (await import("./cluster.ts")).clusterSearch(cluster, { queryText: parameters.get("q") ?? "", limit: params.limit, order: params.order, ...defined({ sinceMs, untilMs, cursor, tenant: named }) }, local);
  const node = { "Logship-Node": state.nodeId };
  const failed = page.partial ? { peers_failed: page.peersFailed } : {};
  if (!(request.headers.accept ?? "").includes(NDJSON)) return sendJson(response, 200, { events: page.events, cursor: page.cursor, partial: page.partial, ...failed }, node);
  const body = page.events.map((event) => `${JSON.stringify(event)}\n`).join("");
  const headers: Record<string, string | number> = { ...node, "Content-Type": NDJSON, "Content-Length": Buffer.byteLength(body), "Logship-Partial": String(page.partial) };
  if (page.cursor !== null) headers["Logship-Cursor"] = page.cursor;
  if (page.partial) headers["Logship-Peers-Failed"] = asciiJson(page.peersFailed);
  response.writeHead(200, headers);
  response.end(body);
}

async function histogram(request: IncomingMessage, response: ServerResponse, state: RouteState): Promise<void> {
  const { principal, parameters } = admit(request, state.options);
  const backend = await backendOf(state.options);
  const params = histogramParams(parameters, Date.now());
  const tenant = tenantFor(principal, params.tenant);
  const local = () => backend.histogram({ tenant, query: params.query, sinceMs: params.sinceMs, untilMs: params.untilMs });
  const cluster = await clusterRequest(request, state);
  const answer: { result: HistogramResult; partial: boolean; peersFailed: PeerFailure[] } =
    cluster === undefined
      ? { result: await local(), partial: false, peersFailed: [] }
      : await (await import("./cluster.ts")).clusterHistogram(cluster, { queryText: parameters.get("q") ?? "", sinceMs: params.sinceMs, untilMs: params.untilMs, ...defined({ tenant: params.tenant }) }, local);
  const { result } = answer;
  sendJson(
    response,
    200,
    {
      bucket_ms: result.bucketMs,
      buckets: result.buckets.map((bucket) => ({ time: formatTime(bucket.timeMs), count: bucket.count })),
      complete: result.complete,
      ...(result.countedSinceMs === undefined ? {} : { counted_since: formatTime(result.countedSinceMs) }),
      partial: answer.partial,
      ...(answer.partial ? { peers_failed: answer.peersFailed } : {}),
    },
    { "Logship-Node": state.nodeId },
  );
}

async function facets(request: IncomingMessage, response: ServerResponse, state: RouteState): Promise<void> {
  const { principal, parameters } = admit(request, state.options);
  const backend = await backendOf(state.options);
  const facetsOf = backend.facets?.bind(backend);
  if (facetsOf === undefined) throw unavailable(backend, "facets");
  const params = facetsParams(parameters, Date.now());
  const tenant = tenantFor(principal, params.tenant);
  const { sinceMs, untilMs } = params;
  const local = () => facetsOf({ tenant, query: params.query, ...defined({ sinceMs, untilMs }) });
  const cluster = await clusterRequest(request, state);
  const answer: { result: FacetsResult; partial: boolean; peersFailed: PeerFailure[] } =
    cluster === undefined
      ? { result: await local(), partial: false, peersFailed: [] }
      : await (await import("./cluster.ts")).clusterFacets(cluster, { queryText: parameters.get("q") ?? "", ...defined({ sinceMs, untilMs, tenant: params.tenant }) }, local);
  const failed = answer.partial ? { peers_failed: answer.peersFailed } : {};
  sendJson(response, 200, { ...answer.result, partial: answer.partial, ...failed }, { "Logship-Node": state.nodeId });
}

/**
 * How this request reaches the peers, or undefined when it is answered
 * from this collector's index alone: no peers, or `Logship-Scope: local`
 * (a peer's request; anything else in that header is refused).
 */
async function clusterRequest(request: IncomingMessage, state: RouteState): Promise<ClusterRequest | undefined> {
  const scope = request.headers["logship-scope"];
  if (scope !== undefined && scope !== "local") throw new SearchRequestError("LOGSHIP_SEARCH_REQUEST", `Logship-Scope: expected local (answer from this collector's index only); got ${JSON.stringify(scope)}`);
  const peers = state.options.peers ?? [];
  if (scope === "local" || peers.length === 0) return undefined;
  if (state.peerClient === undefined) {
    const { PeerClient } = await import("./peers.ts");
    state.peerClient ??= new PeerClient({ peers, timeoutMs: state.options.peerTimeoutMs ?? PEER_TIMEOUT_MS_DEFAULT });
  }
  return { peers: state.peerClient, nodeId: state.nodeId, authorization: request.headers.authorization, logger: state.options.logger };
}

/** The entries of `values` that are not undefined (for exactOptionalPropertyTypes). */
function defined<T extends Record<string, unknown>>(values: T): { [K in keyof T]?: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(values).filter(([, value]) => value !== undefined)) as { [K in keyof T]?: Exclude<T[K], undefined> };
}

/** JSON with every character past ASCII escaped: a header value must be Latin-1, and this keeps it 7-bit. */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[^\x20-\x7e]/g, (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

async function tail(request: IncomingMessage, response: ServerResponse, options: SearchRoutesOptions, streamsOf: () => Promise<TailStreams>): Promise<void> {
  const { principal, parameters } = admit(request, options);
  const backend = await backendOf(options);
  const tailOf = backend.tail?.bind(backend);
  if (tailOf === undefined) throw unavailable(backend, "the live tail");
  const lastEventId = request.headers["last-event-id"];
  const params = tailParams(parameters, typeof lastEventId === "string" ? lastEventId : undefined);
  const tenant = tenantFor(principal, params.tenant);
  const streams = await streamsOf();
  await streams.serve(request, response, () => tailOf({ tenant, query: params.query, ...(params.after === undefined ? {} : { after: params.after }) }), tenant);
}

async function context(request: IncomingMessage, response: ServerResponse, options: SearchRoutesOptions): Promise<void> {
  const { principal, parameters } = admit(request, options);
  const backend = await backendOf(options);
  if (backend.context === undefined) throw unavailable(backend, "context");
  const params = contextParams(parameters);
  const tenant = tenantFor(principal, params.tenant);
  const found = await backend.context({ tenant, id: params.id, before: params.before, after: params.after });
  if (found === undefined) throw new SearchRequestError("LOGSHIP_EVENT_NOT_FOUND", `no event ${JSON.stringify(params.id)} in tenant ${tenant}'s index`);
  sendJson(response, 200, found);
}

/** The 404 for a route the configured backend does not serve. */
function unavailable(backend: SearchBackend, what: string): SearchRequestError {
  return new SearchRequestError("LOGSHIP_SEARCH_UNAVAILABLE", `${what} is not served by the ${backend.kind} search backend; ask a collector that serves it`);
}

/** Method and token, in that order, then something to answer from; then the query string. */
function admit(request: IncomingMessage, options: SearchRoutesOptions): { principal: Principal; parameters: URLSearchParams } {
  if (request.method !== "GET" && request.method !== "HEAD") throw new MethodNotAllowed("GET");
  const principal = options.tokens.authorize(request.headers.authorization, ["search", "admin"]);
  if (options.index === undefined && options.backend === undefined) {
    throw new SearchRequestError("LOGSHIP_SEARCH_UNAVAILABLE", "this collector keeps no search index (sinks.search.type is none); ask a collector that does");
  }
  return { principal, parameters: new URL(request.url ?? "/", "http://collector").searchParams };
}

/** The configured backend, else the embedded index behind the seam (admit checked that one of them is there). */
async function backendOf(options: SearchRoutesOptions): Promise<SearchBackend> {
  if (options.backend !== undefined) return options.backend;
  const { index } = options;
  assert(index !== undefined, "admit refuses a request when there is neither a backend nor an embedded index");
  const { EmbeddedBackend } = await import("./embedded-backend.ts");
  return new EmbeddedBackend(index);
}

/** The token's own tenant; another one only for an admin token. */
function tenantFor(principal: Principal, requested: string | undefined): string {
  if (requested === undefined || requested === principal.tenant) return principal.tenant;
  if (principal.role !== "admin") throw new IngestError("LOGSHIP_AUTH_FORBIDDEN", `a token of role ${principal.role} reads only its own tenant (${principal.tenant}); tenant ${JSON.stringify(requested)} needs an admin token`);
  return requested;
}

/** Seconds a client is told to wait after the search backend was unavailable (a node restarting, a shard recovering). */
const BACKEND_RETRY_AFTER_S = "5";

/**
 * 503 while OpenSearch cannot answer for now (unreachable, overloaded, a
 * shard not started: its own 503 or 429), 502 for any other refusal (a
 * query it rejects, its own 500).
 */
function backendErrorStatus(error: OpenSearchError): 502 | 503 {
  if (error.code === "LOGSHIP_OPENSEARCH_UNREACHABLE" || error.status === 503 || error.status === 429) return 503;
  return 502;
}

function sendSearchError(response: ServerResponse, logger: Logger, error: unknown): void {
  if (response.headersSent || response.destroyed) return;
  if (error instanceof QueryError) return sendJson(response, 400, { error: error.message, code: error.code, column: error.column });
  if (error instanceof SearchRequestError) return sendJson(response, error.status, { error: error.message, code: error.code }, error.status === 503 ? { "Retry-After": "1" } : {});
  if (error instanceof IndexError && error.code !== "LOGSHIP_INDEX_FORMAT") return sendJson(response, 400, { error: error.message, code: error.code });
  if (error instanceof OpenSearchError) {
    // Not this collector's fault and nothing to debug in its stack: OpenSearch down, a shard not started, a refusal.
    const status = backendErrorStatus(error);
    logger.warn("search backend failed; the request is answered with an error", { code: error.code, status, error: error.message });
    return sendJson(response, status, { error: error.message, code: error.code }, status === 503 ? { "Retry-After": BACKEND_RETRY_AFTER_S } : {});
  }
  sendError(response, logger, error);
}
