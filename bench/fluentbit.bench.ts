/**
 * Issue 8: logship side by side with Fluent Bit, in the same run, on the
 * same data (bench/data.ts: 1 GiB of mixed access/JSON lines over 4 files,
 * the files delivery.bench.ts ships). Each round ships the files once
 * through each: Fluent Bit (bench/fluent-bit-delivery.ts: tail → http,
 * flush 0.2 s, 2 workers, zstd, into an acknowledging endpoint that
 * decompresses and counts lines) and logship (bench/logship-delivery.ts:
 * agent → collector → durable log, as shipped), alternating which goes
 * first (ABBA…), so drift in the machine's load falls on both. Prints JSON:
 *
 *   {"bench":"fluentbit","case":"ship","shipper":"fluent-bit"|"logship", round, bytes, lines,
 *    lines_received, all_arrived, seconds, mb_per_s, lines_per_s, shipper_cpu_seconds_per_gb,
 *    shipper_peak_rss_mb, receiver_cpu_seconds_per_gb, wire_mb, raw_to_wire_ratio}
 *   {"bench":"fluentbit","case":"logship_vs_fluent_bit", mb_per_s_ratio, cpu_per_gb_ratio,
 *    peak_rss_ratio}   (medians over the rounds; above 1: logship more of it)
 *   {"bench":"fluentbit","case":"ship","shipper":"fluent-bit","skipped":"<why>"}   (when no binary is built)
 *
 *   npx node bench/fluentbit.bench.ts [--bytes 1GiB] [--rounds 2]
 *
 * lines_received: for Fluent Bit, the lines the endpoint counted; for
 * logship, the events in the collector's fresh log. Peak RSS is the
 * shipper's VmHWM; CPU is utime + stime of all its threads. The receiver's
 * CPU, for context: the collector's, or this process's during a Fluent Bit
 * run (the endpoint, and the polls). Build the peer
 * with `bench/peers/fluent-bit.sh build` (outside the repo).
 */
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { parseSize } from "../shared/config/units.ts";
import { agentConfigSchema } from "../agent/config.ts";
import { AGENT_ENV, AGENT_NODE_OPTIONS } from "./node-options.ts";
import { benchFiles } from "./data.ts";
import { bundleLogship } from "./bundle.ts";
import { findFluentBit, shipThroughFluentBit, type FluentBitLookup } from "./fluent-bit-delivery.ts";
import { shipThroughLogship } from "./logship-delivery.ts";
import { round } from "./processes.ts";

const { values } = parseArgs({ options: { bytes: { type: "string", default: "1GiB" }, rounds: { type: "string", default: "2" } } });
const rounds = Number(values.rounds);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds must be a positive integer, got ${values.rounds}`);
const root = process.env["LOGSHIP_BENCH_DATA"] ?? join(import.meta.dirname, "..", ".bench-data");
const work = join(root, "fluentbit");
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const files = benchFiles(join(root, "tail"), parseSize(values.bytes), 4, "mixed");
const logship = await bundleLogship(root);
const fluentBit = findFluentBit();
/** The agent as shipped: its default compression and Node options. */
const compression = agentConfigSchema.shape.compression.parse({});

type Shipper = "fluent-bit" | "logship";
interface Row {
  shipper: Shipper;
  mbPerS: number;
  cpuPerGb: number;
  peakRssMb: number;
  printed: Record<string, unknown>;
}

function row(shipper: Shipper, roundNumber: number, run: { bytes: number; lines: number; linesReceived: number; seconds: number; cpuSeconds: number; peakRssMb: number; wireBytes: number; receiverCpuSeconds: number }, detail: Record<string, unknown>): Row {
  const mbPerS = run.bytes / 1e6 / run.seconds;
  const cpuPerGb = run.cpuSeconds / (run.bytes / 1e9);
  return {
    shipper,
    mbPerS,
    cpuPerGb,
    peakRssMb: run.peakRssMb,
    printed: {
      bench: "fluentbit",
      case: "ship",
      shipper,
      round: roundNumber,
      bytes: run.bytes,
      lines: run.lines,
      lines_received: run.linesReceived,
      all_arrived: run.linesReceived === run.lines,
      seconds: round(run.seconds),
      mb_per_s: round(mbPerS),
      lines_per_s: Math.round(run.lines / run.seconds),
      shipper_cpu_seconds_per_gb: round(cpuPerGb),
      shipper_peak_rss_mb: round(run.peakRssMb),
      receiver_cpu_seconds_per_gb: round(run.receiverCpuSeconds / (run.bytes / 1e9)),
      wire_mb: round(run.wireBytes / 1e6),
      raw_to_wire_ratio: round(run.bytes / Math.max(1, run.wireBytes)),
      ...detail,
    },
  };
}

async function runFluentBit(roundNumber: number, peer: Extract<FluentBitLookup, { kind: "found" }>): Promise<Row> {
  const run = await shipThroughFluentBit({ binary: peer.binary, directory: join(work, `fluent-bit-${roundNumber}`), files });
  // out_http's zstd is src/flb_zstd.c's ZSTD_compress at level 1, as the agent's default level.
  const detail = { shipper_version: peer.version.replace(/^Fluent Bit /, ""), compression: "zstd (level 1)", ...(run.stalled ? { stalled: true } : {}), ...(run.endpoint.rejectedRequests > 0 ? { rejected_requests: run.endpoint.rejectedRequests } : {}) };
  return row("fluent-bit", roundNumber, { ...run, wireBytes: run.endpoint.wireBytes, receiverCpuSeconds: run.endpointCpuSeconds }, detail);
}

async function runLogship(roundNumber: number): Promise<Row> {
  const run = await shipThroughLogship({ logship, directory: join(work, `logship-${roundNumber}`), files, compression, role: { argv: AGENT_NODE_OPTIONS, env: AGENT_ENV }, sourceYaml: "" });
  const detail = { shipper_version: "this commit", compression: `zstd (level ${compression.level}, ${compression.strategy})` };
  return row("logship", roundNumber, { ...run, linesReceived: run.eventsStored, cpuSeconds: run.agentCpuSeconds, peakRssMb: run.agentPeakRssMb, wireBytes: run.compressedBytes, receiverCpuSeconds: run.collectorCpuSeconds }, detail);
}

function median(numbers: readonly number[]): number {
  const sorted = [...numbers].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

const rows: Row[] = [];
const peer = fluentBit.kind === "found" ? fluentBit : null;
if (fluentBit.kind === "missing") console.log(JSON.stringify({ bench: "fluentbit", case: "ship", shipper: "fluent-bit", skipped: fluentBit.reason }));
for (let roundNumber = 1; roundNumber <= rounds; roundNumber++) {
  // ABBA: Fluent Bit first in odd rounds, logship first in even ones.
  const order: Shipper[] = roundNumber % 2 === 1 ? ["fluent-bit", "logship"] : ["logship", "fluent-bit"];
  for (const shipper of order) {
    const result = shipper === "logship" ? await runLogship(roundNumber) : peer === null ? null : await runFluentBit(roundNumber, peer);
    if (result === null) continue;
    rows.push(result);
    console.log(JSON.stringify(result.printed));
  }
}
if (peer !== null) {
  const of = (shipper: Shipper, pick: (row: Row) => number): number => median(rows.filter((row) => row.shipper === shipper).map(pick));
  console.log(
    JSON.stringify({
      bench: "fluentbit",
      case: "logship_vs_fluent_bit",
      rounds,
      mb_per_s_ratio: round(of("logship", (row) => row.mbPerS) / of("fluent-bit", (row) => row.mbPerS)),
      cpu_per_gb_ratio: round(of("logship", (row) => row.cpuPerGb) / of("fluent-bit", (row) => row.cpuPerGb)),
      peak_rss_ratio: round(of("logship", (row) => row.peakRssMb) / of("fluent-bit", (row) => row.peakRssMb)),
    }),
  );
}
rmSync(work, { recursive: true, force: true });
