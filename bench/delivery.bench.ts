/**
 * File → agent → collector → durable log, acknowledged end to end, both
 * processes on this machine (bundled, as shipped). Prints JSON:
 *
 *   {"bench":"delivery","case":"ship", mb_per_s, lines_per_s, agent_cpu_seconds_per_gb,
 *    compression_ratio, agent_peak_rss_mb, collector_peak_rss_mb, ...}
 *   {"bench":"delivery","case":"idle_files", files, agent_rss_mb}
 *
 *   npx node bench/delivery.bench.ts [--bytes 1GiB] [--idle-files 1000]
 *
 * Throughput counts from the agent's start until its /status shows every
 * file acknowledged to its end (so start-up is included).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { parseSize } from "../shared/config/units.ts";
import { agentConfigSchema } from "../agent/config.ts";
import { AGENT_ENV, AGENT_NODE_OPTIONS, COLLECTOR_ENV, COLLECTOR_NODE_OPTIONS } from "./node-options.ts";
import { benchFiles } from "./data.ts";
import { bundleLogship } from "./bundle.ts";

const { values } = parseArgs({ options: { bytes: { type: "string", default: "1GiB" }, "idle-files": { type: "string", default: "1000" }, level: { type: "string" }, strategies: { type: "string", default: "auto,greedy" }, cases: { type: "string", default: "ship,idle_files" } } });
const cases = new Set(values.cases.split(","));
// The agent's default level unless --level says otherwise; one ship case per zstd strategy
// (auto, the default, and greedy: the CPU-for-bandwidth trade-off of compression.strategy).
const compressionFor = (strategy?: string): { level: number; strategy: string } =>
  agentConfigSchema.shape.compression.parse({ ...(values.level === undefined ? {} : { level: Number(values.level) }), ...(strategy === undefined ? {} : { strategy }) });
/** The agent's compression for the case being run; the defaults for idle_files. */
let compression = compressionFor();
/**
 * The agent's Node options for the case being run: as shipped
 * (packaging/node-options.json), or Node's defaults for the one case that
 * shows what the shipped options are for (its agent_peak_rss_mb).
 */
let agentNodeOptions: { name: "shipped" | "node_defaults"; argv: readonly string[]; env: Readonly<Record<string, string>> } = { name: "shipped", argv: AGENT_NODE_OPTIONS, env: AGENT_ENV };
const root = process.env["LOGSHIP_BENCH_DATA"] ?? join(import.meta.dirname, "..", ".bench-data");
const work = join(root, "delivery");
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const logship = await bundleLogship(root);
const TOKEN = "bench-token";

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function start(args: string[]): ChildProcess {
  const role = args[0] === "agent" ? agentNodeOptions : { argv: COLLECTOR_NODE_OPTIONS, env: COLLECTOR_ENV };
  const child = spawn(process.execPath, [...role.argv, logship, ...args, "--log-format", "json", "--log-level", "warn"], { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, ...role.env } });
  return child;
}

/** utime+stime in seconds and VmRSS in MB of a process, from /proc. */
function usage(pid: number): { cpuSeconds: number; rssMb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]);
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return { cpuSeconds: ticks / 100, rssMb: Number(rss?.[1] ?? 0) / 1024 };
}

async function waitReady(url: string, path: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${url}${path}`);
      if (response.ok) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${url}${path} not ready within ${timeoutMs} ms`);
}

interface Status {
  files: { currentPath: string; ackedOffset: number }[];
  spool: { records: number };
  compression: { uncompressed_bytes: number; compressed_bytes: number };
}

async function collector(name: string): Promise<{ child: ChildProcess; url: string }> {
  const port = await freePort();
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "collector.yaml"), `listen: 127.0.0.1:${port}\ndata_dir: ${join(dir, "data")}\ntokens: [{ token: ${TOKEN}, tenant: default, role: ingest }]\n# the log path alone: no search index competing for the 2 cores (issue 5 has its own benchmark)\nsinks: { search: { type: none } }\n`);
  const child = start(["collector", "--config", join(dir, "collector.yaml")]);
  const url = `http://127.0.0.1:${port}`;
  await waitReady(url, "/readyz", 30_000);
  return { child, url };
}

async function agent(name: string, collectorUrl: string, paths: string[], extra = ""): Promise<{ child: ChildProcess; api: string }> {
  const port = await freePort();
  const dir = join(work, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, "agent.yaml"),
    `data_dir: ${join(dir, "data")}\nhost: bench\ncollectors: [${collectorUrl}]\ntoken: ${TOKEN}\napi: { listen: 127.0.0.1:${port} }\ncompression: { level: ${compression.level}, strategy: ${compression.strategy} }\nsources:\n  - name: bench\n    paths: [${paths.map((path) => JSON.stringify(path)).join(", ")}]\n    start_at: beginning\n${extra}`,
  );
  const child = start(["agent", "--config", join(dir, "agent.yaml")]);
  const api = `http://127.0.0.1:${port}`;
  await waitReady(api, "/healthz", 30_000);
  return { child, api };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

/**
 * The ship case's source transforms: none, or issue 11's chain (a drop, a
 * redact of e-mail and IPv4 addresses, a set with a template), whose
 * throughput must be at least 60 % of the plain pipeline's.
 */
const TRANSFORMS_CHAIN = `    transforms:\n      - drop: '"GET /healthz" OR /DEBUG/'\n      - redact: { patterns: [email, ipv4] }\n      - set: { fields.env: prod, fields.origin: '{host}/{source}' }\n`;
let transforms: "none" | "drop+redact+set" = "none";

async function ship(): Promise<Record<string, unknown>> {
  const files = benchFiles(join(root, "tail"), parseSize(values.bytes), 4, "mixed");
  const sizes = new Map(files.map((path) => [path, statSync(path).size]));
  const totalBytes = [...sizes.values()].reduce((sum, size) => sum + size, 0);
  const totalLines = files.reduce((sum, path) => sum + countLines(path), 0);
  // Fresh directories per case: an agent that finds its checkpoints would ship nothing.
  const name = `${compression.strategy}-${agentNodeOptions.name}-${transforms === "none" ? "plain" : "transforms"}`;
  const target = await collector(`collector-${name}`);
  const started = Date.now();
  const shipper = await agent(`agent-${name}`, target.url, files, transforms === "none" ? "" : TRANSFORMS_CHAIN);
  const pid = shipper.child.pid as number;
  let agentPeakMb = 0;
  let collectorPeakMb = 0;
  let status: Status | null = null;
  for (;;) {
    agentPeakMb = Math.max(agentPeakMb, usage(pid).rssMb);
    collectorPeakMb = Math.max(collectorPeakMb, usage(target.child.pid as number).rssMb);
    status = (await (await fetch(`${shipper.api}/status`)).json()) as Status;
    if (process.env["BENCH_TRACE"]) process.stderr.write(JSON.stringify({ memory: (status as unknown as { memory: unknown }).memory, spool: status.spool }) + "\n");
    const done = status.files.length === files.length && status.files.every((file) => file.ackedOffset === sizes.get(file.currentPath)) && status.spool.records === 0;
    if (done) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const seconds = (Date.now() - started) / 1000;
  const agentCpu = usage(pid).cpuSeconds;
  await stop(shipper.child);
  await stop(target.child);
  return {
    bench: "delivery",
    case: "ship",
    bytes: totalBytes,
    lines: totalLines,
    seconds: round(seconds),
    mb_per_s: round(totalBytes / 1e6 / seconds),
    lines_per_s: Math.round(totalLines / seconds),
    agent_cpu_seconds_per_gb: round(agentCpu / (totalBytes / 1e9)),
    compression_ratio: round(status.compression.uncompressed_bytes / Math.max(1, status.compression.compressed_bytes)),
    raw_to_wire_ratio: round(totalBytes / Math.max(1, status.compression.compressed_bytes)),
    agent_peak_rss_mb: round(agentPeakMb),
    collector_peak_rss_mb: round(collectorPeakMb),
    zstd_level: compression.level,
    zstd_strategy: compression.strategy,
    agent_node_options: agentNodeOptions.name,
    transforms,
  };
}

function countLines(path: string): number {
  const data = readFileSync(path);
  let count = 0;
  for (let index = data.indexOf(10); index !== -1; index = data.indexOf(10, index + 1)) count++;
  return count;
}

async function idleFiles(): Promise<Record<string, unknown>> {
  const count = Number(values["idle-files"]);
  const dir = join(work, "idle");
  mkdirSync(dir, { recursive: true });
  for (let index = 0; index < count; index++) writeFileSync(join(dir, `idle-${index}.log`), `idle file ${index} first line\n`);
  const target = await collector("collector-idle");
  const shipper = await agent("agent-idle", target.url, [join(dir, "*.log")]);
  // Let it discover, read and ship every file, then settle.
  const deadline = Date.now() + 60_000;
  for (;;) {
    const status = (await (await fetch(`${shipper.api}/status`)).json()) as Status;
    if ((status.files.length === count && status.files.every((file) => file.ackedOffset > 0)) || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const rss = usage(shipper.child.pid as number).rssMb;
  if (process.env["BENCH_TRACE"]) process.stderr.write(JSON.stringify((await (await fetch(`${shipper.api}/status`)).json() as { memory: unknown }).memory) + "\n");
  await stop(shipper.child);
  await stop(target.child);
  return { bench: "delivery", case: "idle_files", files: count, agent_rss_mb: round(rss) };
}

if (cases.has("ship")) {
  for (const strategy of values.strategies.split(",")) {
    compression = compressionFor(strategy);
    console.log(JSON.stringify(await ship()));
  }
  // The default compression once more, with the agent on Node's own defaults.
  compression = compressionFor();
  agentNodeOptions = { name: "node_defaults", argv: [], env: {} };
  console.log(JSON.stringify(await ship()));
  agentNodeOptions = { name: "shipped", argv: AGENT_NODE_OPTIONS, env: AGENT_ENV };
  // The default compression once more, through issue 11's transform chain.
  transforms = "drop+redact+set";
  console.log(JSON.stringify(await ship()));
  transforms = "none";
}
compression = compressionFor();
if (cases.has("idle_files")) console.log(JSON.stringify(await idleFiles()));
rmSync(work, { recursive: true, force: true });
