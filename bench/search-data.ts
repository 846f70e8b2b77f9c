/**
 * The search benchmarks' dataset (bench/search.bench.ts, bench/ui.bench.ts):
 * deterministic (seeded) events of 20 hosts over the 48 hours before
 * DATA_END_MS, ~150 bytes of raw line each (bench/data.ts
 * SearchEventGenerator), NEEDLE_COUNT of them carrying a token found nowhere
 * else, indexed through the search sink's own write path. The index of
 * `total` events is built once into
 * .bench-data/search/index-v<data>.<format>-<total>/ (`built.json` marks a
 * finished build) and reused by every benchmark that needs it.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { silentLogger } from "../shared/logger.ts";
import { PARTITION_FORMAT_VERSION } from "../collector/search/partition-schema.ts";
import { SearchIndex } from "../collector/search/search-index.ts";
import { SINK_RUNNER_LIMITS_DEFAULT } from "../collector/sinks/runner.ts";
import { SearchSink } from "../collector/sinks/search/sink.ts";
import type { SinkEvent } from "../collector/sinks/types.ts";
import { SearchEventGenerator } from "./data.ts";

/** Bump when the generated data changes: the cached index is keyed by it (and by the partition format). */
export const DATA_VERSION = 1;
export const SEED = 5;
export const HOUR_MS = 3_600_000;
/** The dataset ends here and spans DATA_SPAN_MS before it: 12 h of 2026-11-26, all of the 27th, 12 h of the 28th. */
export const DATA_END_MS = Date.parse("2026-11-28T12:00:00.000Z");
export const DATA_SPAN_MS = 48 * HOUR_MS;
/** A token no generated message has (messages have no "zq" run), planted in NEEDLE_COUNT events spread over the range. */
export const NEEDLE = "zq7needle4x";
export const NEEDLE_COUNT = 5;
export const SEND_EVENTS = SINK_RUNNER_LIMITS_DEFAULT.eventsPerSendMax;
export const TENANT = "default";
export const TOKENS = { ingest: "bench-ingest", search: "bench-search", admin: "bench-admin" };

/** Where the search benchmarks keep their data (LOGSHIP_BENCH_DATA overrides .bench-data/). */
export const SEARCH_BENCH_ROOT = join(process.env["LOGSHIP_BENCH_DATA"] ?? join(import.meta.dirname, "..", ".bench-data"), "search");
mkdirSync(SEARCH_BENCH_ROOT, { recursive: true });

function round(value: number): number {
  return Math.round(value * 100) / 100;
}


/** Event n of `total`: evenly spaced over the range, in time order (as a fleet's logs arrive). */
function eventTimeMs(n: number, total: number): number {
  return DATA_END_MS - DATA_SPAN_MS + Math.floor(((n + 0.5) * DATA_SPAN_MS) / total);
}

function needleAt(total: number): Set<number> {
  return new Set(Array.from({ length: NEEDLE_COUNT }, (_, k) => Math.floor(((k + 0.5) * total) / NEEDLE_COUNT)));
}

export interface BuildStats {
  events: number;
  raw_mb: number;
  sends: number;
  /** Time inside send() plus the wait at the end until every send is durable. */
  send_seconds: number;
  cpu_seconds: number;
  events_per_s: number;
  /** The whole loop, making the events included. */
  wall_seconds: number;
  wall_events_per_s: number;
  index_mb: number;
  built_at: string;
}

/** How often the end of a build looks whether every send is durable. */
const DURABLE_POLL_MS = 1;

/**
 * Indexes the first `count` events of the dataset of `total` into
 * `dataDirectory/index` through SearchSink.send, as a sink runner drives
 * it: each send with its events' log offsets (the event numbers), the next
 * one as soon as the previous is answered (the sink answers once it took
 * the events, at most SENDS_IN_FLIGHT_MAX not durable), and at the end a
 * wait until the sink holds nothing (heldFrom null: every event durable).
 */
export async function buildIndex(dataDirectory: string, count: number, total: number): Promise<BuildStats> {
  const index = new SearchIndex({ directory: join(dataDirectory, "index") });
  const sink = new SearchSink(index, { logger: silentLogger });
  const generator = new SearchEventGenerator(SEED);
  const needles = needleAt(total);
  const signal = new AbortController().signal;
  let rawBytes = 0;
  let sendMs = 0;
  let cpuMicros = 0;
  let sends = 0;
  const wallStarted = performance.now();
  for (let start = 0; start < count; start += SEND_EVENTS) {
    const batch: SinkEvent[] = [];
    const offsets: number[] = [];
    for (let n = start; n < Math.min(count, start + SEND_EVENTS); n++) {
      const generated = generator.event(eventTimeMs(n, total), needles.has(n) ? NEEDLE : undefined);
      rawBytes += generated.rawBytes;
      batch.push(Object.assign(generated.event, { tenant: TENANT }));
      offsets.push(n);
    }
    const cpuBefore = process.cpuUsage();
    const started = performance.now();
    const outcome = await sink.send(batch, signal, { offsets });
    sendMs += performance.now() - started;
    const cpu = process.cpuUsage(cpuBefore);
    cpuMicros += cpu.user + cpu.system;
    sends++;
    if (outcome.kind !== "delivered") throw new Error(`send ${sends}: ${JSON.stringify(outcome)}`);
    if (sends % 200 === 0) process.stderr.write(`search bench: indexed ${start + batch.length} of ${count} events, ${Math.round((start + batch.length) / (sendMs / 1000))} events/s\n`);
  }
  const drainStarted = performance.now();
  while (sink.heldFrom(TENANT) !== null) await new Promise((resolve) => setTimeout(resolve, DURABLE_POLL_MS));
  if (sink.heldDropped(TENANT)) throw new Error("the search index writer thread failed: events were dropped");
  sendMs += performance.now() - drainStarted;
  const wallMs = performance.now() - wallStarted;
  await sink.close();
  return {
    events: count,
    raw_mb: round(rawBytes / 1e6),
    sends,
    send_seconds: round(sendMs / 1000),
    cpu_seconds: round(cpuMicros / 1e6),
    events_per_s: Math.round(count / (sendMs / 1000)),
    wall_seconds: round(wallMs / 1000),
    wall_events_per_s: Math.round(count / (wallMs / 1000)),
    index_mb: round(directoryBytes(join(dataDirectory, "index")) / 1e6),
    built_at: new Date().toISOString(),
  };
}

function directoryBytes(directory: string): number {
  let bytes = 0;
  for (const entry of readdirSync(directory, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) bytes += statSync(join(entry.parentPath, entry.name)).size;
  }
  return bytes;
}

/** The directory of the cached index of `total` events. */
export function indexDirectory(total: number): string {
  return join(SEARCH_BENCH_ROOT, `index-v${DATA_VERSION}.${PARTITION_FORMAT_VERSION}-${total}`);
}

/**
 * The cached index of `total` events, built now if it is not there: its
 * data_dir, the stats of the full build (now or when the cache was made)
 * and whether it was built by this call.
 */
export async function cachedIndex(total: number): Promise<{ dataDirectory: string; full: BuildStats; builtNow: boolean }> {
  const dataDirectory = indexDirectory(total);
  const marker = join(dataDirectory, "built.json");
  if (existsSync(marker)) return { dataDirectory, full: JSON.parse(readFileSync(marker, "utf8")) as BuildStats, builtNow: false };
  rmSync(dataDirectory, { recursive: true, force: true });
  const full = await buildIndex(dataDirectory, total, total);
  writeFileSync(`${marker}.tmp`, JSON.stringify(full));
  renameSync(`${marker}.tmp`, marker);
  return { dataDirectory, full, builtNow: true };
}
