/**
 * Corruption (issue 4 acceptance): flip bytes in the middle and at the tail
 * of a segment, and delete indexes; recovery reports each, and every other
 * record reads back byte for byte, from the start and from offsets via the
 * (rebuilt) indexes. The log keeps accepting appends.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { closeSync, mkdtempSync, openSync, readSync, readdirSync, rmSync, statSync, unlinkSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "../../shared/logger.ts";
import { EmbeddedLog } from "./log.ts";
import { SEGMENT_HEADER_BYTES, segmentFileName } from "./format.ts";
import type { CorruptRange } from "./recovery.ts";
import { indexPath } from "./segment-index.ts";
import type { AppendInput } from "./tenant-log.ts";

function input(seq: number): AppendInput {
  const batch = Buffer.alloc(20_000 + seq * 37, seq % 251);
  batch.writeUInt32LE(seq, 0);
  return { batch, events: 5, agent: "agent-1", seq, floor: 0, observedMinMs: seq * 1000, observedMaxMs: seq * 1000 + 500 };
}

function openLog(directory: string): Promise<EmbeddedLog> {
  return EmbeddedLog.open({ directory, segmentBytes: 400_000, fsyncIntervalMs: 0, logger: silentLogger });
}

/** Byte positions of the records of a segment file, from the length fields. */
function recordPositions(path: string): number[] {
  const file = openSync(path, "r");
  const size = statSync(path).size;
  const positions: number[] = [];
  const head = Buffer.alloc(8);
  for (let position = SEGMENT_HEADER_BYTES; position < size; position += head.readUInt32LE(4)) {
    readSync(file, head, 0, 8, position);
    positions.push(position);
  }
  closeSync(file);
  return positions;
}

function flip(path: string, position: number, bytes: number): void {
  const file = openSync(path, "r+");
  const buffer = Buffer.alloc(bytes);
  readSync(file, buffer, 0, bytes, position);
  for (let index = 0; index < bytes; index++) buffer[index] = (buffer[index] as number) ^ 0x5a;
  writeSync(file, buffer, 0, bytes, position);
  closeSync(file);
}

test("bytes flipped in the middle and at the tail of segments, and deleted indexes: reported, and the rest reads back", async (t) => {
  const directory = mkdtempSync(join(tmpdir(), "logship-corruption-"));
  t.after(() => rmSync(directory, { recursive: true, force: true }));
  const log = await openLog(directory);
  const inputs = new Map<number, AppendInput>();
  for (let seq = 0; seq < 60; seq++) {
    const one = input(seq);
    inputs.set((await log.append("default", one)).baseOffset, one);
  }
  await log.close();
  const tenant = join(directory, "default");
  const bases = readdirSync(tenant).filter((name) => name.endsWith(".seg")).map((name) => Number(name.slice(0, 20)));
  assert.ok(bases.length >= 3, `segments: ${bases.join(", ")}`);
  const older = bases[1] as number;
  const last = bases.at(-1) as number;
  const olderPath = join(tenant, segmentFileName(older));
  const lastPath = join(tenant, segmentFileName(last));
  const olderRecords = recordPositions(olderPath);
  const lastRecords = recordPositions(lastPath);
  assert.ok(lastRecords.length >= 4);

  // Middle of an older segment: inside the batch bytes of its third record (CRC catches it).
  flip(olderPath, (olderRecords[2] as number) + 5000, 16);
  // Middle of the last segment: the record magic of its second record.
  flip(lastPath, (lastRecords[1] as number) + 1, 2);
  // Tail of the last segment: the last record's final bytes.
  flip(lastPath, statSync(lastPath).size - 10, 10);
  // Delete an older segment's offset index and the last segment's time index.
  unlinkSync(indexPath(tenant, older, "offset"));
  unlinkSync(indexPath(tenant, last, "time"));

  const reopened = await openLog(directory);
  const report = reopened.recovery.tenants[0];
  assert.ok(report !== undefined);
  // The tail: a bad last record looks like a torn write, so it is cut off (and reported, with why).
  assert.equal(report.truncated?.position, lastRecords.at(-1));
  assert.match(report.truncated?.reason ?? "", /CRC/);
  // The middle of the last segment: kept, reported, skipped by readers.
  assert.deepEqual(report.corrupt.map((range) => range.position), [lastRecords[1]]);
  // Both indexes: rebuilt and reported.
  assert.deepEqual(
    report.rebuiltIndexes.map((rebuilt) => [rebuilt.segment, rebuilt.index, rebuilt.reason]),
    [
      [segmentFileName(older), "offset", "index is missing"],
      [segmentFileName(last), "time", "index is missing"],
    ],
  );

  // Everything else reads back, byte for byte; readers report the two damaged records they skip.
  const corrupt: CorruptRange[] = [];
  const seen = new Map<number, Buffer>();
  for await (const entry of reopened.read("default", { onCorrupt: (range) => corrupt.push(range) })) seen.set(entry.header.baseOffset, entry.batch);
  assert.deepEqual(
    corrupt.map((range) => [range.segment, range.position]),
    [
      [segmentFileName(older), olderRecords[2]],
      [segmentFileName(last), lastRecords[1]],
    ],
  );
  const lost = [...inputs.keys()].filter((offset) => !seen.has(offset));
  assert.equal(lost.length, 3, "exactly the three damaged records are missing");
  for (const [offset, batch] of seen) assert.ok(batch.equals((inputs.get(offset) as AppendInput).batch), `record at ${offset} intact`);

  // From an offset after the damage in the older segment, via its rebuilt index: no damage met, same records.
  const after = [...seen.keys()].filter((offset) => offset > older + 20 && offset < last);
  const from = after[0] as number;
  const fromCorrupt: CorruptRange[] = [];
  const fromOffsets: number[] = [];
  for await (const entry of reopened.read("default", { fromOffset: from, onCorrupt: (range) => fromCorrupt.push(range) })) fromOffsets.push(entry.header.baseOffset);
  assert.deepEqual(fromOffsets, [...seen.keys()].filter((offset) => offset >= from));
  assert.equal(fromCorrupt.length, 1, "only the damage in the last segment lies ahead");

  // The log accepts new batches after the truncated tail.
  const next = await reopened.append("default", input(1000));
  assert.equal(next.baseOffset, report.nextOffset);
  await reopened.close();
});
