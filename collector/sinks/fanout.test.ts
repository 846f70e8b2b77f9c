import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "../../shared/logger.ts";
import { EmbeddedLog } from "../log/log.ts";
import { makeBatch, numberedLines } from "../testing/batches.ts";
import { MemorySink, waitFor } from "../testing/memory-sink.ts";
import { SinkFanout } from "./fanout.ts";

const LINES_PER_BATCH = 2;
/**
 * Writers append at full speed for BURST_MS of every PERIOD_MS; a rate is
 * appends per second of burst. That measures what ingest can do while
 * keeping a minute's log small enough that the recovered sink catches up
 * (and every event is checked) in seconds.
 */
const BURST_MS = 200;
const PERIOD_MS = 1000;
const WARMUP_MS = 2000;
const BASELINE_MS = 5000;
const FAILING_MS = 60_000;
/** The failing minute is also checked in windows of this length, so a stall cannot hide in the minute's average. */
const WINDOW_MS = 10_000;

function temporaryDirectory(t: { after: (fn: () => void) => void }): string {
  const directory = mkdtempSync(join(tmpdir(), "logship-fanout-"));
  t.after(() => rmSync(directory, { recursive: true, force: true }));
  return directory;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Burst {
  startMs: number;
  endMs: number;
  appends: number;
}

/** A log with two sinks ("healthy" and "flaky") fanned out from it, and a writer that appends to it in bursts. */
class Pipeline {
  readonly log: EmbeddedLog;
  readonly fanout: SinkFanout;
  readonly healthy: MemorySink;
  readonly flaky: MemorySink;
  readonly bursts: Burst[] = [];
  appended = 0;

  private constructor(log: EmbeddedLog, fanout: SinkFanout, healthy: MemorySink, flaky: MemorySink) {
    this.log = log;
    this.fanout = fanout;
    this.healthy = healthy;
    this.flaky = flaky;
  }

  static async start(dataDirectory: string): Promise<Pipeline> {
    const healthy = new MemorySink("healthy");
    const flaky = new MemorySink("flaky");
    const fanout = new SinkFanout({ sinks: [healthy, flaky], dataDirectory, logger: silentLogger, limits: { eventsPerSendMax: 2000, retryBaseMs: 20, retryCapMs: 200, idlePollMs: 100 } });
    const log = await EmbeddedLog.open({
      directory: join(dataDirectory, "log"),
      segmentBytes: 256 * 1024,
      fsyncIntervalMs: 0,
      logger: silentLogger,
      sync: async () => {},
      retention: { maxAgeMs: 0, maxBytes: 1024 ** 4, intervalMs: 200 },
      lowestNeededOffset: (tenant) => fanout.lowestNeededOffset(tenant),
    });
    await fanout.start(log);
    return new Pipeline(log, fanout, healthy, flaky);
  }

  /** Appends in bursts on the shared schedule (burst k starts at `zeroMs + k · PERIOD_MS`) while `writing()`. */
  async write(zeroMs: number, writing: () => boolean): Promise<void> {
    let seq = 1;
    for (let period = 0; writing(); period++) {
      await sleep(zeroMs + period * PERIOD_MS - Date.now());
      const burst: Burst = { startMs: Date.now(), endMs: 0, appends: 0 };
      while (Date.now() < burst.startMs + BURST_MS) {
        const batch = makeBatch({ seq, lines: numberedLines(`seq ${seq} line`, 0, LINES_PER_BATCH), streamKey: `k${String(seq).padStart(15, "0")}------`, observedMs: Date.now() });
        await this.log.append("default", { batch: batch.body, events: LINES_PER_BATCH, agent: "agent-1", seq, floor: 0, observedMinMs: Date.now(), observedMaxMs: Date.now() });
        seq++;
        burst.appends++;
        // Leave the event loop a turn, as HTTP requests would.
        await new Promise((resolve) => setImmediate(resolve));
      }
      burst.endMs = Date.now();
      this.bursts.push(burst);
      this.appended += burst.appends;
    }
  }

  /** Appends per second of burst, over the bursts that started in [fromMs, toMs). */
  rate(fromMs: number, toMs: number): number {
    const inside = this.bursts.filter((burst) => burst.startMs >= fromMs && burst.startMs < toMs);
    const busyMs = inside.reduce((sum, burst) => sum + (burst.endMs - burst.startMs), 0);
    return busyMs === 0 ? 0 : (inside.reduce((sum, burst) => sum + burst.appends, 0) * 1000) / busyMs;
  }
}

test("fan-out: a sink failing for a minute does not slow ingest (measured against a control pipeline at the same time); after it recovers both sinks hold every event exactly once", { timeout: 5 * 60_000 }, async (t) => {
  const dataDirectory = temporaryDirectory(t);
  // `tested` gets the failing sink; `control` is the same pipeline with both sinks healthy, written at the same moments in
  // the same process, so load from outside the test (other tests, other processes) weighs on both alike.
  const tested = await Pipeline.start(join(dataDirectory, "tested"));
  const control = await Pipeline.start(join(dataDirectory, "control"));
  let writing = true;
  const zeroMs = Date.now();
  const writers = Promise.all([tested.write(zeroMs, () => writing), control.write(zeroMs, () => writing)]);
  // Also when an assertion fails: running writers, runners and logs would keep the test file from ever exiting.
  t.after(async () => {
    writing = false;
    await writers.catch(() => undefined);
    for (const pipeline of [tested, control]) {
      await pipeline.fanout.close();
      await pipeline.log.close();
    }
  });

  await sleep(WARMUP_MS);
  const baselineStartMs = Date.now();
  await sleep(BASELINE_MS);
  const failingStartMs = Date.now();
  tested.flaky.failing = true;
  await sleep(FAILING_MS / 2);
  const during = tested.fanout.status().find((status) => status.sink === "flaky");
  const healthyDuring = tested.fanout.status().find((status) => status.sink === "healthy");
  // A timer may fire a millisecond early by Date.now(): sleep on until the failure has lasted FAILING_MS, so the windows below all fit.
  while (Date.now() < failingStartMs + FAILING_MS) await sleep(failingStartMs + FAILING_MS - Date.now());
  const failingEndMs = Date.now();
  const sendsWhileFailing = tested.flaky.sends;
  assert.equal(tested.flaky.ids.size, during?.committedOffset, "nothing reached the flaky sink while it failed");
  tested.flaky.failing = false;
  writing = false;
  await writers;

  const rates = (pipeline: Pipeline, fromMs: number, toMs: number): number[] => {
    const windows: number[] = [];
    for (let windowMs = fromMs; windowMs + WINDOW_MS <= toMs; windowMs += WINDOW_MS) windows.push(pipeline.rate(windowMs, windowMs + WINDOW_MS));
    return windows;
  };
  const testedBaseline = tested.rate(baselineStartMs, failingStartMs);
  const testedFailing = tested.rate(failingStartMs, failingEndMs);
  const controlFailing = control.rate(failingStartMs, failingEndMs);
  const testedWindows = rates(tested, failingStartMs, failingEndMs);
  const controlWindows = rates(control, failingStartMs, failingEndMs);
  t.diagnostic(
    `appends/s of burst: baseline ${testedBaseline.toFixed(0)} (control ${control.rate(baselineStartMs, failingStartMs).toFixed(0)}); ` +
      `while its sink failed ${testedFailing.toFixed(0)} (control ${controlFailing.toFixed(0)}); ` +
      `per ${WINDOW_MS / 1000} s ${testedWindows.map((rate) => rate.toFixed(0)).join(", ")} (control ${controlWindows.map((rate) => rate.toFixed(0)).join(", ")})`,
  );
  assert.ok(testedBaseline > 0 && controlFailing > 0);
  // Held up by its failing sink (a shared lock, a full queue), the tested log would fall behind the control.
  assert.ok(testedFailing >= 0.8 * controlFailing, `ingest slowed while a sink failed: ${testedFailing.toFixed(0)}/s vs the control's ${controlFailing.toFixed(0)}/s`);
  assert.equal(testedWindows.length, FAILING_MS / WINDOW_MS);
  testedWindows.forEach((rate, index) => {
    const controlRate = controlWindows[index] as number;
    assert.ok(rate >= 0.6 * controlRate, `ingest stalled for ${WINDOW_MS / 1000} s while a sink failed: ${rate.toFixed(0)}/s vs the control's ${controlRate.toFixed(0)}/s`);
  });
  // A failing sink that burnt the event loop would slow both logs alike; this catches it against the tested log's own past.
  assert.ok(testedFailing >= 0.5 * testedBaseline, `ingest slowed while a sink failed: ${testedFailing.toFixed(0)}/s vs ${testedBaseline.toFixed(0)}/s before`);
  // Backoff (capped at 200 ms) kept the retries few: about 5 a second, not a busy loop.
  assert.ok(sendsWhileFailing < (FAILING_MS / 1000) * 20, `${sendsWhileFailing} sends while failing`);

  // While failing: the flaky sink's lag grew and was visible; the healthy one kept up.
  assert.ok(during !== undefined && healthyDuring !== undefined);
  assert.ok(during.lagEvents > 0 && during.lagAgeMs > 0 && during.retries > 0, JSON.stringify(during));
  assert.ok(healthyDuring.lagEvents < during.lagEvents, `healthy lag ${healthyDuring.lagEvents}, flaky lag ${during.lagEvents}`);
  // Retention kept what the flaky sink had not read (max_age 0 would otherwise delete every closed segment).
  assert.ok((tested.log.retention().default?.runs ?? 0) > 0);

  const total = tested.appended * LINES_PER_BATCH;
  assert.equal(tested.log.endOffset("default"), total);
  await waitFor(() => tested.fanout.status().every((status) => status.committedOffset === total), 120_000, "both sinks to catch up");
  for (const sink of [tested.healthy, tested.flaky]) {
    assert.equal(sink.ids.size, total, `${sink.name} has every event`);
    assert.equal(sink.duplicates, 0, `${sink.name} got no event twice`);
  }
  assert.equal(tested.log.retention().default?.skippedEvents, 0);
  // Once both sinks passed them, retention deletes the old segments.
  await tested.log.runRetention();
  assert.ok((tested.log.retention().default?.deletedSegments ?? 0) > 0);
});

test("fan-out: runners for every sink and tenant, new tenants included; the retention hook is their lowest offset", async (t) => {
  const dataDirectory = temporaryDirectory(t);
  const log = await EmbeddedLog.open({ directory: join(dataDirectory, "log"), segmentBytes: 1 << 20, fsyncIntervalMs: 0, logger: silentLogger, sync: async () => {} });
  const append = async (tenant: string, seq: number, lines: number): Promise<void> => {
    const batch = makeBatch({ seq, lines: numberedLines(`${tenant} ${seq}`, 0, lines), streamKey: `${tenant.padEnd(8, "-")}${String(seq).padStart(8, "0")}------` });
    await log.append(tenant, { batch: batch.body, events: lines, agent: "agent-1", seq, floor: 0, observedMinMs: 1, observedMaxMs: 2 });
  };
  await append("default", 1, 5);
  assert.equal(new SinkFanout({ sinks: [], dataDirectory, logger: silentLogger }).lowestNeededOffset("default"), undefined, "no sinks: retention as before");
  assert.throws(() => new SinkFanout({ sinks: [new MemorySink("a"), new MemorySink("a")], dataDirectory, logger: silentLogger }), { code: "LOGSHIP_CONFIG" });
  const fast = new MemorySink("fast");
  const stuck = new MemorySink("stuck");
  stuck.failing = true;
  const fanout = new SinkFanout({ sinks: [fast, stuck], dataDirectory, logger: silentLogger, limits: { retryBaseMs: 5, retryCapMs: 20, idlePollMs: 50 } });
  assert.equal(fanout.lowestNeededOffset("default"), 0, "runners not open yet: keep everything");
  await fanout.start(log);
  await append("payments", 1, 7);
  // Delivered, then committed: the runner records its offset after the sink confirms, so wait for both.
  const fastCommitted = (): boolean => fanout.status().filter((status) => status.sink === "fast").every((status) => status.lagEvents === 0) && fanout.status().length === 4;
  await waitFor(() => fast.ids.size === 12 && fastCommitted(), 5000, "both tenants delivered to the fast sink and committed");
  assert.deepEqual(
    fanout.status().map((status) => [status.sink, status.tenant, status.committedOffset, status.lagEvents]).sort(),
    [
      ["fast", "default", 5, 0],
      ["fast", "payments", 7, 0],
      ["stuck", "default", 0, 5],
      ["stuck", "payments", 0, 7],
    ],
  );
  assert.equal(fanout.lowestNeededOffset("default"), 0);
  stuck.failing = false;
  await waitFor(() => stuck.ids.size === 12, 5000, "the stuck sink to recover");
  await waitFor(() => fanout.lowestNeededOffset("default") === 5 && fanout.lowestNeededOffset("payments") === 7, 5000, "offsets committed");
  await fanout.close();
  assert.ok(fanout.status().every((status) => status.state === "stopped"));
  await log.close();
});

test("fan-out replay: from an offset or a time (time index), one sink only; unknown sink, unknown tenant, offset beyond the end or deleted are refused clearly", async (t) => {
  const dataDirectory = temporaryDirectory(t);
  const search = new MemorySink("search");
  const archive = new MemorySink("archive");
  // Made before the appends: until its runners are open it keeps the whole log from retention.
  const fanout = new SinkFanout({ sinks: [search, archive], dataDirectory, logger: silentLogger, limits: { idlePollMs: 50 } });
  // Small segments, so retention can delete the oldest once both sinks passed them.
  const log = await EmbeddedLog.open({
    directory: join(dataDirectory, "log"),
    segmentBytes: 4096,
    fsyncIntervalMs: 0,
    logger: silentLogger,
    sync: async () => {},
    retention: { maxAgeMs: 0, maxBytes: 1024 ** 4, intervalMs: 3_600_000 },
    lowestNeededOffset: (tenant) => fanout.lowestNeededOffset(tenant),
  });
  // Record n (0-based) holds offsets 10n..10n+9, observed at 1_000_000 + n seconds.
  for (let seq = 1; seq <= 20; seq++) {
    const observedMs = 1_000_000 + (seq - 1) * 1000;
    const batch = makeBatch({ seq, lines: numberedLines(`seq ${seq} line`, 0, 10), streamKey: `k${String(seq).padStart(15, "0")}------`, observedMs });
    await log.append("default", { batch: batch.body, events: 10, agent: "agent-1", seq, floor: 0, observedMinMs: observedMs, observedMaxMs: observedMs + 500 });
  }
  assert.equal(await log.firstOffset("default"), 0);
  await fanout.start(log);
  await waitFor(() => fanout.status().every((status) => status.committedOffset === 200), 5000, "both sinks to catch up");

  const byOffset = await fanout.replay({ sink: "search", tenant: "default", from: { offset: 150 } });
  assert.deepEqual(byOffset, { sink: "search", tenant: "default", fromOffset: 150, previousOffset: 200, committedOffset: 150, endOffset: 200, replayedEvents: 50 });
  await waitFor(() => fanout.status().every((status) => status.committedOffset === 200), 5000, "the replay to be delivered");
  assert.deepEqual([search.duplicates, archive.duplicates], [50, 0], "only the named sink got the range again");

  // 1_012_200 ms: record 12 (observed 1_012_000..1_012_500) is the first whose max reaches it.
  const byTime = await fanout.replay({ sink: "archive", tenant: "default", from: { timeMs: 1_012_200 } });
  assert.deepEqual([byTime.fromOffset, byTime.replayedEvents], [120, 80]);
  const afterEnd = await fanout.replay({ sink: "archive", tenant: "default", from: { timeMs: 2_000_000 } });
  assert.deepEqual([afterEnd.fromOffset, afterEnd.replayedEvents], [200, 0], "a time after every record: nothing to replay");
  await waitFor(() => fanout.status().every((status) => status.committedOffset === 200), 5000, "the replay to be delivered");
  assert.equal(archive.duplicates, 80);
  for (const sink of [search, archive]) assert.equal(sink.ids.size, 200);

  await assert.rejects(fanout.replay({ sink: "opensearch", tenant: "default", from: { offset: 0 } }), {
    code: "LOGSHIP_REPLAY_UNKNOWN_SINK",
    message: 'unknown sink "opensearch"; known sinks: search, archive',
  });
  await assert.rejects(fanout.replay({ sink: "search", tenant: "payments", from: { offset: 0 } }), {
    code: "LOGSHIP_REPLAY_UNKNOWN_TENANT",
    message: 'tenant "payments" has no log on this collector; tenants with a log: default',
  });
  await assert.rejects(fanout.replay({ sink: "search", tenant: "default", from: { offset: 201 } }), {
    code: "LOGSHIP_REPLAY_OFFSET_BEYOND_END",
    message: "offset 201 is beyond the end of tenant default's log (its next offset is 200)",
  });
  await log.runRetention();
  const firstOffset = await log.firstOffset("default");
  assert.ok(firstOffset > 0, "retention deleted the oldest segments");
  await assert.rejects(fanout.replay({ sink: "search", tenant: "default", from: { offset: 0 } }), {
    code: "LOGSHIP_REPLAY_OFFSET_DELETED",
    message: `offset 0 was deleted by retention; tenant default's log starts at offset ${firstOffset}`,
  });
  const fromOldest = await fanout.replay({ sink: "search", tenant: "default", from: { timeMs: 0 } });
  assert.equal(fromOldest.fromOffset, firstOffset, "a time before the log's start replays from its oldest record");
  await fanout.close();
  await assert.rejects(fanout.replay({ sink: "search", tenant: "default", from: { offset: 0 } }), { code: "LOGSHIP_REPLAY_UNAVAILABLE" });
  assert.deepEqual(new SinkFanout({ sinks: [], dataDirectory, logger: silentLogger }).sinkNames(), []);
  await log.close();
});
