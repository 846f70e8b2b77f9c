import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "../../shared/logger.ts";
import { EmbeddedLog } from "../log/log.ts";
import { makeBatch, numberedLines } from "../testing/batches.ts";
import { MemorySink, waitFor } from "../testing/memory-sink.ts";
import { SinkRunner, type SinkRunnerLimits } from "./runner.ts";

const LIMITS: Partial<SinkRunnerLimits> = { eventsPerSendMax: 128, retryBaseMs: 5, retryCapMs: 50, idlePollMs: 50 };

function temporaryDirectory(t: { after: (fn: () => void) => void }): string {
  const directory = mkdtempSync(join(tmpdir(), "logship-sinks-"));
  t.after(() => rmSync(directory, { recursive: true, force: true }));
  return directory;
}

function openLog(dataDirectory: string): Promise<EmbeddedLog> {
  return EmbeddedLog.open({ directory: join(dataDirectory, "log"), segmentBytes: 1 << 20, fsyncIntervalMs: 0, logger: silentLogger, sync: async () => {} });
}

/** Appends `count` batches of `lines` events each; every event id is distinct (one stream key per seq). */
async function appendBatches(log: EmbeddedLog, fromSeq: number, count: number, lines: number, tenant = "default"): Promise<void> {
  for (let seq = fromSeq; seq < fromSeq + count; seq++) {
    const batch = makeBatch({ seq, lines: numberedLines(`seq ${seq} line`, 0, lines), streamKey: `k${String(seq).padStart(15, "0")}------`, observedMs: Date.now() });
    await log.append(tenant, { batch: batch.body, events: lines, agent: "agent-1", seq, floor: 0, observedMinMs: Date.now(), observedMaxMs: Date.now() });
  }
}

function openRunner(dataDirectory: string, log: EmbeddedLog, sink: MemorySink, limits: Partial<SinkRunnerLimits> = {}): Promise<SinkRunner> {
  return SinkRunner.open({ sink, tenant: "default", log, dataDirectory, logger: silentLogger, limits: { ...LIMITS, ...limits } });
}

test("a runner delivers every event once, in bounded batches, and commits durably", async (t) => {
  const dataDirectory = temporaryDirectory(t);
  const log = await openLog(dataDirectory);
  await appendBatches(log, 1, 10, 300);
  const sink = new MemorySink("memory");
  const runner = await openRunner(dataDirectory, log, sink);
  assert.equal(runner.committedOffset, 0);
  runner.start();
  await waitFor(() => runner.committedOffset === 3000, 10_000, "the runner to catch up");
  assert.equal(sink.ids.size, 3000);
  assert.equal(sink.duplicates, 0);
  // Batches of 128 gathered across the 300-event records: 23 full ones and 56 events.
  assert.equal(sink.sends, 24);
  const status = runner.status();
  assert.equal(status.lagEvents, 0);
  assert.equal(status.deliveredEvents, 3000);
  const state = JSON.parse(readFileSync(join(dataDirectory, "sinks", "memory", "default.offset.json"), "utf8"));
  assert.deepEqual({ ...state, committed_ms: 0 }, { version: 1, sink: "memory", tenant: "default", offset: 3000, committed_ms: 0 });
  // Appends wake the idle runner.
  await appendBatches(log, 11, 2, 10);
  await waitFor(() => runner.committedOffset === 3020, 5000, "the runner to see new records");
  await runner.close();
  assert.equal(runner.status().state, "stopped");
  await log.close();
});

test("a restarted runner resumes at its committed offset (inside a record); only the unconfirmed batch comes again", async (t) => {
  const dataDirectory = temporaryDirectory(t);
  const log = await openLog(dataDirectory);
  await appendBatches(log, 1, 5, 300);
  const sink = new MemorySink("memory");
  // The 3rd send reaches the sink but hangs before confirming, until the runner is destroyed.
  let hung = false;
  sink.beforeAnswer = async (_events, signal) => {
    if (sink.sends !== 3) return;
    hung = true;
    await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
    throw new Error("aborted");
  };
  const first = await openRunner(dataDirectory, log, sink);
  first.start();
  await waitFor(() => hung, 5000, "the 3rd send");
  await first.destroy();
  // Sends 1 and 2 (offsets 0..255) were confirmed; the 3rd (256..383, across records 1 and 2) reached the sink unconfirmed.
  assert.equal(first.committedOffset, 256);
  assert.equal(sink.ids.size, 384);
  sink.beforeAnswer = async () => {};
  await appendBatches(log, 6, 2, 50);
  const second = await openRunner(dataDirectory, log, sink);
  assert.equal(second.committedOffset, 256, "resumes inside record 1");
  second.start();
  await waitFor(() => second.committedOffset === 1600, 10_000, "the restarted runner to catch up");
  assert.equal(sink.ids.size, 1600, "no event lost");
  assert.equal(sink.duplicates, 128, "only the unconfirmed batch was sent twice");
  await second.close();
  await log.close();
});

test("retry backs off and sends the same events again; afterMs is honoured", async (t) => {
  const dataDirectory = temporaryDirectory(t);
  const log = await openLog(dataDirectory);
  await appendBatches(log, 1, 2, 10);
  const sink = new MemorySink("memory");
  sink.failing = true;
  sink.retryAfterMs = 200;
  const runner = await openRunner(dataDirectory, log, sink);
  runner.start();
  await waitFor(() => sink.sends >= 2, 5000, "a retry");
  const status = runner.status();
  assert.equal(status.committedOffset, 0);
  assert.equal(status.lagEvents, 20);
  assert.ok(status.lagAgeMs >= 0);
  assert.ok(status.retries >= 1);
  // afterMs 200: in 300 ms at most 2–3 sends, not dozens.
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.ok(sink.sends <= 4, `sends ${sink.sends}`);
  sink.failing = false;
  await waitFor(() => runner.committedOffset === 20, 5000, "delivery after the sink recovered");
  assert.equal(sink.ids.size, 20);
  assert.equal(sink.duplicates, 0);
  await runner.close();
  await log.close();
});

test("a rejected batch goes to the dead-letter file with its reason; the runner moves on", async (t) => {
  const dataDirectory = temporaryDirectory(t);
  const log = await openLog(dataDirectory);
  await appendBatches(log, 1, 3, 10);
  const sink = new MemorySink("memory");
  sink.rejectReason = (events) => (events.some((event) => event.message === "seq 2 line 3") ? "mapping conflict on field x" : undefined);
  const runner = await openRunner(dataDirectory, log, sink, { eventsPerSendMax: 10 });
  runner.start();
  await waitFor(() => runner.committedOffset === 30, 5000, "the runner to pass the rejected batch");
  assert.equal(sink.ids.size, 20);
  const status = runner.status();
  assert.equal(status.rejectedEvents, 10);
  assert.equal(status.rejectedBatches, 1);
  assert.match(status.lastError?.message ?? "", /mapping conflict/);
  const directory = join(dataDirectory, "dead-letter", "memory");
  assert.deepEqual(readdirSync(directory), ["default-10-20.ndjson"]);
  const lines = readFileSync(join(directory, "default-10-20.ndjson"), "utf8").trimEnd().split("\n").map((line) => JSON.parse(line));
  assert.equal(lines.length, 10);
  assert.deepEqual(
    lines.map((line) => [line.version, line.sink, line.tenant, line.reason, line.event.tenant, line.event.message]),
    numberedLines("seq 2 line", 0, 10).map((message) => [1, "memory", "default", "mapping conflict on field x", "default", message]),
  );
  await runner.close();
  await log.close();
});
