import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger, type Logger } from "../../shared/logger.ts";
import { EmbeddedLog, type EmbeddedLogOptions } from "./log.ts";
import type { AppendInput } from "./tenant-log.ts";

function temporaryDirectory(t: { after: (fn: () => void) => void }): string {
  const directory = mkdtempSync(join(tmpdir(), "logship-retention-"));
  t.after(() => rmSync(directory, { recursive: true, force: true }));
  return directory;
}

function input(seq: number, events = 10, bytes = 4000): AppendInput {
  return { batch: Buffer.alloc(bytes, seq % 251), events, agent: "agent-1", seq, floor: 0, observedMinMs: 1, observedMaxMs: 2 };
}

/** A log on a fake clock with retention that only runs when asked (and after rolls). */
async function openLog(directory: string, clock: { nowMs: number }, more: Partial<EmbeddedLogOptions> = {}): Promise<EmbeddedLog> {
  return EmbeddedLog.open({
    directory,
    segmentBytes: 1 << 20,
    segmentAgeMs: 1000,
    fsyncIntervalMs: 0,
    logger: silentLogger,
    sync: async () => undefined,
    nowMs: () => clock.nowMs,
    retention: { maxAgeMs: 10_000, maxBytes: 1 << 30, intervalMs: 3_600_000 },
    ...more,
  });
}

function segmentBases(directory: string): number[] {
  return readdirSync(join(directory, "default"))
    .filter((name) => name.endsWith(".seg"))
    .map((name) => Number(name.slice(0, 20)))
    .sort((a, b) => a - b);
}

/** Five segments, one per simulated second: bases 0, 10, 20, 30, 40 (the last one active). */
async function fiveSegments(log: EmbeddedLog, clock: { nowMs: number }): Promise<void> {
  for (let seq = 1; seq <= 5; seq++) {
    await log.append("default", input(seq));
    clock.nowMs += 1000;
  }
}

async function firstOffset(log: EmbeddedLog): Promise<number | undefined> {
  for await (const entry of log.read("default", {})) return entry.header.baseOffset;
  return undefined;
}

test("segments roll by age as well as by size", async (t) => {
  const directory = temporaryDirectory(t);
  const clock = { nowMs: 1_000_000 };
  const log = await openLog(directory, clock);
  await log.append("default", input(1));
  await log.append("default", input(2));
  clock.nowMs += 999;
  await log.append("default", input(3));
  assert.deepEqual(segmentBases(directory), [0]);
  clock.nowMs += 1;
  await log.append("default", input(4));
  assert.deepEqual(segmentBases(directory), [0, 30]);
  await log.close();
});

test("max_age deletes closed segments oldest first, never the active one", async (t) => {
  const directory = temporaryDirectory(t);
  const clock = { nowMs: 1_000_000 };
  const log = await openLog(directory, clock, { retention: { maxAgeMs: 2500, maxBytes: 1 << 30, intervalMs: 3_600_000 } });
  await fiveSegments(log, clock);
  assert.deepEqual(segmentBases(directory), [0, 10, 20, 30, 40]);
  // Now = created(40) + 1000. Segment 0's records predate segment 10's creation (t0 + 1000): 4000 ms ago.
  await log.runRetention();
  assert.deepEqual(segmentBases(directory), [20, 30, 40]);
  clock.nowMs += 100_000;
  await log.runRetention();
  assert.deepEqual(segmentBases(directory), [40], "the active segment stays, however old");
  assert.equal(readdirSync(join(directory, "default")).length, 3, "the indexes went with their segments");
  assert.equal(await firstOffset(log), 40);
  // Runs: one after each of the 4 rolls, and the 2 asked for.
  assert.deepEqual(log.retention()["default"], { runs: 6, deletedSegments: 4, deletedBytes: log.retention()["default"]?.deletedBytes, skippedRanges: 0, skippedEvents: 0 });
  await log.close();
});

test("max_bytes deletes oldest first until under the cap", async (t) => {
  const directory = temporaryDirectory(t);
  const clock = { nowMs: 1_000_000 };
  const log = await openLog(directory, clock, { retention: { maxAgeMs: 3_600_000, maxBytes: 9000, intervalMs: 3_600_000 } });
  await fiveSegments(log, clock);
  await log.runRetention();
  // Each segment is ~4.1 KB: two fit under 9000 bytes.
  assert.deepEqual(segmentBases(directory), [30, 40]);
  await log.close();
});

test("a consumer's lowest needed offset protects its segments from max_age, but max_bytes forces them out: logged and counted", async (t) => {
  const directory = temporaryDirectory(t);
  const clock = { nowMs: 1_000_000 };
  const needed = { offset: 15 };
  const warnings: Array<Record<string, unknown>> = [];
  const logger: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: (_message, context) => void warnings.push(context ?? {}),
    error: () => undefined,
    child: () => logger,
  };
  const limits = { maxAgeMs: 1000, maxBytes: 1 << 30, intervalMs: 3_600_000 };
  const log = await openLog(directory, clock, { logger, retention: limits, lowestNeededOffset: (tenant) => (tenant === "default" ? needed.offset : undefined) });
  await fiveSegments(log, clock);
  clock.nowMs += 100_000;
  await log.runRetention();
  assert.deepEqual(segmentBases(directory), [10, 20, 30, 40], "segment 10 holds offset 15, which the consumer still needs");
  needed.offset = 30;
  assert.deepEqual(await log.runRetention(), []);
  assert.deepEqual(segmentBases(directory), [30, 40]);
  assert.deepEqual(log.retention()["default"]?.skippedEvents, 0);
  await log.close();

  // The hard cap: the consumer still needs 30, but only ~one segment fits.
  const capped = await openLog(directory, clock, { logger, retention: { ...limits, maxBytes: 5000 }, lowestNeededOffset: () => 30 });
  const skipped = await capped.runRetention();
  assert.deepEqual(skipped, [{ tenant: "default", fromOffset: 30, toOffset: 40 }]);
  assert.deepEqual(segmentBases(directory), [40]);
  assert.equal(capped.retention()["default"]?.skippedRanges, 1);
  assert.equal(capped.retention()["default"]?.skippedEvents, 10);
  assert.ok(warnings.some((context) => context["skipped_events"] === 10));
  await capped.close();
});
