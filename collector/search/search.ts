/**
 * A search over one tenant's embedded index: the partitions that intersect
 * [sinceMs, untilMs), newest first (or oldest first for `asc`), each read in
 * (time, id) order through translate.ts's SQL condition, every row checked
 * by the evaluator (compileQuery), until `limit` events are found.
 *
 * Pages: the cursor is the (time, id) of the last row read, opaque to the
 * caller (base64url JSON with the order it was made for). The next page
 * starts strictly after it in the same order, and (time, id) is unique, so
 * pages never repeat or skip an event that was there for both. Events
 * indexed after the first page appear on later pages only if they sort
 * after the cursor.
 *
 * Bounded work: one call reads at most `scanRowsMax` rows (SQLite's
 * superset of a regex query can be every row of the range). A call that
 * stops at that budget returns the events found so far, possibly none, and
 * a cursor; `cursor: null` means there is nothing more. A page with
 * `limit` events also returns a cursor, and the next page may be empty.
 */
import type { SQLInputValue } from "node:sqlite";
import { formatTime, type Event } from "../../shared/event.ts";
import { compileQuery, type Query } from "../../shared/query/index.ts";
import { IndexError } from "./errors.ts";
import type { StoredRow } from "./partition.ts";
import { DAY_MS, type SearchIndex } from "./search-index.ts";
import { translateQuery } from "./translate.ts";

export const SEARCH_LIMIT_MAX = 10_000;
/** Rows read per call at most, whatever they match. */
export const SCAN_ROWS_MAX_DEFAULT = 200_000;
/** Rows fetched from SQLite per statement. */
const CHUNK_ROWS = 1000;

export interface SearchRequest {
  tenant: string;
  query: Query;
  /** Events with time ≥ sinceMs (ms since the epoch); undefined: no lower bound. */
  sinceMs?: number;
  /** Events with time < untilMs; undefined: no upper bound. */
  untilMs?: number;
  /** Events per page, 1 to SEARCH_LIMIT_MAX. */
  limit: number;
  /** Newest first (default) or oldest first. */
  order?: "desc" | "asc";
  /** From a previous page of the same query and order. */
  cursor?: string;
  /** Rows read at most in this call (default SCAN_ROWS_MAX_DEFAULT). */
  scanRowsMax?: number;
}

export interface SearchResult {
  events: Event[];
  /** Where the next page starts; null when the range is exhausted. */
  cursor: string | null;
}

interface Position {
  timeMs: number;
  id: string;
}

export function searchIndex(index: SearchIndex, request: SearchRequest): SearchResult {
  const order = request.order ?? "desc";
  if (!Number.isInteger(request.limit) || request.limit < 1 || request.limit > SEARCH_LIMIT_MAX) throw new RangeError(`limit must be an integer from 1 to ${SEARCH_LIMIT_MAX}; got ${request.limit}`);
  const scanRowsMax = request.scanRowsMax ?? SCAN_ROWS_MAX_DEFAULT;
  if (!Number.isInteger(scanRowsMax) || scanRowsMax < 1) throw new RangeError(`scanRowsMax must be a positive integer; got ${scanRowsMax}`);
  let position = request.cursor === undefined ? undefined : decodeCursor(request.cursor, order);
  const predicate = compileQuery(request.query);
  const condition = translateQuery(request.query);
  const direction = order === "desc" ? "DESC" : "ASC";
  const events: Event[] = [];
  let budget = scanRowsMax;
  for (const ref of index.partitions(request.tenant, request.sinceMs, request.untilMs, order)) {
    if (position !== undefined && (order === "desc" ? ref.dayStartMs > position.timeMs : ref.dayStartMs + DAY_MS <= position.timeMs)) continue;
    const partition = index.partition(ref.file, false);
    for (;;) {
      const where: string[] = [`(${condition.sql})`];
      const parameters: SQLInputValue[] = [...condition.parameters];
      if (request.sinceMs !== undefined) {
        where.push("time >= ?");
        parameters.push(request.sinceMs);
      }
      if (request.untilMs !== undefined) {
        where.push("time < ?");
        parameters.push(request.untilMs);
      }
      if (position !== undefined) {
        const after = order === "desc" ? "<" : ">";
        where.push(`time ${after}= ? AND (time ${after} ? OR id ${after} ?)`);
        parameters.push(position.timeMs, position.timeMs, position.id);
      }
      const rowsMax = Math.min(CHUNK_ROWS, budget);
      parameters.push(rowsMax);
      const rows = partition.select(`SELECT * FROM events WHERE ${where.join(" AND ")} ORDER BY time ${direction}, id ${direction} LIMIT ?`, parameters);
      for (const row of rows) {
        position = { timeMs: row.time, id: row.id };
        const event = storedEvent(row);
        if (predicate(event)) events.push(event);
        if (events.length === request.limit) return { events, cursor: encodeCursor(position, order) };
      }
      budget -= rows.length;
      if (rows.length < rowsMax) break;
      if (budget === 0) return { events, cursor: position === undefined ? null : encodeCursor(position, order) };
    }
  }
  return { events, cursor: null };
}

function storedEvent(row: StoredRow): Event {
  const event: Event = {
    id: row.id,
    time: formatTime(row.time),
    observed_time: formatTime(row.observed_time),
    host: row.host,
    source: row.source,
    path: row.path,
    offset: row.offset,
    message: row.message,
    fields: JSON.parse(row.fields) as Record<string, unknown>,
  };
  if (row.truncated === 1) event.truncated = true;
  return event;
}

function encodeCursor(position: Position, order: "desc" | "asc"): string {
  return Buffer.from(JSON.stringify({ v: 1, o: order, t: position.timeMs, i: position.id })).toString("base64url");
}

function decodeCursor(cursor: string, order: "desc" | "asc"): Position {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw new IndexError("LOGSHIP_INDEX_CURSOR", "the cursor is not one this index made");
  }
  const { v, o, t, i } = (typeof parsed === "object" && parsed !== null ? parsed : {}) as Record<string, unknown>;
  if (v !== 1 || typeof t !== "number" || !Number.isSafeInteger(t) || typeof i !== "string") throw new IndexError("LOGSHIP_INDEX_CURSOR", "the cursor is not one this index made");
  if (o !== order) throw new IndexError("LOGSHIP_INDEX_CURSOR", `the cursor was made for order ${String(o)}, not ${order}`);
  return { timeMs: t, id: i };
}
