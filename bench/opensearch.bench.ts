/**
 * Events per second into OpenSearch from one collector, beside the embedded
 * index's rate, on this machine with the OpenSearch node on it too
 * (test/engines/opensearch.sh, started if not running: 512 MiB–1 GiB heap).
 *
 * The collector path as it runs: `--events` parsed events (bench/data.ts
 * SearchEventGenerator: nginx and JSON app events with fields, ~150 bytes of
 * raw line each) are appended to an embedded log as agent batches of
 * EVENTS_PER_BATCH; then, for each sink, a sink runner (SinkFanout) reads
 * the log from offset 0, decodes and delivers in its default batches of
 * 5,000 events, and the clock runs until the runner has committed the
 * whole log. OpenSearch's documents are refreshed and counted after the
 * clock stops (the count must equal the events). One JSON line per case:
 *
 *   {"bench":"opensearch","sink":"embedded"|"opensearch","compression":..,"events","seconds","events_per_s","raw_mb_per_s","collector_cpu_s"}
 *
 * Issue 10 sets no target; it asks for both rates, side by side.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { zstdCompressSync } from "node:zlib";
import { silentLogger } from "../shared/logger.ts";
import { encodePayload, eventsSegment, type WireEvent, type WireStream } from "../shared/wire/batch.ts";
import { EmbeddedLog } from "../collector/log/log.ts";
import { OpenSearchClient } from "../collector/opensearch/client.ts";
import { IndexNames } from "../collector/opensearch/index-name.ts";
import { SearchIndex } from "../collector/search/search-index.ts";
import { SinkFanout } from "../collector/sinks/fanout.ts";
import { OpenSearchSink } from "../collector/sinks/opensearch/sink.ts";
import { SearchSink } from "../collector/sinks/search/sink.ts";
import type { Sink } from "../collector/sinks/types.ts";
import { BULK_BYTES_MAX_DEFAULT, BULK_EVENTS_MAX_DEFAULT } from "../collector/sinks/opensearch/config.ts";
import { startOpenSearch, stopOpenSearch } from "../test/engines/opensearch.ts";
import { SearchEventGenerator } from "./data.ts";

const { values } = parseArgs({ options: { events: { type: "string", default: "500000" } } });
const EVENTS = Number(values.events);
const EVENTS_PER_BATCH = 5000;
const SEED = 10;
const TENANT = "default";
const START_MS = Date.parse("2026-11-29T00:00:00Z");

/** Appends the dataset to a fresh embedded log; returns its raw line bytes. */
async function fillLog(log: EmbeddedLog): Promise<number> {
  const generator = new SearchEventGenerator(SEED);
  let rawBytes = 0;
  for (let start = 0, seq = 1; start < EVENTS; start += EVENTS_PER_BATCH, seq++) {
    const streams: WireStream[] = [];
    const byStream = new Map<string, WireEvent[]>();
    const count = Math.min(EVENTS_PER_BATCH, EVENTS - start);
    for (let n = 0; n < count; n++) {
      const { event, streamKey, rawBytes: bytes } = generator.event(START_MS + Math.floor(((start + n) / EVENTS) * 86_400_000));
      rawBytes += bytes;
      let list = byStream.get(streamKey);
      if (list === undefined) {
        list = [];
        byStream.set(streamKey, list);
        streams.push({ key: streamKey, source: event.source, path: event.path, fields: {} });
      }
      list.push({ offset: event.offset, message: event.message, truncated: false, timeMs: Date.parse(event.time), fields: event.fields });
    }
    const segments = [...byStream.values()].map((list, index) => eventsSegment(index, START_MS, list));
    const body = zstdCompressSync(encodePayload({ agent: "bench", host: "bench", seq, floor: 0, created_ms: START_MS, streams }, segments));
    await log.append(TENANT, { batch: body, events: count, agent: "bench", seq, floor: 0, observedMinMs: START_MS, observedMaxMs: START_MS });
  }
  return rawBytes;
}

/** Runs one sink over the whole log; seconds until it committed everything, and this process's CPU meanwhile. */
async function deliver(sink: Sink, log: EmbeddedLog, dataDirectory: string): Promise<{ seconds: number; cpuSeconds: number }> {
  const fanout = new SinkFanout({ sinks: [sink], dataDirectory, logger: silentLogger, limits: { idlePollMs: 20 } });
  const cpuBefore = process.cpuUsage();
  const startedMs = performance.now();
  await fanout.start(log);
  while (!(fanout.status().length === 1 && fanout.status()[0]?.committedOffset === EVENTS)) await new Promise((resolve) => setTimeout(resolve, 20));
  const seconds = (performance.now() - startedMs) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  await fanout.close();
  const status = fanout.status()[0];
  if (status !== undefined && status.rejectedEvents > 0) throw new Error(`${sink.name}: ${status.rejectedEvents} events rejected`);
  return { seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 };
}

const directory = mkdtempSync(join(tmpdir(), "logship-opensearch-bench-"));
const node = startOpenSearch({ fresh: false });
const admin = new OpenSearchClient({ url: node.url, timeoutMs: 60_000, connections: 2 });
try {
  const log = await EmbeddedLog.open({ directory: join(directory, "log"), segmentBytes: 256 << 20, fsyncIntervalMs: 0, logger: silentLogger });
  const rawBytes = await fillLog(log);
  const report = (sink: string, compression: string, run: { seconds: number; cpuSeconds: number }): void => {
    const row = { bench: "opensearch", sink, compression, events: EVENTS, seconds: Number(run.seconds.toFixed(2)), events_per_s: Math.round(EVENTS / run.seconds), raw_mb_per_s: Number((rawBytes / 1e6 / run.seconds).toFixed(1)), collector_cpu_s: Number(run.cpuSeconds.toFixed(1)) };
    process.stdout.write(`${JSON.stringify(row)}\n`);
  };

  const index = new SearchIndex({ directory: join(directory, "index") });
  const embedded = new SearchSink(index, { logger: silentLogger });
  report("embedded", "-", await deliver(embedded, log, join(directory, "embedded")));
  await embedded.close();

  for (const gzip of [true, false]) {
    const prefix = `bench-${gzip ? "gzip" : "plain"}`;
    await admin.expect("DELETE", `/${prefix}-*?ignore_unavailable=true&allow_no_indices=true`);
    await admin.expect("DELETE", `/_index_template/logship-${prefix}-*`, { accepted: [404] });
    const sink = new OpenSearchSink({
      client: new OpenSearchClient({ url: node.url, timeoutMs: 60_000, connections: 4 }),
      names: new IndexNames(`${prefix}-{tenant}-%Y.%m.%d`),
      gzip,
      bulkBytesMax: BULK_BYTES_MAX_DEFAULT,
      bulkEventsMax: BULK_EVENTS_MAX_DEFAULT,
      template: {},
      logger: silentLogger,
    });
    const run = await deliver(sink, log, join(directory, prefix));
    await sink.close();
    await admin.expect("POST", `/${prefix}-*/_refresh`);
    const count = ((await admin.expect("GET", `/${prefix}-*/_count`)).body as { count: number }).count;
    if (count !== EVENTS) throw new Error(`OpenSearch holds ${count} documents, not ${EVENTS}`);
    report("opensearch", gzip ? "gzip" : "none", run);
    await admin.expect("DELETE", `/${prefix}-*`);
  }
  await log.close();
} finally {
  await admin.close();
  stopOpenSearch();
  rmSync(directory, { recursive: true, force: true });
}
