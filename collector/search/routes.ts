/**
 * The search API of a collector (docs/SEARCH.md, "HTTP API"), served beside
 * ingest by collector/ingest/server.ts:
 *
 *   GET /v1/search     q since until limit order cursor [tenant]
 *                      → {"events", "cursor", "partial": false}, or with
 *                        `Accept: application/x-ndjson` one event per line
 *                        (cursor and partial in the Logship-Cursor and
 *                        Logship-Partial headers)
 *   GET /v1/histogram  q since until [tenant] → {"bucket_ms", "buckets", "complete"}
 *
 * Tokens of role search or admin; a token reads its own tenant, an admin
 * token any tenant through `tenant`. Refusals are `{"error", "code"}`; a
 * query that does not parse is 400 LOGSHIP_QUERY with its `column`.
 *
 * The index modules load node:sqlite, so they are imported on the first
 * request, not with the collector's HTTP server.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { formatTime } from "../../shared/event.ts";
import type { Logger } from "../../shared/logger.ts";
import { QueryError } from "../../shared/errors.ts";
import { MethodNotAllowed, sendError, type RouteHandler } from "../admin/routes.ts";
import type { Principal, TokenTable } from "../ingest/auth.ts";
import { IngestError } from "../ingest/errors.ts";
import { sendJson } from "../ingest/server.ts";
import { IndexError, SearchRequestError } from "./errors.ts";
import { histogramParams, searchParams } from "./params.ts";
import type { SearchIndex } from "./search-index.ts";

export interface SearchRoutesOptions {
  tokens: TokenTable;
  /** The embedded index the search sink writes; undefined: this collector has none (every request is 404). */
  index: SearchIndex | undefined;
  logger: Logger;
}

export const NDJSON = "application/x-ndjson";

export function searchRoutes(options: SearchRoutesOptions): RouteHandler {
  return (request, response, path) => {
    if (path !== "/v1/search" && path !== "/v1/histogram") return false;
    void (path === "/v1/search" ? search(request, response, options) : histogram(request, response, options)).catch((error: unknown) => sendSearchError(response, options.logger, error));
    return true;
  };
}

async function search(request: IncomingMessage, response: ServerResponse, options: SearchRoutesOptions): Promise<void> {
  const { index, principal, parameters } = admit(request, options);
  const params = searchParams(parameters, Date.now());
  const tenant = tenantFor(principal, params.tenant);
  const { searchIndex } = await import("./search.ts");
  const page = searchIndex(index, {
    tenant,
    query: params.query,
    limit: params.limit,
    order: params.order,
    ...(params.sinceMs === undefined ? {} : { sinceMs: params.sinceMs }),
    ...(params.untilMs === undefined ? {} : { untilMs: params.untilMs }),
    ...(params.cursor === undefined ? {} : { cursor: params.cursor }),
  });
  if (!(request.headers.accept ?? "").includes(NDJSON)) return sendJson(response, 200, { events: page.events, cursor: page.cursor, partial: false });
  const body = page.events.map((event) => `${JSON.stringify(event)}\n`).join("");
  const headers: Record<string, string | number> = { "Content-Type": NDJSON, "Content-Length": Buffer.byteLength(body), "Logship-Partial": "false" };
  if (page.cursor !== null) headers["Logship-Cursor"] = page.cursor;
  response.writeHead(200, headers);
  response.end(body);
}

async function histogram(request: IncomingMessage, response: ServerResponse, options: SearchRoutesOptions): Promise<void> {
  const { index, principal, parameters } = admit(request, options);
  const params = histogramParams(parameters, Date.now());
  const tenant = tenantFor(principal, params.tenant);
  const { histogramIndex } = await import("./histogram.ts");
  const result = histogramIndex(index, { tenant, query: params.query, sinceMs: params.sinceMs, untilMs: params.untilMs });
  sendJson(response, 200, {
    bucket_ms: result.bucketMs,
    buckets: result.buckets.map((bucket) => ({ time: formatTime(bucket.timeMs), count: bucket.count })),
    complete: result.complete,
    ...(result.countedSinceMs === undefined ? {} : { counted_since: formatTime(result.countedSinceMs) }),
  });
}

/** Method, token and index, in that order; then the query string. */
function admit(request: IncomingMessage, options: SearchRoutesOptions): { index: SearchIndex; principal: Principal; parameters: URLSearchParams } {
  if (request.method !== "GET" && request.method !== "HEAD") throw new MethodNotAllowed("GET");
  const principal = options.tokens.authorize(request.headers.authorization, ["search", "admin"]);
  if (options.index === undefined) {
    throw new SearchRequestError("LOGSHIP_SEARCH_UNAVAILABLE", "this collector keeps no embedded search index (sinks.search.type is not embedded); ask a collector that does");
  }
  return { index: options.index, principal, parameters: new URL(request.url ?? "/", "http://collector").searchParams };
}

/** The token's own tenant; another one only for an admin token. */
function tenantFor(principal: Principal, requested: string | undefined): string {
  if (requested === undefined || requested === principal.tenant) return principal.tenant;
  if (principal.role !== "admin") throw new IngestError("LOGSHIP_AUTH_FORBIDDEN", `a token of role ${principal.role} reads only its own tenant (${principal.tenant}); tenant ${JSON.stringify(requested)} needs an admin token`);
  return requested;
}

function sendSearchError(response: ServerResponse, logger: Logger, error: unknown): void {
  if (response.headersSent || response.destroyed) return;
  if (error instanceof QueryError) return sendJson(response, 400, { error: error.message, code: error.code, column: error.column });
  if (error instanceof SearchRequestError) return sendJson(response, error.status, { error: error.message, code: error.code });
  if (error instanceof IndexError && error.code !== "LOGSHIP_INDEX_FORMAT") return sendJson(response, 400, { error: error.message, code: error.code });
  sendError(response, logger, error);
}
