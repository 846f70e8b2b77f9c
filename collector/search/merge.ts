/**
 * The pure half of the cluster search (cluster.ts, docs/SEARCH.md "Cluster
 * search"): combining the pages and histograms that several collectors
 * answered for one request into the one answer the caller gets.
 *
 * Search pages. Every node orders its events by (time, id) and its cursor
 * is the (time, id) of the last row it read (search.ts), so a position is
 * meaningful on every node: any of them can resume strictly after it. The
 * merged page therefore needs no per-node state in its cursor:
 *
 *   - A node that answered with a cursor has told us every match up to
 *     that position and nothing beyond it; a node with `cursor: null` has
 *     told us every match it has. The *frontier* is the earliest (in the
 *     requested order) of the cursors: up to it every node's matches are
 *     known, beyond it some are not.
 *   - The events up to the frontier, sorted by (time, id) in the requested
 *     order and with each id kept once (the same event stored on two
 *     collectors), are the merged page, cut at `limit`.
 *   - The merged cursor is the position of the last event kept when the
 *     cut dropped some, else the frontier (null when every node is
 *     exhausted). Either way it lies strictly after the request's cursor
 *     (every node that answered with a cursor read a row past it), so paging
 *     always progresses, and the next page, asked of every node from that
 *     position, neither repeats nor skips an event.
 *
 * Ids are compared in code point order, which is how SQLite's BINARY
 * collation orders the UTF-8 text the index holds (JavaScript's `<`
 * compares UTF-16 units and differs past U+FFFF).
 *
 * Histograms. Every node counts the same buckets (the bucket size is derived
 * from the range, and the coordinator sends every node the same absolute
 * range), so the merged histogram sums the counts per bucket; it is complete
 * only when every node's count is, and then counted_since is the newest of
 * the incomplete nodes' (older buckets are undercounted somewhere).
 */
import type { Event } from "../../shared/event.ts";
import type { HistogramResult } from "./histogram.ts";
import type { Position } from "./search.ts";

export type Order = "desc" | "asc";

/** An event with its place in (time, id) order. */
export interface PositionedEvent {
  event: Event;
  position: Position;
}

/** What one node answered: its matches (in any order) and where it stopped (null: it has nothing more). */
export interface SourcePage {
  events: readonly PositionedEvent[];
  cursor: Position | null;
}

export interface MergedPage {
  events: Event[];
  /** Where the next page starts on every node; null when every node is exhausted. */
  cursor: Position | null;
  /** Copies of an id already on the page (the same event on several nodes), dropped. */
  duplicates: number;
}

/** Code point order of two strings (= byte order of their UTF-8, SQLite's BINARY collation). */
export function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let index = 0; index < length; index++) {
    const x = a.charCodeAt(index);
    const y = b.charCodeAt(index);
    if (x === y) continue;
    // A surrogate starts a code point past U+FFFF, which sorts after every unit that is not one.
    const xSurrogate = x >= 0xd800 && x <= 0xdfff;
    const ySurrogate = y >= 0xd800 && y <= 0xdfff;
    if (xSurrogate !== ySurrogate) return xSurrogate ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

/** Negative when `a` comes first in `order`, 0 when equal, positive when `b` does. */
export function comparePositions(a: Position, b: Position, order: Order): number {
  const ascending = a.timeMs !== b.timeMs ? a.timeMs - b.timeMs : compareCodePoints(a.id, b.id);
  return order === "asc" ? ascending : -ascending;
}

/** One page of the union of the nodes' pages: see the module comment. */
export function mergePages(pages: readonly SourcePage[], limit: number, order: Order): MergedPage {
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`limit must be a positive integer; got ${limit}`);
  let frontier: Position | null = null;
  for (const page of pages) {
    if (page.cursor !== null && (frontier === null || comparePositions(page.cursor, frontier, order) < 0)) frontier = page.cursor;
  }
  const known = pages.flatMap((page) => page.events).filter((item) => frontier === null || comparePositions(item.position, frontier, order) <= 0);
  known.sort((a, b) => comparePositions(a.position, b.position, order));
  const seen = new Set<string>();
  const kept: PositionedEvent[] = [];
  let duplicates = 0;
  for (const item of known) {
    if (seen.has(item.event.id)) {
      duplicates++;
      continue;
    }
    seen.add(item.event.id);
    kept.push(item);
  }
  if (kept.length > limit) {
    const page = kept.slice(0, limit);
    return { events: page.map((item) => item.event), cursor: (page[limit - 1] as PositionedEvent).position, duplicates };
  }
  return { events: kept.map((item) => item.event), cursor: frontier, duplicates };
}

/**
 * The sum of histograms counted over the same range by several nodes.
 * Throws RangeError when one does not have the first's buckets (a node that
 * chose its buckets differently cannot be added bucket by bucket).
 */
export function mergeHistograms(histograms: readonly HistogramResult[]): HistogramResult {
  const first = histograms[0];
  if (first === undefined) throw new RangeError("there is no histogram to merge");
  const merged: HistogramResult = { bucketMs: first.bucketMs, buckets: first.buckets.map((bucket) => ({ ...bucket })), complete: true };
  const byTime = new Map(merged.buckets.map((bucket) => [bucket.timeMs, bucket]));
  histograms.forEach((histogram, index) => {
    if (histogram.bucketMs !== first.bucketMs || histogram.buckets.length !== first.buckets.length) {
      throw new RangeError(`histogram ${index} has ${histogram.buckets.length} buckets of ${histogram.bucketMs} ms, not ${first.buckets.length} of ${first.bucketMs} ms`);
    }
    if (index > 0) {
      for (const bucket of histogram.buckets) {
        const target = byTime.get(bucket.timeMs);
        if (target === undefined) throw new RangeError(`histogram ${index} has a bucket at ${bucket.timeMs}, which the others do not`);
        target.count += bucket.count;
      }
    }
    if (!histogram.complete) {
      const { countedSinceMs } = histogram;
      if (countedSinceMs === undefined) throw new RangeError(`histogram ${index} is incomplete without saying since when it counted`);
      merged.complete = false;
      merged.countedSinceMs = Math.max(merged.countedSinceMs ?? countedSinceMs, countedSinceMs);
    }
  });
  return merged;
}
