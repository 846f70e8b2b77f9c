import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { silentLogger } from "../../shared/logger.ts";
import { makeBatch, numberedLines } from "../testing/batches.ts";
import { EmbeddedLog, type EmbeddedLogOptions } from "./log.ts";
import { SEGMENT_HEADER_BYTES, segmentFileName } from "./format.ts";
import type { AppendInput, Appended, SyncFunction } from "./tenant-log.ts";

function temporaryDirectory(t: { after: (fn: () => void) => void }): string {
  const directory = mkdtempSync(join(tmpdir(), "logship-commit-"));
  t.after(() => rmSync(directory, { recursive: true, force: true }));
  return directory;
}

function input(seq: number, events = 5): AppendInput {
  const batch = makeBatch({ seq, lines: numberedLines(`seq ${seq}`, 0, events) });
  return { batch: batch.body, events, agent: "agent-1", seq, floor: 0, observedMinMs: 0, observedMaxMs: 0 };
}

/** A sync that records the file size it made durable and can be slowed or made to fail. */
function recordingSync(options: { delayMs?: number; failNext?: () => boolean } = {}): { sync: SyncFunction; durableSizes: number[] } {
  const durableSizes: number[] = [];
  const sync = async (file: FileHandle): Promise<void> => {
    const { size } = await file.stat();
    if (options.delayMs !== undefined) await sleep(options.delayMs);
    if (options.failNext?.() === true) throw Object.assign(new Error("EIO: injected sync failure"), { code: "EIO" });
    await file.datasync();
    durableSizes.push(size);
  };
  return { sync, durableSizes };
}

function openLog(directory: string, more: Partial<EmbeddedLogOptions>): Promise<EmbeddedLog> {
  return EmbeddedLog.open({ directory, segmentBytes: 64 << 20, fsyncIntervalMs: 0, logger: silentLogger, ...more });
}

test("concurrent appends share fdatasyncs, and each resolves only after a sync that covers its bytes", async (t) => {
  const directory = temporaryDirectory(t);
  const { sync, durableSizes } = recordingSync({ delayMs: 2 });
  const log = await openLog(directory, { sync });
  const count = 200;
  const inputs = Array.from({ length: count }, (_, index) => input(index + 1));
  const durableAtResolve: number[] = [];
  const appended = await Promise.all(
    inputs.map((one, index) =>
      log.append("default", one).then((result) => {
        durableAtResolve[index] = durableSizes.at(-1) ?? 0;
        return result;
      }),
    ),
  );
  await log.close();
  // Offsets follow call order and count events.
  assert.deepEqual(
    appended.map((result) => result.baseOffset),
    inputs.map((_, index) => index * 5),
  );
  assert.ok(durableSizes.length < count / 4, `expected far fewer syncs than ${count} appends, got ${durableSizes.length}`);
  // Record i ends at header + the sizes of records 0..i; the sync seen at resolve time covered that.
  let end = SEGMENT_HEADER_BYTES;
  for (const [index, one] of inputs.entries()) {
    end += 68 + one.agent.length + one.batch.length;
    assert.ok((durableAtResolve[index] as number) >= end, `append ${index} resolved before its bytes were synced`);
  }
  assert.equal(statSync(join(directory, "default", segmentFileName(0))).size, end);
});

test("with fsync interval, syncs are spaced out and appends still resolve only after theirs", async (t) => {
  const directory = temporaryDirectory(t);
  const { sync, durableSizes } = recordingSync();
  const log = await openLog(directory, { sync, fsyncIntervalMs: 40 });
  const pending: Promise<Appended>[] = [];
  for (let seq = 1; seq <= 30; seq++) {
    pending.push(log.append("default", input(seq)));
    await sleep(3);
  }
  const appended = await Promise.all(pending);
  await log.close();
  assert.equal(appended.at(-1)?.baseOffset, 29 * 5);
  assert.ok(durableSizes.length < 30 / 2, `syncs at most every 40 ms: ${durableSizes.length} syncs for 30 appends over ~90 ms`);
});

test("a failed sync rejects the unacknowledged appends, repairs the segment, and the next append reuses their offsets", async (t) => {
  const directory = temporaryDirectory(t);
  let failures = 0;
  const { sync } = recordingSync({ failNext: () => failures-- > 0 });
  const log = await openLog(directory, { sync });
  assert.deepEqual(await log.append("default", input(1)), { baseOffset: 0, events: 5 });
  const sizeBefore = statSync(join(directory, "default", segmentFileName(0))).size;
  failures = 1;
  await assert.rejects(log.append("default", input(2)), { code: "LOGSHIP_LOG_UNAVAILABLE" });
  assert.equal(log.writable, false);
  assert.deepEqual(await log.append("default", input(3)), { baseOffset: 5, events: 5 });
  assert.equal(log.writable, true);
  const seqs: number[] = [];
  for await (const entry of log.read("default", { fromOffset: 0 })) seqs.push(entry.header.seq);
  assert.deepEqual(seqs, [1, 3], "the rejected record was cut away by the repair");
  assert.ok(statSync(join(directory, "default", segmentFileName(0))).size > sizeBefore);
  await log.close();
});

test("close lets queued appends finish and then refuses new ones", async (t) => {
  const directory = temporaryDirectory(t);
  const { sync } = recordingSync({ delayMs: 30 });
  const log = await openLog(directory, { sync });
  const pending = Array.from({ length: 10 }, (_, index) => log.append("default", input(index + 1)));
  const closing = log.close();
  await assert.rejects(log.append("default", input(99)), { code: "LOGSHIP_LOG_CLOSED" });
  assert.equal((await Promise.all(pending)).length, 10);
  await closing;
  assert.equal(log.writable, false);
});

test("a roll in the middle of a group syncs the old segment before the new one is used", async (t) => {
  const directory = temporaryDirectory(t);
  const { sync, durableSizes } = recordingSync({ delayMs: 5 });
  const log = await openLog(directory, { sync, segmentBytes: 2048 });
  const appended = await Promise.all(Array.from({ length: 40 }, (_, index) => log.append("default", input(index + 1))));
  await log.close();
  assert.deepEqual(
    appended.map((result) => result.baseOffset),
    Array.from({ length: 40 }, (_, index) => index * 5),
  );
  const reopened = await openLog(directory, {});
  const seqs: number[] = [];
  for await (const entry of reopened.read("default", { fromOffset: 0 })) seqs.push(entry.header.seq);
  await reopened.close();
  assert.equal(seqs.length, 40);
  assert.ok(durableSizes.length >= 2);
});
