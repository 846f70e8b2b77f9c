import { test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync, writeSync, closeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "../../shared/logger.ts";
import { makeBatch, numberedLines } from "../testing/batches.ts";
import { EmbeddedLog, type EmbeddedLogOptions } from "./log.ts";
import { SEGMENT_HEADER_BYTES, segmentFileName } from "./format.ts";
import { readTenantLog, type LogEntry } from "./reader.ts";
import type { CorruptRange } from "./recovery.ts";
import type { AppendInput } from "./tenant-log.ts";

function temporaryDirectory(t: { after: (fn: () => void) => void }): string {
  const directory = mkdtempSync(join(tmpdir(), "logship-log-"));
  t.after(() => rmSync(directory, { recursive: true, force: true }));
  return directory;
}

function openLog(directory: string, more: Partial<EmbeddedLogOptions> = {}): Promise<EmbeddedLog> {
  return EmbeddedLog.open({ directory, segmentBytes: 1 << 20, fsyncIntervalMs: 0, logger: silentLogger, ...more });
}

function input(seq: number, events: number, agent = "agent-1"): AppendInput {
  const batch = makeBatch({ agent, seq, lines: numberedLines(`seq ${seq} line`, 0, events) });
  return { batch: batch.body, events, agent, seq, floor: 0, observedMinMs: 1, observedMaxMs: 2 };
}

async function readAll(log: EmbeddedLog | string, tenant: string, fromOffset = 0, corrupt: CorruptRange[] = []): Promise<LogEntry[]> {
  const entries: LogEntry[] = [];
  const onCorrupt = (range: CorruptRange): number => corrupt.push(range);
  const iterable = typeof log === "string" ? readTenantLog(log, tenant, { fromOffset, onCorrupt }) : log.read(tenant, { fromOffset, onCorrupt });
  for await (const entry of iterable) entries.push(entry);
  return entries;
}

test("appends get event offsets in order and read back byte for byte", async (t) => {
  const directory = temporaryDirectory(t);
  const log = await openLog(directory);
  const inputs = [input(1, 3), input(2, 5), input(3, 2)];
  const appended = [];
  for (const one of inputs) appended.push(await log.append("default", one));
  assert.deepEqual(appended, [
    { baseOffset: 0, events: 3 },
    { baseOffset: 3, events: 5 },
    { baseOffset: 8, events: 2 },
  ]);
  const entries = await readAll(log, "default");
  assert.deepEqual(
    entries.map((entry) => [entry.header.baseOffset, entry.header.events, entry.header.agent, entry.header.seq]),
    [
      [0, 3, "agent-1", 1],
      [3, 5, "agent-1", 2],
      [8, 2, "agent-1", 3],
    ],
  );
  entries.forEach((entry, index) => assert.ok(entry.batch.equals((inputs[index] as AppendInput).batch)));
  // From an offset inside the second record: that record comes first.
  assert.deepEqual((await readAll(log, "default", 4)).map((entry) => entry.header.baseOffset), [3, 8]);
  assert.deepEqual(await readAll(log, "default", 10), []);
  await log.close();
  await assert.rejects(log.append("default", input(4, 1)), { code: "LOGSHIP_LOG_CLOSED" });
});

test("tenants are separate directories with their own offsets; reopening continues the offsets", async (t) => {
  const directory = temporaryDirectory(t);
  const log = await openLog(directory);
  await log.append("default", input(1, 3));
  await log.append("payments", input(1, 4));
  await log.close();
  assert.deepEqual(readdirSync(directory).sort(), ["default", "payments"]);
  const reopened = await openLog(directory);
  assert.deepEqual(reopened.tenants(), ["default", "payments"]);
  assert.deepEqual(reopened.recovery.tenants.map((tenant) => [tenant.tenant, tenant.nextOffset, tenant.truncated]), [
    ["default", 3, null],
    ["payments", 4, null],
  ]);
  assert.deepEqual(await reopened.append("default", input(2, 1)), { baseOffset: 3, events: 1 });
  await assert.rejects(reopened.append("../evil", input(1, 1)), { code: "LOGSHIP_LOG_TENANT" });
  await reopened.close();
});

test("segments roll at segment_bytes and are named by their base offset", async (t) => {
  const directory = temporaryDirectory(t);
  const log = await openLog(directory, { segmentBytes: 1500 });
  const offsets: number[] = [];
  for (let seq = 1; seq <= 20; seq++) offsets.push((await log.append("default", input(seq, 40))).baseOffset);
  await log.close();
  const files = readdirSync(join(directory, "default")).sort();
  const names = files.filter((name) => name.endsWith(".seg"));
  // Each segment has its two indexes beside it.
  assert.deepEqual(files.filter((name) => !name.endsWith(".seg")).length, names.length * 2);
  assert.ok(names.length > 2, `expected several segments, got ${names.join(", ")}`);
  for (const name of names) {
    assert.ok(offsets.includes(Number(name.slice(0, 20))), `${name} starts at a record's base offset`);
    assert.ok(statSync(join(directory, "default", name)).size <= 1500);
  }
  assert.equal(names[0], segmentFileName(0));
  const entries = await readAll(directory, "default");
  assert.deepEqual(
    entries.map((entry) => entry.header.seq),
    Array.from({ length: 20 }, (_, index) => index + 1),
  );
  // Reading from an offset starts in the right segment.
  assert.deepEqual((await readAll(directory, "default", 400)).map((entry) => entry.header.baseOffset)[0], 400);
});

/** Size and positions of the records of the (single) segment. */
async function recordPositions(directory: string): Promise<{ path: string; positions: number[]; size: number }> {
  const path = join(directory, "default", segmentFileName(0));
  const log = await openLog(directory);
  const positions: number[] = [];
  let position = SEGMENT_HEADER_BYTES;
  for await (const header of log.headers("default")) {
    positions.push(position);
    position += header.length;
  }
  await log.close();
  return { path, positions, size: statSync(path).size };
}

async function threeRecords(directory: string): Promise<void> {
  const log = await openLog(directory);
  for (let seq = 1; seq <= 3; seq++) await log.append("default", input(seq, 10));
  await log.close();
}

test("a torn record at the tail is truncated on open and reported; appends continue after the last intact record", async (t) => {
  const directory = temporaryDirectory(t);
  await threeRecords(directory);
  const { path, positions, size } = await recordPositions(directory);
  // A crash in the middle of writing a fourth record: its first 100 bytes.
  const third = readFileSync(path).subarray(positions[2], positions[2] as number + 100);
  appendFileSync(path, third);
  const log = await openLog(directory);
  const report = log.recovery.tenants[0];
  assert.equal(report?.truncated?.position, size);
  assert.equal(report?.truncated?.bytes, 100);
  assert.equal(report?.nextOffset, 30);
  assert.equal(statSync(path).size, size);
  assert.deepEqual(await log.append("default", input(4, 1)), { baseOffset: 30, events: 1 });
  assert.deepEqual((await readAll(log, "default")).map((entry) => entry.header.seq), [1, 2, 3, 4]);
  await log.close();
});

test("a CRC-failing last record is truncated with everything after it", async (t) => {
  const directory = temporaryDirectory(t);
  await threeRecords(directory);
  const { path, positions } = await recordPositions(directory);
  flipByte(path, (positions[2] as number) + 90);
  appendFileSync(path, Buffer.alloc(5000)); // zeros after the damage, as a crash can leave
  const log = await openLog(directory);
  const report = log.recovery.tenants[0];
  assert.equal(report?.truncated?.position, positions[2]);
  assert.equal(report?.truncated?.reason, "record CRC mismatch");
  assert.equal(statSync(path).size, positions[2]);
  assert.deepEqual((await readAll(log, "default")).map((entry) => entry.header.seq), [1, 2]);
  assert.deepEqual(await log.append("default", input(9, 1)), { baseOffset: 20, events: 1 });
  await log.close();
});

test("zeros at the end of the last segment are truncated", async (t) => {
  const directory = temporaryDirectory(t);
  await threeRecords(directory);
  const { path, size } = await recordPositions(directory);
  appendFileSync(path, Buffer.alloc(8192));
  const log = await openLog(directory);
  assert.equal(log.recovery.tenants[0]?.truncated?.bytes, 8192);
  assert.equal(statSync(path).size, size);
  await log.close();
});

test("a corrupt record in the middle is kept, reported, and skipped by readers; the rest reads back", async (t) => {
  const directory = temporaryDirectory(t);
  await threeRecords(directory);
  const { path, positions, size } = await recordPositions(directory);
  flipByte(path, (positions[1] as number) + 80);
  const log = await openLog(directory);
  const report = log.recovery.tenants[0];
  assert.equal(report?.truncated, null, "intact records after the damage are not cut off");
  assert.deepEqual(report?.corrupt, [{ segment: segmentFileName(0), position: positions[1], bytes: (positions[2] as number) - (positions[1] as number), reason: "record CRC mismatch" }]);
  assert.equal(statSync(path).size, size);
  const corrupt: CorruptRange[] = [];
  assert.deepEqual((await readAll(log, "default", 0, corrupt)).map((entry) => entry.header.seq), [1, 3]);
  assert.equal(corrupt.length, 1);
  assert.equal(corrupt[0]?.reason, "record CRC mismatch");
  // A damaged length field: the reader finds the next record by its magic and CRC.
  await log.close();
  writeAt(path, (positions[1] as number) + 4, Buffer.from([0xff, 0xff, 0xff, 0x00]));
  const lengths: CorruptRange[] = [];
  assert.deepEqual((await readAll(directory, "default", 0, lengths)).map((entry) => entry.header.seq), [1, 3]);
  assert.match(lengths[0]?.reason ?? "", /length|CRC|torn/);
});

test("corruption in an older segment is skipped by readers; open does not read it and does not fail", async (t) => {
  const directory = temporaryDirectory(t);
  const log = await openLog(directory, { segmentBytes: 4096 });
  for (let seq = 1; seq <= 12; seq++) await log.append("default", input(seq, 40));
  await log.close();
  const first = join(directory, "default", segmentFileName(0));
  flipByte(first, SEGMENT_HEADER_BYTES + 200);
  const reopened = await openLog(directory, { segmentBytes: 4096 });
  assert.equal(reopened.recovery.tenants[0]?.truncated, null);
  const corrupt: CorruptRange[] = [];
  const seqs = (await readAll(reopened, "default", 0, corrupt)).map((entry) => entry.header.seq);
  assert.deepEqual(seqs, Array.from({ length: 11 }, (_, index) => index + 2));
  assert.equal(corrupt.length, 1);
  assert.equal(corrupt[0]?.segment, segmentFileName(0));
  assert.deepEqual(await reopened.append("default", input(13, 1)), { baseOffset: 480, events: 1 });
  await reopened.close();
});

test("a last segment with a damaged header is set aside and a fresh one starts at its base offset", async (t) => {
  const directory = temporaryDirectory(t);
  await threeRecords(directory);
  const path = join(directory, "default", segmentFileName(0));
  flipByte(path, 9);
  const log = await openLog(directory);
  assert.match(log.recovery.tenants[0]?.setAside ?? "", /segment header CRC mismatch/);
  assert.ok(readdirSync(join(directory, "default")).includes(`${segmentFileName(0)}.corrupt`));
  assert.deepEqual(await log.append("default", input(1, 2)), { baseOffset: 0, events: 2 });
  await log.close();
});

test("headers() lists every record's agent, seq and floor without reading batches", async (t) => {
  const directory = temporaryDirectory(t);
  const log = await openLog(directory, { segmentBytes: 4096 });
  for (let seq = 1; seq <= 10; seq++) await log.append("default", { ...input(seq, 30, `agent-${seq % 2}`), floor: seq - 1 });
  const headers = [];
  for await (const header of log.headers("default")) headers.push([header.agent, header.seq, header.floor, header.baseOffset]);
  assert.deepEqual(
    headers,
    Array.from({ length: 10 }, (_, index) => [`agent-${(index + 1) % 2}`, index + 1, index, index * 30]),
  );
  await log.close();
});

function flipByte(path: string, position: number): void {
  const byte = readFileSync(path).subarray(position, position + 1);
  writeAt(path, position, Buffer.from([(byte[0] as number) ^ 0x5a]));
}

function writeAt(path: string, position: number, bytes: Buffer): void {
  const fd = openSync(path, "r+");
  writeSync(fd, bytes, 0, bytes.length, position);
  closeSync(fd);
}

test("a reader with a window smaller than the records reads the same records", async (t) => {
  const directory = temporaryDirectory(t);
  const log = await openLog(directory, { segmentBytes: 4096 });
  const inputs = Array.from({ length: 12 }, (_, index) => input(index + 1, 60));
  for (const one of inputs) await log.append("default", one);
  await log.close();
  const entries: LogEntry[] = [];
  for await (const entry of readTenantLog(directory, "default", { fromOffset: 0, windowBytes: 400 })) entries.push(entry);
  assert.equal(entries.length, 12);
  entries.forEach((entry, index) => assert.ok(entry.batch.equals((inputs[index] as AppendInput).batch)));
});
