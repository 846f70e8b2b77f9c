/**
 * The embedded log without HTTP: appends from concurrent writers with
 * group-commit fdatasync (the compressed batches as received, not
 * re-encoded), then a sink runner's read: every record read back,
 * decompressed and decoded into events. Prints JSON per phase:
 *
 *   {"bench":"log","phase":"append", raw_mb_per_s, batches_per_s, ...}
 *   {"bench":"log","phase":"read_decode", raw_mb_per_s, events_per_s}
 *
 * Issue 4's targets: ingest ≥ 500 MB/s of raw log, decode ≥ 300 MB/s.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { zstdDecompressSync } from "node:zlib";
import { EmbeddedLog } from "../collector/log/log.ts";
import { parseSize } from "../shared/config/units.ts";
import { silentLogger } from "../shared/logger.ts";
import { payloadEvents, validatePayload } from "../shared/wire/batch.ts";
import { benchFiles, rawBatches, type RawBatch } from "./data.ts";

const { values } = parseArgs({ options: { bytes: { type: "string", default: "512MiB" }, writers: { type: "string", default: "8" } } });
const root = process.env["LOGSHIP_BENCH_DATA"] ?? join(import.meta.dirname, "..", ".bench-data");
const totalBytes = parseSize(values.bytes);
const writers = Number(values.writers);

/** ~1 MiB raw batches cut at line ends from the mixed benchmark data, compressed once up front. */
function buildBatches(): RawBatch[] {
  const [path] = benchFiles(join(root, "tail"), 1 << 30, 4, "mixed");
  return rawBatches(readFileSync(path as string).subarray(0, totalBytes), { host: "bench", firstObservedMs: 1_764_000_000_000, observedStepMs: 1 });
}

const batches = buildBatches();
const rawTotal = batches.reduce((sum, batch) => sum + batch.rawBytes, 0);
const eventsTotal = batches.reduce((sum, batch) => sum + batch.events, 0);
const directory = mkdtempSync(join(tmpdir(), "logship-log-bench-"));
try {
  const log = await EmbeddedLog.open({ directory, segmentBytes: 256 << 20, fsyncIntervalMs: 0, logger: silentLogger });
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: writers }, async () => {
      for (let index = next++; index < batches.length; index = next++) {
        const batch = batches[index] as (typeof batches)[number];
        await log.append("default", { batch: batch.body, events: batch.events, agent: "bench-agent", seq: index, floor: 0, observedMinMs: batch.observedMs, observedMaxMs: batch.observedMs });
      }
    }),
  );
  const appendSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  console.log(JSON.stringify({ bench: "log", phase: "append", writers, batches: batches.length, raw_mb: round(rawTotal / 1e6), seconds: round(appendSeconds), raw_mb_per_s: round(rawTotal / 1e6 / appendSeconds), batches_per_s: round(batches.length / appendSeconds) }));

  const readStarted = process.hrtime.bigint();
  let decodedEvents = 0;
  let messageBytes = 0;
  for await (const entry of log.read("default", { fromOffset: 0 })) {
    const payload = zstdDecompressSync(entry.batch);
    validatePayload(payload);
    for (const event of payloadEvents(payload)) {
      decodedEvents++;
      messageBytes += event.message.length;
    }
  }
  const readSeconds = Number(process.hrtime.bigint() - readStarted) / 1e9;
  if (decodedEvents !== eventsTotal) throw new Error(`read back ${decodedEvents} events, appended ${eventsTotal}`);
  console.log(JSON.stringify({ bench: "log", phase: "read_decode", events: decodedEvents, message_mb: round(messageBytes / 1e6), seconds: round(readSeconds), raw_mb_per_s: round(rawTotal / 1e6 / readSeconds), events_per_s: Math.round(decodedEvents / readSeconds) }));
  await log.close();
} finally {
  rmSync(directory, { recursive: true, force: true });
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
