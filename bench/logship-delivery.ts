/**
 * Files shipped by logship, bundled as it ships: one agent tailing the
 * files from their beginning into one collector (embedded log, no search
 * sink), both on this machine on free loopback ports, measured until the
 * agent's /status shows every file acknowledged to its end and its spool
 * empty. Used by bench/delivery.bench.ts (issue 3) and
 * bench/fluentbit.bench.ts (issue 8, the same run beside Fluent Bit).
 *
 * The clock starts before the agent is spawned (its start-up counts) and
 * stops at the first /status poll (every STATUS_POLL_MS) that shows
 * everything acknowledged.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { COLLECTOR_ENV, COLLECTOR_NODE_OPTIONS } from "./node-options.ts";
import { countLines, freePort, stop, usage, waitReady } from "./processes.ts";

const TOKEN = "bench-token";
/** How long a bundled collector or agent may take to answer its readiness probe. */
const START_TIMEOUT_MS = 30_000;
/** Poll interval of the agent's /status (and of the polled RSS peaks). */
const STATUS_POLL_MS = 100;

/** Node options and environment of a logship process (bench/node-options.ts: as shipped, or Node's defaults). */
export interface NodeRole {
  argv: readonly string[];
  env: Readonly<Record<string, string>>;
}

export interface LogshipProcess {
  child: ChildProcess;
  /** http://127.0.0.1:PORT of its listener (collector) or api.listen (agent). */
  url: string;
}

function startLogship(logship: string, role: NodeRole, args: string[]): ChildProcess {
  return spawn(process.execPath, [...role.argv, logship, ...args, "--log-format", "json", "--log-level", "warn"], { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, ...role.env } });
}

/** A collector as shipped on a free port, its config and data in `directory`; resolves once /readyz answers. */
export async function startBenchCollector(logship: string, directory: string): Promise<LogshipProcess> {
  const port = await freePort();
  mkdirSync(directory, { recursive: true });
  writeFileSync(
    join(directory, "collector.yaml"),
    `listen: 127.0.0.1:${port}\ndata_dir: ${join(directory, "data")}\ntokens: [{ token: ${TOKEN}, tenant: default, role: ingest }]\n# the log path alone: no search index competing for the 2 cores (issue 5 has its own benchmark)\nsinks: { search: { type: none } }\n`,
  );
  const child = startLogship(logship, { argv: COLLECTOR_NODE_OPTIONS, env: COLLECTOR_ENV }, ["collector", "--config", join(directory, "collector.yaml")]);
  const url = `http://127.0.0.1:${port}`;
  await waitReady(url, "/readyz", START_TIMEOUT_MS);
  return { child, url };
}

export interface BenchAgentOptions {
  logship: string;
  /** Its config and data_dir go here. */
  directory: string;
  collectorUrl: string;
  /** Globs or paths of the one source, read from their beginning. */
  paths: readonly string[];
  compression: { level: number; strategy: string };
  role: NodeRole;
  /** YAML appended to the source (indented as its keys), e.g. a transforms list; "" for none. */
  sourceYaml: string;
}

/** An agent on a free api.listen port; resolves once /healthz answers. */
export async function startBenchAgent(options: BenchAgentOptions): Promise<LogshipProcess> {
  const port = await freePort();
  mkdirSync(options.directory, { recursive: true });
  const config = join(options.directory, "agent.yaml");
  writeFileSync(
    config,
    `data_dir: ${join(options.directory, "data")}\nhost: bench\ncollectors: [${options.collectorUrl}]\ntoken: ${TOKEN}\napi: { listen: 127.0.0.1:${port} }\ncompression: { level: ${options.compression.level}, strategy: ${options.compression.strategy} }\nsources:\n  - name: bench\n    paths: [${options.paths.map((path) => JSON.stringify(path)).join(", ")}]\n    start_at: beginning\n${options.sourceYaml}`,
  );
  const child = startLogship(options.logship, options.role, ["agent", "--config", config]);
  const url = `http://127.0.0.1:${port}`;
  await waitReady(url, "/healthz", START_TIMEOUT_MS);
  return { child, url };
}

/** The part of the agent's GET /status this module reads. */
export interface AgentStatus {
  files: { currentPath: string; ackedOffset: number }[];
  spool: { records: number };
  compression: { uncompressed_bytes: number; compressed_bytes: number };
}

export async function agentStatus(agent: LogshipProcess): Promise<AgentStatus> {
  return (await (await fetch(`${agent.url}/status`)).json()) as AgentStatus;
}

export interface LogshipShipOptions extends Omit<BenchAgentOptions, "directory" | "collectorUrl" | "paths"> {
  /** Fresh directories for this run's collector and agent go under here (an agent that finds its checkpoints would ship nothing). */
  directory: string;
  /** The files to ship, whole. */
  files: readonly string[];
}

export interface LogshipShipResult {
  bytes: number;
  lines: number;
  seconds: number;
  agentCpuSeconds: number;
  /** The agent's main thread alone: reading, decoding, transforms, encoding batches (compression runs on the thread pool). */
  agentMainThreadCpuSeconds: number;
  /** Highest VmRSS seen at the polls. */
  agentPolledPeakRssMb: number;
  /** The agent's VmHWM when everything was acknowledged. */
  agentPeakRssMb: number;
  collectorPolledPeakRssMb: number;
  collectorCpuSeconds: number;
  /** Events in the collector's log when everything was acknowledged (logship_collector_log_end_offset of its fresh log). */
  eventsStored: number;
  /** Event bytes before compression and on the wire, from the agent's /status. */
  uncompressedBytes: number;
  compressedBytes: number;
}

/** The default tenant's log end offset from the collector's /metrics: the events its fresh log holds. */
async function logEndOffset(collector: LogshipProcess): Promise<number> {
  const text = await (await fetch(`${collector.url}/metrics`)).text();
  const match = /^logship_collector_log_end_offset\{tenant="default"\} (\d+)$/m.exec(text);
  if (match === null) throw new Error(`no logship_collector_log_end_offset{tenant="default"} in ${collector.url}/metrics`);
  return Number(match[1]);
}

/** Ships `files` through a fresh collector and agent and measures the agent until every byte is acknowledged; stops both. */
export async function shipThroughLogship(options: LogshipShipOptions): Promise<LogshipShipResult> {
  const sizes = new Map(options.files.map((path) => [path, statSync(path).size]));
  const bytes = [...sizes.values()].reduce((sum, size) => sum + size, 0);
  const lines = options.files.reduce((sum, path) => sum + countLines(path), 0);
  const collector = await startBenchCollector(options.logship, join(options.directory, "collector"));
  const started = Date.now();
  const agent = await startBenchAgent({ ...options, directory: join(options.directory, "agent"), collectorUrl: collector.url, paths: options.files });
  const agentPid = agent.child.pid as number;
  let agentPolledPeakRssMb = 0;
  let collectorPolledPeakRssMb = 0;
  let status: AgentStatus;
  for (;;) {
    agentPolledPeakRssMb = Math.max(agentPolledPeakRssMb, usage(agentPid).rssMb);
    collectorPolledPeakRssMb = Math.max(collectorPolledPeakRssMb, usage(collector.child.pid as number).rssMb);
    status = await agentStatus(agent);
    if (process.env["BENCH_TRACE"]) process.stderr.write(JSON.stringify({ memory: (status as unknown as { memory: unknown }).memory, spool: status.spool }) + "\n");
    const done = status.files.length === options.files.length && status.files.every((file) => file.ackedOffset === sizes.get(file.currentPath)) && status.spool.records === 0;
    if (done) break;
    await new Promise((resolve) => setTimeout(resolve, STATUS_POLL_MS));
  }
  const seconds = (Date.now() - started) / 1000;
  const agentUsage = usage(agentPid);
  const collectorCpuSeconds = usage(collector.child.pid as number).cpuSeconds;
  const eventsStored = await logEndOffset(collector);
  await stop(agent.child);
  await stop(collector.child);
  return {
    bytes,
    lines,
    seconds,
    agentCpuSeconds: agentUsage.cpuSeconds,
    agentMainThreadCpuSeconds: agentUsage.mainThreadCpuSeconds,
    agentPolledPeakRssMb,
    agentPeakRssMb: agentUsage.peakRssMb,
    collectorPolledPeakRssMb,
    collectorCpuSeconds,
    eventsStored,
    uncompressedBytes: status.compression.uncompressed_bytes,
    compressedBytes: status.compression.compressed_bytes,
  };
}
