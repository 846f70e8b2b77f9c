/**
 * File → agent → collector → durable log, acknowledged end to end, both
 * processes on this machine (bundled, as shipped). Prints JSON:
 *
 *   {"bench":"delivery","case":"ship", mb_per_s, lines_per_s, agent_cpu_seconds_per_gb,
 *    agent_main_thread_cpu_seconds_per_gb, collector_cpu_seconds_per_gb,
 *    compression_ratio, agent_peak_rss_mb, collector_peak_rss_mb, ...[, share_of_plain]}
 *   {"bench":"delivery","case":"idle_files", agent_node_options, files, agent_rss_mb,
 *    agent_rss_anon_mb, agent_rss_file_mb, idle_window_s, agent_idle_cpu_percent,
 *    agent_rss_after_idle_window_mb, bare_node_rss_mb, bare_node_rss_file_mb}
 *
 * idle_files runs twice: with the options as shipped, and with the agent's
 * optimizing compilers on from the start (`compilers_on`: without the V8
 * flags it lifts under load, agent/optimizing-compilers.ts).
 *
 * The idle agent's RSS split as Linux counts it: its own pages (anon: V8's
 * heap, buffers, malloc) and pages of mapped files (file: the node
 * binary's code and read-only data, which every process running that
 * binary shares), beside a bare node process (the same binary and Node
 * options, an empty event loop): the runtime's floor under any agent.
 *
 *   npx node bench/delivery.bench.ts [--bytes 1GiB] [--idle-files 1000]
 *
 * The agent's main thread runs the tailer, decoding, transforms and the
 * encoding of batches; zstd runs on libuv's thread pool. The transforms
 * case's share_of_plain is its mb_per_s over the plain case's with the same
 * zstd strategy in the same run (issue 11).
 *
 * Throughput counts from the agent's start until its /status shows every
 * file acknowledged to its end (so start-up is included).
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { parseSize } from "../shared/config/units.ts";
import { agentConfigSchema } from "../agent/config.ts";
import { AGENT_COMPILERS_ON_NODE_OPTIONS, AGENT_DECODING_NODE_OPTIONS, AGENT_ENV, AGENT_NODE_OPTIONS } from "./node-options.ts";
import { benchFiles } from "./data.ts";
import { bundleLogship } from "./bundle.ts";
import { agentStatus, shipThroughLogship, startBenchAgent, startBenchCollector, type NodeRole } from "./logship-delivery.ts";
import { round, stop, usage } from "./processes.ts";

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
let agentNodeOptions: NodeRole & { name: "shipped" | "node_defaults" | "compilers_on" } = { name: "shipped", argv: AGENT_NODE_OPTIONS, env: AGENT_ENV };
const root = process.env["LOGSHIP_BENCH_DATA"] ?? join(import.meta.dirname, "..", ".bench-data");
const work = join(root, "delivery");
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const logship = await bundleLogship(root);

/**
 * The ship case's source transforms: none, or issue 11's chain (a drop, a
 * redact of e-mail and IPv4 addresses, a set with a template), whose
 * throughput must be at least 60 % of the plain pipeline's.
 */
const TRANSFORMS_CHAIN = `    transforms:\n      - drop: '"GET /healthz" OR /DEBUG/'\n      - redact: { patterns: [email, ipv4] }\n      - set: { fields.env: prod, fields.origin: '{host}/{source}' }\n`;
let transforms: "none" | "drop+redact+set" = "none";

async function ship(): Promise<Record<string, unknown>> {
  const files = benchFiles(join(root, "tail"), parseSize(values.bytes), 4, "mixed");
  // Fresh directories per case: an agent that finds its checkpoints would ship nothing.
  const name = `${compression.strategy}-${agentNodeOptions.name}-${transforms === "none" ? "plain" : "transforms"}`;
  // A config with transforms decodes its lines: the agent starts with the options the single executable gives it then.
  const role = transforms === "none" || agentNodeOptions.name !== "shipped" ? agentNodeOptions : { ...agentNodeOptions, argv: AGENT_DECODING_NODE_OPTIONS };
  const run = await shipThroughLogship({ logship, directory: join(work, name), files, compression, role, sourceYaml: transforms === "none" ? "" : TRANSFORMS_CHAIN });
  return {
    bench: "delivery",
    case: "ship",
    bytes: run.bytes,
    lines: run.lines,
    seconds: round(run.seconds),
    mb_per_s: round(run.bytes / 1e6 / run.seconds),
    lines_per_s: Math.round(run.lines / run.seconds),
    agent_cpu_seconds_per_gb: round(run.agentCpuSeconds / (run.bytes / 1e9)),
    agent_main_thread_cpu_seconds_per_gb: round(run.agentMainThreadCpuSeconds / (run.bytes / 1e9)),
    collector_cpu_seconds_per_gb: round(run.collectorCpuSeconds / (run.bytes / 1e9)),
    compression_ratio: round(run.uncompressedBytes / Math.max(1, run.compressedBytes)),
    raw_to_wire_ratio: round(run.bytes / Math.max(1, run.compressedBytes)),
    agent_peak_rss_mb: round(run.agentPolledPeakRssMb),
    collector_peak_rss_mb: round(run.collectorPolledPeakRssMb),
    zstd_level: compression.level,
    zstd_strategy: compression.strategy,
    agent_node_options: agentNodeOptions.name,
    transforms,
  };
}

/** After the RSS is taken, how long the idle agent is watched for CPU and RSS growth (longer than tail.max_backoff's default, so backed-off polls are in it). */
const IDLE_WINDOW_MS = 20_000;

async function idleFiles(): Promise<Record<string, unknown>> {
  const count = Number(values["idle-files"]);
  const dir = join(work, "idle");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (let index = 0; index < count; index++) writeFileSync(join(dir, `idle-${index}.log`), `idle file ${index} first line\n`);
  const target = await startBenchCollector(logship, join(work, `collector-idle-${agentNodeOptions.name}`));
  const shipper = await startBenchAgent({ logship, directory: join(work, `agent-idle-${agentNodeOptions.name}`), collectorUrl: target.url, paths: [join(dir, "*.log")], compression, role: agentNodeOptions, sourceYaml: "" });
  // Let it discover, read and ship every file, then settle.
  const deadline = Date.now() + 60_000;
  for (;;) {
    const status = await agentStatus(shipper);
    if ((status.files.length === count && status.files.every((file) => file.ackedOffset > 0)) || Date.now() > deadline) break;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  await new Promise((resolve) => setTimeout(resolve, 3000));
  const agent = usage(shipper.child.pid as number);
  // Then idle on: the CPU an agent spends on 1,000 quiet files (polling), and whether its RSS grows meanwhile.
  await new Promise((resolve) => setTimeout(resolve, IDLE_WINDOW_MS));
  const idle = usage(shipper.child.pid as number);
  if (process.env["BENCH_TRACE"]) process.stderr.write(JSON.stringify(((await agentStatus(shipper)) as unknown as { memory: unknown }).memory) + "\n");
  await stop(shipper.child);
  await stop(target.child);
  const bare = await bareNodeUsage(agentNodeOptions);
  return {
    bench: "delivery",
    case: "idle_files",
    agent_node_options: agentNodeOptions.name,
    files: count,
    agent_rss_mb: round(agent.rssMb),
    agent_rss_anon_mb: round(agent.anonRssMb),
    agent_rss_file_mb: round(agent.fileRssMb),
    idle_window_s: IDLE_WINDOW_MS / 1000,
    agent_idle_cpu_percent: round(((idle.cpuSeconds - agent.cpuSeconds) * 100_000) / IDLE_WINDOW_MS),
    agent_rss_after_idle_window_mb: round(idle.rssMb),
    bare_node_rss_mb: round(bare.rssMb),
    bare_node_rss_file_mb: round(bare.fileRssMb),
  };
}

/** How long the bare node process is given to settle after it says it runs (it only sleeps). */
const BARE_NODE_SETTLE_MS = 1000;

/** Memory of a node process with the role's options and environment that does nothing (an empty timer). */
async function bareNodeUsage(role: NodeRole): Promise<ReturnType<typeof usage>> {
  const child = spawn(process.execPath, [...role.argv, "-e", "setInterval(() => {}, 60_000); console.log('running')"], { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, ...role.env } });
  await once(child.stdout, "data");
  await new Promise((resolve) => setTimeout(resolve, BARE_NODE_SETTLE_MS));
  const measured = usage(child.pid as number);
  await stop(child);
  return measured;
}

if (cases.has("ship")) {
  /** mb_per_s of the plain pipeline per zstd strategy, as shipped: what the transforms case is a share of. */
  const plainMbPerS = new Map<string, number>();
  for (const strategy of values.strategies.split(",")) {
    compression = compressionFor(strategy);
    const row = await ship();
    plainMbPerS.set(strategy, row["mb_per_s"] as number);
    console.log(JSON.stringify(row));
  }
  // The default compression once more, with the agent on Node's own defaults.
  compression = compressionFor();
  agentNodeOptions = { name: "node_defaults", argv: [], env: {} };
  console.log(JSON.stringify(await ship()));
  agentNodeOptions = { name: "shipped", argv: AGENT_NODE_OPTIONS, env: AGENT_ENV };
  // The default compression once more, through issue 11's transform chain.
  transforms = "drop+redact+set";
  const row = await ship();
  const plain = plainMbPerS.get(compression.strategy);
  console.log(JSON.stringify({ ...row, share_of_plain: plain === undefined ? null : round((row["mb_per_s"] as number) / plain) }));
  transforms = "none";
}
compression = compressionFor();
if (cases.has("idle_files")) {
  console.log(JSON.stringify(await idleFiles()));
  // Once more with the optimizing compilers on from the start: what holding them back until load saves (agent/optimizing-compilers.ts).
  agentNodeOptions = { name: "compilers_on", argv: AGENT_COMPILERS_ON_NODE_OPTIONS, env: AGENT_ENV };
  console.log(JSON.stringify(await idleFiles()));
}
rmSync(work, { recursive: true, force: true });
