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

test("retry backs off and sends the same events again; afterMs is honoured; its reason is the last error", async (t) => {
  const dataDirectory = temporaryDirectory(t);
  const log = await openLog(dataDirectory);
  await appendBatches(log, 1, 2, 10);
  const sink = new MemorySink("memory");
  sink.failing = true;
  sink.retryAfterMs = 200;
  sink.retryReason = "broker 127.0.0.1:9 refused the connection";
  const runner = await openRunner(dataDirectory, log, sink);
  runner.start();
  await waitFor(() => sink.sends >= 2, 5000, "a retry");
  const status = runner.status();
  assert.equal(status.committedOffset, 0);
  assert.equal(status.lastError?.message, "broker 127.0.0.1:9 refused the connection", "a retry's reason is the last error");
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

test("a reject that names its events: only those go to the dead-letter file, each with its own reason; the rest count as delivered", async (t) => {
  const dataDirectory = temporaryDirectory(t);
  const log = await openLog(dataDirectory);
  await appendBatches(log, 1, 3, 10);
  const sink = new MemorySink("memory");
  sink.rejectEvent = (event) => (event.message === "seq 2 line 3" || event.message === "seq 2 line 8" ? `field x of ${event.message} has the wrong type` : undefined);
  const runner = await openRunner(dataDirectory, log, sink, { eventsPerSendMax: 10 });
  runner.start();
  await waitFor(() => runner.committedOffset === 30, 5000, "the runner to pass the batch");
  assert.equal(sink.ids.size, 28);
  const status = runner.status();
  assert.deepEqual([status.deliveredEvents, status.rejectedEvents, status.rejectedBatches], [28, 2, 1]);
  const directory = join(dataDirectory, "dead-letter", "memory");
  assert.deepEqual(readdirSync(directory), ["default-10-20.ndjson"]);
  const lines = readFileSync(join(directory, "default-10-20.ndjson"), "utf8").trimEnd().split("\n").map((line) => JSON.parse(line));
  assert.deepEqual(
    lines.map((line) => [line.reason, line.event.message]),
    ["seq 2 line 3", "seq 2 line 8"].map((message) => [`field x of ${message} has the wrong type`, message]),
  );
  await runner.close();
  await log.close();
});

function committedOnDisk(dataDirectory: string): number {
  return (JSON.parse(readFileSync(join(dataDirectory, "sinks", "memory", "default.offset.json"), "utf8")) as { offset: number }).offset;
}

/** A promise's outcome so far, without waiting for it. */
function settledState(promise: Promise<unknown>): { settled: boolean } {
  const state = { settled: false };
  promise.then(
    () => (state.settled = true),
    () => (state.settled = true),
  );
  return state;
}

test("rewind moves the committed offset back durably; the sink gets every event from there again and holds each once", async (t) => {
  const dataDirectory = temporaryDirectory(t);
  const log = await openLog(dataDirectory);
  await appendBatches(log, 1, 10, 300);
  const sink = new MemorySink("memory");
  const runner = await openRunner(dataDirectory, log, sink);
  runner.start();
  await waitFor(() => runner.committedOffset === 3000, 10_000, "the runner to catch up");
  // The sink fails after the rewind, so the moved-back offset stays where the rewind put it until we look.
  sink.failing = true;
  const result = await runner.rewind(1000);
  assert.deepEqual(result, { previousOffset: 3000, committedOffset: 1000 });
  assert.equal(runner.committedOffset, 1000);
  assert.equal(committedOnDisk(dataDirectory), 1000, "durable before the rewind resolves");
  const status = runner.status();
  assert.deepEqual([status.replays, status.lagEvents], [1, 2000]);
  sink.failing = false;
  await waitFor(() => runner.committedOffset === 3000, 10_000, "the replayed range to be delivered again");
  assert.equal(sink.ids.size, 3000, "the idempotent sink holds every event once");
  assert.equal(sink.duplicates, 2000, "offsets 1000..2999 were sent again, nothing else");
  await runner.close();
  await log.close();
});

test("a rewind waits for the in-flight send and is applied after its commit, never racing it", async (t) => {
  const dataDirectory = temporaryDirectory(t);
  const log = await openLog(dataDirectory);
  await appendBatches(log, 1, 5, 300);
  const sink = new MemorySink("memory");
  let release: () => void = () => undefined;
  let hung = false;
  sink.beforeAnswer = async () => {
    if (sink.sends !== 3) return;
    hung = true;
    await new Promise<void>((resolve) => (release = resolve));
  };
  const runner = await openRunner(dataDirectory, log, sink);
  runner.start();
  await waitFor(() => hung, 5000, "the 3rd send to hang");
  assert.equal(runner.committedOffset, 256);
  const rewound = runner.rewind(100);
  const state = settledState(rewound);
  assert.equal(runner.neededOffset, 100, "retention keeps the pending rewind's range");
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(state.settled, false, "not applied while a send is in flight");
  assert.equal(runner.committedOffset, 256);
  await assert.rejects(runner.rewind(50), { code: "LOGSHIP_REPLAY_PENDING" });
  // Whatever comes after the rewind fails, so the offset stays where the rewind put it.
  sink.failing = true;
  release();
  // The in-flight send (offsets 256..383) was confirmed and committed first, then moved back.
  assert.deepEqual(await rewound, { previousOffset: 384, committedOffset: 100 });
  assert.equal(committedOnDisk(dataDirectory), 100);
  sink.failing = false;
  await waitFor(() => runner.committedOffset === 1500, 10_000, "the runner to catch up again");
  assert.equal(sink.ids.size, 1500);
  assert.equal(sink.duplicates, 384 - 100);
  await runner.close();
  await log.close();
});

test("a rewind cuts a long retry backoff short; the failing batch is dropped uncommitted", async (t) => {
  const dataDirectory = temporaryDirectory(t);
  const log = await openLog(dataDirectory);
  await appendBatches(log, 1, 2, 100);
  const sink = new MemorySink("memory");
  const runner = await openRunner(dataDirectory, log, sink);
  runner.start();
  await waitFor(() => runner.committedOffset === 200, 5000, "the first records");
  sink.failing = true;
  sink.retryAfterMs = 60_000;
  await appendBatches(log, 3, 1, 100);
  await waitFor(() => runner.status().state === "backing-off", 5000, "a one-minute backoff");
  // Without the rewind waking the backoff this would wait a minute (and time out the test).
  assert.deepEqual(await runner.rewind(0), { previousOffset: 200, committedOffset: 0 });
  sink.failing = false;
  await waitFor(() => runner.committedOffset === 300, 5000, "delivery from offset 0");
  assert.equal(sink.ids.size, 300);
  assert.equal(sink.duplicates, 200);
  await runner.close();
  await log.close();
});

test("rewind: at or above the committed offset nothing moves; a stopping runner refuses and rejects a pending rewind", async (t) => {
  const dataDirectory = temporaryDirectory(t);
  const log = await openLog(dataDirectory);
  await appendBatches(log, 1, 2, 100);
  const sink = new MemorySink("memory");
  const runner = await openRunner(dataDirectory, log, sink);
  await assert.rejects(runner.rewind(0), { code: "LOGSHIP_REPLAY_UNAVAILABLE" }, "not started");
  runner.start();
  await waitFor(() => runner.committedOffset === 200, 5000, "the runner to catch up");
  assert.deepEqual(await runner.rewind(200), { previousOffset: 200, committedOffset: 200 });
  assert.equal(runner.status().replays, 0);
  // A pending rewind when the runner is destroyed mid-send is rejected, and nothing moved.
  sink.beforeAnswer = (_events, signal) => new Promise<void>((_resolve, reject) => signal.addEventListener("abort", () => reject(new Error("aborted")), { once: true }));
  await appendBatches(log, 3, 1, 10);
  await waitFor(() => runner.status().state === "sending", 5000, "a hanging send");
  const pending = runner.rewind(50);
  await runner.destroy();
  await assert.rejects(pending, { code: "LOGSHIP_REPLAY_UNAVAILABLE" });
  assert.equal(committedOnDisk(dataDirectory), 200);
  await assert.rejects(runner.rewind(0), { code: "LOGSHIP_REPLAY_UNAVAILABLE" });
  await log.close();
});
