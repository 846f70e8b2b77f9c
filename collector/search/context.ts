/**
 * The lines around an event in its file, `GET /v1/context` (docs/SEARCH.md,
 * "Context"): like `grep -C`, the `before` events of the same file with the
 * greatest offsets below the event's, and the `after` events with the
 * smallest offsets above it. "The same file" is the same host, path and
 * stream (the first characters of the id, shared/event.ts `eventIdStream`),
 * so the lines of an earlier file rotated away from the same path are not
 * mixed in. Only the tenant's own partitions are read.
 *
 * A version 4 partition keeps each file's events in blocks with their
 * offset ranges (block-partition.ts `neighbours`): each such partition of
 * the tenant gives its nearest events directly. In versions 2 and 3 the
 * index has no (path, offset) index: neighbours are found through the
 * (host|path, time) indexes in a time window around the event that starts
 * at CONTEXT_WINDOW_FIRST_MS and grows CONTEXT_WINDOW_GROWTH times per step
 * until a side has its lines or the window covers every partition. In each
 * window SQLite keeps the nearest offsets (ORDER BY offset LIMIT n). This is
 * exact when a file's event times do not go backwards as its offsets grow
 * (always for read times; parsed times that jump back can hide a neighbour
 * outside the window that found enough lines).
 */
import { eventIdStream, type Event } from "../../shared/event.ts";
import { BlockPartition } from "./block-partition.ts";
import type { StoredRow } from "./partition.ts";
import { storedEvent } from "./search.ts";
import { DAY_MS, type SearchIndex } from "./search-index.ts";
import { keywordCondition } from "./translate.ts";

/** The first time window on each side of the event. */
export const CONTEXT_WINDOW_FIRST_MS = 1000;
/** Each next window is this many times wider. */
export const CONTEXT_WINDOW_GROWTH = 8;

export interface ContextRequest {
  tenant: string;
  id: string;
  before: number;
  after: number;
}

export interface EventContext {
  event: Event;
  /** In offset order, the nearest last. */
  before: Event[];
  /** In offset order, the nearest first. */
  after: Event[];
}

/** The event and its neighbours; undefined when the tenant's index has no event with that id. */
export function eventContext(index: SearchIndex, request: ContextRequest): EventContext | undefined {
  const partitions = index.partitions(request.tenant, undefined, undefined, "desc");
  let match: StoredRow | undefined;
  for (const ref of partitions) {
    const partition = index.partition(ref.file, false);
    match = partition instanceof BlockPartition ? partition.eventById(request.id) : partition.select("SELECT * FROM events WHERE id = ?", [request.id])[0];
    if (match !== undefined) break;
  }
  const newest = partitions[0];
  const oldest = partitions.at(-1);
  if (match === undefined || newest === undefined || oldest === undefined) return undefined;
  const span = { sinceMs: oldest.dayStartMs, untilMs: newest.dayStartMs + DAY_MS };
  return {
    event: storedEvent(match),
    before: neighbours(index, request.tenant, match, request.before, "before", span).reverse(),
    after: neighbours(index, request.tenant, match, request.after, "after", span),
  };
}

/** Up to `count` rows of `match`'s file nearest to it on one side, nearest first. */
function neighbours(index: SearchIndex, tenant: string, match: StoredRow, count: number, side: "before" | "after", span: { sinceMs: number; untilMs: number }): Event[] {
  if (count === 0) return [];
  const stream = eventIdStream(match.id);
  const nearer = (a: StoredRow, b: StoredRow): number => (side === "before" ? b.offset - a.offset : a.offset - b.offset);
  // Version 4 partitions answer at once, each its nearest `count`.
  const blockRows: StoredRow[] = [];
  for (const ref of index.partitions(tenant, undefined, undefined, "asc")) {
    const partition = index.partition(ref.file, false);
    if (partition instanceof BlockPartition) blockRows.push(...partition.neighbours(match, count, side));
  }
  for (let windowMs = CONTEXT_WINDOW_FIRST_MS; ; windowMs *= CONTEXT_WINDOW_GROWTH) {
    // [sinceMs, untilMs): the event's own time is on both sides (lines of one ms).
    const sinceMs = side === "before" ? match.time - windowMs : match.time;
    const untilMs = side === "before" ? match.time + 1 : match.time + windowMs + 1;
    const rows: StoredRow[] = [...blockRows];
    for (const ref of index.partitions(tenant, sinceMs, untilMs, "asc")) {
      const partition = index.partition(ref.file, false);
      if (partition instanceof BlockPartition) continue;
      const file = keywordCondition({ sql: "host = ? AND path = ?", parameters: [match.host, match.path] }, partition.keywords);
      rows.push(
        ...partition.select(
          `SELECT * FROM events WHERE ${file.sql} AND substr(id, 1, ?) = ? AND time >= ? AND time < ? AND offset ${side === "before" ? "<" : ">"} ? ORDER BY offset ${side === "before" ? "DESC" : "ASC"} LIMIT ?`,
          [...file.parameters, stream.length, stream, sinceMs, untilMs, match.offset, count],
        ),
      );
    }
    rows.sort(nearer);
    const covered = side === "before" ? sinceMs <= span.sinceMs : untilMs >= span.untilMs;
    if (rows.length >= count || covered) return rows.slice(0, count).map(storedEvent);
  }
}
