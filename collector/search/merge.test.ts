import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import type { Event } from "../../shared/event.ts";
import type { HistogramResult } from "./histogram.ts";
import { compareCodePoints, comparePositions, mergeHistograms, mergePages, type Order, type PositionedEvent, type SourcePage } from "./merge.ts";
import type { Position } from "./search.ts";

function event(timeMs: number, id: string): PositionedEvent {
  const item: Event = { id, time: new Date(timeMs).toISOString(), observed_time: new Date(timeMs).toISOString(), host: "h", source: "s", path: "/p", offset: 0, message: id, fields: {} };
  return { event: item, position: { timeMs, id } };
}

/** (time, id) order as SQLite sorts it (ids as UTF-8 bytes): the reference the merge must agree with. */
function sqliteOrder(a: Position, b: Position, order: Order): number {
  const ascending = a.timeMs !== b.timeMs ? a.timeMs - b.timeMs : Buffer.compare(Buffer.from(a.id, "utf8"), Buffer.from(b.id, "utf8"));
  return order === "asc" ? ascending : -ascending;
}

/**
 * A node as search.ts pages it: rows in (time, id) order, those strictly
 * after `after` read in order, at most `budget` rows per call; a page ends
 * at `limit` matches (cursor: the last row read) or at the budget (cursor:
 * the last row read), else the node is exhausted (cursor null).
 */
function nodePage(rows: readonly PositionedEvent[], matches: (id: string) => boolean, order: Order, after: Position | null, limit: number, budget: number): SourcePage {
  const sorted = [...rows].sort((a, b) => sqliteOrder(a.position, b.position, order));
  const events: PositionedEvent[] = [];
  let read = 0;
  let last: Position | null = null;
  for (const row of sorted) {
    if (after !== null && sqliteOrder(row.position, after, order) <= 0) continue;
    read++;
    last = row.position;
    if (matches(row.event.id)) events.push(row);
    if (events.length === limit) return { events, cursor: last };
    if (read === budget) return { events, cursor: last };
  }
  return { events, cursor: null };
}

/** Every page of the union of `nodes` through mergePages, each node asked from the merged cursor. */
function pageThrough(nodes: readonly (readonly PositionedEvent[])[], matches: (id: string) => boolean, order: Order, limit: number, budget: number): { ids: string[]; pages: number } {
  const ids: string[] = [];
  let cursor: Position | null = null;
  let pages = 0;
  do {
    const merged = mergePages(nodes.map((rows) => nodePage(rows, matches, order, cursor, limit, budget)), limit, order);
    assert.ok(merged.events.length <= limit);
    if (cursor !== null && merged.cursor !== null) assert.ok(comparePositions(cursor, merged.cursor, order) < 0, "every page moves the cursor forward");
    ids.push(...merged.events.map((item) => item.id));
    cursor = merged.cursor;
    pages++;
    assert.ok(pages < 10_000, "paging ends");
  } while (cursor !== null);
  return { ids, pages };
}

test("paging through the union of several nodes with the merged cursor: every matching id once, in (time, id) order, whatever the limits, budgets and duplicates", () => {
  const row = fc.record({ timeMs: fc.integer({ min: 0, max: 20 }), id: fc.string({ unit: fc.constantFrom("a", "b", "c", "é", "\u{1F600}", "\uFFFD"), minLength: 1, maxLength: 3 }) });
  fc.assert(
    fc.property(
      fc.uniqueArray(row, { selector: (item) => item.id, maxLength: 60 }),
      fc.array(fc.array(fc.boolean(), { minLength: 60, maxLength: 60 }), { minLength: 1, maxLength: 4 }),
      fc.integer({ min: 1, max: 9 }),
      fc.integer({ min: 1, max: 12 }),
      fc.constantFrom<Order>("desc", "asc"),
      fc.integer({ min: 0, max: 2 }),
      (rows, placement, limit, budget, order, modulus) => {
        // Each row lives on the nodes whose flag is set (several: the same event stored twice; none: nowhere).
        const nodes = placement.map((flags) => rows.filter((_, index) => flags[index] === true).map((item) => event(item.timeMs, item.id)));
        const matches = (id: string): boolean => modulus === 0 || id.length % (modulus + 1) !== 0;
        const stored = new Map(nodes.flat().map((item) => [item.event.id, item]));
        const expected = [...stored.values()]
          .filter((item) => matches(item.event.id))
          .sort((a, b) => sqliteOrder(a.position, b.position, order))
          .map((item) => item.event.id);
        assert.deepEqual(pageThrough(nodes, matches, order, limit, budget).ids, expected);
      },
    ),
    { numRuns: 400 },
  );
});

test("mergePages: the same id on two nodes is kept once; a node that stopped early (its cursor) bounds the page; a cut at limit leaves the cursor on the last event kept", () => {
  // Node a has 1..4 (times 10, 20, 30, 40); node b has 20 (the same event) and 50; node c stopped at its budget after reading up to time 35.
  const a = { events: [event(10, "x1"), event(20, "x2"), event(30, "x3"), event(40, "x4")], cursor: null };
  const b = { events: [event(20, "x2"), event(50, "y5")], cursor: null };
  const c = { events: [event(15, "z1")], cursor: { timeMs: 35, id: "z9" } };
  const merged = mergePages([a, b, c], 10, "asc");
  assert.deepEqual(merged.events.map((item) => item.id), ["x1", "z1", "x2", "x3"]);
  assert.deepEqual([merged.cursor, merged.duplicates], [{ timeMs: 35, id: "z9" }, 1]);
  const cut = mergePages([a, b, c], 2, "asc");
  assert.deepEqual(cut.events.map((item) => item.id), ["x1", "z1"]);
  assert.deepEqual(cut.cursor, { timeMs: 15, id: "z1" });
  // Every node exhausted and nothing cut: no cursor, whatever the count.
  const done = mergePages([a, b], 5, "desc");
  assert.deepEqual([done.events.map((item) => item.id), done.cursor], [["y5", "x4", "x3", "x2", "x1"], null]);
  // Equal times are ordered by id, in both orders.
  const tie = mergePages([{ events: [event(7, "b"), event(7, "a")], cursor: null }, { events: [event(7, "c")], cursor: null }], 3, "desc");
  assert.deepEqual(tie.events.map((item) => item.id), ["c", "b", "a"]);
  assert.throws(() => mergePages([a], 0, "asc"), RangeError);
});

test("compareCodePoints orders like SQLite's BINARY collation over UTF-8 (JavaScript's < differs past U+FFFF)", () => {
  assert.ok("\u{1F600}" < "\uFFFD", "UTF-16 order puts the surrogate first");
  assert.ok(compareCodePoints("\u{1F600}", "\uFFFD") > 0);
  fc.assert(
    fc.property(fc.string({ unit: "binary" }), fc.string({ unit: "binary" }), (x, y) => {
      assert.equal(Math.sign(compareCodePoints(x, y)), Math.sign(Buffer.compare(Buffer.from(x, "utf8"), Buffer.from(y, "utf8"))));
    }),
  );
});

function histogram(counts: number[], complete = true, countedSinceMs?: number): HistogramResult {
  const result: HistogramResult = { bucketMs: 60_000, buckets: counts.map((count, index) => ({ timeMs: index * 60_000, count })), complete };
  if (countedSinceMs !== undefined) result.countedSinceMs = countedSinceMs;
  return result;
}

test("mergeHistograms sums per bucket; incomplete when any node is, counted since the newest of their counted_since; other buckets are refused", () => {
  assert.deepEqual(mergeHistograms([histogram([1, 0, 2]), histogram([3, 4, 0]), histogram([0, 0, 5])]), histogram([4, 4, 7]));
  assert.deepEqual(mergeHistograms([histogram([1, 1, 1], false, 60_000), histogram([1, 1, 1]), histogram([1, 1, 1], false, 120_000)]), histogram([3, 3, 3], false, 120_000));
  assert.throws(() => mergeHistograms([histogram([1, 2]), histogram([1, 2, 3])]), /histogram 1 has 3 buckets/);
  assert.throws(() => mergeHistograms([histogram([1]), { ...histogram([1]), bucketMs: 1000 }]), RangeError);
  assert.throws(() => mergeHistograms([histogram([1]), histogram([1], false)]), /incomplete/);
  assert.throws(() => mergeHistograms([]), RangeError);
});
