import { test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, readdirSync, rmSync, statSync, truncateSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "../../shared/logger.ts";
import { Spool, type SpoolOptions } from "./spool.ts";

function spoolIn(directory: string, options: Partial<SpoolOptions> = {}): Spool {
  return new Spool({ directory, bytesMax: 1 << 20, batchesMax: 100_000, whenFull: "block", segmentBytes: 4096, cacheBytesMax: 1 << 20, logger: silentLogger, ...options });
}

function scratch(): string {
  return mkdtempSync(join(tmpdir(), "logship-spool-"));
}

const batch = (seq: number, bytes = 100): Buffer => Buffer.alloc(bytes, seq % 251);

test("spool: records survive a restart, in order, with their bytes; acknowledged ones are not returned", async (t) => {
  const dir = scratch();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const first = spoolIn(dir);
  assert.deepEqual(await first.open(), []);
  const agentId = first.agentId;
  for (let index = 0; index < 50; index++) {
    const seq = await first.allocateSeq();
    await first.append(seq, 3, [{ key: "k", endOffset: seq * 10 }], batch(seq));
  }
  for (let seq = 0; seq < 20; seq++) await first.ack(seq);
  await first.ack(25);
  await first.close();
  const second = spoolIn(dir);
  const records = await second.open();
  assert.equal(second.agentId, agentId);
  assert.deepEqual(records.map((record) => record.seq), [...Array(30).keys()].map((n) => n + 20).filter((seq) => seq !== 25));
  for (const record of records) {
    assert.deepEqual(await second.batchOf(record), batch(record.seq));
    assert.deepEqual(record.ranges, [{ key: "k", endOffset: record.seq * 10 }]);
  }
  // Sequence numbers are never reused after a restart.
  assert.ok((await second.allocateSeq()) >= 50);
  await second.close();
});

test("spool: a torn record at the tail is dropped and nothing before it", async (t) => {
  const dir = scratch();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const spool = spoolIn(dir, { segmentBytes: 1 << 20 });
  await spool.open();
  for (let index = 0; index < 5; index++) await spool.append(await spool.allocateSeq(), 1, [], batch(index));
  await spool.close();
  const [segment] = readdirSync(dir).filter((name) => name.endsWith(".spool"));
  const path = join(dir, segment as string);
  truncateSync(path, statSync(path).size - 7); // kill -9 in the middle of the last write
  appendFileSync(path, Buffer.from([1, 2, 3]));
  const reopened = spoolIn(dir);
  const records = await reopened.open();
  assert.deepEqual(records.map((record) => record.seq), [0, 1, 2, 3]);
  await reopened.append(await reopened.allocateSeq(), 1, [], batch(9));
  await reopened.close();
  const again = spoolIn(dir);
  assert.equal((await again.open()).length, 5);
  await again.close();
});

test("spool: space is reclaimed as batches are acknowledged", async (t) => {
  const dir = scratch();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const spool = spoolIn(dir, { segmentBytes: 1000 });
  await spool.open();
  for (let index = 0; index < 40; index++) await spool.append(await spool.allocateSeq(), 1, [], batch(index, 200));
  const full = spool.bytes;
  assert.ok(full > 8000);
  for (let seq = 0; seq < 40; seq++) await spool.ack(seq);
  assert.ok(spool.bytes < 1000, `spool still holds ${spool.bytes} bytes`);
  await spool.close();
});

test("spool: when_full block waits for acknowledgements; drop_oldest drops and counts", async (t) => {
  const dir = scratch();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const blocking = spoolIn(join(dir, "block"), { bytesMax: 3000, segmentBytes: 1000 });
  await blocking.open();
  for (let index = 0; index < 13; index++) await blocking.append(await blocking.allocateSeq(), 1, [], batch(index, 200)); // 13 × 227 bytes
  let appended = false;
  const waiting = blocking.append(await blocking.allocateSeq(), 1, [], batch(99, 200)).then(() => (appended = true));
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(appended, false, "append must wait while the spool is full");
  for (let seq = 0; seq < 8; seq++) await blocking.ack(seq);
  await waiting;
  assert.ok(blocking.bytes <= 3000);
  await blocking.close();

  const dropping = spoolIn(join(dir, "drop"), { bytesMax: 3000, segmentBytes: 1000, whenFull: "drop_oldest" });
  await dropping.open();
  const dropped: number[] = [];
  dropping.onDropped = (record) => dropped.push(record.seq);
  for (let index = 0; index < 30; index++) await dropping.append(await dropping.allocateSeq(), 2, [], batch(index, 200));
  assert.ok(dropping.bytes <= 3000);
  assert.ok(dropped.length > 0);
  assert.equal(dropping.droppedBatches, dropped.length);
  assert.equal(dropping.droppedEvents, dropped.length * 2);
  assert.deepEqual(dropped, [...Array(dropped.length).keys()], "the oldest go first");
  await dropping.close();
});

test("spool: where acknowledged lines end survives a kill -9 until a checkpoint covers it", async (t) => {
  const dir = scratch();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const first = spoolIn(dir);
  await first.open();
  for (let index = 0; index < 50; index++) {
    const seq = await first.allocateSeq();
    await first.append(seq, 3, [{ key: "k", endOffset: (seq + 1) * 10 }, ...(seq < 5 ? [{ key: "early", endOffset: (seq + 1) * 7 }] : [])], batch(seq));
  }
  for (let seq = 0; seq < 50; seq++) await first.ack(seq);
  // Every batch is acknowledged and its segment deleted; no close() (kill -9), no checkpoint written.
  const second = spoolIn(dir);
  assert.deepEqual(await second.open(), []);
  assert.deepEqual([...second.deliveredEnds()].sort(), [["early", 35], ["k", 500]]);
  // A durable checkpoint covers "k" but not yet "early" (not in it): only "k" is forgotten.
  second.checkpointed([{ key: "k", offset: 500 }]);
  assert.deepEqual([...second.deliveredEnds()], [["early", 35]]);
  // A stream that was in a checkpoint and no longer is (finished) is forgotten too.
  second.checkpointed([{ key: "early", offset: 35 - 7 }]);
  second.checkpointed([]);
  assert.deepEqual([...second.deliveredEnds()], []);
  await second.close();
  const third = spoolIn(dir);
  await third.open();
  assert.deepEqual([...third.deliveredEnds()], []);
  await third.close();
});

test("spool: max_batches bounds the batches waiting (their bookkeeping lives in memory)", async (t) => {
  const dir = scratch();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const spool = spoolIn(dir, { batchesMax: 5 });
  await spool.open();
  for (let index = 0; index < 5; index++) await spool.append(await spool.allocateSeq(), 1, [], batch(index, 10));
  let appended = false;
  const waiting = spool.append(await spool.allocateSeq(), 1, [], batch(5, 10)).then(() => (appended = true));
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(appended, false, "the sixth batch waits while five are unacknowledged");
  await spool.ack(0);
  await waiting;
  assert.equal(spool.stats().records, 5);
  await spool.close();
});

test("spool: the floor never passes a seq that is allocated but not spooled yet (its batch is still compressing)", async (t) => {
  const dir = scratch();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const spool = spoolIn(dir);
  await spool.open();
  const first = await spool.allocateSeq();
  await spool.append(first, 1, [], batch(first));
  await spool.ack(first);
  // Two batches in flight, the later one spooled and acknowledged first (its compression finished first).
  const slow = await spool.allocateSeq();
  const fast = await spool.allocateSeq();
  await spool.append(fast, 1, [], batch(fast));
  await spool.ack(fast);
  await spool.saveState();
  assert.ok(spool.persistedFloor <= slow, `floor ${spool.persistedFloor} must not pass seq ${slow}, which a collector has not seen yet`);
  // Once it is spooled and acknowledged, the floor moves past both.
  await spool.append(slow, 1, [], batch(slow));
  await spool.ack(slow);
  await spool.saveState();
  assert.equal(spool.persistedFloor, fast + 1);
  // An abandoned seq does not hold the floor back.
  const unused = await spool.allocateSeq();
  spool.abandonSeq(unused);
  await spool.saveState();
  assert.equal(spool.persistedFloor, unused + 1);
});

test("spool: a batch its cache drops before it was ever handed out is freed at once; one handed out is left alone, and reads back from disk", async (t) => {
  const dir = scratch();
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // Room in the cache for two 48 KiB batches; each a buffer of its own, as compression makes them.
  const spool = spoolIn(dir, { bytesMax: 16 << 20, segmentBytes: 1 << 20, cacheBytesMax: 100 * 1024 });
  await spool.open();
  const own = (seq: number): Buffer => Buffer.allocUnsafeSlow(48 * 1024).fill(seq);
  const first = await spool.append(await spool.allocateSeq(), 1, [], own(0));
  const lent = await spool.batchOf(first);
  const kept: Buffer[] = [];
  const records = [first];
  for (let seq = 1; seq < 5; seq++) {
    const body = own(seq);
    kept.push(body);
    records.push(await spool.append(await spool.allocateSeq(), 1, [], body));
  }
  // Dropped from the cache (newest first) unread: freed. The one handed out: untouched.
  assert.ok(kept.slice(1).every((body) => body.length === 0), "the batches dropped from the cache unread are freed");
  assert.equal(lent.length, 48 * 1024);
  assert.ok(lent.every((byte) => byte === 0));
  // Every record still reads back whole (from disk when not cached).
  for (const [seq, record] of records.entries()) assert.deepEqual(await spool.batchOf(record), own(seq));
  await spool.close();
});
