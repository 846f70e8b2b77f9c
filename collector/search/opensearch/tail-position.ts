/**
 * Positions of the OpenSearch live tail (tail.ts) and the search that reads
 * after one: pure, so the cursor rules are unit-tested without a cluster.
 *
 * A position is a point in the order (indexed_at, id) of the documents the
 * opensearch sinks of every collector write (collector/opensearch/
 * documents.ts): `<ms>-<id>` after the event with that stamp and id, or
 * `<ms>` alone, which is (ms, ""): before every document stamped ms, after
 * every one stamped earlier. The id is percent-encoded (encodeURIComponent),
 * so any id fits on an SSE `id:` line. Every collector of a cluster writes
 * into the same order, so a position from one collector resumes on another.
 *
 * The tail reads only what has settled: documents stamped at most the
 * horizon, `now − settleMs`, on the reading collector's clock. A document
 * is assumed searchable by then (refresh interval + bulk time + clock
 * spread between collectors); reading in that order up to a horizon that
 * only moves forward is what makes every position a complete cut: all
 * matching events up to it were sent, none after it.
 */
import { SearchRequestError } from "../errors.ts";
import type { TailPosition } from "../tail.ts";
import type { OpenSearchQuery } from "./translate.ts";

export interface StampPosition {
  indexedAtMs: number;
  /** "" before every id of that ms. */
  id: string;
}

/** A position's text at most (an id of up to ~1,000 characters, percent-encoded). */
const POSITION_CHARS_MAX = 4096;

export function formatStampPosition(position: StampPosition): string {
  return position.id === "" ? String(position.indexedAtMs) : `${position.indexedAtMs}-${encodeURIComponent(position.id)}`;
}

/** A position the OpenSearch tail sent; anything else is 400 LOGSHIP_SEARCH_REQUEST naming where it came from. */
export function parseStampPosition(position: TailPosition): StampPosition {
  const refuse = (): SearchRequestError =>
    new SearchRequestError("LOGSHIP_SEARCH_REQUEST", `${position.name}: expected a position the tail sent (milliseconds, optionally "-" and an event id); got ${JSON.stringify(position.text.slice(0, 100))}`);
  const match = position.text.length <= POSITION_CHARS_MAX ? /^(\d{1,15})(?:-(.+))?$/s.exec(position.text) : null;
  if (match === null) throw refuse();
  const indexedAtMs = Number(match[1]);
  const encoded = match[2] ?? "";
  let id: string;
  try {
    id = decodeURIComponent(encoded);
  } catch (error) {
    if (error instanceof URIError) throw refuse();
    throw error;
  }
  if (encoded !== "" && (id === "" || encodeURIComponent(id) !== encoded)) throw refuse();
  return { indexedAtMs, id };
}

/** Compares positions in (indexed_at, id) order, ids by code point as OpenSearch sorts keywords. */
export function compareStampPositions(a: StampPosition, b: StampPosition): number {
  if (a.indexedAtMs !== b.indexedAtMs) return a.indexedAtMs - b.indexedAtMs;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** Where a read up to `horizonMs` leaves the tail once it returned fewer hits than it asked for: past every stamp up to the horizon. */
export function settledPosition(horizonMs: number): StampPosition {
  return { indexedAtMs: horizonMs + 1, id: "" };
}

/**
 * Where one read leaves the tail: at the last hit of a full read (more may
 * follow it), else past the horizon (everything up to it was read); never
 * behind where it was (a horizon behind the position: a clock set back).
 */
export function positionAfterRead(current: StampPosition, read: { lastHit: StampPosition | undefined; full: boolean; horizonMs: number }): StampPosition {
  const reached = read.full && read.lastHit !== undefined ? read.lastHit : settledPosition(read.horizonMs);
  return compareStampPositions(reached, current) > 0 ? reached : current;
}

/** The `_search` body of one read: the tenant's documents matching `query` strictly after `after`, stamped up to `horizonMs`, in position order. */
export function tailSearchBody(options: { tenant: string; query: OpenSearchQuery; after: StampPosition; horizonMs: number; size: number }): Record<string, unknown> {
  const { after } = options;
  return {
    size: options.size,
    track_total_hits: false,
    query: {
      bool: {
        filter: [{ term: { tenant: options.tenant } }, { range: { indexed_at: { gte: after.indexedAtMs, lte: options.horizonMs, format: "epoch_millis" } } }, options.query],
      },
    },
    // An index of mapping version 2 has no indexed_at: unmapped_type lets its shards answer (with none of its documents, which the range leaves out) instead of failing the poll.
    sort: [{ indexed_at: { order: "asc", unmapped_type: "date" } }, { id: { order: "asc" } }],
    search_after: [after.indexedAtMs, after.id],
  };
}
