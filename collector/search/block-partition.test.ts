/**
 * Version 4 partitions (block-partition.ts, written by block-writer.ts's
 * thread): a round trip through sealed blocks and open ones, recovery of
 * the open blocks after a kill -9 mid-write, the idempotence slow path
 * (replays, offsets out of order), a failing writer thread as a `retry`,
 * and a query over a version 3 day beside a version 4 day.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Event } from "../../shared/event.ts";
import { compileQuery, parseQuery } from "../../shared/query/index.ts";
import { cleanups } from "../../test/helpers/cleanups.ts";
import { SearchSink } from "../sinks/search/sink.ts";
import { createVersion3Partitions } from "../testing/partition-v3.ts";
import { childEvent } from "../testing/index-writer-child.ts";
import { recordingLogger, type LoggedLine } from "../testing/recording-logger.ts";
import { BlockPartition } from "./block-partition.ts";
import { eventContext } from "./context.ts";
import { histogramIndex } from "./histogram.ts";
import { Partition } from "./partition.ts";
import { BLOCK_EVENTS, PARTITION_FORMAT_VERSION } from "./partition-schema.ts";
import { SearchIndex } from "./search-index.ts";
import { searchIndex, type SearchRequest } from "./search.ts";
import { sqlite } from "./sqlite.ts";

const START_MS = Date.parse("2026-03-01T10:00:00.000Z");
const FAILING_WRITER = new URL("../testing/failing-block-writer-worker.ts", import.meta.url);

function temporaryDirectory(defer: (cleanup: () => unknown) => void): string {
  const directory = mkdtempSync(join(tmpdir(), "logship-blocks-"));
  defer(() => rmSync(directory, { recursive: true, force: true }));
  return directory;
}

/** Line `line` of file `file` (an id stream of 16 characters), 100 bytes a line, `stepMs` apart. */
function fileEvent(file: string, line: number, message = `request ${line} handled`, stepMs = 10): Event {
  const offset = line * 100;
  const time = new Date(START_MS + line * stepMs).toISOString();
  return { id: `${file}${offset.toString(36)}`, time, observed_time: time, host: `host-${file.slice(0, 4)}`, source: "app", path: `/var/log/${file}.log`, offset, message, fields: { line, even: line % 2 === 0 } };
}

/** Every event of a search, all pages. */
function searchAll(index: SearchIndex, request: Omit<SearchRequest, "cursor" | "tenant" | "limit"> & { limit?: number }): Event[] {
  const events: Event[] = [];
  let cursor: string | null | undefined;
  do {
    const page = searchIndex(index, { tenant: "default", limit: request.limit ?? 97, ...request, ...(cursor === undefined || cursor === null ? {} : { cursor }) });
    events.push(...page.events);
    cursor = page.cursor;
  } while (cursor !== null);
  return events;
}

function fileVersion(file: string): number {
  const database = new (sqlite().DatabaseSync)(file, { readOnly: true });
  try {
    return (database.prepare("PRAGMA user_version").get() as { user_version: number }).user_version;
  } finally {
    database.close();
  }
}

function rowCounts(file: string): { blocks: number; pending: number } {
  const database = new (sqlite().DatabaseSync)(file, { readOnly: true });
  try {
    const count = (table: string): number => (database.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
    return { blocks: count("blocks"), pending: count("pending") };
  } finally {
    database.close();
  }
}

test("format 4 round trip: sealed blocks and open ones, several files, read back the same after a reopen, newest first and oldest first", async (t) => {
  const defer = cleanups(t);
  const directory = temporaryDirectory(defer);
  const files = ["fileAAAAAAAAAAAA", "fileBBBBBBBBBBBB", "fileCCCCCCCCCCCC"];
  // 2.5 blocks of each file, interleaved, in sends of 333.
  const events = Array.from({ length: Math.floor(BLOCK_EVENTS * 2.5) }, (_, line) => files.map((file) => fileEvent(file, line))).flat();
  const writer = new SearchIndex({ directory });
  for (let start = 0; start < events.length; start += 333) assert.equal((await writer.write("default", events.slice(start, start + 333))).added, Math.min(333, events.length - start));
  await writer.close();

  const [file] = readdirSync(join(directory, "default")).filter((name) => name.endsWith(".db"));
  const path = join(directory, "default", file as string);
  assert.equal(fileVersion(path), PARTITION_FORMAT_VERSION);
  const rows = rowCounts(path);
  assert.equal(rows.blocks, 3 * 2, "two sealed blocks per file");
  assert.ok(rows.pending >= 3, "each file's open block in pending rows");

  const index = new SearchIndex({ directory });
  defer(() => index.close());
  assert.ok(index.partition(path, false) instanceof BlockPartition);
  const sortKey = (event: Event): string => `${event.time} ${event.id}`;
  const ascending = [...events].sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : 1));
  assert.deepEqual(searchAll(index, { query: parseQuery("*"), order: "asc" }), ascending);
  assert.deepEqual(searchAll(index, { query: parseQuery("*") }), [...ascending].reverse());
  const filter = parseQuery("host:host-file request 7* fields.even:true -handled*x");
  const filtered = searchAll(index, { query: filter, order: "asc" }).map((event) => event.id);
  assert.deepEqual(filtered, ascending.filter(compileQuery(filter)).map((event) => event.id));
  assert.ok(filtered.length > 10);
  // Counted from the blocks' columns: whole blocks in one bucket (30 min buckets), blocks across buckets (1 s) or cut by the range.
  const total = (sinceMs: number, untilMs: number): number => histogramIndex(index, { tenant: "default", query: parseQuery("*"), sinceMs, untilMs }).buckets.reduce((sum, bucket) => sum + bucket.count, 0);
  assert.equal(total(START_MS - 3_600_000, START_MS + 20 * 3_600_000), events.length);
  assert.equal(total(START_MS, START_MS + 60_000), events.length);
  assert.equal(total(START_MS + 1000, START_MS + 4000), events.filter((event) => Date.parse(event.time) >= START_MS + 1000 && Date.parse(event.time) < START_MS + 4000).length);
  const middle = fileEvent("fileBBBBBBBBBBBB", BLOCK_EVENTS);
  const context = eventContext(index, { tenant: "default", id: middle.id, before: 3, after: 2 });
  assert.deepEqual(context?.event, middle);
  assert.deepEqual(context?.before.map((event) => event.offset), [BLOCK_EVENTS - 3, BLOCK_EVENTS - 2, BLOCK_EVENTS - 1].map((line) => line * 100), "across the end of the first sealed block");
  assert.deepEqual(context?.after.map((event) => event.offset), [BLOCK_EVENTS + 1, BLOCK_EVENTS + 2].map((line) => line * 100));
});

test("kill -9 mid-write: reopened, every acknowledged event is there once (open blocks from their pending rows), and sending everything again adds only what was not", async (t) => {
  const defer = cleanups(t);
  const directory = temporaryDirectory(defer);
  const child = spawn(process.execPath, [new URL("../testing/index-writer-child.ts", import.meta.url).pathname, directory], { stdio: ["ignore", "pipe", "inherit"] });
  defer(() => child.kill("SIGKILL"));
  let acknowledged = 0;
  let output = "";
  await new Promise<void>((resolve, reject) => {
    child.stdout.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8");
      for (const match of output.matchAll(/acked (\d+)\n/g)) acknowledged = Math.max(acknowledged, Number(match[1]));
      // Past two sealed blocks per file, and mid-send: the kill lands while a send is being written.
      if (acknowledged >= 3 * BLOCK_EVENTS * 2 + 1) {
        child.kill("SIGKILL");
        resolve();
      }
    });
    child.on("exit", (code, signal) => (signal === "SIGKILL" ? resolve() : reject(new Error(`the child ended on its own (code ${code})`))));
  });
  await new Promise<void>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve() : child.once("exit", () => resolve())));

  const index = new SearchIndex({ directory });
  defer(() => index.close());
  const stored = searchAll(index, { query: parseQuery("*"), order: "asc", limit: 1000 });
  const ids = stored.map((event) => event.id);
  assert.equal(new Set(ids).size, ids.length, "no event twice");
  assert.ok(stored.length >= acknowledged, `${stored.length} stored, ${acknowledged} acknowledged`);
  const expected = Array.from({ length: stored.length }, (_, n) => childEvent(n));
  assert.deepEqual(stored, expected, "exactly the first events, in order, as written");

  // The runner sends again from what it had committed: everything already there is skipped.
  const all = Array.from({ length: stored.length + 500 }, (_, n) => childEvent(n));
  const again = await index.write("default", all);
  assert.deepEqual(again, { added: 500, duplicates: stored.length, refused: [] });
  assert.deepEqual(searchAll(index, { query: parseQuery("*"), order: "asc", limit: 1000 }), all);
});

test("idempotence slow path: a replayed range (in sealed blocks, in open ones) and offsets out of order are stored once, also across a reopen", async (t) => {
  const defer = cleanups(t);
  const directory = temporaryDirectory(defer);
  const file = "replayAAAAAAAAAA";
  const lines = Array.from({ length: BLOCK_EVENTS * 2 + 50 }, (_, line) => fileEvent(file, line));
  const skipped = lines.filter((_, line) => line % 7 === 3);
  const first = lines.filter((_, line) => line % 7 !== 3);
  let index = new SearchIndex({ directory });
  assert.equal((await index.write("default", first)).added, first.length);

  // A range of the first block (sealed, in the file), of the open block, and both.
  assert.deepEqual(await index.write("default", first.slice(10, 60)), { added: 0, duplicates: 50, refused: [] });
  assert.deepEqual(await index.write("default", first.slice(-20)), { added: 0, duplicates: 20, refused: [] });
  // Lines below the watermark never stored: added once, then duplicates; with a duplicate inside the same send too.
  assert.deepEqual(await index.write("default", [...skipped, skipped[0] as Event]), { added: skipped.length, duplicates: 1, refused: [] });
  assert.deepEqual(await index.write("default", skipped), { added: 0, duplicates: skipped.length, refused: [] });
  await index.close();

  index = new SearchIndex({ directory });
  defer(() => index.close());
  assert.deepEqual(await index.write("default", lines), { added: 0, duplicates: lines.length, refused: [] });
  const stored = searchAll(index, { query: parseQuery("*"), order: "asc" });
  assert.deepEqual(stored.map((event) => event.id), lines.map((event) => event.id));
});

test("a writer thread that fails: the send is a retry naming the failure, logged; the next send starts a new thread, and sending the same events again stores them once", async (t) => {
  const defer = cleanups(t);
  const directory = temporaryDirectory(defer);
  const lines: LoggedLine[] = [];
  const index = new SearchIndex({ directory, writerWorkerUrl: FAILING_WRITER });
  const sink = new SearchSink(index, { logger: recordingLogger(lines) });
  defer(() => sink.close());
  const signal = new AbortController().signal;
  const file = "failingAAAAAAAAA";
  const batch = (from: number, count: number, marker = ""): (Event & { tenant: string })[] =>
    Array.from({ length: count }, (_, k) => ({ ...fileEvent(file, from + k, `request ${from + k}${from + k === from + count - 1 ? marker : ""}`), tenant: "default" }));

  assert.deepEqual(await sink.send(batch(0, 300), signal), { kind: "delivered" });
  for (const marker of [" failnow", " exitnow"]) {
    const failed = await sink.send(batch(300, 300, marker), signal);
    assert.equal(failed.kind, "retry");
    assert.match(failed.kind === "retry" ? (failed.reason ?? "") : "", marker === " exitnow" ? /writer thread failed \(the thread exited with code 3\)/ : /writer thread failed \(unable to open database file\)/);
    assert.ok(lines.some((line) => line.level === "error" && String(line.context?.["reason"]).includes("writer thread failed")));
    // Nothing of the failed send is searchable: the index read the file again.
    assert.equal(searchAll(index, { query: parseQuery("*") }).length, 300);
  }
  // The runner sends the same events again (without the marker this time): stored once, next to the first ones.
  assert.deepEqual(await sink.send(batch(200, 400), signal), { kind: "delivered" });
  assert.deepEqual(searchAll(index, { query: parseQuery("*"), order: "asc" }).map((event) => event.offset), Array.from({ length: 600 }, (_, line) => line * 100));
});

test("a day written before version 4 stays in its format beside a new version 4 day, and one query reads both in order, with cursors, counts and context across them", async (t) => {
  const defer = cleanups(t);
  const directory = temporaryDirectory(defer);
  const file = "mixedAAAAAAAAAAA";
  // 600 lines a minute apart from 2026-03-01T10:00Z: the first 840 minutes on day 1, the rest on day 2.
  const events = Array.from({ length: 1200 }, (_, line) => fileEvent(file, line, `mixed line ${line}`, 60_000));
  const dayOne = events.filter((event) => event.time.startsWith("2026-03-01"));
  createVersion3Partitions(directory, "default", dayOne);
  const index = new SearchIndex({ directory });
  defer(() => index.close());
  for (let start = 0; start < events.length; start += 250) await index.write("default", events.slice(start, start + 250));

  const refs = index.partitions("default", undefined, undefined, "asc");
  assert.deepEqual(refs.map((ref) => fileVersion(ref.file)), [3, PARTITION_FORMAT_VERSION]);
  assert.ok(index.partition((refs[0] as { file: string }).file, false) instanceof Partition);
  assert.ok(index.partition((refs[1] as { file: string }).file, false) instanceof BlockPartition);

  assert.deepEqual(searchAll(index, { query: parseQuery("mixed"), order: "asc" }).map((event) => event.id), events.map((event) => event.id));
  assert.deepEqual(searchAll(index, { query: parseQuery("mixed -fields.even:false"), limit: 33 }).map((event) => event.id), events.filter((event) => event.fields["even"] === true).map((event) => event.id).reverse());
  const counts = histogramIndex(index, { tenant: "default", query: parseQuery("line"), sinceMs: START_MS, untilMs: START_MS + 1200 * 60_000 });
  assert.equal(counts.buckets.reduce((sum, bucket) => sum + bucket.count, 0), 1200);
  const last = dayOne.at(-1) as Event;
  const context = eventContext(index, { tenant: "default", id: last.id, before: 2, after: 2 });
  assert.deepEqual([...(context?.before ?? []), ...(context?.after ?? [])].map((event) => event.offset), [-2, -1, 1, 2].map((step) => last.offset + step * 100));
});

test("writes in flight together (the Kafka runner sends one per partition): each commits in order, and every event is there once, also after a reopen", async (t) => {
  const defer = cleanups(t);
  const directory = temporaryDirectory(defer);
  const file = "concurrentAAAAAA";
  const lines = Array.from({ length: BLOCK_EVENTS * 3 }, (_, line) => fileEvent(file, line));
  let index = new SearchIndex({ directory });
  const results = await Promise.all([
    index.write("default", lines.slice(0, 300)),
    index.write("default", lines.slice(300, 600)),
    index.write("other", lines.slice(0, 100)),
    index.write("default", lines.slice(250, lines.length)),
  ]);
  assert.deepEqual(results.map((result) => [result.added, result.duplicates]), [[300, 0], [300, 0], [100, 0], [lines.length - 600, 350]]);
  const ids = lines.map((event) => event.id);
  assert.deepEqual(searchAll(index, { query: parseQuery("*"), order: "asc" }).map((event) => event.id), ids);
  await index.close();
  index = new SearchIndex({ directory });
  defer(() => index.close());
  assert.deepEqual(searchAll(index, { query: parseQuery("*"), order: "asc" }).map((event) => event.id), ids);
  assert.equal(searchIndex(index, { tenant: "other", query: parseQuery("*"), limit: 1000 }).events.length, 100);
});
