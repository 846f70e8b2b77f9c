/**
 * The search sink holds events (sink.ts, types.ts `heldFrom`): a send is
 * answered once its events are taken, before they are durable, and the
 * runner commits no further than what is durable; at most
 * SENDS_IN_FLIGHT_MAX sends are in flight; a writer thread that fails
 * after `delivered` loses nothing (the runner reads again); a kill -9 with
 * sends in flight loses nothing and stores nothing twice.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "../../../shared/logger.ts";
import { parseQuery } from "../../../shared/query/index.ts";
import { cleanups, type Defer } from "../../../test/helpers/cleanups.ts";
import { EmbeddedLog } from "../../log/log.ts";
import { SearchIndex } from "../../search/search-index.ts";
import { searchIndex } from "../../search/search.ts";
import { makeBatch, numberedLines } from "../../testing/batches.ts";
import { waitFor } from "../../testing/memory-sink.ts";
import { recordingLogger, type LoggedLine } from "../../testing/recording-logger.ts";
import { CHILD_EVENTS_PER_SEND } from "../../testing/search-sink-child.ts";
import { SinkFanout } from "../fanout.ts";
import type { SinkRunnerLimits } from "../runner.ts";
import type { SinkEvent } from "../types.ts";
import { SearchSink, SENDS_IN_FLIGHT_MAX } from "./sink.ts";

const GATED_WRITER = new URL("../../testing/gated-block-writer-worker.ts", import.meta.url);
const FAILING_WRITER = new URL("../../testing/failing-block-writer-worker.ts", import.meta.url);
const OBSERVED_MS = Date.parse("2026-03-01T10:00:00.000Z");

function temporaryDirectory(defer: Defer): string {
  const directory = mkdtempSync(join(tmpdir(), "logship-search-holding-"));
  defer(() => rmSync(directory, { recursive: true, force: true }));
  return directory;
}

/** A real fan-out over a real embedded log in `dataDirectory`, feeding `sink`. */
async function pipeline(defer: Defer, dataDirectory: string, sink: SearchSink, limits: Partial<SinkRunnerLimits>): Promise<{ fanout: SinkFanout; log: EmbeddedLog }> {
  const fanout = new SinkFanout({ sinks: [sink], dataDirectory, logger: silentLogger, limits });
  const log = await EmbeddedLog.open({ directory: join(dataDirectory, "log"), segmentBytes: 1024 * 1024, fsyncIntervalMs: 0, logger: silentLogger, sync: async () => {}, lowestNeededOffset: (tenant) => fanout.lowestNeededOffset(tenant) });
  defer(() => log.close());
  defer(() => sink.close());
  defer(() => fanout.close());
  await fanout.start(log);
  return { fanout, log };
}

/** Appends record `seq`: `count` lines "<prefix> <n>" of a file of its own. */
async function appendRecord(log: EmbeddedLog, seq: number, prefix: string, count: number): Promise<void> {
  const batch = makeBatch({ seq, lines: numberedLines(prefix, 0, count), streamKey: `k${String(seq).padStart(15, "0")}------`, observedMs: OBSERVED_MS });
  await log.append("default", { batch: batch.body, events: count, agent: "agent-1", seq, floor: 0, observedMinMs: OBSERVED_MS, observedMaxMs: OBSERVED_MS });
}

/** The ids of every event of the tenant, all pages. */
function allIds(index: SearchIndex, query = "*"): string[] {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const page: { events: { id: string }[]; cursor: string | null } = searchIndex(index, { tenant: "default", query: parseQuery(query), limit: 997, ...(cursor === null ? {} : { cursor }) });
    ids.push(...page.events.map((event) => event.id));
    cursor = page.cursor;
  } while (cursor !== null);
  return ids;
}

/** The runner's status; zeros before the fan-out started it (at the tenant's first record). */
function statusOf(fanout: SinkFanout): { committedOffset: number; deliveredEvents: number } {
  return fanout.status()[0] ?? { committedOffset: 0, deliveredEvents: 0 };
}

test("search sink: a send is answered once its events are taken, and searchable; the runner commits no further than what the writer thread made durable", async (t) => {
  const defer = cleanups(t);
  const dataDirectory = temporaryDirectory(defer);
  const indexDirectory = join(dataDirectory, "index");
  const sink = new SearchSink(new SearchIndex({ directory: indexDirectory, writerWorkerUrl: GATED_WRITER }), { logger: silentLogger });
  const { fanout, log } = await pipeline(defer, dataDirectory, sink, { eventsPerSendMax: 100, idlePollMs: 20 });
  await appendRecord(log, 1, "holdcommit line", 100);

  await waitFor(() => statusOf(fanout).deliveredEvents === 100, 30_000, "the runner to have the send answered");
  assert.equal(sink.heldFrom("default"), 0, "the sink holds the send from its first offset");
  assert.equal(allIds(sink.index, "holdcommit").length, 100, "taken events are searchable before they are durable");
  // Idle polls (every 20 ms) commit what is durable: nothing while the thread holds the commit.
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(statusOf(fanout).committedOffset, 0);

  writeFileSync(join(indexDirectory, "writer.gate"), "");
  await waitFor(() => statusOf(fanout).committedOffset === 100, 30_000, "the runner to commit once the events are durable");
  assert.equal(sink.heldFrom("default"), null);
});

test(`search sink: at most ${SENDS_IN_FLIGHT_MAX} sends are taken and not durable; the next waits for the oldest`, async (t) => {
  const defer = cleanups(t);
  const indexDirectory = temporaryDirectory(defer);
  const sink = new SearchSink(new SearchIndex({ directory: indexDirectory, writerWorkerUrl: GATED_WRITER }), { logger: silentLogger });
  defer(() => sink.close());
  const signal = new AbortController().signal;
  const send = (from: number): Promise<unknown> => {
    const events: SinkEvent[] = Array.from({ length: 50 }, (_, k) => {
      const offset = (from + k) * 100;
      const time = new Date(OBSERVED_MS + from + k).toISOString();
      return { id: `boundAAAAAAAAAAA${offset.toString(36)}`, time, observed_time: time, host: "web-1", source: "app", path: "/var/log/app.log", offset, message: `holdcommit ${from + k}`, fields: {}, tenant: "default" };
    });
    return sink.send(events, signal, { offsets: events.map((_, k) => 1000 + from + k) });
  };
  for (let sent = 0; sent < SENDS_IN_FLIGHT_MAX; sent++) assert.deepEqual(await send(sent * 50), { kind: "delivered" });
  assert.equal(sink.heldFrom("default"), 1000);
  let answered = false;
  const beyond = send(SENDS_IN_FLIGHT_MAX * 50).then((outcome) => {
    answered = true;
    return outcome;
  });
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.equal(answered, false, "a send beyond the bound waits while the oldest is not durable");

  writeFileSync(join(indexDirectory, "writer.gate"), "");
  assert.deepEqual(await beyond, { kind: "delivered" });
  await waitFor(() => sink.heldFrom("default") === null, 30_000, "every send to be durable");
  assert.equal(allIds(sink.index).length, (SENDS_IN_FLIGHT_MAX + 1) * 50);
});

test("search sink: a writer thread that fails after sends were answered drops them (heldDropped); the runner reads them again, and every event is in the index once", async (t) => {
  const defer = cleanups(t);
  const dataDirectory = temporaryDirectory(defer);
  const indexDirectory = join(dataDirectory, "index");
  const lines: LoggedLine[] = [];
  const sink = new SearchSink(new SearchIndex({ directory: indexDirectory, writerWorkerUrl: FAILING_WRITER }), { logger: recordingLogger(lines) });
  const { fanout, log } = await pipeline(defer, dataDirectory, sink, { eventsPerSendMax: 100, idlePollMs: 20, retryBaseMs: 10, retryCapMs: 50 });
  for (let seq = 1; seq <= 5; seq++) await appendRecord(log, seq, "before line", 100);
  // The last record fails the thread once, after the runner had the send answered: nothing follows it in the log.
  await appendRecord(log, 6, "exitonce line", 100);

  await waitFor(() => statusOf(fanout).committedOffset === 600 && sink.heldFrom("default") === null, 30_000, "the runner to commit every event");
  assert.ok(existsSync(join(indexDirectory, "writer.exited")), "the writer thread failed once");
  assert.ok(lines.some((line) => line.message.startsWith("the search index lost events it had taken")), "the failure came after the send was answered");
  assert.ok(statusOf(fanout).deliveredEvents > 600, "the dropped events were delivered again");
  const ids = allIds(sink.index);
  assert.equal(ids.length, 600);
  assert.equal(new Set(ids).size, 600);
});

test("search sink: a kill -9 with sends in flight, then a restart from the committed offset: every event in the index once", async (t) => {
  const defer = cleanups(t);
  const dataDirectory = temporaryDirectory(defer);
  const records = 40;
  const perRecord = 1000;
  const writer = await EmbeddedLog.open({ directory: join(dataDirectory, "log"), segmentBytes: 1024 * 1024, fsyncIntervalMs: 0, logger: silentLogger, sync: async () => {}, lowestNeededOffset: () => 0 });
  for (let seq = 1; seq <= records; seq++) await appendRecord(writer, seq, "crash line", perRecord);
  await writer.close();
  const total = records * perRecord;
  const child = new URL("../../testing/search-sink-child.ts", import.meta.url).pathname;
  const offsetFile = join(dataDirectory, "sinks", "search", "default.offset.json");

  // First run: killed as soon as it reports sends in flight past the first few.
  const first = spawn(process.execPath, [child, dataDirectory], { stdio: ["ignore", "pipe", "inherit"] });
  defer(() => first.kill("SIGKILL"));
  await new Promise<void>((resolve, reject) => {
    let buffered = "";
    first.stdout.on("data", (chunk: Buffer) => {
      buffered += chunk.toString("utf8");
      for (const line of buffered.split("\n").slice(0, -1)) {
        const [word, delivered] = line.split(" ");
        if (word === "held" && Number(delivered) >= 5 * CHILD_EVENTS_PER_SEND) first.kill("SIGKILL");
      }
      buffered = buffered.slice(buffered.lastIndexOf("\n") + 1);
    });
    first.on("exit", (code, signal) => (signal === "SIGKILL" ? resolve() : reject(new Error(`the child ended on its own (code ${code})`))));
  });
  const committed = existsSync(offsetFile) ? (JSON.parse(readFileSync(offsetFile, "utf8")) as { offset: number }).offset : 0;
  assert.ok(committed < total, `killed before the end (committed ${committed} of ${total})`);

  // Second run: reads again from the committed offset until caught up.
  const second = spawn(process.execPath, [child, dataDirectory], { stdio: ["ignore", "pipe", "inherit"] });
  defer(() => second.kill("SIGKILL"));
  await new Promise<void>((resolve, reject) => {
    second.stdout.on("data", (chunk: Buffer) => {
      if (chunk.toString("utf8").includes(`caught-up ${total}`)) resolve();
    });
    second.on("exit", (code) => reject(new Error(`the child ended on its own (code ${code})`)));
  });
  second.kill("SIGKILL");
  await new Promise((resolve) => second.once("exit", resolve));

  const index = new SearchIndex({ directory: join(dataDirectory, "index") });
  defer(() => index.close());
  const ids = allIds(index);
  assert.equal(ids.length, total);
  assert.equal(new Set(ids).size, total);
});
