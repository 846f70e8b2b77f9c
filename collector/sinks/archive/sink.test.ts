import { test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { zstdDecompressSync } from "node:zlib";
import { silentLogger } from "../../../shared/logger.ts";
import { collectorConfigSchema } from "../../config.ts";
import { EmbeddedLog } from "../../log/log.ts";
import { makeBatch, numberedLines } from "../../testing/batches.ts";
import { waitFor } from "../../testing/memory-sink.ts";
import { buildSinks, closeSinks } from "../build.ts";
import { SinkRunner } from "../runner.ts";
import { kafkaOffsetSpace, type SinkEvent } from "../types.ts";
import { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } from "hyparquet";
import { FileTarget } from "./file-target.ts";
import { NDJSON_FORMAT } from "./ndjson-file.ts";
import { parquetFormat } from "./parquet-file.ts";
import { parsePartitionTemplate, type PartitionTemplate } from "./partition.ts";
import { ArchiveSink, type ArchiveSinkOptions } from "./sink.ts";
import type { ArchiveFormat } from "./writer.ts";

const HOUR_MS = 3_600_000;
const BASE_MS = Date.parse("2026-03-01T10:00:00.000Z");

function temporaryDirectory(t: { after: (fn: () => void) => void }): string {
  const directory = mkdtempSync(join(tmpdir(), "logship-archive-"));
  t.after(() => rmSync(directory, { recursive: true, force: true }));
  return directory;
}

function template(text = "tenant=%T/dt=%Y-%m-%d/hour=%H"): PartitionTemplate {
  const parsed = parsePartitionTemplate(text);
  assert.ok(typeof parsed !== "string", String(parsed));
  return parsed;
}

/** NDJSON whose `failing`-th flush (counted over every file it makes) fails with "disk full (test)". */
function failingFlush(failing: number): ArchiveFormat {
  let flushes = 0;
  return {
    extension: NDJSON_FORMAT.extension,
    create: async (path) => {
      const file = await NDJSON_FORMAT.create(path);
      return {
        get uncompressedBytes() {
          return file.uncompressedBytes;
        },
        append: (item) => file.append(item),
        flush: () => (++flushes === failing ? Promise.reject(new Error("disk full (test)")) : file.flush()),
        finish: () => file.finish(),
        abort: () => file.abort(),
      };
    },
  };
}

function openSink(root: string, options: Partial<ArchiveSinkOptions> = {}): ArchiveSink {
  return new ArchiveSink({ name: "archive", target: new FileTarget(root), format: NDJSON_FORMAT, partition: template(), maxBytes: 1 << 20, maxAgeMs: HOUR_MS, logger: silentLogger, ...options });
}

function event(offset: number, timeMs: number, tenant = "default"): SinkEvent {
  return {
    tenant,
    id: `stream-${offset}`,
    time: new Date(timeMs).toISOString(),
    observed_time: new Date(BASE_MS).toISOString(),
    host: "web-1",
    source: "app",
    path: "/var/log/app.log",
    offset: offset * 10,
    message: `line ${offset}`,
    fields: { n: offset },
  };
}

async function send(sink: ArchiveSink, events: SinkEvent[]): Promise<void> {
  const outcome = await sink.send(events, new AbortController().signal, { offsets: events.map((item) => Number(item.id.slice("stream-".length))) });
  assert.deepEqual(outcome, { kind: "delivered" });
}

/** Every file under `root` (relative path → decompressed lines for committed files, null for in-progress ones). */
function archiveFiles(root: string): Map<string, SinkEvent[] | null> {
  const files = new Map<string, SinkEvent[] | null>();
  for (const entry of readdirSync(root, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const path = join(entry.parentPath, entry.name);
    const relative = path.slice(root.length + 1);
    if (entry.name.startsWith(".")) files.set(relative, null);
    else files.set(relative, zstdDecompressSync(readFileSync(path)).toString("utf8").trimEnd().split("\n").map((line) => JSON.parse(line) as SinkEvent));
  }
  return new Map([...files].sort(([a], [b]) => a.localeCompare(b)));
}

/** `files` with some of its methods replaced (a target that fails, or answers, as a test needs). */
function withTarget(files: FileTarget, methods: Partial<Pick<FileTarget, "rename" | "remove">>): FileTarget {
  return Object.assign(Object.create(files) as FileTarget, methods);
}

/** Yields to I/O until `condition` holds (timers may be mocked, so no sleeps). */
/** Waits (by event loop turns: setTimeout may be mocked) until `condition` holds, for at most 10 s of real time: the roll writes files on the thread pool, which a busy machine can hold up. */
async function settle(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (condition()) return;
    await new Promise((resolve) => setImmediate(resolve));
  }
  assert.fail(`never settled: ${what}`);
}

test("partition templates: directives, escapes and refusals", () => {
  assert.equal(typeof parsePartitionTemplate("dt=%Y-%m-%d/hour=%H"), "object");
  assert.match(String(parsePartitionTemplate("dt=%Y/%M")), /unknown directive "%M"/);
  assert.match(String(parsePartitionTemplate("/abs/%Y")), /relative directory path/);
  assert.match(String(parsePartitionTemplate("a/../%Y")), /relative directory path/);
});

test("events land in the partition of their own time, in files named by their log range, one JSON event per line", async (t) => {
  const root = temporaryDirectory(t);
  const sink = openSink(root);
  // Offsets 0..5: hour 10, then a late event from hour 9, back to 10, one at 11; another tenant at 10.
  await send(sink, [event(0, BASE_MS), event(1, BASE_MS + 60_000), event(2, BASE_MS - 30 * 60_000)]);
  await send(sink, [event(3, BASE_MS + 120_000), event(5, BASE_MS + HOUR_MS)]);
  await send(sink, [event(7, BASE_MS + 1000, "payments")]);
  assert.equal(sink.heldFrom("default"), 0, "nothing is durable before a roll");
  assert.equal(sink.heldFrom("payments"), 7);
  assert.ok([...archiveFiles(root).values()].every((lines) => lines === null), "only hidden in-progress files before a roll");
  await sink.close();
  assert.equal(sink.heldFrom("default"), null);
  const files = archiveFiles(root);
  assert.deepEqual([...files.keys()], [
    "tenant=default/dt=2026-03-01/hour=09/default-2-2.ndjson.zst",
    "tenant=default/dt=2026-03-01/hour=10/default-0-3.ndjson.zst",
    "tenant=default/dt=2026-03-01/hour=11/default-5-5.ndjson.zst",
    "tenant=payments/dt=2026-03-01/hour=10/payments-7-7.ndjson.zst",
  ]);
  assert.deepEqual(files.get("tenant=default/dt=2026-03-01/hour=10/default-0-3.ndjson.zst"), [event(0, BASE_MS), event(1, BASE_MS + 60_000), event(3, BASE_MS + 120_000)]);
  // The line format: tenant first, then the event as the log holds it.
  const path = join(root, "tenant=default/dt=2026-03-01/hour=09/default-2-2.ndjson.zst");
  const text = execFileSync("zstd", ["-d", "-c", path], { encoding: "utf8" });
  assert.equal(text, `${JSON.stringify(event(2, BASE_MS - 30 * 60_000))}\n`);
  assert.ok(text.startsWith('{"tenant":"default","id":"stream-2","time":"2026-03-01T09:30:00.000Z"'));
});

test("a file rolls at max_bytes, and what rolled is no longer held", async (t) => {
  const root = temporaryDirectory(t);
  const lineBytes = Buffer.byteLength(`${JSON.stringify(event(0, BASE_MS))}\n`);
  const sink = openSink(root, { maxBytes: lineBytes * 3 });
  await send(sink, [0, 1, 2, 3, 4].map((offset) => event(offset, BASE_MS)));
  assert.equal(sink.heldFrom("default"), 3, "0..2 are committed, 3..4 open");
  await send(sink, [5, 6, 7].map((offset) => event(offset, BASE_MS)));
  assert.equal(sink.heldFrom("default"), 6);
  const names = [...archiveFiles(root)].filter(([, lines]) => lines !== null).map(([name]) => name.split("/").at(-1));
  assert.deepEqual(names, ["default-0-2.ndjson.zst", "default-3-5.ndjson.zst"]);
  await sink.close();
});

test("max_age closes an open file with no further event (mocked timers)", async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const root = temporaryDirectory(t);
  const sink = openSink(root, { maxAgeMs: 5 * 60_000 });
  await send(sink, [event(0, BASE_MS), event(1, BASE_MS)]);
  t.mock.timers.tick(4 * 60_000);
  await send(sink, [event(2, BASE_MS)]);
  t.mock.timers.tick(60_000 - 1);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(sink.heldFrom("default"), 0, "not yet: the age counts from the file's first event");
  t.mock.timers.tick(1);
  await settle(() => sink.heldFrom("default") === null, "the age roll");
  assert.deepEqual([...archiveFiles(root).keys()], ["tenant=default/dt=2026-03-01/hour=10/default-0-2.ndjson.zst"]);
  // A quiet stream's next event opens a new file with its own timer.
  await send(sink, [event(3, BASE_MS)]);
  t.mock.timers.tick(5 * 60_000);
  await settle(() => sink.heldFrom("default") === null, "the second age roll");
  assert.equal(archiveFiles(root).size, 2);
  await sink.close();
});

test("at open_files_max the oldest open file rolls first", async (t) => {
  const root = temporaryDirectory(t);
  const sink = openSink(root, { openFilesMax: 2 });
  await send(sink, [event(0, BASE_MS), event(1, BASE_MS + HOUR_MS), event(2, BASE_MS + 2 * HOUR_MS)]);
  assert.equal(sink.heldFrom("default"), 1);
  assert.deepEqual([...archiveFiles(root)].filter(([, lines]) => lines !== null).map(([name]) => name), ["tenant=default/dt=2026-03-01/hour=10/default-0-0.ndjson.zst"]);
  await sink.close();
});

function openLog(dataDirectory: string): Promise<EmbeddedLog> {
  return EmbeddedLog.open({ directory: join(dataDirectory, "log"), segmentBytes: 1 << 20, fsyncIntervalMs: 0, logger: silentLogger, sync: async () => {} });
}

/** 10 records of 100 events; record n's events are observed (and timed) at BASE + n · 20 min, so they spread over 4 hourly partitions. */
async function appendRecords(log: EmbeddedLog): Promise<void> {
  for (let seq = 0; seq < 10; seq++) {
    const observedMs = BASE_MS + seq * 20 * 60_000;
    const batch = makeBatch({ seq: seq + 1, lines: numberedLines(`seq ${seq} line`, 0, 100), streamKey: `k${String(seq).padStart(15, "0")}------`, observedMs });
    await log.append("default", { batch: batch.body, events: 100, agent: "agent-1", seq: seq + 1, floor: 0, observedMinMs: observedMs, observedMaxMs: observedMs });
  }
}

function openRunner(dataDirectory: string, log: EmbeddedLog, sink: ArchiveSink): Promise<SinkRunner> {
  return SinkRunner.open({ sink, tenant: "default", log, dataDirectory, logger: silentLogger, limits: { eventsPerSendMax: 64, idlePollMs: 20, retryBaseMs: 5, retryCapMs: 20 } });
}

/** Every committed event id, with how many times it is archived. */
function archivedIds(root: string): Map<string, number> {
  const ids = new Map<string, number>();
  for (const lines of archiveFiles(root).values()) for (const line of lines ?? []) ids.set(line.id, (ids.get(line.id) ?? 0) + 1);
  return ids;
}

test("through the runner: the log offset is committed only up to what is in committed files; a crash, a restart and a replay leave every event exactly once", async (t) => {
  const dataDirectory = temporaryDirectory(t);
  const root = join(dataDirectory, "archive");
  const log = await openLog(dataDirectory);
  await appendRecords(log);
  const lineBytes = 230; // about one event line: files of ~150 events roll by size, the last of each partition stays open
  const first = openSink(root, { maxBytes: lineBytes * 150 });
  const runner = await openRunner(dataDirectory, log, first);
  runner.start();
  await waitFor(() => runner.status().state === "idle" && runner.committedOffset === first.heldFrom("default"), 10_000, "the runner to hand over every event");
  const committedBeforeCrash = runner.committedOffset;
  assert.ok(committedBeforeCrash > 0 && committedBeforeCrash < 1000, `committed ${committedBeforeCrash}: some files rolled, some are open`);
  // A crash: the runner stops without the sink closing; the open files stay behind under their hidden names.
  // One more is made to look like a crash between finish and rename.
  await runner.destroy();
  const inProgress = [...archiveFiles(root)].filter(([, lines]) => lines === null);
  assert.ok(inProgress.length > 0);
  writeFileSync(join(root, "tenant=default/dt=2026-03-01/hour=10/.inprogress-default-0-deadbeef"), "half a file");
  const beforeRestart = archivedIds(root);
  assert.ok([...beforeRestart.values()].every((count) => count === 1));

  const second = openSink(root, { maxBytes: lineBytes * 150 });
  const restarted = await openRunner(dataDirectory, log, second);
  assert.equal(restarted.committedOffset, committedBeforeCrash);
  restarted.start();
  await waitFor(() => restarted.status().state === "idle" && restarted.committedOffset === second.heldFrom("default"), 10_000, "the restarted runner to catch up");
  const leftovers = [...archiveFiles(root).keys()].filter((name) => name.includes("deadbeef"));
  assert.deepEqual(leftovers, [], "the restart's first send deleted the leftover in-progress file");
  // A replay from the start: everything is already taken or committed, nothing is written twice.
  await restarted.rewind(0);
  await waitFor(() => restarted.status().state === "idle" && restarted.committedOffset === second.heldFrom("default"), 10_000, "the replay to pass");
  await restarted.close();
  await second.close();

  const ids = archivedIds(root);
  assert.equal(ids.size, 1000);
  assert.deepEqual([...ids.values()].filter((count) => count !== 1), [], "every event exactly once");
  for (const [name, lines] of archiveFiles(root)) {
    assert.ok(lines !== null, `${name} is committed`);
    const hour = /hour=(\d\d)/.exec(name)?.[1];
    for (const line of lines) assert.equal(line.time.slice(11, 13), hour, `${line.id} in ${name}`);
  }
  // A third start with the replay of everything: the committed ranges alone keep it from writing anything.
  const filesBefore = [...archiveFiles(root).keys()];
  const third = openSink(root, { maxBytes: lineBytes * 150 });
  const again = await openRunner(dataDirectory, log, third);
  again.start();
  await again.rewind(0);
  await waitFor(() => again.status().state === "idle" && again.committedOffset === 1000, 10_000, "the replay after a restart");
  await again.close();
  await third.close();
  assert.deepEqual([...archiveFiles(root).keys()], filesBefore);
  await log.close();
});

test("a failed write drops the open files and answers retry; the runner reads again from its committed offset: every event once", async (t) => {
  const dataDirectory = temporaryDirectory(t);
  const root = join(dataDirectory, "archive");
  const log = await openLog(dataDirectory);
  await appendRecords(log);
  // The 8th write of a send's lines to a file fails before any file rolled: the open files, from offset 0, are dropped.
  const sink = openSink(root, { format: failingFlush(8) });
  const runner = await openRunner(dataDirectory, log, sink);
  runner.start();
  await waitFor(() => runner.status().state === "idle" && runner.committedOffset === sink.heldFrom("default"), 10_000, "the runner to hand over every event");
  assert.equal(runner.status().retries, 1);
  assert.match(runner.status().lastError?.message ?? "", /^archive: disk full \(test\)$/);
  await runner.close();
  await sink.close();
  const ids = archivedIds(root);
  assert.equal(ids.size, 1000);
  assert.deepEqual([...ids.values()].filter((count) => count !== 1), []);
  assert.ok([...archiveFiles(root).values()].every((lines) => lines !== null), "the dropped in-progress file was deleted");
  await log.close();
});

test("a rename that happened but answered a failure (a lost answer): the partition is listed again, its events are not written twice", async (t) => {
  const dataDirectory = temporaryDirectory(t);
  const root = join(dataDirectory, "archive");
  const log = await openLog(dataDirectory);
  await appendRecords(log);
  // Renames as HDFS does (never over an existing file); the second one's answer is lost.
  const files = new FileTarget(root);
  let renames = 0;
  const losingAnAnswer = withTarget(files, {
    rename: async (directory: string, from: string, to: string) => {
      if (existsSync(files.writePath(directory, to))) throw new Error(`${to} exists (test)`);
      await files.rename(directory, from, to);
      if (++renames === 2) throw new Error("connection reset after the rename (test)");
    },
  });
  const lineBytes = 230; // about one event line: files of ~150 events, so several renames
  const sink = openSink(root, { target: losingAnAnswer, maxBytes: lineBytes * 150 });
  const runner = await openRunner(dataDirectory, log, sink);
  runner.start();
  try {
    await waitFor(() => runner.status().state === "idle" && runner.committedOffset === sink.heldFrom("default"), 10_000, "the runner to hand over every event");
  } finally {
    await runner.close();
    await sink.close();
  }
  assert.equal(runner.status().retries, 1);
  const ids = archivedIds(root);
  assert.equal(ids.size, 1000);
  assert.deepEqual([...ids.values()].filter((count) => count !== 1), [], "every event exactly once");
  await log.close();
});

test("built from the config: ndjson on a file target (default data_dir/archive), a webhdfs target, and with the Kafka log", async (t) => {
  const dataDirectory = temporaryDirectory(t);
  const lines: string[] = [];
  const logger = { ...silentLogger, warn: (message: string) => void lines.push(message) };
  const sinks = await buildSinks(collectorConfigSchema.parse({ data_dir: dataDirectory, sinks: { search: { type: "none" }, archive: { format: "ndjson" } } }), logger);
  assert.deepEqual(sinks.map((sink) => sink.name), ["archive"]);
  const archive = sinks[0];
  assert.ok(archive !== undefined);
  await archive.send([event(0, BASE_MS)], new AbortController().signal, { offsets: [0] });
  await closeSinks(sinks, logger);
  assert.deepEqual([...archiveFiles(join(dataDirectory, "archive")).keys()], ["tenant=default/dt=2026-03-01/hour=10/default-0-0.ndjson.zst"]);
  assert.deepEqual(lines, []);
  const kafkaLog = await buildSinks(collectorConfigSchema.parse({ data_dir: dataDirectory, log: { backend: "kafka", kafka: { brokers: ["k:9092"], topic: "t" } }, sinks: { search: { type: "none" }, archive: { format: "parquet" } } }), logger);
  assert.deepEqual(kafkaLog.map((sink) => sink.name), ["archive"]);
  assert.deepEqual(lines, []);
  // A webhdfs:// target is built without a request (HDFS may be down at start): an unreachable NameNode is a retry at the first send.
  const hdfs = await buildSinks(collectorConfigSchema.parse({ data_dir: dataDirectory, sinks: { search: { type: "none" }, archive: { format: "ndjson", target: "webhdfs://127.0.0.1:1/logs", timeout: "1s" } } }), logger);
  assert.deepEqual(hdfs.map((sink) => sink.name), ["archive"]);
  const outcome = await hdfs[0]?.send([event(0, BASE_MS)], new AbortController().signal, { offsets: [0] });
  assert.equal(outcome?.kind, "retry");
  assert.match(outcome?.kind === "retry" ? (outcome.reason ?? "") : "", /LISTSTATUS \/logs: no answer from 127\.0\.0\.1:1 \(ECONNREFUSED\)/);
  await closeSinks(hdfs, logger);
});

test("parquet: the same layout and commit protocol; hyparquet reads the columns back (time as a UTC timestamp, fields as JSON)", async (t) => {
  const root = temporaryDirectory(t);
  for (const compression of ["zstd", "snappy"] as const) {
    const directory = join(root, compression);
    const sink = openSink(directory, { format: parquetFormat(compression) });
    const late = { ...event(2, BASE_MS - 30 * 60_000), truncated: true as const };
    await send(sink, [event(0, BASE_MS), event(1, BASE_MS + 60_000), late, event(3, BASE_MS + 120_000)]);
    assert.ok([...readdirSync(directory, { recursive: true })].every((name) => !String(name).endsWith(".parquet")), "nothing a *.parquet glob sees before the roll");
    await sink.close();
    const names = readdirSync(directory, { recursive: true }).map(String).filter((name) => name.endsWith(".parquet")).sort();
    assert.deepEqual(names, ["tenant=default/dt=2026-03-01/hour=09/default-2-2.parquet", "tenant=default/dt=2026-03-01/hour=10/default-0-3.parquet"]);
    const rows = await parquetReadObjects({ file: await asyncBufferFromFile(join(directory, names[1] ?? "")), compressors: { ZSTD: (input: Uint8Array) => zstdDecompressSync(input) } });
    assert.deepEqual(rows[0], {
      time: new Date(BASE_MS),
      observed_time: new Date(BASE_MS),
      host: "web-1",
      source: "app",
      path: "/var/log/app.log",
      offset: 0n,
      message: "line 0",
      id: "stream-0",
      tenant: "default",
      fields: { n: 0 },
      truncated: false,
    });
    assert.deepEqual(rows.map((row) => row.id), ["stream-0", "stream-1", "stream-3"]);
    const [lateRow] = await parquetReadObjects({ file: await asyncBufferFromFile(join(directory, names[0] ?? "")), compressors: { ZSTD: (input: Uint8Array) => zstdDecompressSync(input) } });
    assert.deepEqual([lateRow?.time, lateRow?.truncated, lateRow?.fields], [new Date(BASE_MS - 30 * 60_000), true, { n: 2 }]);
  }
});

test("parquet: rows gathered over many sends into row groups (at the row limit and at the roll), files rolled by size; every row read back once", async (t) => {
  const root = temporaryDirectory(t);
  const sink = openSink(root, { format: parquetFormat("zstd", 3, 700), maxBytes: 2000 * 200 });
  for (let from = 0; from < 3000; from += 500) await send(sink, Array.from({ length: 500 }, (_, index) => event(from + index, BASE_MS)));
  await sink.close();
  const names = readdirSync(root, { recursive: true }).map(String).filter((name) => name.endsWith(".parquet")).sort();
  let rows = 0;
  const ids = new Set<string>();
  const rowGroups: number[][] = [];
  for (const name of names) {
    const metadata = await parquetMetadataAsync(await asyncBufferFromFile(join(root, name)));
    rowGroups.push(metadata.row_groups.map((group) => Number(group.num_rows)));
    for (const row of await parquetReadObjects({ file: await asyncBufferFromFile(join(root, name)), compressors: { ZSTD: (input: Uint8Array) => zstdDecompressSync(input) } })) {
      rows++;
      ids.add(String(row.id));
    }
  }
  assert.ok(names.length >= 2, names.join(", "));
  // 500 rows a send, a row group written once 700 are gathered: 1000, then the rest at the roll.
  assert.deepEqual(rowGroups[0]?.[0], 1000, JSON.stringify(rowGroups));
  assert.ok(rowGroups.every((groups) => groups.length >= 1));
  assert.deepEqual([rows, ids.size], [3000, 3000]);
});

test("with the Kafka log's positions: files named by partition and record_index ranges, heldFrom per partition in record offsets, a restart skips committed positions, release drops the open files", async (t) => {
  const root = temporaryDirectory(t);
  const sink = openSink(root, { maxBytes: 600 });
  const kafka = { topic: "logship", partition: 2 };
  const space = kafkaOffsetSpace("logship", 2);
  // Record 40 holds events 0..5 of tenant default (the first three an hour late), record 41 holds tenant payments' two.
  const record40 = [0, 1, 2, 3, 4, 5].map((index) => event(index, index < 3 ? BASE_MS - HOUR_MS : BASE_MS));
  const record41 = [0, 1].map((index) => event(100 + index, BASE_MS, "payments"));
  const sendRecord = async (target: ArchiveSink, events: SinkEvent[], offset: number, indexes: number[]): Promise<void> => {
    const outcome = await target.send(events, new AbortController().signal, { offsets: events.map(() => offset), indexes, kafka });
    assert.deepEqual(outcome, { kind: "delivered" });
  };
  await sendRecord(sink, record40.slice(0, 4), 40, [0, 1, 2, 3]);
  assert.equal(sink.heldFrom(space), 40, "the record of the first open event");
  assert.equal(sink.heldFrom(kafkaOffsetSpace("logship", 1)), null);
  await sendRecord(sink, record40.slice(4), 40, [4, 5]);
  await sendRecord(sink, record41, 41, [0, 1]);
  const names = [...archiveFiles(root).keys()];
  // Size rolls cut record 40 over files whose ranges meet inside the record; tenant payments' file is still open.
  assert.deepEqual(names.slice(0, 2), ["tenant=default/dt=2026-03-01/hour=09/default~logship~2-40_0-40_2.ndjson.zst", "tenant=default/dt=2026-03-01/hour=10/default~logship~2-40_3-40_5.ndjson.zst"]);
  assert.match(names[2] ?? "", /^tenant=payments\/dt=2026-03-01\/hour=10\/\.inprogress-payments~logship~2-41_0-[0-9a-f]{8}$/);
  assert.equal(sink.heldFrom(space), 41);
  // A crash: the open files are lost; a new sink reads record 40 and 41 again and skips what the committed files hold (it rolls every event: close drops a Kafka space's open files).
  const restarted = openSink(root, { maxBytes: 1 });
  await sendRecord(restarted, record40, 40, [0, 1, 2, 3, 4, 5]);
  await sendRecord(restarted, record41, 41, [0, 1]);
  await restarted.close();
  const files = archiveFiles(root);
  const ids = [...files.values()].flatMap((events) => (events ?? []).map((item) => item.id)).sort();
  assert.deepEqual(ids, [...record40, ...record41].map((item) => item.id).sort(), `every event exactly once across the crash: ${[...files.keys()].join(", ")}`);
  for (const name of files.keys()) assert.match(name, /^tenant=(default|payments)\/dt=2026-03-01\/hour=(09|10)\/(default|payments)~logship~2-\d+_\d+-\d+_\d+\.ndjson\.zst$/);
  // release: the open files of the topic are dropped, not committed.
  const third = openSink(temporaryDirectory(t));
  await sendRecord(third, record41, 7, [0, 1]);
  assert.equal(third.heldFrom(space), 7);
  await third.release("logship");
  assert.equal(third.heldFrom(space), null);
  await third.close();
});

test("an in-progress file the target could not delete when its write failed is deleted before the next write", async (t) => {
  const root = temporaryDirectory(t);
  const files = new FileTarget(root);
  let removesRefused = 1;
  const target = withTarget(files, {
    remove: (directory: string, name: string): Promise<void> => (removesRefused-- > 0 ? Promise.reject(new Error("target down (test)")) : files.remove(directory, name)),
  });
  const sink = openSink(root, { target, format: failingFlush(1) });
  const failed = await sink.send([event(0, BASE_MS)], new AbortController().signal, { offsets: [0] });
  assert.equal(failed.kind, "retry");
  assert.deepEqual([...archiveFiles(root).values()], [null], "the dropped in-progress file is still there: its delete failed");
  await send(sink, [event(0, BASE_MS), event(1, BASE_MS)]);
  await sink.close();
  assert.deepEqual([...archiveFiles(root).values()].map((lines) => lines?.length ?? null), [2], "deleted before the next write; the events committed once");
});

test("an age roll that fails on a quiet log: the runner reads the dropped events again with no new event coming, every event once", async (t) => {
  const dataDirectory = temporaryDirectory(t);
  const root = join(dataDirectory, "archive");
  const log = await openLog(dataDirectory);
  await appendRecords(log);
  // Files roll by age only; the first rename fails (the target is down for a moment), later ones work.
  const files = new FileTarget(root);
  let renamesRefused = 1;
  const target = withTarget(files, {
    rename: (directory: string, from: string, to: string): Promise<void> => (renamesRefused-- > 0 ? Promise.reject(new Error("target down (test)")) : files.rename(directory, from, to)),
  });
  const sink = openSink(root, { target, maxAgeMs: 200 });
  const runner = await openRunner(dataDirectory, log, sink);
  runner.start();
  try {
    await waitFor(() => runner.committedOffset === 1000, 10_000, "every event committed after the failed age roll, with no further event appended");
  } finally {
    await runner.close();
    await sink.close();
  }
  assert.ok(renamesRefused < 0, "the refused rename and a later one were tried");
  assert.equal(runner.status().retries, 1, "the send after the drop is answered retry once");
  const ids = archivedIds(root);
  assert.equal(ids.size, 1000);
  assert.deepEqual([...ids.values()].filter((count) => count !== 1), [], "every event exactly once");
  assert.ok([...archiveFiles(root).values()].every((lines) => lines !== null), "no in-progress file left");
  await log.close();
});

test("a shared target: a sink deletes the in-progress files left over in the Kafka partitions it writes, never another live collector's (mocked timers)", async (t) => {
  t.mock.timers.enable({ apis: ["setTimeout"] });
  const root = temporaryDirectory(t);
  const sendRecord = async (sink: ArchiveSink, partition: number, offset: number, events: SinkEvent[]): Promise<void> => {
    const outcome = await sink.send(events, new AbortController().signal, { offsets: events.map(() => offset), indexes: events.map((_, index) => index), kafka: { topic: "logship", partition } });
    assert.deepEqual(outcome, { kind: "delivered" });
  };
  // Collector A writes partition 1 and keeps its file open until its age roll.
  const a = openSink(root, { maxAgeMs: 60_000 });
  await sendRecord(a, 1, 10, [event(0, BASE_MS), event(1, BASE_MS)]);
  // A crashed owner of partition 2 left a file behind.
  const hour = "tenant=default/dt=2026-03-01/hour=10";
  writeFileSync(join(root, hour, ".inprogress-default~logship~2-3_0-0badf00d"), "half a file");
  // Collector B starts (its first listing sees both in-progress files) and writes partition 2.
  const b = openSink(root);
  await sendRecord(b, 2, 20, [event(2, BASE_MS)]);
  const hidden = [...archiveFiles(root)].filter(([, lines]) => lines === null).map(([name]) => name);
  assert.equal(hidden.length, 2, `A's open file and B's own: ${hidden.join(", ")}`);
  assert.ok(!hidden.some((name) => name.includes("0badf00d")), "the leftover of partition 2 is deleted by its writer");
  assert.ok(hidden.some((name) => name.includes("default~logship~1-10_0-")), "A's live file of partition 1 is left alone");
  // A's age roll still finds its file and commits it.
  t.mock.timers.tick(60_000);
  await settle(() => a.heldFrom(kafkaOffsetSpace("logship", 1)) === null, "A's age roll");
  assert.equal(a.heldDropped(kafkaOffsetSpace("logship", 1)), false);
  assert.ok(archiveFiles(root).has(`${hour}/default~logship~1-10_0-10_1.ndjson.zst`));
  await a.close();
  await b.close();
});
