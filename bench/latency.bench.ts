/**
 * Issue 8: end-to-end latency from a line written to it being searchable,
 * and the agent's CPU per GB, at a steady 5 MB/s (a busy host).
 *
 *   npx node bench/latency.bench.ts [--rate-mb 5] [--seconds 30]
 *
 * A bundled collector (embedded log and search index, as shipped) and a
 * bundled agent tailing one file, both with their shipped Node options. A
 * writer appends mixed access/JSON lines (bench/data.ts) to the file every
 * 10 ms at the rate, and every 100 ms a probe line carrying its write time.
 * The clock of a probe stops when the collector's live tail (GET /v1/tail,
 * fed by the search index's commits: the moment the line is searchable)
 * delivers it. Agent CPU is counted over the writing window only.
 *
 * Prints one JSON line:
 *   {"bench":"latency","case":"steady", rate_mb_per_s, seconds, probes, probes_seen,
 *    latency_p50_ms, latency_p99_ms, latency_max_ms, agent_cpu_seconds_per_gb,
 *    agent_rss_mb, collector_rss_mb}
 */
import { spawn } from "node:child_process";
import { appendFileSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { seededRandom } from "../shared/random.ts";
import { followTail } from "../shared/cli/tail-client.ts";
import { startCollector, stopCollector } from "./bench-collector.ts";
import { bundleLogship } from "./bundle.ts";
import { mixedLine } from "./data.ts";
import { AGENT_ENV, AGENT_NODE_OPTIONS } from "./node-options.ts";
import { freePort, usage } from "./processes.ts";
import { TOKENS } from "./search-data.ts";

const { values } = parseArgs({ options: { "rate-mb": { type: "string", default: "5" }, seconds: { type: "string", default: "30" } } });
const rateBytesPerS = Number(values["rate-mb"]) * 1e6;
const seconds = Number(values.seconds);
const WRITE_INTERVAL_MS = 10;
const PROBE_INTERVAL_MS = 100;
/** After the writing stops, how long the last probes have to arrive. */
const DRAIN_MS = 10_000;
const PROBE = "zq9latencyprobe";

const root = join(import.meta.dirname, "..", ".bench-data");
const work = join(root, "latency");
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const logship = await bundleLogship(root);
const collector = await startCollector(logship, join(work, "collector"));
const file = join(work, "app.log");
writeFileSync(file, "");
const apiPort = await freePort();
writeFileSync(
  join(work, "agent.yaml"),
  `data_dir: ${join(work, "agent")}\nhost: bench\ncollectors: [${collector.url}]\ntoken: ${TOKENS.ingest}\napi: { listen: 127.0.0.1:${apiPort} }\nsources:\n  - name: app\n    paths: [${JSON.stringify(file)}]\n    start_at: beginning\n`,
);
const agent = spawn(process.execPath, [...AGENT_NODE_OPTIONS, logship, "agent", "--config", join(work, "agent.yaml"), "--log-format", "json", "--log-level", "warn"], {
  stdio: ["ignore", "ignore", "inherit"],
  env: { ...process.env, ...AGENT_ENV },
});

// Probe arrivals, from the live tail of the probe token.
const following = new AbortController();
const arrivedMs = new Map<number, number>();
const tail = (async () => {
  const parameters = new URLSearchParams({ q: PROBE });
  for await (const item of followTail({ target: { url: collector.url, token: TOKENS.search }, parameters, signal: following.signal, notice: () => {} })) {
    if (item.kind !== "event") continue;
    const match = /(\d+) written (\d+)/.exec(item.event.message);
    if (match !== null) arrivedMs.set(Number(match[1]), Date.now() - Number(match[2]));
  }
})().catch((error: unknown) => {
  if (!following.signal.aborted) throw error;
});

// The writer: the rate in 10 ms steps, a probe every 100 ms.
const next = seededRandom(11);
let sequence = 0;
let probes = 0;
let written = 0;
const started = Date.now();
const cpuBefore = usage(agent.pid as number).cpuSeconds;
let agentPeakMb = 0;
let collectorPeakMb = 0;
while (Date.now() - started < seconds * 1000) {
  const elapsedMs = Date.now() - started;
  let chunk = "";
  while (written + chunk.length < (rateBytesPerS * (elapsedMs + WRITE_INTERVAL_MS)) / 1000) chunk += `${mixedLine(next, sequence++)}\n`;
  if (elapsedMs >= probes * PROBE_INTERVAL_MS) chunk += `${PROBE} ${probes++} written ${Date.now()}\n`;
  appendFileSync(file, chunk);
  written += chunk.length;
  agentPeakMb = Math.max(agentPeakMb, usage(agent.pid as number).rssMb);
  collectorPeakMb = Math.max(collectorPeakMb, usage(collector.child.pid as number).rssMb);
  await new Promise((resolve) => setTimeout(resolve, WRITE_INTERVAL_MS));
}
const writingS = (Date.now() - started) / 1000;
const cpuSeconds = usage(agent.pid as number).cpuSeconds - cpuBefore;
const drainUntil = Date.now() + DRAIN_MS;
while (arrivedMs.size < probes && Date.now() < drainUntil) await new Promise((resolve) => setTimeout(resolve, 100));
following.abort();
await tail;
const exited = new Promise((resolve) => agent.once("exit", resolve));
agent.kill("SIGTERM");
await exited;
await stopCollector(collector);

const latencies = [...arrivedMs.values()].sort((a, b) => a - b);
const percentile = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? Number.NaN;
console.log(
  JSON.stringify({
    bench: "latency",
    case: "steady",
    path: "file → agent → collector → log → search index → GET /v1/tail (bundled, shipped Node options)",
    rate_mb_per_s: Math.round((written / 1e6 / writingS) * 100) / 100,
    seconds: Math.round(writingS * 10) / 10,
    probes,
    probes_seen: arrivedMs.size,
    latency_p50_ms: percentile(50),
    latency_p99_ms: percentile(99),
    latency_max_ms: latencies.at(-1) ?? Number.NaN,
    agent_cpu_seconds_per_gb: Math.round((cpuSeconds / (written / 1e9)) * 100) / 100,
    agent_peak_rss_mb: Math.round(agentPeakMb * 10) / 10,
    collector_peak_rss_mb: Math.round(collectorPeakMb * 10) / 10,
  }),
);
