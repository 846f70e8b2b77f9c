/**
 * A search over one tenant's embedded index: the partitions that intersect
 * [sinceMs, untilMs), newest first (or oldest first for `asc`), each read in
 * (time, id) order — a version 4 partition through its blocks
 * (block-partition.ts, the blocks block-filter.ts keeps), versions 2 and 3
 * through translate.ts's SQL condition — every row checked by the
 * evaluator (compileQuery), until `limit` events are found.
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
 *
 * The row scan (`candidateRows`) is shared with histogram.ts.
 */
import { formatTime, type Event } from "../../shared/event.ts";
import { compileQuery, DEFAULT_STREAM_NAME, type Query } from "../../shared/query/index.ts";
import { IndexError } from "./errors.ts";
import { SEARCH_LIMIT_MAX } from "./params.ts";
import { blockFilter, type BlockFilter } from "./block-filter.ts";
import { BlockPartition } from "./block-partition.ts";
import type { KeywordLookup, StoredRow } from "./partition.ts";
import { DAY_MS, type SearchIndex } from "./search-index.ts";
import { translateQuery, type SqlCondition } from "./translate.ts";

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

/** A row's place in (time, id) order: what a cursor holds. */
export interface Position {
  timeMs: number;
  id: string;
}

export function searchIndex(index: SearchIndex, request: SearchRequest): SearchResult {
  const order = request.order ?? "desc";
  if (!Number.isInteger(request.limit) || request.limit < 1 || request.limit > SEARCH_LIMIT_MAX) throw new RangeError(`limit must be an integer from 1 to ${SEARCH_LIMIT_MAX}; got ${request.limit}`);
  const scanRowsMax = request.scanRowsMax ?? SCAN_ROWS_MAX_DEFAULT;
  if (!Number.isInteger(scanRowsMax) || scanRowsMax < 1) throw new RangeError(`scanRowsMax must be a positive integer; got ${scanRowsMax}`);
  const predicate = compileQuery(request.query);
  const scan: RowScan = { tenant: request.tenant, query: request.query, order, matchesOnly: true };
  if (request.sinceMs !== undefined) scan.sinceMs = request.sinceMs;
  if (request.untilMs !== undefined) scan.untilMs = request.untilMs;
  if (request.cursor !== undefined) scan.after = decodeCursor(request.cursor, order);
  const events: Event[] = [];
  let position: Position | undefined;
  let rowsRead = 0;
  for (const row of candidateRows(index, scan, scanRowsMax)) {
    rowsRead++;
    position = { timeMs: row.time, id: row.id };
    const event = storedEvent(row);
    if (predicate(event)) events.push(event);
    if (events.length === request.limit) return { events, cursor: encodeCursor(position, order) };
  }
  // Stopped at the budget: the range may go on (the next page may also be empty).
  return { events, cursor: rowsRead === scanRowsMax && position !== undefined ? encodeCursor(position, order) : null };
}

/** What candidateRows reads: a tenant's rows in [sinceMs, untilMs) that the SQL of `query` selects, strictly after `after` in `order`. */
export interface RowScan {
  tenant: string;
  query: Query;
  /**
   * Version 4 partitions return only the query's matches where versions 2
   * and 3 do (block-filter.ts `event`), so that `rowsMax` cuts alike;
   * searches and facets ask for it, histograms (which count rows read) not.
   */
  matchesOnly?: boolean;
  sinceMs?: number;
  untilMs?: number;
  order: "desc" | "asc";
  after?: Position;
}

/**
 * The rows of a scan in (time, id) order, partition by partition (those
 * wholly before `after` are not opened), fetched CHUNK_ROWS at a time, at
 * most `rowsMax` in all. The evaluator is the caller's: these are SQL's
 * superset.
 */
export function* candidateRows(index: SearchIndex, scan: RowScan, rowsMax: number): Generator<StoredRow> {
  const { order } = scan;
  const direction = order === "desc" ? "DESC" : "ASC";
  let position = scan.after;
  let budget = rowsMax;
  const conditions = new Map<KeywordLookup, SqlCondition>();
  let filter: BlockFilter | undefined;
  for (const ref of index.partitions(scan.tenant, scan.sinceMs, scan.untilMs, order)) {
    if (position !== undefined && (order === "desc" ? ref.dayStartMs > position.timeMs : ref.dayStartMs + DAY_MS <= position.timeMs)) continue;
    const partition = index.partition(ref.file, false);
    if (partition instanceof BlockPartition) {
      filter ??= blockFilter(scan.query, scan.matchesOnly === true);
      for (const row of partition.rows(filter, scan.sinceMs, scan.untilMs, order, position, budget)) {
        position = { timeMs: row.time, id: row.id };
        budget--;
        yield row;
      }
      if (budget === 0) return;
      continue;
    }
    let condition = conditions.get(partition.keywords);
    if (condition === undefined) {
      condition = translateQuery(scan.query, partition.keywords);
      conditions.set(partition.keywords, condition);
    }
    for (;;) {
      const rowsWanted = Math.min(CHUNK_ROWS, budget);
      if (rowsWanted === 0) return;
      const where = timeRangeCondition(condition, scan.sinceMs, scan.untilMs);
      if (position !== undefined) {
        const after = order === "desc" ? "<" : ">";
        where.sql += ` AND time ${after}= ? AND (time ${after} ? OR id ${after} ?)`;
        where.parameters.push(position.timeMs, position.timeMs, position.id);
      }
      const rows = partition.select(`SELECT * FROM events WHERE ${where.sql} ORDER BY time ${direction}, id ${direction} LIMIT ?`, [...where.parameters, rowsWanted]);
      for (const row of rows) {
        position = { timeMs: row.time, id: row.id };
        yield row;
      }
      budget -= rows.length;
      if (rows.length < rowsWanted) break;
    }
  }
}

/** `condition` limited to time ≥ sinceMs and time < untilMs (each when given), as a fresh condition the caller may extend. */
export function timeRangeCondition(condition: SqlCondition, sinceMs: number | undefined, untilMs: number | undefined): SqlCondition {
  const where: SqlCondition = { sql: `(${condition.sql})`, parameters: [...condition.parameters] };
  if (sinceMs !== undefined) {
    where.sql += " AND time >= ?";
    where.parameters.push(sinceMs);
  }
  if (untilMs !== undefined) {
    where.sql += " AND time < ?";
    where.parameters.push(untilMs);
  }
  return where;
}

/** An event as it was indexed. */
export function storedEvent(row: StoredRow): Event {
  const event: Event = {
    id: row.id,
    time: formatTime(row.time),
    observed_time: formatTime(row.observed_time),
    host: row.host,
    source: row.source,
    path: row.path,
    offset: row.offset,
    message: row.message,
    fields: typeof row.fields === "string" ? (JSON.parse(row.fields) as Record<string, unknown>) : row.fields,
  };
  if (row.truncated === 1) event.truncated = true;
  if (row.stream !== DEFAULT_STREAM_NAME) event.stream = row.stream;
  return event;
}

/** The opaque cursor of a position (also the cluster's: any node resumes from it, merge.ts). */
export function encodeCursor(position: Position, order: "desc" | "asc"): string {
  return Buffer.from(JSON.stringify({ v: 1, o: order, t: position.timeMs, i: position.id })).toString("base64url");
}

/** The position of a cursor made for `order`; throws IndexError LOGSHIP_INDEX_CURSOR for anything else. */
export function decodeCursor(cursor: string, order: "desc" | "asc"): Position {
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
