import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import fc from "fast-check";
import { formatTime, type Event } from "../../shared/event.ts";
import { FIXTURE_EVENTS } from "../../shared/query/fixture-events.ts";
import { QUERY_TABLE } from "../../shared/query/fixture-queries.ts";
import { compileQuery, parseQuery, type Query } from "../../shared/query/index.ts";
import { IndexError } from "./errors.ts";
import { openPartition } from "./partition.ts";
import { DAY_MS, SearchIndex } from "./search-index.ts";
import { searchIndex, type SearchRequest } from "./search.ts";
import { translateQuery } from "./translate.ts";
import { createVersion2Partitions } from "../testing/partition-v2.ts";
import { createVersion3Partitions } from "../testing/partition-v3.ts";
import { blockFilter } from "./block-filter.ts";
import { BlockPartition } from "./block-partition.ts";

function temporaryDirectory(t: { after: (fn: () => Promise<void> | void) => void }): string {
  const directory = mkdtempSync(join(tmpdir(), "logship-search-"));
  t.after(() => rmSync(directory, { recursive: true, force: true }));
  return directory;
}

type Format = "current" | "version 3" | "version 2";

/** The fixture events indexed into partitions of the current format (4), or into version 3 or 2 partitions (partition-schema.ts), which stay searchable and writable. */
async function fixtureIndex(t: { after: (fn: () => Promise<void> | void) => void }, format: Format = "current"): Promise<SearchIndex> {
  const index = new SearchIndex({ directory: temporaryDirectory(t) });
  t.after(() => index.close());
  if (format === "version 2") createVersion2Partitions(index.directory, "default", FIXTURE_EVENTS);
  if (format === "version 3") createVersion3Partitions(index.directory, "default", FIXTURE_EVENTS);
  const written = await index.write("default", FIXTURE_EVENTS);
  assert.deepEqual(written, { added: FIXTURE_EVENTS.length, duplicates: 0, refused: [] });
  for (const ref of index.partitions("default", undefined, undefined, "asc")) {
    const partition = index.partition(ref.file, false);
    const found = partition instanceof BlockPartition ? "current" : partition.keywords === "sources" ? "version 3" : "version 2";
    assert.equal(found, format);
  }
  return index;
}

/** Every page of a search, in order. */
function searchAll(index: SearchIndex, request: Omit<SearchRequest, "cursor">): { events: Event[]; pages: number } {
  const events: Event[] = [];
  let cursor: string | null | undefined;
  let pages = 0;
  do {
    const page = searchIndex(index, { ...request, ...(cursor === undefined || cursor === null ? {} : { cursor }) });
    events.push(...page.events);
    cursor = page.cursor;
    pages++;
  } while (cursor !== null);
  return { events, pages };
}

/** Fixture ids in fixture order. */
function fixtureOrder(ids: Iterable<string>): string[] {
  const set = new Set(ids);
  return FIXTURE_EVENTS.map((event) => event.id).filter((id) => set.has(id));
}

function indexIds(index: SearchIndex, query: Query): string[] {
  return fixtureOrder(searchAll(index, { tenant: "default", query, limit: 7 }).events.map((event) => event.id));
}

/** The rows translateQuery's SQL alone (versions 2 and 3), or the block filter (version 4), selects before the evaluator, over every partition. */
function candidateIds(index: SearchIndex, query: Query): string[] {
  const ids = index.partitions("default", undefined, undefined, "asc").flatMap((ref) => {
    const partition = index.partition(ref.file, false);
    if (partition instanceof BlockPartition) return [...partition.rows(blockFilter(query, false), undefined, undefined, "asc", undefined, Number.MAX_SAFE_INTEGER)].map((row) => row.id);
    const condition = translateQuery(query, partition.keywords);
    return partition.select(`SELECT * FROM events WHERE ${condition.sql}`, condition.parameters).map((row) => row.id);
  });
  return fixtureOrder(ids);
}

const FORMATS = ["current", "version 3", "version 2"] as const;
/** The formats with SQL per event (translate.ts). */
const SQL_FORMATS = ["version 3", "version 2"] as const;

for (const format of FORMATS) test(`the query table of shared/query (${format} partitions): the index returns exactly the ids the evaluator matches, and its SQL alone never selects fewer`, async (t) => {
  const index = await fixtureIndex(t, format);
  for (const [text, expected] of QUERY_TABLE) {
    const query = parseQuery(text);
    assert.deepEqual(indexIds(index, query), expected, `query ${JSON.stringify(text)}`);
    const candidates = candidateIds(index, query);
    assert.ok(
      expected.every((id) => candidates.includes(id)),
      `query ${JSON.stringify(text)}: SQL selected ${candidates.join(",")}, missing some of ${expected.join(",")}`,
    );
  }
});

for (const format of SQL_FORMATS) test(`SQL alone is exact where SQLite can say it (FTS5 tokens, phrases, prefixes, keyword columns, ranges, exists, NOT over them; ${format} partitions)`, async (t) => {
  const index = await fixtureIndex(t, format);
  const exact = [
    "timeout",
    '"connection reset"',
    "time*",
    "日本*",
    "db-1",
    "connection -timeout",
    "NOT connection",
    "host:web-1",
    "host:web-*",
    "NOT host:web-*",
    "source:app OR stream:default",
    "host:web-1 -path:\\/var/log/nginx/*",
    "id:e1?",
    "path:\\/var/log/app/*",
    "level:error",
    "level:(error OR fatal)",
    "tags:billing",
    "http.status:200",
    "fields.http.status:>=500",
    "status:>=500",
    "status:[400 TO 499]",
    "-level:*",
    "NOT level:info",
    "offset:>=1048576",
    "time:[2026-11-29 TO 2026-11-30}",
    "truncated:true",
    "-truncated:*",
  ];
  for (const text of exact) {
    const query = parseQuery(text);
    const expected = fixtureOrder(FIXTURE_EVENTS.filter((event) => compileQuery(query)(event)).map((event) => event.id));
    assert.deepEqual(candidateIds(index, query), expected, `query ${JSON.stringify(text)}`);
  }
});

for (const format of FORMATS) test(`random combinations (AND, OR, NOT, nested) of the table's clauses: index and evaluator agree (${format} partitions)`, async (t) => {
  const index = await fixtureIndex(t, format);
  const clauses = QUERY_TABLE.map(([text]) => text).filter((text) => text !== "");
  const leaf = fc.constantFrom(...clauses).map((text) => parseQuery(text));
  const { tree } = fc.letrec<{ tree: Query }>((tie) => ({
    tree: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      leaf,
      fc.array(tie("tree"), { minLength: 2, maxLength: 3 }).map((clauses): Query => ({ kind: "and", clauses })),
      fc.array(tie("tree"), { minLength: 2, maxLength: 3 }).map((clauses): Query => ({ kind: "or", clauses })),
      tie("tree").map((clause): Query => ({ kind: "not", clause })),
    ),
  }));
  fc.assert(
    fc.property(tree, (query) => {
      const expected = fixtureOrder(FIXTURE_EVENTS.filter((event) => compileQuery(query)(event)).map((event) => event.id));
      assert.deepEqual(indexIds(index, query), expected);
    }),
    { numRuns: 300 },
  );
});

test("idempotent: indexing the same events twice (and in another order) keeps one copy of each", async (t) => {
  const index = await fixtureIndex(t);
  assert.deepEqual(await index.write("default", [...FIXTURE_EVENTS].reverse()), { added: 0, duplicates: FIXTURE_EVENTS.length, refused: [] });
  const ids = searchAll(index, { tenant: "default", query: parseQuery("*"), limit: 1000 }).events.map((event) => event.id);
  assert.equal(ids.length, FIXTURE_EVENTS.length);
  assert.equal(new Set(ids).size, FIXTURE_EVENTS.length);
  // Full text found once too: the FTS row is added only with a new event row.
  assert.deepEqual(indexIds(index, parseQuery("timeout")), ["e05", "e08", "e11"]);
});

test("events come back as they were indexed; each tenant and each UTC day has its own file", async (t) => {
  const index = await fixtureIndex(t);
  await index.write("payments", [FIXTURE_EVENTS[0] as Event]);
  const found = searchAll(index, { tenant: "default", query: parseQuery("*"), limit: 100, order: "asc" }).events;
  const byId = new Map(found.map((event) => [event.id, event]));
  for (const event of FIXTURE_EVENTS) assert.deepEqual(byId.get(event.id), event);
  assert.deepEqual(readdirSync(join(index.directory, "default")).filter((name) => name.endsWith(".db")).sort(), ["2026-11-28.db", "2026-11-29.db", "2026-11-30.db"]);
  assert.deepEqual(readdirSync(join(index.directory, "payments")).filter((name) => name.endsWith(".db")), ["2026-11-29.db"]);
  assert.deepEqual(
    searchAll(index, { tenant: "payments", query: parseQuery("*"), limit: 100 }).events.map((event) => event.id),
    ["e01"],
  );
  assert.deepEqual(searchAll(index, { tenant: "nobody", query: parseQuery("*"), limit: 100 }).events, []);
});

test("partition pruning: a query for one day opens that day's file only; a desc search that fills its page in the newest day opens no other", async (t) => {
  const directory = temporaryDirectory(t);
  const writer = new SearchIndex({ directory });
  await writer.write("default", FIXTURE_EVENTS);
  writer.close();
  const opened: string[] = [];
  const index = new SearchIndex({
    directory,
    openPartition: (file, create) => {
      opened.push(basename(file));
      return openPartition(file, create);
    },
  });
  t.after(() => index.close());
  const dayStartMs = Date.parse("2026-11-29T00:00:00Z");
  const day = searchAll(index, { tenant: "default", query: parseQuery("timeout OR healthz"), sinceMs: dayStartMs + 3_600_000, untilMs: dayStartMs + 12 * 3_600_000, limit: 100 });
  assert.deepEqual(opened, ["2026-11-29.db"]);
  assert.deepEqual(day.events.map((event) => event.id), ["e11", "e08", "e05", "e01"]);

  opened.length = 0;
  const newest = searchIndex(index, { tenant: "default", query: parseQuery("*"), limit: 1 });
  assert.deepEqual(newest.events.map((event) => event.id), ["e20"]);
  assert.deepEqual(opened, ["2026-11-30.db"]);
});

test("time bounds: since is inclusive, until exclusive, in ms", async (t) => {
  const index = await fixtureIndex(t);
  const at = Date.parse("2026-11-29T10:00:00.000Z");
  const ids = (sinceMs: number, untilMs: number): string[] =>
    searchAll(index, { tenant: "default", query: parseQuery("*"), sinceMs, untilMs, limit: 100, order: "asc" }).events.map((event) => event.id);
  assert.deepEqual(ids(at, at + 1), ["e02"]);
  assert.deepEqual(ids(at + 1, at + 1501), ["e03"]);
  assert.deepEqual(ids(at - 1_881, at), ["e01"]);
});

/** 10,000 events over three days; every 7th shares its time with the next (ties broken by id), every 3rd says "even". */
/** `count` events (a prime stride keeps ids unique and unordered while count is not a multiple of 7919), some sharing a time. */
function manyEvents(count = 10_000, msPerStep = 100_000): Event[] {
  const startMs = Date.parse("2026-03-01T20:00:00Z");
  return Array.from({ length: count }, (_, index): Event => {
    const timeMs = startMs + Math.floor(index / 7) * msPerStep + (index % 7 === 6 ? 0 : index % 7);
    return {
      id: `id-${(index * 7919) % count}`.padEnd(12, "x"),
      time: formatTime(timeMs),
      observed_time: formatTime(timeMs),
      host: `web-${index % 5}`,
      source: "app",
      path: "/var/log/app.log",
      offset: index * 100,
      message: `request ${index} ${index % 3 === 0 ? "even" : "odd"}`,
      fields: { n: index },
    };
  });
}

test("cursor paging through 10,000 events over three days, both orders, with and without a filter: no gaps, no repeats", async (t) => {
  const index = new SearchIndex({ directory: temporaryDirectory(t) });
  t.after(() => index.close());
  const events = manyEvents();
  for (let start = 0; start < events.length; start += 5000) await index.write("default", events.slice(start, start + 5000));
  assert.equal(index.partitions("default", undefined, undefined, "asc").length, 3);
  const sortKey = (event: Event): string => `${event.time} ${event.id}`;
  const ascending = [...events].sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : 1)).map((event) => event.id);
  for (const order of ["asc", "desc"] as const) {
    const wanted = order === "asc" ? ascending : [...ascending].reverse();
    const all = searchAll(index, { tenant: "default", query: parseQuery("*"), limit: 337, order });
    assert.deepEqual(all.events.map((event) => event.id), wanted, `order ${order}`);
    assert.equal(all.pages, Math.ceil(events.length / 337));

    const even = new Set(events.filter((event) => event.message.endsWith("even")).map((event) => event.id));
    const filtered = searchAll(index, { tenant: "default", query: parseQuery("even -odd"), limit: 250, order });
    assert.deepEqual(filtered.events.map((event) => event.id), wanted.filter((id) => even.has(id)), `order ${order}, filtered`);

    // A small read budget: pages stop early (some empty) but still chain without gaps.
    const regex = searchAll(index, { tenant: "default", query: parseQuery("/ [0-9]*5 even$/"), limit: 100, order, scanRowsMax: 450 });
    const regexWanted = wanted.filter((id) => compileQuery(parseQuery("/ [0-9]*5 even$/"))(events.find((event) => event.id === id) as Event));
    assert.deepEqual(regex.events.map((event) => event.id), regexWanted, `order ${order}, regex with a read budget`);
    assert.ok(regex.pages >= Math.ceil(events.length / 450), `order ${order}: the budget bounded each call (${regex.pages} pages)`);
  }
});

test("cursor paging through 100,000 results, both orders: every event once, in order", async (t) => {
  const index = new SearchIndex({ directory: temporaryDirectory(t) });
  t.after(() => index.close());
  // Over about a day and a half, so the pages cross partitions too.
  const events = manyEvents(100_000, 9_000);
  for (let start = 0; start < events.length; start += 10_000) await index.write("default", events.slice(start, start + 10_000));
  assert.ok(index.partitions("default", undefined, undefined, "asc").length >= 2);
  const sortKey = (event: Event): string => `${event.time} ${event.id}`;
  const ascending = [...events].sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : 1)).map((event) => event.id);
  for (const order of ["asc", "desc"] as const) {
    const all = searchAll(index, { tenant: "default", query: parseQuery("request"), limit: 1000, order });
    assert.equal(all.events.length, 100_000, `order ${order}: every result once`);
    assert.deepEqual(all.events.map((event) => event.id), order === "asc" ? ascending : [...ascending].reverse(), `order ${order}: no gap, no repeat, in order`);
  }
});

test("a cursor from another order, or not from the index, is refused with LOGSHIP_INDEX_CURSOR", async (t) => {
  const index = await fixtureIndex(t);
  const page = searchIndex(index, { tenant: "default", query: parseQuery("*"), limit: 2 });
  assert.ok(page.cursor !== null);
  assert.throws(() => searchIndex(index, { tenant: "default", query: parseQuery("*"), limit: 2, order: "asc", cursor: page.cursor as string }), (error: unknown) => error instanceof IndexError && error.code === "LOGSHIP_INDEX_CURSOR");
  assert.throws(() => searchIndex(index, { tenant: "default", query: parseQuery("*"), limit: 2, cursor: "not-a-cursor" }), (error: unknown) => error instanceof IndexError && error.code === "LOGSHIP_INDEX_CURSOR");
  assert.throws(() => searchIndex(index, { tenant: "default", query: parseQuery("*"), limit: 0 }), RangeError);
});

test("events the index cannot place (a time that is not RFC 3339) are refused and named; the rest are stored", async (t) => {
  const index = new SearchIndex({ directory: temporaryDirectory(t) });
  t.after(() => index.close());
  const good = FIXTURE_EVENTS[1] as Event;
  const bad = { ...good, id: "bad", time: "yesterday" };
  const result = await index.write("default", [bad, good]);
  assert.equal(result.added, 1);
  assert.deepEqual(result.refused.map(({ event, reason }) => [event.id, reason]), [["bad", 'time "yesterday" is not an RFC 3339 time between years 0000 and 9999']]);
  await assert.rejects(index.write("../x", [good]), (error: unknown) => error instanceof IndexError && error.code === "LOGSHIP_INDEX_TENANT");
  assert.equal(DAY_MS, 86_400_000);
});
