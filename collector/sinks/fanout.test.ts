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

const LINES_PER_BATCH = 20;
const BASELINE_MS = 3000;
const FAILING_MS = 10_000;

function temporaryDirectory(t: { after: (fn: () => void) => void }): string {
  const directory = mkdtempSync(join(tmpdir(), "logship-fanout-"));
  t.after(() => rmSync(directory, { recursive: true, force: true }));
  return directory;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

test("fan-out: a sink failing for 10 s while a writer appends does not slow ingest; both sinks end with every event once", async (t) => {
  const dataDirectory = temporaryDirectory(t);
  let fanout: SinkFanout | undefined;
  const log = await EmbeddedLog.open({
    directory: join(dataDirectory, "log"),
    segmentBytes: 256 * 1024,
    fsyncIntervalMs: 0,
    logger: silentLogger,
    sync: async () => {},
    retention: { maxAgeMs: 0, maxBytes: 1024 ** 4, intervalMs: 200 },
    lowestNeededOffset: (tenant) => fanout?.lowestNeededOffset(tenant),
  });
  const healthy = new MemorySink("healthy");
  const flaky = new MemorySink("flaky");
  fanout = new SinkFanout({ sinks: [healthy, flaky], dataDirectory, logger: silentLogger, limits: { eventsPerSendMax: 2000, retryBaseMs: 20, retryCapMs: 200, idlePollMs: 100 } });
  await fanout.start(log);

  // The writer appends one batch after another, recording when each append completed.
  const completedMs: number[] = [];
  let writing = true;
  const writer = (async () => {
    for (let seq = 1; writing; seq++) {
      const batch = makeBatch({ seq, lines: numberedLines(`seq ${seq} line`, 0, LINES_PER_BATCH), streamKey: `k${String(seq).padStart(15, "0")}------`, observedMs: Date.now() });
      await log.append("default", { batch: batch.body, events: LINES_PER_BATCH, agent: "agent-1", seq, floor: 0, observedMinMs: Date.now(), observedMaxMs: Date.now() });
      completedMs.push(Date.now());
      // Leave the event loop a turn, as HTTP requests would.
      await new Promise((resolve) => setImmediate(resolve));
    }
  })();
  const ratePerSecond = (fromMs: number, toMs: number): number => (completedMs.filter((ms) => ms >= fromMs && ms < toMs).length * 1000) / (toMs - fromMs);

  const baselineStartMs = Date.now();
  await sleep(BASELINE_MS);
  const failingStartMs = Date.now();
  flaky.failing = true;
  await sleep(FAILING_MS / 2);
  const during = fanout.status().find((status) => status.sink === "flaky");
  const healthyDuring = fanout.status().find((status) => status.sink === "healthy");
  await sleep(FAILING_MS / 2);
  const failingEndMs = Date.now();
  flaky.failing = false;
  writing = false;
  await writer;

  const baselineRate = ratePerSecond(baselineStartMs, failingStartMs);
  const failingRate = ratePerSecond(failingStartMs, failingEndMs);
  t.diagnostic(`appends/s baseline ${baselineRate.toFixed(0)}, while a sink failed ${failingRate.toFixed(0)}`);
  assert.ok(baselineRate > 0);
  assert.ok(failingRate >= 0.7 * baselineRate, `ingest slowed while a sink failed: ${failingRate.toFixed(0)}/s vs ${baselineRate.toFixed(0)}/s`);

  // While failing: the flaky sink's lag grew and was visible; the healthy one kept up.
  assert.ok(during !== undefined && healthyDuring !== undefined);
  assert.ok(during.lagEvents > 0 && during.lagAgeMs > 0 && during.retries > 0, JSON.stringify(during));
  assert.ok(healthyDuring.lagEvents < during.lagEvents, `healthy lag ${healthyDuring.lagEvents}, flaky lag ${during.lagEvents}`);
  // Retention kept what the flaky sink had not read (max_age 0 would otherwise delete every closed segment).
  assert.ok((log.retention().default?.runs ?? 0) > 0);

  const total = completedMs.length * LINES_PER_BATCH;
  assert.equal(log.endOffset("default"), total);
  await waitFor(() => fanout.status().every((status) => status.committedOffset === total), 30_000, "both sinks to catch up");
  for (const sink of [healthy, flaky]) {
    assert.equal(sink.ids.size, total, `${sink.name} has every event`);
    assert.equal(sink.duplicates, 0, `${sink.name} got no event twice`);
  }
  assert.equal(log.retention().default?.skippedEvents, 0);
  // Once both sinks passed them, retention deletes the old segments.
  await log.runRetention();
  assert.ok((log.retention().default?.deletedSegments ?? 0) > 0);
  await fanout.close();
  await log.close();
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
  await waitFor(() => fast.ids.size === 12, 5000, "both tenants delivered to the fast sink");
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
