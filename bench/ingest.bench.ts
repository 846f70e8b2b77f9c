/**
 * Collector ingest throughput: concurrent clients on loopback POST
 * pre-built batches (~1 MiB of mixed access/JSON lines each, zstd level 3,
 * as the agent sends them) to a collector in a child process, which stores
 * them in the embedded log with group-commit fdatasync and acknowledges.
 *
 *   npx node bench/ingest.bench.ts [--bytes 1GiB] [--clients 4,8] [--fsync-interval 0] [--backends embedded,kafka] [--processing none,routes]
 *   LOGSHIP_BENCH_NODE_ARGS="--cpu-prof" npx node bench/ingest.bench.ts   # profile the collector
 *
 * Prints one JSON object per backend and client count: MB/s and lines/s of
 * raw log, batches/s, fdatasyncs/s (embedded), compression ratio on the
 * wire, collector CPU seconds per GB and peak RSS.
 *
 * `kafka`: the same batches into `log.backend: kafka` against the real local
 * broker (test/engines/kafka.sh, 4 partitions, on the same 2 cores), acked
 * only once Kafka acknowledged (acks=all, idempotent producer). Its collector
 * runs from the TypeScript sources, not the bundle: the Kafka client loads a
 * WebAssembly file from its package directory, which a bundle does not carry
 * (the single executable of issue 7 must embed it as an asset). CPU is
 * counted from after start-up, so type stripping does not weigh on it.
 *
 * `--processing routes` (not in the default run): the collector has three
 * routes (docs/ROUTING.md) that split every batch into three streams, so
 * each batch is decoded, routed and re-encoded on the decode threads: the
 * cost of routing beside the fast path (`none`, batches stored as received).
 */
import { spawn } from "node:child_process";
import { bundle as bundleFile } from "./bundle.ts";
import { seededRandom } from "../shared/random.ts";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { parseArgs } from "node:util";
import { constants, zstdCompress } from "node:zlib";
import { promisify } from "node:util";
import { Pool } from "undici";
import { parseSize } from "../shared/config/units.ts";
import { silentLogger } from "../shared/logger.ts";
import { encodePayload, rawSegment } from "../shared/wire/batch.ts";
import { collectorConfigSchema } from "../collector/config.ts";
import { startCollector } from "../collector/main.ts";
import { mixedLine } from "./data.ts";

const { values } = parseArgs({
  options: {
    bytes: { type: "string", default: "1GiB" },
    clients: { type: "string", default: "4,8" },
    "batch-bytes": { type: "string", default: "1MiB" },
    "fsync-interval": { type: "string", default: "0" },
    child: { type: "boolean", default: false },
    "data-dir": { type: "string" },
    backends: { type: "string", default: "embedded,kafka" },
    backend: { type: "string", default: "embedded" },
    processing: { type: "string", default: "none" },
    bootstrap: { type: "string" },
    topic: { type: "string" },
  },
});
const TOKEN = "bench-token";
/** Every batch of mixed lines splits into three streams: errors, the JSON lines, the access lines. */
const BENCH_ROUTES = [
  { stream: "errors", when: "error OR 500" },
  { stream: "api", when: "handled" },
];
const benchRoot = join(process.env["LOGSHIP_BENCH_DATA"] ?? join(import.meta.dirname, "..", ".bench-data"), "ingest");
const compress = promisify(zstdCompress);

interface Batch {
  body: Buffer;
  rawBytes: number;
  lines: number;
}

/** Batches of ~batchBytes raw lines; each (agent, seq) is its own payload, so every one is built and compressed. */
async function buildBatches(totalBytes: number, batchBytes: number): Promise<Batch[]> {
  const next = seededRandom(7);
  const batches: Batch[] = [];
  let sequence = 0;
  let fileOffset = 0;
  for (let built = 0; built < totalBytes; ) {
    const lines: string[] = [];
    let bytes = 0;
    while (bytes < batchBytes) {
      const line = mixedLine(next, sequence++) + "\n";
      lines.push(line);
      bytes += Buffer.byteLength(line);
    }
    const raw = Buffer.from(lines.join(""), "utf8");
    const seq = batches.length;
    const payload = encodePayload(
      { agent: "bench-agent", host: "bench", seq, floor: seq, created_ms: Date.now(), streams: [{ key: "bench-stream-000000000", source: "bench", path: "/var/log/bench.log", fields: {} }] },
      [rawSegment(0, Date.now(), fileOffset, lines.length, raw, false)],
    );
    fileOffset += raw.length;
    batches.push({ body: await compress(payload, { params: { [constants.ZSTD_c_compressionLevel]: 3 } }), rawBytes: raw.length, lines: lines.length });
    built += raw.length;
  }
  return batches;
}

/** Child: a collector whose fdatasyncs are counted; prints its URL, then its stats after SIGTERM. */
async function runChild(dataDir: string): Promise<void> {
  const log = values.backend === "kafka" ? { backend: "kafka", kafka: { brokers: [values.bootstrap], topic: values.topic } } : { fsync: { interval: values["fsync-interval"] } };
  const config = collectorConfigSchema.parse({
    listen: "127.0.0.1:0",
    data_dir: dataDir,
    tokens: [{ token: TOKEN, role: "ingest" }],
    log,
    ingest: { queue_max: 256 },
    // The log path alone: no search index competing for the 2 cores.
    sinks: { search: { type: "none" } },
    ...(values.processing === "routes" ? { routes: BENCH_ROUTES } : {}),
  });
  let syncs = 0;
  const sync = async (file: FileHandle): Promise<void> => {
    await file.datasync();
    syncs++;
  };
  const collector = await startCollector({ config, logger: silentLogger, sync });
  console.log(JSON.stringify({ url: collector.url }));
  const cpuBefore = process.cpuUsage();
  await new Promise<void>((resolve) => process.once("SIGTERM", resolve));
  const cpu = process.cpuUsage(cpuBefore);
  await collector.stop();
  console.log(JSON.stringify({ syncs, cpu_seconds: (cpu.user + cpu.system) / 1e6, peak_rss_mb: process.resourceUsage().maxRSS / 1024 }));
}

async function runCase(backend: string, processing: string, clients: number, batches: Batch[], script: string, kafka: { bootstrap: string; topic: string }): Promise<Record<string, unknown>> {
  mkdirSync(benchRoot, { recursive: true });
  const dataDir = mkdtempSync(join(benchRoot, "collector-"));
  const nodeArguments = (process.env["LOGSHIP_BENCH_NODE_ARGS"] ?? "").split(" ").filter((argument) => argument !== "");
  const child = spawn(process.execPath, [...nodeArguments, script, "--child", "--data-dir", dataDir, "--fsync-interval", values["fsync-interval"], "--backend", backend, "--processing", processing, "--bootstrap", kafka.bootstrap, "--topic", kafka.topic], { stdio: ["ignore", "pipe", "inherit"] });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const { url } = JSON.parse((await lines.next()).value as string) as { url: string };
  const pool = new Pool(url, { connections: clients, pipelining: 1, keepAliveTimeout: 10_000 });
  let nextBatch = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      for (let index = nextBatch++; index < batches.length; index = nextBatch++) {
        const batch = batches[index] as Batch;
        const response = await pool.request({
          path: "/v1/ingest",
          method: "POST",
          headers: { authorization: `Bearer ${TOKEN}`, "content-encoding": "zstd" },
          body: batch.body,
        });
        const text = await response.body.text();
        if (response.statusCode !== 200) throw new Error(`batch ${index}: ${response.statusCode} ${text}`);
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await pool.close();
  child.kill("SIGTERM");
  const stats = JSON.parse((await lines.next()).value as string) as { syncs: number; cpu_seconds: number; peak_rss_mb: number };
  await new Promise((resolve) => child.once("exit", resolve));
  rmSync(dataDir, { recursive: true, force: true });
  const rawBytes = batches.reduce((sum, batch) => sum + batch.rawBytes, 0);
  const wireBytes = batches.reduce((sum, batch) => sum + batch.body.length, 0);
  const lineCount = batches.reduce((sum, batch) => sum + batch.lines, 0);
  return {
    bench: "ingest",
    backend,
    ...(processing === "none" ? {} : { processing }),
    clients,
    fsync_interval_ms: Number(values["fsync-interval"]),
    batches: batches.length,
    raw_mb: round(rawBytes / 1e6),
    seconds: round(seconds),
    raw_mb_per_s: round(rawBytes / 1e6 / seconds),
    lines_per_s: Math.round(lineCount / seconds),
    batches_per_s: round(batches.length / seconds),
    ...(backend === "embedded" ? { fsyncs: stats.syncs, fsyncs_per_s: round(stats.syncs / seconds), batches_per_fsync: round(batches.length / stats.syncs) } : {}),
    compression_ratio: round(rawBytes / wireBytes),
    collector_cpu_seconds_per_gb: round(stats.cpu_seconds / (rawBytes / 1e9)),
    collector_peak_rss_mb: round(stats.peak_rss_mb),
  };
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}


if (values.child) {
  await runChild(values["data-dir"] as string);
} else {
  const batches = await buildBatches(parseSize(values.bytes), parseSize(values["batch-bytes"]));
  mkdirSync(benchRoot, { recursive: true });
  const bundle = await bundleFile(import.meta.filename, join(benchRoot, "ingest.bench.bundle.mjs"));
  for (const backend of values.backends.split(",")) {
    // A topic of its own per run: a broker left running from an earlier run keeps its topics.
    const kafka = { bootstrap: "", topic: `logship-bench-log-${Date.now()}` };
    // Imported here: the Kafka client loads WebAssembly on import, which the bundled child cannot.
    const { startKafka, stopKafka } = await import("../test/engines/kafka.ts");
    if (backend === "kafka") {
      const { createTopic, waitForProducerIds } = await import("../test/helpers/kafka-topics.ts");
      kafka.bootstrap = startKafka({ fresh: true });
      await waitForProducerIds(kafka.bootstrap);
      await createTopic(kafka.bootstrap, kafka.topic, 4, { "max.message.bytes": String(16 << 20) });
    }
    try {
      for (const processing of values.processing.split(",")) {
        for (const clients of values.clients.split(",").map(Number)) {
          process.stdout.write(JSON.stringify(await runCase(backend, processing, clients, batches, backend === "kafka" ? import.meta.filename : bundle, kafka)) + "\n");
        }
      }
    } finally {
      if (backend === "kafka") stopKafka();
    }
  }
}
