/**
 * The embedded search index (issue 5, docs/SEARCH.md): indexing rate,
 * query latencies over a large index, and freshness under ingest.
 *
 *   npx node bench/search.bench.ts [--events 10000000] [--rate-events 1000000] [--runs 20]
 *                                  [--freshness-seconds 30] [--freshness-rate 20000] [--cases index,queries,freshness]
 *
 * Prints one JSON object per case:
 *
 *   index         events/s of the indexing path a collector runs: SearchSink.send
 *                 (the search sink's write path: SearchIndex.take, version 4
 *                 blocks prepared on the main thread, compressed and written by
 *                 the index's writer thread, one SQLite transaction per day
 *                 partition, WAL, synchronous=FULL) called in-process with sends
 *                 of 5,000 events (the sink runner's eventsPerSendMax), driven
 *                 as a runner drives it: each send with its events' log offsets,
 *                 the next as soon as the previous is answered (the sink answers
 *                 once it took the events; at most SENDS_IN_FLIGHT_MAX are not
 *                 durable, the next is prepared while the thread commits), and
 *                 the count stops once every event is durable (heldFrom null).
 *                 The clock runs inside send() and in that final wait; making
 *                 the events is outside it (the writer thread may be committing
 *                 meanwhile, as it does while a runner reads and decodes the
 *                 log: bench/log.bench.ts, read_decode). wall_events_per_s
 *                 counts the whole loop, making the events included.
 *   needle …      p50/p95 of GET /v1/search and /v1/histogram against a bundled
 *                 collector process whose data_dir holds the index, timed by
 *                 the client from sending the request to the last byte of the
 *                 answer (HTTP, JSON, the search itself). A histogram's row
 *                 says `complete`: false when its count stopped at the
 *                 evaluator's scan bound (docs/SEARCH.md, Histograms).
 *   freshness     a fresh bundled collector with the embedded search sink,
 *                 20 agents' worth of batches POSTed to /v1/ingest at
 *                 --freshness-rate events/s, and a probe event every 200 ms:
 *                 the clock starts when the collector acknowledges the probe's
 *                 batch (200: it is durable in the log) and stops when a
 *                 GET /v1/search answer holding it arrives.
 *
 * The dataset is deterministic (seeded): `--events` events of 20 hosts over
 * the 48 hours before DATA_END (three day partitions), ~150 bytes of raw line
 * each (bench/data.ts SearchEventGenerator), NEEDLE_COUNT of them carrying a
 * token found nowhere else (bench/search-data.ts, shared with
 * bench/ui.bench.ts). The index is built once into
 * .bench-data/search/index-v<format>-<events>/ and reused: with a warm cache
 * the index case builds the first --rate-events events into a scratch index
 * and reports that rate (`build: "subset"`), with the full build's rate from
 * when the cache was made beside it.
 */
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { zstdCompressSync } from "node:zlib";
import { Pool } from "undici";
import { encodePayload, eventsSegment, type WireStream } from "../shared/wire/batch.ts";
import { startCollector, stopCollector } from "./bench-collector.ts";
import { bundleLogship } from "./bundle.ts";
import { SearchEventGenerator, type GeneratedEvent } from "./data.ts";
import { SENDS_IN_FLIGHT_MAX } from "../collector/sinks/search/sink.ts";
import { buildIndex, cachedIndex, DATA_END_MS, HOUR_MS, NEEDLE, NEEDLE_COUNT, SEARCH_BENCH_ROOT, SEED, SEND_EVENTS, TOKENS } from "./search-data.ts";

const { values } = parseArgs({
  options: {
    events: { type: "string", default: "10000000" },
    "rate-events": { type: "string", default: "1000000" },
    runs: { type: "string", default: "20" },
    "freshness-seconds": { type: "string", default: "30" },
    "freshness-rate": { type: "string", default: "20000" },
    cases: { type: "string", default: "index,queries,freshness" },
  },
});
const cases = new Set(values.cases.split(","));
const totalEvents = Number(values.events);
const rateEvents = Math.min(totalEvents, Number(values["rate-events"]));
const runs = Number(values.runs);

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

/** Nearest-rank percentile of ascending `sorted`. */
function percentile(sorted: readonly number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))] ?? Number.NaN;
}

// ——— the index ———

/** The cached index of `total` events (built now if absent: search-data.ts), and what the index case reports. */
async function indexCase(total: number): Promise<{ dataDirectory: string; row: Record<string, unknown> }> {
  const { dataDirectory, full, builtNow } = await cachedIndex(total);
  const path = `SearchSink.send in-process as a runner drives it (next send once the previous is answered, at most ${SENDS_IN_FLIGHT_MAX} taken and not durable; counted until every event is durable, heldFrom null), ${SEND_EVENTS}-event sends, version 4 blocks (zstd + SQLite on the writer thread), WAL + synchronous=FULL`;
  const target = { target: "≥ 150,000 events/s" };
  if (builtNow) return { dataDirectory, row: { bench: "search", case: "index", build: "full", path, ...full, ...target, meets_target: full.events_per_s >= 150_000 } };
  if (!cases.has("index")) return { dataDirectory, row: {} };
  // Warm cache: measure a build of the first rateEvents events into a scratch index.
  const scratch = join(SEARCH_BENCH_ROOT, "rate-scratch");
  rmSync(scratch, { recursive: true, force: true });
  const stats = await buildIndex(scratch, rateEvents, total);
  rmSync(scratch, { recursive: true, force: true });
  return {
    dataDirectory,
    row: {
      bench: "search",
      case: "index",
      build: "subset",
      path,
      ...stats,
      ...target,
      meets_target: stats.events_per_s >= 150_000,
      full_build_events: full.events,
      full_build_events_per_s: full.events_per_s,
      full_build_at: full.built_at,
      index_mb: full.index_mb,
    },
  };
}

/** utime+stime of a process in seconds, from /proc. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function getJson(pool: Pool, path: string, token: string): Promise<unknown> {
  const response = await pool.request({ path, method: "GET", headers: { authorization: `Bearer ${token}` } });
  const text = await response.body.text();
  if (response.statusCode !== 200) throw new Error(`GET ${path}: ${response.statusCode} ${text}`);
  return JSON.parse(text);
}

// ——— query latencies ———

interface QueryCase {
  name: string;
  route: "/v1/search" | "/v1/histogram";
  parameters: Record<string, string>;
  range: string;
  target?: { p50Ms: number };
}

const iso = (ms: number): string => new Date(ms).toISOString();

const QUERY_CASES: QueryCase[] = [
  { name: "needle", route: "/v1/search", parameters: { q: NEEDLE, limit: "100" }, range: "full (48 h, 3 partitions)", target: { p50Ms: 50 } },
  { name: "field_filter", route: "/v1/search", parameters: { q: "host:web-7 status:>=500", since: iso(DATA_END_MS - HOUR_MS), until: iso(DATA_END_MS), limit: "100" }, range: "last hour" },
  { name: "phrase", route: "/v1/search", parameters: { q: '"connection reset by peer"', limit: "100" }, range: "full (48 h, 3 partitions)" },
  { name: "histogram", route: "/v1/histogram", parameters: { q: "", since: iso(DATA_END_MS - 24 * HOUR_MS), until: iso(DATA_END_MS) }, range: "last 24 h", target: { p50Ms: 500 } },
  { name: "histogram_query", route: "/v1/histogram", parameters: { q: "level:error", since: iso(DATA_END_MS - 24 * HOUR_MS), until: iso(DATA_END_MS) }, range: "last 24 h" },
];

/** Events a search answer holds, or events a histogram counted. */
function matches(body: unknown): number {
  const answer = body as { events?: unknown[]; buckets?: { count: number }[] };
  if (answer.events !== undefined) return answer.events.length;
  return (answer.buckets ?? []).reduce((sum, bucket) => sum + bucket.count, 0);
}

async function queryLatencies(logship: string, dataDirectory: string): Promise<Record<string, unknown>[]> {
  const collector = await startCollector(logship, dataDirectory);
  const pool = new Pool(collector.url, { connections: 1, keepAliveTimeout: 60_000 });
  const rows: Record<string, unknown>[] = [];
  try {
    for (const query of QUERY_CASES) {
      const path = `${query.route}?${new URLSearchParams(query.parameters)}`;
      const timings: number[] = [];
      let found = 0;
      // A histogram says whether it counted every match (false: the evaluator's scan stopped at its bound; `matches` is then what it counted).
      let complete: boolean | undefined;
      // The first run opens the partitions (and warms SQLite's cache); it is reported alone.
      for (let run = 0; run <= runs; run++) {
        const started = performance.now();
        const body = await getJson(pool, path, TOKENS.search);
        timings.push(performance.now() - started);
        found = matches(body);
        complete = (body as { complete?: boolean }).complete;
      }
      if (query.name === "needle" && found !== NEEDLE_COUNT) throw new Error(`the needle query found ${found} events, not ${NEEDLE_COUNT}`);
      const first = timings.shift() as number;
      const sorted = timings.sort((a, b) => a - b);
      const p50 = percentile(sorted, 0.5);
      rows.push({
        bench: "search",
        case: query.name,
        path: "HTTP GET, bundled collector",
        query: query.route === "/v1/histogram" ? `histogram ${JSON.stringify(query.parameters["q"])}` : query.parameters["q"],
        range: query.range,
        events: totalEvents,
        matches: found,
        ...(complete === undefined ? {} : { complete }),
        runs,
        first_ms: round(first),
        p50_ms: round(p50),
        p95_ms: round(percentile(sorted, 0.95)),
        ...(query.target === undefined ? {} : { target: `p50 < ${query.target.p50Ms} ms`, meets_target: p50 < query.target.p50Ms }),
      });
      process.stderr.write(`search bench: ${JSON.stringify(rows.at(-1))}\n`);
    }
  } finally {
    await pool.close();
    await stopCollector(collector);
  }
  return rows;
}

// ——— freshness ———

/** A batch of one agent: its events as one EVENTS segment per stream, compressed as agents send them. */
function agentBatch(agent: string, host: string, seq: number, floor: number, events: readonly GeneratedEvent[]): Buffer {
  const streams: WireStream[] = [];
  const byStream = new Map<string, { offsets: number[]; messages: string[]; timesMs: number[]; fields: Record<string, unknown>[] }>();
  for (const { event, streamKey } of events) {
    let columns = byStream.get(streamKey);
    if (columns === undefined) {
      columns = { offsets: [], messages: [], timesMs: [], fields: [] };
      byStream.set(streamKey, columns);
      streams.push({ key: streamKey, source: event.source, path: event.path, fields: {} });
    }
    columns.offsets.push(event.offset);
    columns.messages.push(event.message);
    columns.timesMs.push(Date.parse(event.time));
    columns.fields.push(event.fields);
  }
  const nowMs = Date.now();
  const segments = [...byStream.values()].map((columns, index) => eventsSegment(index, nowMs, columns));
  return zstdCompressSync(encodePayload({ agent, host, seq, floor, created_ms: nowMs, streams }, segments));
}

/** Per agent: the next seq and the seqs in flight (its floor is the lowest of them). */
class AgentSeqs {
  private nextSeq = 0;
  private readonly inFlight = new Set<number>();

  take(): { seq: number; floor: number } {
    const seq = this.nextSeq++;
    this.inFlight.add(seq);
    return { seq, floor: Math.min(...this.inFlight) };
  }

  acked(seq: number): void {
    this.inFlight.delete(seq);
  }
}

async function postBatch(pool: Pool, body: Buffer): Promise<void> {
  const response = await pool.request({ path: "/v1/ingest", method: "POST", headers: { authorization: `Bearer ${TOKENS.ingest}`, "content-encoding": "zstd" }, body });
  const text = await response.body.text();
  if (response.statusCode !== 200) throw new Error(`POST /v1/ingest: ${response.statusCode} ${text}`);
}

/** Load batches are sent every TICK_MS per agent, as agents with the default linger (250ms) send them. */
const TICK_MS = 250;
const PROBE_INTERVAL_MS = 200;
const POLL_INTERVAL_MS = 20;
const WARMUP_MS = 3000;
/** Load requests in flight at most; beyond, the load waits (and reports the rate it achieved). */
const LOAD_IN_FLIGHT_MAX = 64;
const PROBE_WAIT_MAX_MS = 30_000;
const PROBE_STREAM_KEY = "freshness-probe-stream";

async function freshness(logship: string): Promise<Record<string, unknown>> {
  const seconds = Number(values["freshness-seconds"]);
  const rate = Number(values["freshness-rate"]);
  const dataDirectory = join(SEARCH_BENCH_ROOT, "freshness");
  rmSync(dataDirectory, { recursive: true, force: true });
  const collector = await startCollector(logship, dataDirectory);
  const pool = new Pool(collector.url, { connections: 16, keepAliveTimeout: 60_000 });
  const generator = new SearchEventGenerator(SEED + 1);
  const agents = new Map<string, AgentSeqs>();
  const startedMs = performance.now();
  const loadEndMs = startedMs + WARMUP_MS + seconds * 1000;
  let loadEvents = 0;
  let loadInFlight = 0;
  let failure: unknown;
  const fail = (error: unknown): void => {
    failure ??= error;
  };

  // The load: every tick, rate · tick events of now, one batch per host.
  const load = (async () => {
    for (let tick = 0; performance.now() < loadEndMs && failure === undefined; tick++) {
      const dueMs = startedMs + tick * TICK_MS;
      const waitMs = dueMs - performance.now();
      if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
      const byHost = new Map<string, GeneratedEvent[]>();
      const nowMs = Date.now();
      for (let n = 0; n < (rate * TICK_MS) / 1000; n++) {
        const generated = generator.event(nowMs);
        const list = byHost.get(generated.event.host) ?? [];
        list.push(generated);
        byHost.set(generated.event.host, list);
      }
      for (const [host, events] of byHost) {
        while (loadInFlight >= LOAD_IN_FLIGHT_MAX) await new Promise((resolve) => setTimeout(resolve, 5));
        const seqs = agents.get(host) ?? new AgentSeqs();
        agents.set(host, seqs);
        const { seq, floor } = seqs.take();
        loadInFlight++;
        postBatch(pool, agentBatch(`bench-agent-${host}`, host, seq, floor, events))
          .then(() => {
            seqs.acked(seq);
            loadEvents += events.length;
          }, fail)
          .finally(() => loadInFlight--);
      }
    }
  })();

  // Sink lag, from the collector's status every 500 ms.
  let lagEventsMax = 0;
  let lagAgeMsMax = 0;
  const sampleLag = async (): Promise<void> => {
    const status = (await getJson(pool, "/v1/status", TOKENS.admin)) as { sinks: { sink: string; lag: { events: number; age_ms: number } }[] };
    const search = status.sinks.find((sink) => sink.sink === "search");
    lagEventsMax = Math.max(lagEventsMax, search?.lag.events ?? 0);
    lagAgeMsMax = Math.max(lagAgeMsMax, search?.lag.age_ms ?? 0);
  };
  const lagTimer = setInterval(() => void sampleLag().catch(fail), 500);

  // The probes: one event per batch of their own agent; pending until a search finds it.
  await new Promise((resolve) => setTimeout(resolve, WARMUP_MS));
  const cpuBefore = cpuSeconds(collector.child.pid as number);
  const loadEventsBefore = loadEvents;
  const measuredFromMs = performance.now();
  const probeSeqs = new AgentSeqs();
  const pending = new Map<number, { ackMs: number; timeMs: number }>();
  const freshnessMs: number[] = [];
  let probesSent = 0;
  const probePosts: Promise<void>[] = [];
  let probesAcked = false;
  const probes = (async () => {
    for (let probe = 0; performance.now() < loadEndMs && failure === undefined; probe++) {
      const dueMs = measuredFromMs + probe * PROBE_INTERVAL_MS;
      const waitMs = dueMs - performance.now();
      if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
      const timeMs = Date.now();
      const time = iso(timeMs);
      const message = `freshness probe ${probe}`;
      // A stream of its own: ids from the load's streams would collide with load events.
      const event = { id: "", time, observed_time: time, host: "probe", source: "freshness-probe", path: "/var/log/probe.log", offset: probe * 100, message, fields: { probe } };
      const { seq, floor } = probeSeqs.take();
      probesSent++;
      const post = postBatch(pool, agentBatch("bench-probe", "probe", seq, floor, [{ event, rawBytes: message.length + 1, streamKey: PROBE_STREAM_KEY }])).then(() => {
        probeSeqs.acked(seq);
        pending.set(probe, { ackMs: performance.now(), timeMs });
      }, fail);
      probePosts.push(post);
    }
    await Promise.all(probePosts);
    probesAcked = true;
  })();
  const poll = (async () => {
    for (;;) {
      if (failure !== undefined) return;
      if (probesAcked && (pending.size === 0 || performance.now() > loadEndMs + PROBE_WAIT_MAX_MS)) return;
      if (pending.size > 0) {
        const sinceMs = Math.min(...[...pending.values()].map((entry) => entry.timeMs)) - 1000;
        const body = (await getJson(pool, `/v1/search?${new URLSearchParams({ q: "source:freshness-probe", since: iso(sinceMs), limit: "1000" })}`, TOKENS.search)) as { events: { fields: { probe: number } }[] };
        const answeredMs = performance.now();
        for (const found of body.events) {
          const entry = pending.get(found.fields.probe);
          if (entry === undefined) continue;
          freshnessMs.push(answeredMs - entry.ackMs);
          pending.delete(found.fields.probe);
        }
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
    }
  })();
  await Promise.all([load, probes]);
  const loadSeconds = (performance.now() - measuredFromMs) / 1000;
  const loadEventsMeasured = loadEvents - loadEventsBefore;
  const collectorCpu = cpuSeconds(collector.child.pid as number) - cpuBefore;
  await poll;
  clearInterval(lagTimer);
  await sampleLag().catch(fail);
  await pool.close();
  await stopCollector(collector);
  rmSync(dataDirectory, { recursive: true, force: true });
  if (failure !== undefined) throw failure;
  const sorted = freshnessMs.sort((a, b) => a - b);
  const p99 = percentile(sorted, 0.99);
  return {
    bench: "search",
    case: "freshness",
    path: "POST /v1/ingest → log → search sink → GET /v1/search, bundled collector",
    ingest_events_per_s: Math.round(loadEventsMeasured / loadSeconds),
    seconds: round(loadSeconds),
    probes: probesSent,
    probes_lost: probesSent - sorted.length,
    p50_ms: round(percentile(sorted, 0.5)),
    p95_ms: round(percentile(sorted, 0.95)),
    p99_ms: round(p99),
    max_ms: round(sorted.at(-1) ?? Number.NaN),
    sink_lag_events_max: lagEventsMax,
    sink_lag_age_ms_max: lagAgeMsMax,
    collector_cpu_percent: Math.round((collectorCpu / loadSeconds) * 100),
    target: `p99 < 2000 ms at ${rate} events/s`,
    meets_target: p99 < 2000 && probesSent === sorted.length,
  };
}

// ——— main ———

const logship = await bundleLogship(SEARCH_BENCH_ROOT);
let dataDirectory: string | undefined;
if (cases.has("index") || cases.has("queries")) {
  const cached = await indexCase(totalEvents);
  dataDirectory = cached.dataDirectory;
  if (cases.has("index")) console.log(JSON.stringify(cached.row));
}
if (cases.has("queries")) for (const row of await queryLatencies(logship, dataDirectory as string)) console.log(JSON.stringify(row));
if (cases.has("freshness")) console.log(JSON.stringify(await freshness(logship)));
