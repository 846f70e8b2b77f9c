import { test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "../../shared/logger.ts";
import { makeBatch } from "../testing/batches.ts";
import { INDEX_INTERVAL_BYTES } from "./segment-index.ts";
import { EmbeddedLog } from "./log.ts";

test("log usage: segments, bytes and first offset of a tenant; bytes from an offset to the end, exact at indexed records and never fewer than the records take", async (t) => {
  const directory = mkdtempSync(join(tmpdir(), "logship-usage-"));
  t.after(() => rmSync(directory, { recursive: true, force: true }));
  const log = await EmbeddedLog.open({ directory, segmentBytes: 512 * 1024, fsyncIntervalMs: 0, logger: silentLogger, sync: async () => {} });
  // 40 records of ~24 KiB that do not compress: ~20 per segment, an index entry every ~3 records.
  for (let seq = 1; seq <= 40; seq++) {
    const lines = Array.from({ length: 4 }, () => randomBytes(6000).toString("base64"));
    const batch = makeBatch({ seq, lines, streamKey: `k${String(seq).padStart(15, "0")}------` });
    await log.append("default", { batch: batch.body, events: 4, agent: "agent-1", seq, floor: 0, observedMinMs: 1, observedMaxMs: 2 });
  }
  const records: { baseOffset: number; length: number }[] = [];
  for await (const header of log.headers("default")) records.push({ baseOffset: header.baseOffset, length: header.length });
  const segmentFiles = readdirSync(join(directory, "default")).filter((name) => name.endsWith(".seg"));
  const segmentBases = segmentFiles.map((name) => Number(name.slice(0, 20)));
  assert.ok(segmentFiles.length >= 2);

  const offsets = [...records.map((record) => record.baseOffset), 2, 160];
  const usage = await log.usage("default", offsets);
  assert.equal(usage.segments, segmentFiles.length);
  assert.equal(usage.bytes, segmentFiles.reduce((sum, name) => sum + statSync(join(directory, "default", name)).size, 0));
  assert.equal(usage.firstOffset, 0);
  assert.equal(await log.firstOffset("default"), 0);
  const largestRecord = Math.max(...records.map((record) => record.length));
  records.forEach((record, index) => {
    const exact = records.slice(index).reduce((sum, later) => sum + later.length, 0);
    const counted = usage.bytesFrom[index] as number;
    if (segmentBases.includes(record.baseOffset)) assert.equal(counted, exact, `the first record of a segment has an index entry: exact from offset ${record.baseOffset}`);
    assert.ok(counted >= exact && counted < exact + INDEX_INTERVAL_BYTES + largestRecord, `offset ${record.baseOffset}: ${counted} bytes counted, ${exact} exact`);
  });
  // Inside the first record: counted from that record on; at the end: nothing.
  assert.equal(usage.bytesFrom[records.length], usage.bytesFrom[0]);
  assert.deepEqual([usage.bytesFrom[records.length + 1], log.endOffset("default")], [0, 160]);
  assert.deepEqual(await log.usage("payments", [0]), { segments: 0, bytes: 0, firstOffset: 0, bytesFrom: [0] }, "a tenant without a log");
  await log.close();
});
