/**
 * Files shipped by Fluent Bit (the peer of issue 8), built from its source
 * by bench/peers/fluent-bit.sh outside the repo: tail → http output into
 * the acknowledging endpoint (bench/acking-endpoint.ts), tuned as issue 3
 * describes it (flush 0.2 s, 2 output workers, zstd), measured until the
 * endpoint has counted every line of the files or no line has come for
 * STALL_MS.
 *
 * Fluent Bit's configuration, in its classic format:
 * - in_tail: the files by name, read_from_head, its SQLite offset database
 *   (`db`, as a deployment that must resume keeps one; logship's agent
 *   keeps checkpoints too), everything else at its defaults
 *   (buffer_chunk_size 32k, no mem_buf_limit).
 * - out_http: format json_lines (one JSON object per line: the line under
 *   `log`, a `date` key), compress zstd (out_http supports gzip, snappy and
 *   zstd in 5.1: plugins/out_http/http_conf.c), workers 2, retry_limit
 *   no_limits (logship never drops a batch either; the endpoint always acks
 *   a decodable body, so no retry happens).
 * - service: flush 0.2, log_level warn, memory buffering (its default).
 *
 * The clock starts before Fluent Bit is spawned and stops when the
 * endpoint answered the last request it counted (the one that brought the
 * count to every line, or the last before a stall).
 */
import { spawn, spawnSync } from "node:child_process";
import { closeSync, mkdirSync, openSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startAckingEndpoint, type EndpointCounts } from "./acking-endpoint.ts";
import { countLines, freePort, stop, usage } from "./processes.ts";

export const FLUENT_BIT_SCRIPT = join(import.meta.dirname, "peers", "fluent-bit.sh");

/** How long `fluent-bit.sh path` and `--version` may take. */
const LOOKUP_TIMEOUT_MS = 10_000;
/** Poll interval of the endpoint's counts (and of the polled RSS). */
const POLL_MS = 100;
/** No new line at the endpoint for this long ends a run short: it reports what arrived. */
const STALL_MS = 30_000;

/** The built binary and its version, or why there is none. */
export type FluentBitLookup = { kind: "found"; binary: string; version: string } | { kind: "missing"; reason: string };

/** Asks bench/peers/fluent-bit.sh for the binary (it never builds here: building takes a long while; see the script). */
export function findFluentBit(): FluentBitLookup {
  const path = spawnSync("bash", [FLUENT_BIT_SCRIPT, "path"], { encoding: "utf8", timeout: LOOKUP_TIMEOUT_MS });
  if (path.error !== undefined) return { kind: "missing", reason: `bench/peers/fluent-bit.sh path: ${path.error.message}` };
  if (path.status !== 0) return { kind: "missing", reason: path.stderr.trim().replace(/^fluent-bit\.sh: /, "") || `bench/peers/fluent-bit.sh path exited ${path.status}` };
  const binary = path.stdout.trim();
  const version = spawnSync(binary, ["--version"], { encoding: "utf8", timeout: LOOKUP_TIMEOUT_MS });
  if (version.status !== 0) return { kind: "missing", reason: `${binary} --version failed: ${(version.stderr || version.error?.message || "").trim()}` };
  return { kind: "found", binary, version: version.stdout.split("\n")[0]?.trim() ?? "" };
}

export interface FluentBitShipOptions {
  binary: string;
  /** Its config, offset database and log go here (fresh: a database with offsets would skip the files). */
  directory: string;
  files: readonly string[];
}

export interface FluentBitShipResult {
  bytes: number;
  lines: number;
  /** Lines the endpoint counted: `lines` when every line arrived once. */
  linesReceived: number;
  seconds: number;
  cpuSeconds: number;
  /** VmHWM when the run ended. */
  peakRssMb: number;
  /** CPU of this (the benchmark's) process during the run: the endpoint's work, and the polls. */
  endpointCpuSeconds: number;
  endpoint: EndpointCounts;
  /** True when the run ended because no line came for STALL_MS. */
  stalled: boolean;
}

function configuration(options: FluentBitShipOptions, port: number): string {
  return `[SERVICE]
    flush        0.2
    grace        5
    log_level    warn
    http_server  off

[INPUT]
    name            tail
    tag             bench
    path            ${options.files.join(",")}
    read_from_head  true
    db              ${join(options.directory, "tail.db")}

[OUTPUT]
    name         http
    match        *
    host         127.0.0.1
    port         ${port}
    uri          /ingest
    format       json_lines
    compress     zstd
    workers      2
    retry_limit  no_limits
`;
}

/** Ships `files` through a fresh Fluent Bit into a fresh endpoint and measures Fluent Bit until every line is acknowledged (or the run stalls); stops both. */
export async function shipThroughFluentBit(options: FluentBitShipOptions): Promise<FluentBitShipResult> {
  const bytes = options.files.reduce((sum, path) => sum + statSync(path).size, 0);
  const lines = options.files.reduce((sum, path) => sum + countLines(path), 0);
  mkdirSync(options.directory, { recursive: true });
  const endpoint = await startAckingEndpoint(await freePort());
  const config = join(options.directory, "fluent-bit.conf");
  writeFileSync(config, configuration(options, Number(new URL(endpoint.url).port)));
  const logPath = join(options.directory, "fluent-bit.log");
  const logFd = openSync(logPath, "w");
  const started = Date.now();
  const benchCpuAtStart = process.cpuUsage();
  const child = spawn(options.binary, ["-c", config], { stdio: ["ignore", logFd, logFd] });
  closeSync(logFd);
  let exitCode: number | null | undefined;
  child.once("exit", (code) => (exitCode = code));
  let lastProgressMs = started;
  let lastLines = 0;
  let stalled = false;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    if (exitCode !== undefined) throw new Error(`Fluent Bit exited (code ${exitCode}) before every line arrived; its log ${logPath}:\n${readFileSync(logPath, "utf8").slice(-2000)}`);
    const received = endpoint.counts().lines;
    if (received >= lines) break;
    if (received > lastLines) {
      lastLines = received;
      lastProgressMs = Date.now();
    } else if (Date.now() - lastProgressMs > STALL_MS) {
      stalled = true;
      break;
    }
  }
  const counts = endpoint.counts();
  const benchCpu = process.cpuUsage(benchCpuAtStart);
  const endedMs = counts.lastLinesAtMs ?? Date.now();
  const { cpuSeconds, peakRssMb } = usage(child.pid as number);
  await stop(child);
  await endpoint.close();
  return { bytes, lines, linesReceived: counts.lines, seconds: (endedMs - started) / 1000, cpuSeconds, peakRssMb, endpointCpuSeconds: (benchCpu.user + benchCpu.system) / 1e6, endpoint: counts, stalled };
}
