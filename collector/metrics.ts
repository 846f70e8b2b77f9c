/**
 * The collector's Prometheus metrics (docs/METRICS.md), served at
 * `GET /metrics` on the collector's listen address without a token, like
 * /healthz (docs/METRICS.md says why). One registry per collector
 * (shared/metrics.ts), so collectors in one process do not mix.
 *
 * Read at scrape time from what the collector keeps anyway: ingest totals
 * per tenant (IngestMeter), refusals by status and code (CollectorServer),
 * each tenant's log on disk (segments, bytes: directory entries and index
 * files, never records), each sink runner's lag and outcomes; with the
 * Kafka log instead, what this collector produced per topic, the topics'
 * offsets and each sink group's lag per partition (asked of Kafka at scrape
 * time, sinks/kafka-log-positions.ts) and each Kafka sink runner's outcomes.
 * Observed as
 * they happen, once each: an fsync round of the log (`timedSync`), and a
 * search request (`observedSearchRoutes`). Labels are bounded: tenants and
 * sinks come from the config, status and code from a fixed set.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { Counter, Histogram, type Registry } from "../shared/prom-client.ts";
import { createMetricsRegistry, scrapedCounter, scrapedGauge, sendMetrics, type ScrapedValues } from "../shared/metrics.ts";
import type { RouteHandler } from "./admin/routes.ts";
import type { IngestMeter } from "./ingest/meter.ts";
import type { ServerStats } from "./ingest/server.ts";
import type { StreamOutcome } from "./ingest/service.ts";
import type { SyncFunction } from "./log/tenant-log.ts";
import type { ProcessedBatch } from "./routing/processing.ts";
import type { TenantLogUsage } from "./log/usage.ts";
import type { SinkRunnerStatus } from "./sinks/runner.ts";
import type { ProducedToTopic } from "./log/kafka/kafka-log.ts";
import type { KafkaLogPositionsSnapshot } from "./sinks/kafka-log-positions.ts";
import type { KafkaLogRunnerStatus } from "./sinks/kafka-log-runner.ts";

export const METRICS_PATH = "/metrics";

/** What the metrics are read from; `log` and `sinks` with the embedded log, `kafka` with the Kafka log. */
export interface CollectorMetricsSources {
  meter: IngestMeter;
  /** The HTTP server's counts (undefined until it listens). */
  server: () => ServerStats | undefined;
  log?: {
    tenants(): string[];
    endOffset(tenant: string): number;
    usage(tenant: string): Promise<TenantLogUsage>;
  };
  sinks?: { status(): SinkRunnerStatus[] };
  kafka?: {
    /** Every sink runner of this collector (one per sink and topic it reads). */
    runners(): KafkaLogRunnerStatus[];
    produced(): ProducedToTopic[];
    /** The topics' offsets and the runners' groups' lag, from Kafka. */
    positions(): Promise<KafkaLogPositionsSnapshot>;
  };
}

type Labels<Label extends string> = Partial<Record<Label, string>>;

const FSYNC_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];
const SEARCH_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Routes whose answers are counted by status; all but /v1/tail are timed (a stream lasts as long as the client wants). */
const SEARCH_ROUTES = new Set(["/v1/search", "/v1/histogram", "/v1/facets", "/v1/context", "/v1/tail"]);

export class CollectorMetrics {
  readonly registry: Registry;
  private readonly fsyncSeconds: Histogram;
  private readonly searchSeconds: Histogram<"route">;
  private readonly searchResponses: Counter<"route" | "status">;
  private readonly routedEvents: Counter<"tenant" | "stream">;
  private readonly transformCounters: Record<"dropped" | "redactions" | "redactedEvents" | "parseFailures", Counter<"step">>;
  private sources: CollectorMetricsSources | null = null;

  constructor() {
    const registry = createMetricsRegistry();
    this.registry = registry;
    const registers = [registry];
    this.fsyncSeconds = new Histogram({ name: "logship_collector_log_fsync_seconds", help: "Duration of each fdatasync of the log (one per group commit round).", buckets: FSYNC_BUCKETS, registers });
    this.searchSeconds = new Histogram<"route">({
      name: "logship_collector_search_request_seconds",
      help: "Search requests from arrival to the end of the answer, by route (search, histogram, facets, context).",
      labelNames: ["route"],
      buckets: SEARCH_BUCKETS,
      registers,
    });
    this.searchResponses = new Counter({
      name: "logship_collector_search_responses_total",
      help: "Search requests answered, by route (search, histogram, facets, context, tail) and HTTP status (503: the search backend could not answer for now).",
      labelNames: ["route", "status"],
      registers,
    });
    this.routedEvents = new Counter({ name: "logship_collector_routed_events_total", help: "Events stored in each stream by the collector's routes, by tenant and stream (duplicates apart).", labelNames: ["tenant", "stream"], registers });
    const stepCounter = (name: string, help: string): Counter<"step"> => new Counter({ name, help, labelNames: ["step"], registers });
    this.transformCounters = {
      dropped: stepCounter("logship_collector_transform_dropped_events_total", "Events a collector transform step dropped (drop, keep, sample, throttle), by step (<index>_<kind>)."),
      redactions: stepCounter("logship_collector_transform_redactions_total", "Matches a collector redact step masked, by step."),
      redactedEvents: stepCounter("logship_collector_transform_redacted_events_total", "Events in which a collector redact step masked at least one match, by step."),
      parseFailures: stepCounter("logship_collector_transform_parse_failures_total", "Events whose field a collector parse step could not parse (left unchanged), by step."),
    };
    this.registerScrapeTime(registry);
  }

  /** A routed batch that stored something (ingest/service.ts): its transforms' counts and each stream's new events. */
  processed(tenant: string, processed: ProcessedBatch, stored: readonly StreamOutcome[]): void {
    for (const part of stored) this.routedEvents.inc({ tenant, stream: part.stream }, part.events);
    for (const step of processed.steps) {
      for (const key of ["dropped", "redactions", "redactedEvents", "parseFailures"] as const) {
        if (step[key] > 0) this.transformCounters[key].inc({ step: step.step }, step[key]);
      }
    }
  }

  /** Where scrape-time values come from; until called they are absent. */
  attach(sources: CollectorMetricsSources): void {
    this.sources = sources;
  }

  /** `sync` with each call's duration observed. */
  timedSync(sync: SyncFunction): SyncFunction {
    return async (file) => {
      const startMs = performance.now();
      await sync(file);
      this.fsyncSeconds.observe((performance.now() - startMs) / 1000);
    };
  }

  /** `routes` with search requests counted by status and timed (until the answer is finished or the connection closes). */
  observedSearchRoutes(routes: RouteHandler): RouteHandler {
    return (request: IncomingMessage, response: ServerResponse, path: string) => {
      if (!SEARCH_ROUTES.has(path)) return routes(request, response, path);
      const startMs = performance.now();
      const served = routes(request, response, path);
      if (served) {
        response.once("close", () => {
          const route = path.slice("/v1/".length);
          // A tail stream's status is its opening's: 200 once it streams, whatever ends it later.
          this.searchResponses.inc({ route, status: String(response.statusCode) });
          if (route !== "tail") this.searchSeconds.observe({ route }, (performance.now() - startMs) / 1000);
        });
      }
      return served;
    };
  }

  /** `GET /metrics`, unauthenticated; then `routes`. */
  route(routes: RouteHandler): RouteHandler {
    return (request, response, path) => {
      if (path !== METRICS_PATH) return routes(request, response, path);
      if (request.method !== "GET" && request.method !== "HEAD") {
        response.writeHead(405, { Allow: "GET", "Content-Type": "text/plain; charset=utf-8" });
        response.end("use GET\n");
        return true;
      }
      void sendMetrics(this.registry, response);
      return true;
    };
  }

  private registerScrapeTime(registry: Registry): void {
    const metrics = this;
    const counter = <Label extends string>(name: string, help: string, labelNames: Label[], totals: (sources: CollectorMetricsSources) => ScrapedValues<Label>): void =>
      scrapedCounter(registry, name, help, labelNames, () => (metrics.sources === null ? [] : totals(metrics.sources)));
    const gauge = <Label extends string>(name: string, help: string, labelNames: Label[], values: (sources: CollectorMetricsSources) => ScrapedValues<Label> | Promise<ScrapedValues<Label>>): void =>
      scrapedGauge(registry, name, help, labelNames, () => (metrics.sources === null ? [] : values(metrics.sources)));
    const perTenant = (sources: CollectorMetricsSources, pick: (totals: ReturnType<IngestMeter["snapshot"]>["totals"]) => number): [Labels<"tenant">, number][] =>
      sources.meter.tenants().map((tenant) => [{ tenant }, pick(sources.meter.snapshot(tenant).totals)]);
    counter("logship_collector_ingest_batches_total", "Batches stored, by tenant (duplicates apart).", ["tenant"], (sources) => perTenant(sources, (totals) => totals.batches));
    counter("logship_collector_ingest_events_total", "Events stored, by tenant.", ["tenant"], (sources) => perTenant(sources, (totals) => totals.events));
    counter("logship_collector_ingest_bytes_total", "Batch bytes stored as received (zstd), by tenant.", ["tenant"], (sources) => perTenant(sources, (totals) => totals.bytes));
    counter("logship_collector_ingest_duplicate_batches_total", "Batches answered as duplicates (already stored), by tenant.", ["tenant"], (sources) => perTenant(sources, (totals) => totals.duplicateBatches));
    counter("logship_collector_ingest_rejected_total", "Refused ingest requests, by HTTP status and error code.", ["status", "code"], (sources) =>
      (sources.server()?.rejects ?? []).map((reject): [Labels<"status" | "code">, number] => [{ status: String(reject.status), code: reject.code }, reject.count]),
    );
    gauge("logship_collector_ingest_in_flight_requests", "Ingest requests being processed.", [], (sources) => [[{}, sources.server()?.inFlight ?? 0]]);
    gauge("logship_collector_log_bytes", "Bytes of the tenant's log segments on disk.", ["tenant"], (sources) => logUsage(sources, (usage) => usage.bytes));
    gauge("logship_collector_log_segments", "Segments of the tenant's log on disk.", ["tenant"], (sources) => logUsage(sources, (usage) => usage.segments));
    gauge("logship_collector_log_end_offset", "The tenant's next log offset: events stored since the log began.", ["tenant"], (sources) =>
      (sources.log?.tenants() ?? []).map((tenant): [Labels<"tenant">, number] => [{ tenant }, sources.log?.endOffset(tenant) ?? 0]),
    );
    gauge("logship_collector_log_partition_first_offset", "Kafka log: the oldest offset still in each partition of each topic (records; retention deletes from the front).", ["topic", "partition"], async (sources) =>
      kafkaPartitions(await sources.kafka?.positions(), (entry) => Number(entry.firstOffset)),
    );
    gauge("logship_collector_log_partition_end_offset", "Kafka log: the next offset of each partition of each topic (records produced to it, by every collector).", ["topic", "partition"], async (sources) =>
      kafkaPartitions(await sources.kafka?.positions(), (entry) => Number(entry.endOffset)),
    );
    counter("logship_collector_log_produced_records_total", "Kafka log: records (agent batches) this collector produced, by topic.", ["topic"], (sources) =>
      (sources.kafka?.produced() ?? []).map((entry): [Labels<"topic">, number] => [{ topic: entry.topic }, entry.records]),
    );
    counter("logship_collector_log_produced_bytes_total", "Kafka log: bytes of record values (batches as received, zstd) this collector produced, by topic.", ["topic"], (sources) =>
      (sources.kafka?.produced() ?? []).map((entry): [Labels<"topic">, number] => [{ topic: entry.topic }, entry.bytes]),
    );
    gauge("logship_collector_sink_lag_records", "Kafka log: records of each partition the sink's consumer group has not committed, by sink, topic and partition.", ["sink", "topic", "partition"], async (sources) =>
      ((await sources.kafka?.positions())?.lag ?? []).map((entry): [Labels<"sink" | "topic" | "partition">, number] => [{ sink: entry.sink, topic: entry.topic, partition: String(entry.partition) }, entry.lagRecords]),
    );
    type SinkLabel = "sink" | "tenant" | "topic";
    // Embedded log: one runner per (sink, tenant). Kafka log: one per (sink, topic), reading every tenant's records.
    const perRunner = (sources: CollectorMetricsSources, pick: (runner: SinkRunnerStatus) => number, pickKafka: (runner: KafkaLogRunnerStatus) => number): [Labels<SinkLabel>, number][] => [
      ...(sources.sinks?.status() ?? []).map((runner): [Labels<SinkLabel>, number] => [{ sink: runner.sink, tenant: runner.tenant }, pick(runner)]),
      ...(sources.kafka?.runners() ?? []).map((runner): [Labels<SinkLabel>, number] => [{ sink: runner.sink, topic: runner.topic }, pickKafka(runner)]),
    ];
    const labels: SinkLabel[] = ["sink", "tenant", "topic"];
    gauge("logship_collector_sink_lag_events", "Embedded log: events in the log the sink has not confirmed, by sink and tenant.", ["sink", "tenant"], (sources) =>
      (sources.sinks?.status() ?? []).map((runner): [Labels<"sink" | "tenant">, number] => [{ sink: runner.sink, tenant: runner.tenant }, runner.lagEvents]),
    );
    gauge("logship_collector_sink_lag_seconds", "Age of the oldest event the sink is delivering (0 when caught up).", labels, (sources) =>
      perRunner(sources, (runner) => runner.lagAgeMs / 1000, (runner) => (runner.deliveringObservedMs === null ? 0 : Math.max(0, Date.now() - runner.deliveringObservedMs) / 1000)),
    );
    counter("logship_collector_sink_delivered_events_total", "Events the sink confirmed.", labels, (sources) => perRunner(sources, (runner) => runner.deliveredEvents, (runner) => runner.deliveredEvents));
    counter("logship_collector_sink_retries_total", "Sink sends that failed and will be retried (errors and retry answers).", labels, (sources) => perRunner(sources, (runner) => runner.retries, (runner) => runner.retries));
    counter("logship_collector_sink_rejected_events_total", "Events the sink rejected for good (written to the dead-letter directory).", labels, (sources) => perRunner(sources, (runner) => runner.rejectedEvents, (runner) => runner.rejectedEvents));
    counter("logship_collector_sink_undecodable_records_total", "Log records the sink runner could not decode (skipped, logged).", labels, (sources) => perRunner(sources, (runner) => runner.undecodableRecords, (runner) => runner.undecodableRecords));
    counter("logship_collector_sink_duplicate_records_total", "Kafka log: second copies of a batch the sink runner skipped, by sink and topic.", ["sink", "topic"], (sources) =>
      (sources.kafka?.runners() ?? []).map((runner): [Labels<"sink" | "topic">, number] => [{ sink: runner.sink, topic: runner.topic }, runner.duplicateRecords]),
    );
  }
}

function kafkaPartitions(snapshot: KafkaLogPositionsSnapshot | undefined, pick: (entry: KafkaLogPositionsSnapshot["partitions"][number]) => number): [Labels<"topic" | "partition">, number][] {
  return (snapshot?.partitions ?? []).map((entry) => [{ topic: entry.topic, partition: String(entry.partition) }, pick(entry)]);
}

async function logUsage(sources: CollectorMetricsSources, pick: (usage: TenantLogUsage) => number): Promise<[Labels<"tenant">, number][]> {
  const log = sources.log;
  if (log === undefined) return [];
  const rows: [Labels<"tenant">, number][] = [];
  for (const tenant of log.tenants()) rows.push([{ tenant }, pick(await log.usage(tenant))]);
  return rows;
}
