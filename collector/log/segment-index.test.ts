import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, unlinkSync, writeFileSync, writeSync, closeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "../../shared/logger.ts";
import { EmbeddedLog, type EmbeddedLogOptions } from "./log.ts";
import { segmentFileName } from "./format.ts";
import type { LogEntry, ReadOptions } from "./reader.ts";
import type { CorruptRange } from "./recovery.ts";
import { INDEX_ENTRY_BYTES, INDEX_HEADER_BYTES, decodeIndex, indexFileName, indexPath } from "./segment-index.ts";
import type { AppendInput } from "./tenant-log.ts";

function temporaryDirectory(t: { after: (fn: () => void) => void }): string {
  const directory = mkdtempSync(join(tmpdir(), "logship-index-"));
  t.after(() => rmSync(directory, { recursive: true, force: true }));
  return directory;
}

function openLog(directory: string, more: Partial<EmbeddedLogOptions> = {}): Promise<EmbeddedLog> {
  return EmbeddedLog.open({ directory, segmentBytes: 64 << 20, fsyncIntervalMs: 0, logger: silentLogger, sync: async () => undefined, ...more });
}

/** A record of ~`bytes` whose batch bytes name its seq (the log stores batches as given). */
function input(seq: number, events: number, observedMaxMs: number, bytes = 9000): AppendInput {
  const batch = Buffer.alloc(bytes, seq % 251);
  batch.write(`batch ${seq}`, 0);
  return { batch, events, agent: "agent-1", seq, floor: 0, observedMinMs: observedMaxMs - 10, observedMaxMs };
}

/** Observed max of record `seq`: rising with jitter, so the running max and the record's own max differ. */
function observedOf(seq: number): number {
  return 1_000_000 + seq * 100 + ((seq * 7919) % 5) * 90;
}

async function fill(directory: string, records: number, more: Partial<EmbeddedLogOptions> = {}): Promise<{ log: EmbeddedLog; inputs: AppendInput[] }> {
  const log = await openLog(directory, more);
  const inputs: AppendInput[] = [];
  for (let seq = 1; seq <= records; seq++) {
    const one = input(seq, 1 + (seq % 3), observedOf(seq));
    inputs.push(one);
    await log.append("default", one);
  }
  return { log, inputs };
}

async function readAll(log: EmbeddedLog, options: ReadOptions, corrupt: CorruptRange[] = []): Promise<LogEntry[]> {
  const entries: LogEntry[] = [];
  for await (const entry of log.read("default", { ...options, onCorrupt: (range) => corrupt.push(range) })) entries.push(entry);
  return entries;
}

const seqs = (entries: LogEntry[]): number[] => entries.map((entry) => entry.header.seq);

function indexEntries(directory: string, baseOffset: number, kind: "offset" | "time"): number {
  const decoded = decodeIndex(readFileSync(indexPath(join(directory, "default"), baseOffset, kind)), kind, baseOffset);
  assert.equal(decoded.problem, null);
  return decoded.entries.length;
}

test("appends write a sparse offset index and time index; reads from an offset seek through it", async (t) => {
  const directory = temporaryDirectory(t);
  const { log, inputs } = await fill(directory, 200);
  // ~1.8 MB of segment at one entry per 64 KiB.
  const offsetEntries = indexEntries(directory, 0, "offset");
  assert.ok(offsetEntries >= 20 && offsetEntries <= 30, `offset index entries: ${offsetEntries}`);
  assert.ok(indexEntries(directory, 0, "time") >= 20);
  const everything = await readAll(log, {});
  assert.deepEqual(seqs(everything), inputs.map((one) => one.seq));
  for (const from of [0, 1, 57, 200, 399, 400]) {
    const expected = everything.filter((entry) => entry.header.baseOffset + entry.header.events > from);
    assert.deepEqual(seqs(await readAll(log, { fromOffset: from })), seqs(expected), `from ${from}`);
  }
  await log.close();
  // The proof that it seeks: damage a record near the start; a read from a late offset never sees it.
  const segment = join(directory, "default", segmentFileName(0));
  const file = openSync(segment, "r+");
  writeSync(file, Buffer.from("XXXXXXXX"), 0, 8, 5000);
  closeSync(file);
  const reopened = await openLog(directory);
  const corrupt: CorruptRange[] = [];
  const late = await readAll(reopened, { fromOffset: 350 }, corrupt);
  assert.deepEqual(corrupt, []);
  assert.equal(late[0]?.header.baseOffset !== undefined && late[0].header.baseOffset <= 350, true);
  await readAll(reopened, { fromOffset: 0 }, corrupt);
  assert.equal(corrupt.length, 1, "a read from the start does meet the damage");
  await reopened.close();
});

test("reads from a time start at the first record whose observed max reaches it, across segments", async (t) => {
  const directory = temporaryDirectory(t);
  const { log } = await fill(directory, 300, { segmentBytes: 1 << 20 });
  const everything = await readAll(log, {});
  for (const fromTimeMs of [0, observedOf(1), observedOf(40) + 1, observedOf(150), observedOf(151) - 1, observedOf(299), observedOf(300) + 1]) {
    const first = everything.findIndex((entry) => entry.header.observedMaxMs >= fromTimeMs);
    const expected = first === -1 ? [] : everything.slice(first);
    assert.deepEqual(seqs(await readAll(log, { fromTimeMs })), seqs(expected), `from ${fromTimeMs}`);
  }
  // Both: from an offset, then from a time.
  const fromBoth = everything.filter((entry) => entry.header.baseOffset + entry.header.events > 100);
  const firstLate = fromBoth.findIndex((entry) => entry.header.observedMaxMs >= observedOf(20));
  assert.deepEqual(seqs(await readAll(log, { fromOffset: 100, fromTimeMs: observedOf(20) })), seqs(fromBoth.slice(firstLate)));
  await log.close();
});

test("a missing, damaged or overreaching index is rebuilt on open and reported; a lagging one is completed quietly", async (t) => {
  const directory = temporaryDirectory(t);
  const { log } = await fill(directory, 300, { segmentBytes: 1 << 20 });
  await log.close();
  const tenant = join(directory, "default");
  const bases = [0];
  // The second segment's base offset: the first record that did not fit.
  for (const name of readdirSync(tenant).sort()) if (name.endsWith(".seg") && name !== segmentFileName(0)) bases.push(Number(name.slice(0, 20)));
  assert.ok(bases.length >= 2);
  const closedBase = bases[0] as number;
  const activeBase = bases.at(-1) as number;
  const healthy = readFileSync(indexPath(tenant, closedBase, "offset"));
  // Closed segment: delete the offset index, flip a byte in an entry of the time index.
  unlinkSync(indexPath(tenant, closedBase, "offset"));
  const time = readFileSync(indexPath(tenant, closedBase, "time"));
  const flipAt = INDEX_HEADER_BYTES + INDEX_ENTRY_BYTES + 3;
  time[flipAt] = (time[flipAt] as number) ^ 0xff;
  writeFileSync(indexPath(tenant, closedBase, "time"), time);
  // Active segment: its index lags (header only): not damage.
  truncateSync(indexPath(tenant, activeBase, "offset"), INDEX_HEADER_BYTES);
  const reopened = await openLog(directory);
  const rebuilt = reopened.recovery.tenants[0]?.rebuiltIndexes ?? [];
  assert.deepEqual(
    rebuilt.map((one) => [one.segment, one.index]),
    [
      [segmentFileName(closedBase), "offset"],
      [segmentFileName(closedBase), "time"],
    ],
  );
  assert.match(rebuilt[0]?.reason ?? "", /missing/);
  assert.match(rebuilt[1]?.reason ?? "", /CRC/);
  assert.ok(readFileSync(indexPath(tenant, closedBase, "offset")).equals(healthy), "the rebuilt index equals the one written");
  assert.ok(indexEntries(directory, activeBase, "offset") > 0);
  await reopened.close();

  // Cut the active segment short: its index now points past the valid records.
  const segment = join(tenant, segmentFileName(activeBase));
  truncateSync(segment, Math.floor(statSync(segment).size / 3));
  const cut = await openLog(directory);
  const report = cut.recovery.tenants[0];
  assert.ok(report?.truncated !== null);
  assert.deepEqual(report?.rebuiltIndexes.map((one) => [one.index, one.reason]), [
    ["offset", `index entry ${indexEntries(directory, activeBase, "offset")} points past the last valid record`],
    ["time", `index entry ${indexEntries(directory, activeBase, "time")} points past the last valid record`],
  ]);
  const entries = await readAll(cut, {});
  assert.equal(entries.at(-1)?.header.baseOffset !== undefined, true);
  // Appends continue, indexed.
  await cut.append("default", input(1000, 1, observedOf(1000)));
  const after = await readAll(cut, { fromOffset: (entries.at(-1)?.header.baseOffset ?? 0) + 1 });
  assert.deepEqual(seqs(after).at(-1), 1000);
  await cut.close();
  assert.equal(indexFileName(activeBase, "time"), segmentFileName(activeBase).replace(".seg", ".timeindex"));
});

test("a failed sync cuts the index entries of the records it rejects, so the index still matches after the repair", async (t) => {
  const directory = temporaryDirectory(t);
  let failNext = false;
  const log = await openLog(directory, {
    sync: async () => {
      if (failNext) {
        failNext = false;
        throw new Error("EIO: injected");
      }
    },
  });
  // 9 KB records: entries at records 1, 9, 17, 25 (every 64 KiB).
  for (let seq = 1; seq <= 24; seq++) await log.append("default", input(seq, 1, observedOf(seq)));
  // A record far enough on to get an entry in both indexes; its sync fails.
  failNext = true;
  await assert.rejects(log.append("default", input(25, 1, 9_000_000_000)), { code: "LOGSHIP_LOG_UNAVAILABLE" });
  // The same offset and position again, with another observed time.
  await log.append("default", input(26, 1, observedOf(26)));
  await log.close();
  const reopened = await openLog(directory);
  assert.deepEqual(reopened.recovery.tenants[0]?.rebuiltIndexes, []);
  assert.deepEqual(seqs(await readAll(reopened, { fromTimeMs: observedOf(26) })), [26]);
  await reopened.close();
});
