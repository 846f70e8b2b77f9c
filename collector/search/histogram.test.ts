import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FIXTURE_EVENTS } from "../../shared/query/fixture-events.ts";
import { QUERY_TABLE } from "../../shared/query/fixture-queries.ts";
import { compileQuery, parseQuery } from "../../shared/query/index.ts";
import { bucketSize, histogramIndex } from "./histogram.ts";
import { SearchIndex } from "./search-index.ts";
import { exactTranslation } from "./translate.ts";
import { createVersion3Partitions } from "../testing/partition-v3.ts";

const SINCE_MS = Date.parse("2026-11-28T23:00:00Z");
const UNTIL_MS = Date.parse("2026-11-30T01:00:00Z");

/** The partition formats the counts are checked on: the current one (4, blocks) and version 3 (a row per event, SQL counts). */
const FORMATS = ["current", "version 3"] as const;

async function fixtureIndex(t: { after: (fn: () => Promise<void>) => void }, format: (typeof FORMATS)[number]): Promise<SearchIndex> {
  const directory = mkdtempSync(join(tmpdir(), "logship-histogram-"));
  const index = new SearchIndex({ directory });
  if (format === "version 3") createVersion3Partitions(directory, "default", FIXTURE_EVENTS);
  t.after(async () => {
    await index.close();
    rmSync(directory, { recursive: true, force: true });
  });
  await index.write("default", FIXTURE_EVENTS);
  return index;
}

/** Expected counts per bucket start: the fixture events with these ids, by time. */
function expectedBuckets(ids: readonly string[], bucketMs: number): Map<number, number> {
  const counts = new Map<number, number>();
  for (const event of FIXTURE_EVENTS) {
    if (!ids.includes(event.id)) continue;
    const timeMs = Date.parse(event.time);
    const bucket = timeMs - (timeMs % bucketMs);
    counts.set(bucket, (counts.get(bucket) ?? 0) + 1);
  }
  return counts;
}

test("bucket sizes: the smallest round size giving at most 60 buckets, then whole days", () => {
  const cases: [number, number][] = [
    [1, 1000],
    [60_000, 1000],
    [61_000, 5000],
    [15 * 60_000, 30_000],
    [60 * 60_000, 60_000],
    [24 * 3_600_000, 30 * 60_000],
    [7 * 86_400_000, 3 * 3_600_000],
    [60 * 86_400_000, 86_400_000],
    [90 * 86_400_000, 2 * 86_400_000],
  ];
  for (const [rangeMs, bucketMs] of cases) assert.equal(bucketSize(rangeMs), bucketMs, `range ${rangeMs} ms`);
});

for (const format of FORMATS) test(`histogram counts per bucket equal the evaluator's matches per bucket for every query of the query table, by SQL where it is exact and by the evaluator elsewhere (${format} partitions)`, async (t) => {
  const index = await fixtureIndex(t, format);
  let exact = 0;
  for (const [text, ids] of QUERY_TABLE) {
    const query = parseQuery(text);
    if (exactTranslation(query, "sources") !== undefined) exact++;
    assert.equal(exactTranslation(query, "columns") === undefined, exactTranslation(query, "sources") === undefined, `query ${JSON.stringify(text)}: exact with one keyword lookup only`);
    const result = histogramIndex(index, { tenant: "default", query, sinceMs: SINCE_MS, untilMs: UNTIL_MS });
    assert.equal(result.bucketMs, 30 * 60_000);
    assert.equal(result.complete, true);
    assert.equal(result.buckets.length, 52, "26 hours of 30 minutes, every bucket present");
    assert.equal(result.buckets[0]?.timeMs, SINCE_MS);
    const expected = expectedBuckets(ids, result.bucketMs);
    const got = new Map(result.buckets.filter((bucket) => bucket.count > 0).map((bucket) => [bucket.timeMs, bucket.count]));
    assert.deepEqual(got, expected, `query ${JSON.stringify(text)}`);
  }
  // Both ways of counting ran.
  assert.ok(exact > 10 && exact < QUERY_TABLE.length, `${exact} of ${QUERY_TABLE.length} queries exact in SQL`);
});

for (const format of FORMATS) test(`histogram: the range bounds count (since inclusive, until exclusive); a bucket may start before since; an evaluator scan cut at scanRowsMax says how far it counted (${format} partitions)`, async (t) => {
  const index = await fixtureIndex(t, format);
  const all = parseQuery("");
  // e02 at 10:00:00.000 is in [10:00, 10:05); e05 at 10:05:00.000 is not.
  const narrow = histogramIndex(index, { tenant: "default", query: all, sinceMs: Date.parse("2026-11-29T10:00:00Z"), untilMs: Date.parse("2026-11-29T10:05:00Z") });
  assert.equal(narrow.bucketMs, 5000);
  assert.equal(narrow.buckets.reduce((sum, bucket) => sum + bucket.count, 0), 3, "e02, e03, e04");
  // 1 s buckets; the first starts at 10:00:01, before since, and does not count e03 at 10:00:01.500.
  const shifted = histogramIndex(index, { tenant: "default", query: all, sinceMs: Date.parse("2026-11-29T10:00:01.600Z"), untilMs: Date.parse("2026-11-29T10:01:00Z") });
  assert.equal(shifted.bucketMs, 1000);
  assert.deepEqual(shifted.buckets.slice(0, 2), [
    { timeMs: Date.parse("2026-11-29T10:00:01Z"), count: 0 },
    { timeMs: Date.parse("2026-11-29T10:00:02Z"), count: 1 },
  ]);

  const regex = parseQuery("/o/");
  assert.equal(exactTranslation(regex, "sources"), undefined);
  const cut = histogramIndex(index, { tenant: "default", query: regex, sinceMs: SINCE_MS, untilMs: UNTIL_MS, scanRowsMax: 3 });
  assert.equal(cut.complete, false);
  // Newest first: e20, e19, e18 were read.
  assert.equal(cut.countedSinceMs, Date.parse("2026-11-29T13:00:00Z"));
  assert.equal(cut.buckets.reduce((sum, bucket) => sum + bucket.count, 0), 3);
  assert.throws(() => histogramIndex(index, { tenant: "default", query: all, sinceMs: UNTIL_MS, untilMs: UNTIL_MS }), RangeError);
});

for (const format of FORMATS) test(`histogram counted bucket by bucket (exact SQL without full text): a bucket of one or more days counts only the part of each day partition inside the range (${format} partitions)`, async (t) => {
  const index = await fixtureIndex(t, format);
  const ranges = [
    // About 90 days, 2-day buckets; until cuts 2026-11-29 at noon (e14…e19 and e20's partition are out).
    { sinceMs: Date.parse("2026-09-01T06:00:00Z"), untilMs: Date.parse("2026-11-29T12:00:00Z"), bucketMs: 2 * 86_400_000 },
    // 60 days, 1-day buckets; since cuts 2026-11-29 at 10:00 (e10, e01 of that day's partition are out).
    { sinceMs: Date.parse("2026-11-29T10:00:00Z"), untilMs: Date.parse("2027-01-28T10:00:00Z"), bucketMs: 86_400_000 },
  ];
  for (const { sinceMs, untilMs, bucketMs } of ranges) {
    for (const text of ["", "host:web-1", "NOT source:app"]) {
      const query = parseQuery(text);
      const condition = exactTranslation(query, "sources");
      assert.ok(condition !== undefined && !condition.sql.includes("events_text"), `${text} is counted bucket by bucket`);
      const result = histogramIndex(index, { tenant: "default", query, sinceMs, untilMs });
      assert.equal(result.bucketMs, bucketMs);
      const matches = compileQuery(query);
      const ids = FIXTURE_EVENTS.filter((event) => Date.parse(event.time) >= sinceMs && Date.parse(event.time) < untilMs && matches(event)).map((event) => event.id);
      assert.ok(ids.length > 0);
      const got = new Map(result.buckets.filter((bucket) => bucket.count > 0).map((bucket) => [bucket.timeMs, bucket.count]));
      assert.deepEqual(got, expectedBuckets(ids, result.bucketMs), `query ${JSON.stringify(text)} from ${new Date(sinceMs).toISOString()}`);
    }
  }
});
