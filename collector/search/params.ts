/**
 * The query-string parameters of `GET /v1/search`, `GET /v1/histogram` and
 * `GET /v1/facets` (and at the end of the file `GET /v1/tail` and
 * `GET /v1/context`)
 * (docs/SEARCH.md, "HTTP API"), checked purely before any index is read.
 * Every refusal names the parameter: an unknown or repeated parameter, a
 * limit out of range, an order or a time that is not one. A query that does
 * not parse throws the parser's QueryError (with its column).
 *
 * Times are RFC 3339 (`2026-11-29T10:00:00Z`, any offset), a date
 * (`2026-11-29`, midnight UTC), `now`, or a duration meaning that long
 * before now (`15m`, `2h`, `7d`, `1h30m`).
 */
import { parseDuration } from "../../shared/config/units.ts";
import { ConfigError } from "../../shared/errors.ts";
import { parseQuery, type Query } from "../../shared/query/index.ts";
import { parseTime } from "../../shared/query/values.ts";
import { SearchRequestError } from "./errors.ts";
import type { TailPosition } from "./tail.ts";

/** Events per page when `limit` is not given. */
export const SEARCH_LIMIT_DEFAULT = 100;
/** Events per page at most (searchIndex enforces it too). */
export const SEARCH_LIMIT_MAX = 10_000;
/** A histogram without `since` covers this long before `until`. */
export const HISTOGRAM_RANGE_DEFAULT_MS = 24 * 60 * 60 * 1000;

export interface SearchParams {
  query: Query;
  sinceMs?: number;
  untilMs?: number;
  limit: number;
  order: "desc" | "asc";
  cursor?: string;
  /** Asked for explicitly (admin tokens only, unless it is the token's own). */
  tenant?: string;
}

export interface HistogramParams {
  query: Query;
  sinceMs: number;
  untilMs: number;
  tenant?: string;
}

const SEARCH_NAMES = ["q", "since", "until", "limit", "order", "cursor", "tenant"];
const HISTOGRAM_NAMES = ["q", "since", "until", "tenant"];
const FACETS_NAMES = ["q", "since", "until", "tenant"];

export function searchParams(parameters: URLSearchParams, nowMs: number): SearchParams {
  const get = reader(parameters, SEARCH_NAMES);
  const params: SearchParams = { query: parseQuery(get("q") ?? ""), limit: parseLimit(get("limit")), order: parseOrder(get("order")) };
  const since = get("since");
  const until = get("until");
  if (since !== undefined) params.sinceMs = parseTimeParameter("since", since, nowMs);
  if (until !== undefined) params.untilMs = parseTimeParameter("until", until, nowMs);
  if (params.sinceMs !== undefined && params.untilMs !== undefined && params.sinceMs > params.untilMs) throw new SearchRequestError("LOGSHIP_SEARCH_REQUEST", "since is after until");
  const cursor = get("cursor");
  if (cursor !== undefined) params.cursor = cursor;
  const tenant = get("tenant");
  if (tenant !== undefined) params.tenant = tenant;
  return params;
}

export function histogramParams(parameters: URLSearchParams, nowMs: number): HistogramParams {
  const get = reader(parameters, HISTOGRAM_NAMES);
  const query = parseQuery(get("q") ?? "");
  const until = get("until");
  const untilMs = until === undefined ? nowMs : parseTimeParameter("until", until, nowMs);
  const since = get("since");
  const sinceMs = since === undefined ? untilMs - HISTOGRAM_RANGE_DEFAULT_MS : parseTimeParameter("since", since, nowMs);
  if (sinceMs >= untilMs) throw new SearchRequestError("LOGSHIP_SEARCH_REQUEST", "a histogram needs since before until");
  const params: HistogramParams = { query, sinceMs, untilMs };
  const tenant = get("tenant");
  if (tenant !== undefined) params.tenant = tenant;
  return params;
}

/** The parameters of `GET /v1/facets` (facets.ts): a query and an optional range, as for a search. */
export interface FacetsParams {
  query: Query;
  sinceMs?: number;
  untilMs?: number;
  tenant?: string;
}

export function facetsParams(parameters: URLSearchParams, nowMs: number): FacetsParams {
  const get = reader(parameters, FACETS_NAMES);
  const params: FacetsParams = { query: parseQuery(get("q") ?? "") };
  const since = get("since");
  const until = get("until");
  if (since !== undefined) params.sinceMs = parseTimeParameter("since", since, nowMs);
  if (until !== undefined) params.untilMs = parseTimeParameter("until", until, nowMs);
  if (params.sinceMs !== undefined && params.untilMs !== undefined && params.sinceMs > params.untilMs) throw new SearchRequestError("LOGSHIP_SEARCH_REQUEST", "since is after until");
  const tenant = get("tenant");
  if (tenant !== undefined) params.tenant = tenant;
  return params;
}

/** A time parameter in ms since the epoch (see the module comment); throws SearchRequestError. */
export function parseTimeParameter(name: string, text: string, nowMs: number): number {
  if (text === "now") return nowMs;
  const timeMs = parseTime(text);
  if (timeMs !== undefined) return timeMs;
  // A bare number would be milliseconds ago to parseDuration: refused, it is never what was meant.
  if (!/^\d+(?:\.\d+)?$/.test(text)) {
    try {
      return nowMs - parseDuration(text);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
    }
  }
  throw new SearchRequestError("LOGSHIP_SEARCH_REQUEST", `${name}: expected an RFC 3339 time (2026-11-29T10:00:00Z), a date (2026-11-29), now, or a duration ago (15m, 2h, 7d); got ${JSON.stringify(text)}`);
}

/** A getter for single parameters, after refusing unknown and repeated ones. */
function reader(parameters: URLSearchParams, names: readonly string[]): (name: string) => string | undefined {
  for (const name of new Set(parameters.keys())) {
    if (!names.includes(name)) throw new SearchRequestError("LOGSHIP_SEARCH_REQUEST", `unknown parameter ${JSON.stringify(name)} (expected ${names.join(", ")})`);
    if (parameters.getAll(name).length > 1) throw new SearchRequestError("LOGSHIP_SEARCH_REQUEST", `parameter ${name} is given more than once`);
  }
  return (name) => parameters.get(name) ?? undefined;
}

function parseLimit(text: string | undefined): number {
  if (text === undefined) return SEARCH_LIMIT_DEFAULT;
  const limit = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!(limit >= 1 && limit <= SEARCH_LIMIT_MAX)) throw new SearchRequestError("LOGSHIP_SEARCH_REQUEST", `limit: expected a whole number from 1 to ${SEARCH_LIMIT_MAX}; got ${JSON.stringify(text)}`);
  return limit;
}

function parseOrder(text: string | undefined): "desc" | "asc" {
  if (text === undefined) return "desc";
  if (text === "desc" || text === "asc") return text;
  throw new SearchRequestError("LOGSHIP_SEARCH_REQUEST", `order: expected desc (newest first) or asc; got ${JSON.stringify(text)}`);
}

/** Where `GET /v1/tail` starts (tail.ts): after a position it sent, else at the newest row. */
export interface TailParams {
  query: Query;
  /** The position of the last event the client has, as it sent it (the backend's tail reads it); undefined: start now. */
  after?: TailPosition;
  tenant?: string;
}

const TAIL_NAMES = ["q", "tenant", "last_event_id"];

/**
 * The parameters of `GET /v1/tail`. The `Last-Event-ID` header (what an
 * EventSource sends when it reconnects) wins over `last_event_id` (for
 * clients that cannot set headers; a browser keeps its first URL, with the
 * first position, when it reconnects).
 */
export function tailParams(parameters: URLSearchParams, lastEventIdHeader: string | undefined): TailParams {
  const get = reader(parameters, TAIL_NAMES);
  const params: TailParams = { query: parseQuery(get("q") ?? "") };
  const header = lastEventIdHeader?.trim();
  const position: TailPosition = header !== undefined && header !== "" ? { name: "Last-Event-ID", text: header } : { name: "last_event_id", text: get("last_event_id") ?? "" };
  if (position.text !== "") params.after = position;
  const tenant = get("tenant");
  if (tenant !== undefined) params.tenant = tenant;
  return params;
}

/** Lines asked for on each side of an event at most (`before`, `after`). */
export const CONTEXT_LINES_MAX = 100;

export interface ContextParams {
  id: string;
  before: number;
  after: number;
  tenant?: string;
}

const CONTEXT_NAMES = ["id", "before", "after", "tenant"];

/** The parameters of `GET /v1/context` (context.ts): an event id, and 0 to CONTEXT_LINES_MAX lines before and after it (default 0). */
export function contextParams(parameters: URLSearchParams): ContextParams {
  const get = reader(parameters, CONTEXT_NAMES);
  const id = get("id");
  if (id === undefined || id === "") throw new SearchRequestError("LOGSHIP_SEARCH_REQUEST", "id: the event to show the context of is required");
  const params: ContextParams = { id, before: parseLines("before", get("before")), after: parseLines("after", get("after")) };
  const tenant = get("tenant");
  if (tenant !== undefined) params.tenant = tenant;
  return params;
}

function parseLines(name: string, text: string | undefined): number {
  if (text === undefined) return 0;
  const lines = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!(lines >= 0 && lines <= CONTEXT_LINES_MAX)) throw new SearchRequestError("LOGSHIP_SEARCH_REQUEST", `${name}: expected a whole number from 0 to ${CONTEXT_LINES_MAX}; got ${JSON.stringify(text)}`);
  return lines;
}
