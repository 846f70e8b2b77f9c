/**
 * Retention of the embedded index over a real index in a temporary
 * directory, on an injected clock: which day databases go (by max_age at
 * the day's end, by max_bytes oldest first, never today's for size), that
 * cached handles are closed and -journal removed with them, that searches
 * over a deleted range find nothing, and that the search sink built from a
 * config runs it on its own timer.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { formatTime, type Event } from "../../shared/event.ts";
import { silentLogger } from "../../shared/logger.ts";
import { parseQuery } from "../../shared/query/index.ts";
import { collectorConfigSchema } from "../config.ts";
import { buildSinks, closeSinks } from "../sinks/build.ts";
import { SearchSink } from "../sinks/search/sink.ts";
import { recordingLogger, type LoggedLine } from "../testing/recording-logger.ts";
import { applyIndexRetention } from "./retention.ts";
import { DAY_MS, SearchIndex } from "./search-index.ts";
import { searchIndex } from "./search.ts";

function temporaryDirectory(t: { after: (fn: () => void) => void }): string {
  const directory = mkdtempSync(join(tmpdir(), "logship-index-retention-"));
  t.after(() => rmSync(directory, { recursive: true, force: true }));
  return directory;
}

const TODAY_MS = Date.parse("2026-11-29T00:00:00.000Z");

function events(dayStartMs: number, count: number, label: string): Event[] {
  return Array.from({ length: count }, (_, index) => ({
    id: `${label}-${index}`,
    time: formatTime(dayStartMs + 3_600_000 + index * 1000),
    observed_time: formatTime(dayStartMs + 3_600_000 + index * 1000),
    host: "web-1",
    source: "app",
    path: "/var/log/app.log",
    offset: index * 100,
    message: `${label} line ${index} with some words to index`,
    fields: {},
  }));
}

/** `tenant/YYYY-MM-DD` of every file in the index (database and -journal alike). */
function filesOnDisk(directory: string): string[] {
  const names: string[] = [];
  for (const tenant of readdirSync(directory)) for (const name of readdirSync(join(directory, tenant))) names.push(`${tenant}/${name}`);
  return names.sort();
}

function days(directory: string): string[] {
  return [...new Set(filesOnDisk(directory).map((name) => name.replace(/\.db(-journal|-wal|-shm)?$/, "")))];
}

function messages(index: SearchIndex, tenant: string, sinceMs?: number, untilMs?: number): string[] {
  const page = searchIndex(index, { tenant, query: parseQuery(""), limit: 10_000, ...(sinceMs === undefined ? {} : { sinceMs }), ...(untilMs === undefined ? {} : { untilMs }) });
  return page.events.map((event) => event.message);
}

test("max_age deletes a day once all of it is older than max_age, in every tenant, closing open handles and removing -journal; searches over it then find nothing", async (t) => {
  const directory = temporaryDirectory(t);
  const index = new SearchIndex({ directory });
  t.after(() => index.close());
  for (const back of [10, 8, 7, 1, 0]) await index.write("default", events(TODAY_MS - back * DAY_MS, 3, `default-d${back}`));
  await index.write("acme", events(TODAY_MS - 8 * DAY_MS, 2, "acme-d8"));
  await index.write("acme", events(TODAY_MS, 2, "acme-d0"));
  // The partitions were just written: their handles are cached and their write-ahead logs exist (version 4; -journal for versions 2 and 3).
  assert.ok(existsSync(join(directory, "default", "2026-11-21.db-wal")));

  const lines: LoggedLine[] = [];
  const sevenDaysMs = 7 * DAY_MS;
  // Day 2026-11-21 (8 days back) ends at 2026-11-22T00:00Z: it is past 7 days from 2026-11-29T00:00Z on, not a millisecond before.
  const endOfDay8Ms = TODAY_MS - 7 * DAY_MS;
  const before = await applyIndexRetention(index, { maxAgeMs: sevenDaysMs, maxBytes: undefined }, endOfDay8Ms + sevenDaysMs - 1, recordingLogger(lines));
  assert.deepEqual(before.deleted.map((entry) => `${entry.tenant}/${entry.day}`), ["default/2026-11-19"]);
  assert.deepEqual(messages(index, "default", TODAY_MS - 8 * DAY_MS, TODAY_MS - 7 * DAY_MS).length, 3);

  const result = await applyIndexRetention(index, { maxAgeMs: sevenDaysMs, maxBytes: undefined }, endOfDay8Ms + sevenDaysMs, recordingLogger(lines));
  assert.deepEqual(
    result.deleted.map(({ tenant, day, reason }) => ({ tenant, day, reason })),
    [
      { tenant: "acme", day: "2026-11-21", reason: "max_age" },
      { tenant: "default", day: "2026-11-21", reason: "max_age" },
    ],
  );
  assert.ok(result.deleted.every((entry) => entry.bytes > 0));
  assert.deepEqual(days(directory), ["acme/2026-11-29", "default/2026-11-22", "default/2026-11-28", "default/2026-11-29"]);
  assert.ok(!filesOnDisk(directory).some((name) => name.includes("2026-11-21") || name.includes("2026-11-19")), filesOnDisk(directory).join(", "));
  // Each deletion logged with tenant, day, bytes and reason.
  const logged = lines.filter((line) => line.message === "search index retention deleted a partition").map((line) => line.context);
  assert.deepEqual(
    logged.map(({ tenant, day, reason }) => `${String(tenant)} ${String(day)} ${String(reason)}`),
    ["default 2026-11-19 max_age", "acme 2026-11-21 max_age", "default 2026-11-21 max_age"],
  );
  assert.ok(logged.every((context) => typeof context["bytes"] === "number" && context["bytes"] > 0));

  // Searches: the deleted range finds nothing, the rest is intact; writing to a deleted day starts it afresh.
  assert.deepEqual(messages(index, "default", TODAY_MS - 10 * DAY_MS, TODAY_MS - 7 * DAY_MS), []);
  assert.deepEqual(messages(index, "acme"), events(TODAY_MS, 2, "acme-d0").map((event) => event.message).reverse());
  assert.equal(messages(index, "default").length, 9);
  assert.deepEqual(await index.write("acme", events(TODAY_MS - 8 * DAY_MS, 1, "acme-d8")), { added: 1, duplicates: 0, refused: [] });
  assert.deepEqual(messages(index, "acme", TODAY_MS - 8 * DAY_MS, TODAY_MS - 7 * DAY_MS), ["acme-d8 line 0 with some words to index"]);
});

test("max_bytes deletes the oldest days of the whole index first until it fits, never today's; a warning when today's alone are over", async (t) => {
  const directory = temporaryDirectory(t);
  const index = new SearchIndex({ directory });
  t.after(() => index.close());
  await index.write("default", events(TODAY_MS - 3 * DAY_MS, 50, "d3"));
  await index.write("acme", events(TODAY_MS - 2 * DAY_MS, 50, "a2"));
  await index.write("default", events(TODAY_MS - 1 * DAY_MS, 50, "d1"));
  await index.write("default", events(TODAY_MS, 50, "d0"));
  await index.close(); // no file changes size from here on
  const size = (tenant: string, day: string): number => index.partitionBytes(join(directory, tenant, `${day}.db`));
  const keepBytes = size("default", "2026-11-28") + size("default", "2026-11-29");
  const nowMs = TODAY_MS + 12 * 3_600_000;

  const lines: LoggedLine[] = [];
  const result = await applyIndexRetention(index, { maxAgeMs: undefined, maxBytes: keepBytes }, nowMs, recordingLogger(lines));
  assert.deepEqual(result.deleted.map(({ tenant, day, reason }) => `${tenant}/${day} ${reason}`), ["default/2026-11-26 max_bytes", "acme/2026-11-27 max_bytes"]);
  assert.equal(result.totalBytes, keepBytes);
  assert.deepEqual(days(directory), ["default/2026-11-28", "default/2026-11-29"]);
  assert.deepEqual(lines.filter((line) => line.level === "warn"), []);

  // A limit smaller than today's partition: yesterday goes, today stays, and the operator is told.
  const tight = await applyIndexRetention(index, { maxAgeMs: undefined, maxBytes: 1 }, nowMs, recordingLogger(lines));
  assert.deepEqual(tight.deleted.map(({ tenant, day }) => `${tenant}/${day}`), ["default/2026-11-28"]);
  assert.deepEqual(days(directory), ["default/2026-11-29"]);
  assert.equal(messages(index, "default").length, 50);
  assert.equal(lines.filter((line) => line.level === "warn").length, 1);
});

/** Resolves once `done()` holds (a retention run waits for the index's writer thread: real messages, not mocked timers). */
async function until(done: () => boolean): Promise<void> {
  for (let turn = 0; !done(); turn++) {
    assert.ok(turn < 100_000, "never happened");
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

test("the search sink built from sinks.search.retention deletes expired days on its own timer, counts what it deleted, and stops with close()", async (t) => {
  const directory = temporaryDirectory(t);
  t.mock.timers.enable({ apis: ["setInterval", "Date"], now: TODAY_MS + 3_600_000 });
  const config = collectorConfigSchema.parse({ data_dir: directory, sinks: { search: { retention: { max_age: "2d", check_interval: "1m" } } } });
  const lines: LoggedLine[] = [];
  const sinks = await buildSinks(config, recordingLogger(lines));
  const sink = sinks[0];
  assert.ok(sink instanceof SearchSink);
  t.after(() => closeSinks(sinks, silentLogger));
  const send = [...events(TODAY_MS - 3 * DAY_MS, 4, "old"), ...events(TODAY_MS - DAY_MS, 4, "recent")].map((event) => ({ ...event, tenant: "default" }));
  assert.deepEqual(await sink.send(send, new AbortController().signal), { kind: "delivered" });
  assert.deepEqual(days(join(directory, "index")), ["default/2026-11-26", "default/2026-11-28"]);

  t.mock.timers.tick(59_999);
  assert.deepEqual(days(join(directory, "index")), ["default/2026-11-26", "default/2026-11-28"], "nothing before the first interval");
  t.mock.timers.tick(1);
  await until(() => sink.retentionStats().runs >= 1);
  assert.deepEqual(days(join(directory, "index")), ["default/2026-11-28"]);
  const stats = sink.retentionStats();
  assert.equal(stats.runs, 1);
  assert.equal(stats.tenants["default"]?.deletedPartitions, 1);
  assert.ok((stats.tenants["default"]?.deletedBytes ?? 0) > 0);
  assert.deepEqual(messages(sink.index, "default"), events(TODAY_MS - DAY_MS, 4, "recent").map((event) => event.message).reverse());

  // Two days on, yesterday's day is past 2 days as well.
  t.mock.timers.tick(2 * DAY_MS);
  await until(() => sink.retentionStats().tenants["default"]?.deletedPartitions === 2);
  assert.deepEqual(days(join(directory, "index")), []);
  assert.equal(sink.retentionStats().tenants["default"]?.deletedPartitions, 2);

  await sink.close?.();
  const runs = sink.retentionStats().runs;
  t.mock.timers.tick(10 * 60_000);
  assert.equal(sink.retentionStats().runs, runs, "no run after close");
});

test("sinks.search.retention: durations and sizes with units; refused with a sink type that keeps no embedded index", async () => {
  const parsed = collectorConfigSchema.parse({ sinks: { search: { retention: { max_age: "7d", max_bytes: "10GiB" } } } });
  assert.deepEqual(parsed.sinks.search.retention, { max_age: 7 * DAY_MS, max_bytes: 10 * 1024 ** 3, check_interval: 60_000 });
  assert.deepEqual(collectorConfigSchema.parse({}).sinks.search.retention, { check_interval: 60_000 });
  const refused = collectorConfigSchema.safeParse({ sinks: { search: { type: "none", retention: { max_age: "7d" } } } });
  assert.equal(refused.success, false);
  assert.match(refused.error?.issues[0]?.message ?? "", /retention is only for type "embedded"/);
  assert.deepEqual(refused.error?.issues[0]?.path, ["sinks", "search", "retention"]);
});
