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
import { constants, zstdCompressSync, zstdDecompressSync } from "node:zlib";
import { EmbeddedLog } from "../collector/log/log.ts";
import { parseSize } from "../shared/config/units.ts";
import { silentLogger } from "../shared/logger.ts";
import { encodePayload, payloadEvents, rawSegment, validatePayload } from "../shared/wire/batch.ts";
import { benchFiles } from "./data.ts";

const { values } = parseArgs({ options: { bytes: { type: "string", default: "512MiB" }, writers: { type: "string", default: "8" } } });
const root = process.env["LOGSHIP_BENCH_DATA"] ?? join(import.meta.dirname, "..", ".bench-data");
const totalBytes = parseSize(values.bytes);
const writers = Number(values.writers);

/** ~1 MiB raw batches cut at line ends from the mixed benchmark data, compressed once up front. */
function buildBatches(): { body: Buffer; rawBytes: number; events: number; observedMs: number }[] {
  const [path] = benchFiles(join(root, "tail"), 1 << 30, 4, "mixed");
  const data = readFileSync(path as string).subarray(0, totalBytes);
  const batches = [];
  let offset = 0;
  let seq = 0;
  while (offset < data.length) {
    let end = Math.min(data.length, offset + (1 << 20));
    end = data.lastIndexOf(0x0a, end - 1) + 1;
    if (end <= offset) break;
    const lines = data.subarray(offset, end);
    let events = 0;
    for (let index = lines.indexOf(0x0a); index !== -1; index = lines.indexOf(0x0a, index + 1)) events++;
    const observedMs = 1_764_000_000_000 + seq;
    const payload = encodePayload(
      { agent: "bench-agent", host: "bench", seq, floor: 0, created_ms: observedMs, streams: [{ key: "bench-stream-key-00000", source: "bench", path: "/var/log/bench.log", fields: {} }] },
      [rawSegment(0, observedMs, offset, events, lines, false)],
    );
    batches.push({ body: zstdCompressSync(payload, { params: { [constants.ZSTD_c_compressionLevel]: 1 } }), rawBytes: lines.length, events, observedMs });
    offset = end;
    seq++;
  }
  return batches;
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
