/**
 * The archive sink on the local disk: a sink runner reads the embedded log
 * from offset 0, decodes every batch and hands the events to the archive
 * sink (file:// target, default roll and partition), until every event is
 * in a committed file. Mixed access-log and JSON lines (bench/data.ts) as
 * an agent without a parser ships them (fields empty), each batch observed
 * one second after the one before. Prints JSON per case: Parquet (zstd
 * pages) at compression_level 6 (its default) and 3, NDJSON.zst at 3 (its
 * default):
 *
 *   {"bench":"archive","format":"parquet","compression_level":3, events, raw_mb, seconds, events_per_s, raw_mb_per_s, cpu_seconds, events_per_cpu_s, files, size_mb, size_pct_of_raw}
 *
 * `raw_mb` is the log lines' bytes (what the agent read); the clock covers
 * read + decode + write + the final commit (close). `cpu_seconds` is the
 * process's CPU time over the same span (the Parquet encoder thread and
 * node:zlib's thread pool included):
 * on a busy machine events per CPU second compare better than events per
 * second. The log is written
 * before the clock starts. Issue 6's targets: Parquet ≥ 200,000 events/s,
 * files ≤ 15 % of the raw size.
 *
 *   node bench/archive.bench.ts [--bytes 256MiB] [--format parquet|ndjson]
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { EmbeddedLog } from "../collector/log/log.ts";
import { FileTarget } from "../collector/sinks/archive/file-target.ts";
import { ndjsonFormat } from "../collector/sinks/archive/ndjson-file.ts";
import { parquetFormat } from "../collector/sinks/archive/parquet-file.ts";
import { parsePartitionTemplate } from "../collector/sinks/archive/partition.ts";
import { ArchiveSink } from "../collector/sinks/archive/sink.ts";
import { SinkRunner } from "../collector/sinks/runner.ts";
import type { SendContext, SinkEvent } from "../collector/sinks/types.ts";
import { parseSize } from "../shared/config/units.ts";
import { silentLogger } from "../shared/logger.ts";
import { benchFiles, rawBatches, type RawBatch } from "./data.ts";

const { values } = parseArgs({ options: { bytes: { type: "string", default: "256MiB" }, format: { type: "string" } } });

interface Case {
  format: "parquet" | "ndjson";
  /** `sinks.archive.compression_level`. */
  zstdLevel: number;
}

/** The defaults of both formats, and Parquet at zstd's own default level (faster, larger). */
const CASES: Case[] = [
  { format: "parquet", zstdLevel: 6 },
  { format: "parquet", zstdLevel: 3 },
  { format: "ndjson", zstdLevel: 3 },
];
const root = process.env["LOGSHIP_BENCH_DATA"] ?? join(import.meta.dirname, "..", ".bench-data");
const totalBytes = parseSize(values.bytes);
const cases = CASES.filter((item) => values.format === undefined || item.format === values.format);
const BASE_MS = 1_764_000_000_000;
const ROLL_MAX_BYTES = 128 * 1024 * 1024;
const ROLL_MAX_AGE_MS = 5 * 60_000;

/** ~1 MiB raw batches cut at line ends, compressed once: what an agent ships. */
function buildBatches(): RawBatch[] {
  const [path] = benchFiles(join(root, "archive"), totalBytes, 1, "mixed");
  return rawBatches(readFileSync(path as string).subarray(0, totalBytes), { host: "bench-host", firstObservedMs: BASE_MS, observedStepMs: 1000 });
}

function directoryBytes(directory: string): { files: number; bytes: number } {
  let files = 0;
  let bytes = 0;
  for (const entry of readdirSync(directory, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    files++;
    bytes += statSync(join(entry.parentPath, entry.name)).size;
  }
  return { files, bytes };
}

const batches = buildBatches();
const rawTotal = batches.reduce((sum, batch) => sum + batch.rawBytes, 0);
const eventsTotal = batches.reduce((sum, batch) => sum + batch.events, 0);
const scratch = mkdtempSync(join(tmpdir(), "logship-archive-bench-"));
try {
  const log = await EmbeddedLog.open({ directory: join(scratch, "log"), segmentBytes: 256 << 20, fsyncIntervalMs: 0, logger: silentLogger });
  for (const [seq, batch] of batches.entries()) {
    await log.append("default", { batch: batch.body, events: batch.events, agent: "bench-agent", seq, floor: 0, observedMinMs: batch.observedMs, observedMaxMs: batch.observedMs });
  }
  for (const { format, zstdLevel } of cases) {
    const name = `${format}-zstd-${zstdLevel}`;
    const archiveRoot = join(scratch, `archive-${name}`);
    const partition = parsePartitionTemplate("tenant=%T/dt=%Y-%m-%d/hour=%H");
    if (typeof partition === "string") throw new Error(partition);
    const sink = new ArchiveSink({ name: "archive", target: new FileTarget(archiveRoot), format: format === "parquet" ? parquetFormat("zstd", zstdLevel) : ndjsonFormat(zstdLevel), partition, maxBytes: ROLL_MAX_BYTES, maxAgeMs: ROLL_MAX_AGE_MS, logger: silentLogger });
    let taken = 0;
    let allTaken: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (allTaken = resolve));
    const counting = Object.assign(Object.create(sink) as ArchiveSink, {
      send: async (events: SinkEvent[], signal: AbortSignal, context?: SendContext) => {
        const outcome = await sink.send(events, signal, context);
        if (outcome.kind !== "delivered") throw new Error(`archive answered ${outcome.kind}`);
        taken += events.length;
        if (taken === eventsTotal) allTaken();
        return outcome;
      },
    });
    const runner = await SinkRunner.open({ sink: counting, tenant: "default", log, dataDirectory: join(scratch, `runner-${name}`), logger: silentLogger });
    const started = process.hrtime.bigint();
    const cpuStarted = process.cpuUsage();
    runner.start();
    await done;
    await runner.close();
    await sink.close();
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const cpu = process.cpuUsage(cpuStarted);
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    const disk = directoryBytes(archiveRoot);
    console.log(
      JSON.stringify({
        bench: "archive",
        format: format === "parquet" ? "parquet" : "ndjson.zst",
        compression_level: zstdLevel,
        events: eventsTotal,
        raw_mb: round(rawTotal / 1e6),
        seconds: round(seconds),
        events_per_s: Math.round(eventsTotal / seconds),
        raw_mb_per_s: round(rawTotal / 1e6 / seconds),
        cpu_seconds: round(cpuSeconds),
        events_per_cpu_s: Math.round(eventsTotal / cpuSeconds),
        files: disk.files,
        size_mb: round(disk.bytes / 1e6),
        size_pct_of_raw: round((disk.bytes / rawTotal) * 100),
      }),
    );
  }
  await log.close();
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
