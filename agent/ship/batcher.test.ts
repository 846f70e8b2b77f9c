import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { zstdDecompressSync } from "node:zlib";
import { silentLogger } from "../../shared/logger.ts";
import { payloadEvents, validatePayload } from "../../shared/wire/batch.ts";
import { Spool, type SpoolRecord } from "../spool/spool.ts";
import { startTailer, testSource } from "../../test/helpers/tail-harness.ts";
import { Batcher, type BatcherOptions } from "./batcher.ts";

interface Spooled {
  record: SpoolRecord;
  events: number;
  acks: number;
}

/** Tail `lines` through a Batcher into a real spool; returns what was spooled, in order. */
async function batchLines(lines: string[], options: Partial<BatcherOptions>, t: { after: (fn: () => void) => void }): Promise<{ spooled: Spooled[]; spool: Spool; messages: string[] }> {
  const dir = mkdtempSync(join(tmpdir(), "logship-batcher-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "a.log"), lines.map((line) => `${line}\n`).join(""));
  const spool = new Spool({ directory: join(dir, "spool"), bytesMax: 1 << 30, batchesMax: 100_000, whenFull: "block", segmentBytes: 1 << 20, cacheBytesMax: 1 << 20, logger: silentLogger });
  await spool.open();
  const spooled: Spooled[] = [];
  const batcher = new Batcher({
    bytesMax: 1 << 20,
    eventsMax: 20_000,
    lingerMs: 60_000,
    compression: { level: 1, strategy: "auto" },
    compressionsMax: 2,
    host: "test-host",
    spool,
    onSpooled: (record, acks) => {
      spooled.push({ record, events: record.events, acks: acks.length });
      for (const ack of acks) ack();
    },
    ...options,
  });
  const tailer = startTailer({ sources: [testSource({ paths: [join(dir, "*.log")] })], once: true, output: batcher, tail: { readBytesPerPass: 4096 } });
  await tailer.done;
  await batcher.drain();
  const messages: string[] = [];
  for (const entry of spooled) {
    const payload = zstdDecompressSync(await spool.batchOf(entry.record));
    assert.equal(validatePayload(payload).events, entry.events);
    for (const event of payloadEvents(payload)) messages.push(event.message);
  }
  return { spooled, spool, messages };
}

const numbered = (count: number): string[] => Array.from({ length: count }, (_, index) => `line ${index} ${"x".repeat(40)}`);

test("batcher: a batch closes at max_events; every line is in exactly one batch, in order", async (t) => {
  const lines = numbered(1000);
  const { spooled, messages } = await batchLines(lines, { eventsMax: 100 }, t);
  assert.ok(spooled.length >= 1000 / (100 + 4096 / 40), `${spooled.length} batches`);
  // A batch closes once it reaches the limit; the block that crossed it is at most one read (4 KiB here) over.
  for (const entry of spooled) assert.ok(entry.events <= 100 + 4096 / 40, `${entry.events} events`);
  assert.deepEqual(messages, lines);
  assert.deepEqual(spooled.map((entry) => entry.record.seq), [...spooled.keys()].map((index) => (spooled[0] as Spooled).record.seq + index));
});

test("batcher: a batch closes at max_bytes (uncompressed)", async (t) => {
  const lines = numbered(2000);
  const { spooled, messages } = await batchLines(lines, { bytesMax: 16 * 1024 }, t);
  assert.ok(spooled.length >= 5, `${spooled.length} batches`);
  assert.deepEqual(messages, lines);
});

test("batcher: linger sends a partial batch without waiting for more", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "logship-batcher-linger-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const spool = new Spool({ directory: dir, bytesMax: 1 << 30, batchesMax: 100, whenFull: "block", segmentBytes: 1 << 20, cacheBytesMax: 1 << 20, logger: silentLogger });
  await spool.open();
  const spooled: SpoolRecord[] = [];
  const batcher = new Batcher({ bytesMax: 1 << 20, eventsMax: 20_000, lingerMs: 50, compression: { level: 1, strategy: "auto" }, compressionsMax: 2, host: "h", spool, onSpooled: (record) => spooled.push(record) });
  writeFileSync(join(dir, "a.log"), "one line\n");
  const tailer = startTailer({ sources: [testSource({ paths: [join(dir, "*.log")] })], output: batcher });
  const deadline = Date.now() + 5000;
  while (spooled.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  await tailer.stop();
  assert.equal(spooled.length, 1, "the linger timer closed the batch");
  assert.equal(spooled[0]?.events, 1);
  await spool.close();
});
