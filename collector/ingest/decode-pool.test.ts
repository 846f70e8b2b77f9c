import { test } from "node:test";
import assert from "node:assert/strict";
import { makeBatch, numberedLines } from "../testing/batches.ts";
import { recordingLogger, type LoggedLine } from "../testing/recording-logger.ts";
import { DecodePool } from "./decode-pool.ts";
import { IngestError } from "./errors.ts";

const LIMITS = { batchBytesMax: 1 << 20, eventsMax: 1000 };

test("decode workers: a summary per batch, refusals as IngestError with their code", async (t) => {
  const pool = new DecodePool({ threads: 2, logger: recordingLogger([]) });
  t.after(() => pool.close());
  const summaries = await Promise.all(Array.from({ length: 8 }, (_, seq) => pool.decode(makeBatch({ seq, lines: numberedLines("line", 0, seq + 1) }).body, LIMITS)));
  assert.deepEqual(
    summaries.map(({ summary }) => [summary.header.seq, summary.events]),
    Array.from({ length: 8 }, (_, seq) => [seq, seq + 1]),
  );
  assert.equal(pool.workers, 2, "eight bodies at once start no more than `threads` workers");
  const garbage = await pool.decode(Buffer.from("not zstd at all"), LIMITS).catch((error: unknown) => error);
  assert.ok(garbage instanceof IngestError && garbage.code === "LOGSHIP_INGEST_ZSTD" && garbage.status === 400, String(garbage));
  const tooMany = await pool.decode(makeBatch({ seq: 9, lines: numberedLines("line", 0, 5) }).body, { ...LIMITS, eventsMax: 4 }).catch((error: unknown) => error);
  assert.ok(tooMany instanceof IngestError && tooMany.code === "LOGSHIP_INGEST_TOO_MANY_EVENTS" && tooMany.status === 413, String(tooMany));
});

test("a worker that dies fails only the bodies it held, is logged, and the next batch gets a new worker", async (t) => {
  const lines: LoggedLine[] = [];
  const pool = new DecodePool({ threads: 1, logger: recordingLogger(lines), workerUrl: new URL("../testing/dying-decode-worker.ts", import.meta.url) });
  t.after(() => pool.close());
  const good = makeBatch({ seq: 1, lines: numberedLines("line", 0, 3) }).body;
  assert.equal((await pool.decode(good, LIMITS)).summary.events, 3);
  const deadly = Buffer.concat([Buffer.from([0]), good]);
  const outcome = await pool.decode(deadly, LIMITS).catch((error: unknown) => error);
  assert.ok(outcome instanceof Error && !(outcome instanceof IngestError), String(outcome));
  assert.match(outcome.message, /the decode worker died: exited with code 3/);
  assert.ok(lines.some((line) => line.level === "error" && /decode worker died/.test(line.message) && line.context["batches"] === 1), JSON.stringify(lines));
  assert.equal((await pool.decode(good, LIMITS)).summary.events, 3, "a new worker decodes the next batch");
});

test("after close, a batch is refused with 503 (shutting down)", async () => {
  const pool = new DecodePool({ threads: 1, logger: recordingLogger([]) });
  await pool.close();
  const refused = await pool.decode(makeBatch({ seq: 1, lines: ["x"] }).body, LIMITS).catch((error: unknown) => error);
  assert.ok(refused instanceof IngestError && refused.status === 503, String(refused));
});
