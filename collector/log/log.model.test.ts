/**
 * Model test of the embedded log (issue 4 acceptance): random sequences of
 * append / read from an offset / read from a time / roll (clock past
 * segment_age) / retention / crash-and-recover, run against the real log
 * and a list of acknowledged batches. After every step the log must hold
 * exactly the acknowledged batches, byte for byte, except those retention
 * deleted (the model deletes them too, checking that retention took only
 * the oldest ones and never the active segment, and kept what the fake
 * consumer needs unless it reported skipping it).
 *
 * A crash closes the files without the clean close path (no index sync)
 * and then leaves unacknowledged bytes at the end of the active segment
 * and its indexes: a prefix of a real record (a write torn at a random
 * byte) or random bytes. Recovery may drop only those.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { silentLogger } from "../../shared/logger.ts";
import { encodeRecordHeader } from "./format.ts";
import { EmbeddedLog } from "./log.ts";
import type { ReadOptions } from "./reader.ts";

interface ModelRecord {
  baseOffset: number;
  events: number;
  observedMaxMs: number;
  batch: Buffer;
  /** The segment it was appended to (a 0-event record can sit at the end of the segment before the one named by its offset). */
  segmentBase: number;
}

type Operation =
  | { kind: "append"; events: number; bytes: number; fill: number; observedStepMs: number }
  | { kind: "readFromOffset"; fraction: number }
  | { kind: "readFromTime"; fraction: number }
  | { kind: "roll" }
  | { kind: "retention"; neededFraction: number | null }
  | { kind: "crash"; tail: "none" | "torn" | "junk"; tailFraction: number; junk: Uint8Array };

const operation: fc.Arbitrary<Operation> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant("append" as const), events: fc.integer({ min: 0, max: 6 }), bytes: fc.integer({ min: 4, max: 40_000 }), fill: fc.integer({ min: 0, max: 255 }), observedStepMs: fc.integer({ min: -500, max: 1000 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("readFromOffset" as const), fraction: fc.double({ min: 0, max: 1.1, noNaN: true }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("readFromTime" as const), fraction: fc.double({ min: -0.1, max: 1.1, noNaN: true }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("roll" as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("retention" as const), neededFraction: fc.option(fc.double({ min: 0, max: 1, noNaN: true })) }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("crash" as const),
      tail: fc.constantFrom("none" as const, "torn" as const, "junk" as const),
      tailFraction: fc.double({ min: 0, max: 0.999, noNaN: true }),
      junk: fc.uint8Array({ minLength: 1, maxLength: 300 }),
    }),
  },
);

const SEGMENT_AGE_MS = 60_000;

/** What the runs exercised, so the test fails if the generators stop reaching the interesting paths. */
const coverage = { appends: 0, crashes: 0, tornTails: 0, recordsDeletedByRetention: 0, skippedByRetention: 0, mostSegments: 0 };

class Harness {
  readonly directory: string;
  readonly clock = { nowMs: 1_700_000_000_000 };
  records: ModelRecord[] = [];
  nextOffset = 0;
  observedMs = 1_700_000_000_000;
  needed: number | undefined = undefined;
  /** Skipped ranges the log reported since it was opened, as of the last check. */
  skippedRangesSeen = 0;
  log!: EmbeddedLog;

  constructor(directory: string) {
    this.directory = directory;
  }

  async open(): Promise<void> {
    this.skippedRangesSeen = 0;
    this.log = await EmbeddedLog.open({
      directory: this.directory,
      segmentBytes: 160_000,
      segmentAgeMs: SEGMENT_AGE_MS,
      fsyncIntervalMs: 0,
      logger: silentLogger,
      nowMs: () => this.clock.nowMs,
      // Small enough that the cap is hit now and then.
      retention: { maxAgeMs: 5 * SEGMENT_AGE_MS, maxBytes: 600_000, intervalMs: 3_600_000 },
      lowestNeededOffset: () => this.needed,
    });
  }

  async run(step: Operation): Promise<void> {
    switch (step.kind) {
      case "append":
        return this.append(step);
      case "readFromOffset":
        return this.checkRead({ fromOffset: Math.floor(step.fraction * (this.nextOffset + 1)) });
      case "readFromTime":
        return this.checkRead({ fromTimeMs: this.timeAt(step.fraction) });
      case "roll":
        this.clock.nowMs += SEGMENT_AGE_MS;
        return;
      case "retention":
        return this.retention(step.neededFraction);
      case "crash":
        return this.crash(step);
    }
  }

  private async append(step: Extract<Operation, { kind: "append" }>): Promise<void> {
    this.observedMs += step.observedStepMs;
    this.clock.nowMs += 1000;
    const batch = Buffer.alloc(step.bytes, step.fill);
    batch.writeUInt32LE(this.records.length, 0);
    const appended = await this.log.append("default", { batch, events: step.events, agent: "agent-1", seq: this.records.length, floor: 0, observedMinMs: this.observedMs - 5, observedMaxMs: this.observedMs });
    assert.deepEqual(appended, { baseOffset: this.nextOffset, events: step.events });
    coverage.appends++;
    coverage.mostSegments = Math.max(coverage.mostSegments, segmentBases(this.directory).length);
    const segmentBase = segmentBases(this.directory).at(-1) as number;
    this.records.push({ baseOffset: this.nextOffset, events: step.events, observedMaxMs: this.observedMs, batch, segmentBase });
    this.nextOffset += step.events;
  }

  private timeAt(fraction: number): number {
    const times = this.records.map((record) => record.observedMaxMs);
    if (times.length === 0) return this.observedMs;
    const low = Math.min(...times);
    const high = Math.max(...times);
    return Math.round(low + fraction * (high - low));
  }

  /** What a read must return, from the model. */
  private expected(options: ReadOptions): ModelRecord[] {
    const fromOffset = options.fromOffset ?? 0;
    let records = this.records.filter((record) => (record.events > 0 ? record.baseOffset + record.events > fromOffset : record.baseOffset >= fromOffset));
    if (options.fromTimeMs !== undefined) {
      const first = records.findIndex((record) => record.observedMaxMs >= (options.fromTimeMs as number));
      records = first === -1 ? [] : records.slice(first);
    }
    return records;
  }

  async checkRead(options: ReadOptions): Promise<void> {
    await this.settleRetention();
    const corrupt: unknown[] = [];
    const actual: Array<[number, number, Buffer]> = [];
    for await (const entry of this.log.read("default", { ...options, windowBytes: 65_536, onCorrupt: (range) => corrupt.push(range) })) {
      actual.push([entry.header.baseOffset, entry.header.events, entry.batch]);
    }
    assert.deepEqual(corrupt, []);
    const expected = this.expected(options);
    assert.deepEqual(
      actual.map(([baseOffset, events]) => [baseOffset, events]),
      expected.map((record) => [record.baseOffset, record.events]),
      `read ${JSON.stringify(options)}; segments ${segmentBases(this.directory).join(",")}; got ${actual.map(([offset, events]) => `${offset}+${events}`).join(" ")}; want ${expected.map((record) => `${record.baseOffset}+${record.events}`).join(" ")}`,
    );
    actual.forEach(([, , batch], index) => assert.ok(batch.equals((expected[index] as ModelRecord).batch), "batch bytes read back unaltered"));
  }

  private async retention(neededFraction: number | null): Promise<void> {
    await this.settleRetention();
    this.needed = neededFraction === null ? undefined : Math.floor(neededFraction * this.nextOffset);
    await this.checkRead({});
  }

  /**
   * Retention also runs after every roll, in the background: wait for it
   * (and run it once more), then drop from the model what it deleted,
   * checking that it took only the oldest records, never the active
   * segment's, and nothing the consumer needs unless it reported so.
   */
  private async settleRetention(): Promise<void> {
    await this.log.runRetention();
    const skippedRanges = this.log.retention()["default"]?.skippedRanges ?? 0;
    const skipped = skippedRanges > this.skippedRangesSeen;
    this.skippedRangesSeen = skippedRanges;
    const bases = new Set(segmentBases(this.directory));
    const lastRecord = this.records.at(-1);
    // The active segment (which holds the last record) is never deleted.
    if (lastRecord !== undefined) assert.ok(bases.has(lastRecord.segmentBase), "the active segment survives retention");
    const deleted = this.records.filter((record) => !bases.has(record.segmentBase));
    const kept = this.records.filter((record) => bases.has(record.segmentBase));
    const oldestKept = kept[0];
    for (const record of deleted) assert.ok(oldestKept === undefined || record.segmentBase < oldestKept.segmentBase, "retention deletes oldest first");
    if (this.needed !== undefined && !skipped) {
      for (const record of deleted) assert.ok(record.baseOffset + record.events <= this.needed || record.events === 0, "retention kept what the consumer needs");
    }
    coverage.recordsDeletedByRetention += deleted.length;
    if (skipped) coverage.skippedByRetention++;
    this.records = kept;
  }

  private async crash(step: Extract<Operation, { kind: "crash" }>): Promise<void> {
    await this.settleRetention();
    await this.log.destroy();
    coverage.crashes++;
    const bases = segmentBases(this.directory);
    const active = bases.at(-1);
    if (active !== undefined && step.tail !== "none") {
      const name = String(active).padStart(20, "0");
      const segment = join(this.directory, "default", `${name}.seg`);
      let tail: Buffer;
      if (step.tail === "torn") {
        // A record that was being written when the power went: cut at a random byte.
        const batch = Buffer.alloc(2000, 7);
        const head = encodeRecordHeader({ baseOffset: this.nextOffset, events: 1, appendedMs: 0, observedMinMs: 0, observedMaxMs: 0, agent: "agent-1", seq: -1, floor: 0 }, batch);
        const whole = Buffer.concat([head, batch]);
        tail = whole.subarray(0, Math.floor(step.tailFraction * whole.length));
      } else {
        tail = Buffer.from(step.junk);
      }
      appendFileSync(segment, tail);
      if (tail.length > 0) coverage.tornTails++;
      appendFileSync(join(this.directory, "default", `${name}.index`), Buffer.from(step.junk).subarray(0, 30));
    }
    await this.open();
    const report = this.log.recovery.tenants.find((tenant) => tenant.tenant === "default");
    if (report !== undefined) {
      assert.equal(report.nextOffset, this.nextOffset, "recovery ends at the last acknowledged batch");
      assert.deepEqual(report.corrupt, []);
    }
    await this.checkRead({});
  }
}

function segmentBases(directory: string): number[] {
  let names: string[];
  try {
    names = readdirSync(join(directory, "default"));
  } catch {
    return []; // no append yet: no tenant directory
  }
  return names
    .filter((name) => name.endsWith(".seg"))
    .map((name) => Number(name.slice(0, 20)))
    .sort((a, b) => a - b);
}

test("model: append, read from offset and time, roll, retention, crash-and-recover never lose or alter an acknowledged batch", async (t) => {
  await fc.assert(
    fc.asyncProperty(fc.array(operation, { minLength: 1, maxLength: 100, size: "max" }), async (operations) => {
      const directory = mkdtempSync(join(tmpdir(), "logship-model-"));
      const harness = new Harness(directory);
      try {
        await harness.open();
        for (const [index, step] of operations.entries()) {
          try {
            await harness.run(step);
          } catch (error) {
            throw new Error(`step ${index} (${step.kind}) failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
          }
        }
        await harness.checkRead({});
        await harness.log.close();
      } finally {
        await harness.log?.destroy();
        rmSync(directory, { recursive: true, force: true });
      }
    }),
    { numRuns: Number(process.env["LOGSHIP_MODEL_RUNS"] ?? 40), endOnFailure: process.env["LOGSHIP_MODEL_SHRINK"] === undefined },
  );
  assert.ok(coverage.crashes > 20 && coverage.tornTails > 10, JSON.stringify(coverage));
  assert.ok(coverage.recordsDeletedByRetention > 0 && coverage.skippedByRetention > 0 && coverage.mostSegments >= 5, JSON.stringify(coverage));
  t.diagnostic(JSON.stringify(coverage));
});
