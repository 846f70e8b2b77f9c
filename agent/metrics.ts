/**
 * The agent's Prometheus metrics (docs/METRICS.md), served at `GET /metrics`
 * on `api.listen` (api.ts). One registry per Agent (shared/metrics.ts).
 *
 * What the agent already counts (reads, spool, files, offsets, delivery
 * totals) is read at scrape time from `status()`; the shipper reports each
 * send once per batch (ShipperObserver) for what only it sees: sends,
 * acknowledgements with their latency, retry and reject reasons. Nothing is
 * labelled by file path: a host tailing thousands of files still has a
 * fixed number of series. Reasons are bounded labels (`network`,
 * `response_cut_off`, `http_<status>`), never free text.
 */
import { Counter, Histogram, type Registry } from "../shared/prom-client.ts";
import { createMetricsRegistry, scrapedCounter, scrapedGauge, type ScrapedValues } from "../shared/metrics.ts";
import type { AgentStatus } from "./agent.ts";
import type { ShipperObserver } from "./ship/shipper.ts";

/** Lines and bytes read from files since start (the tailer's totals). */
export interface ReadTotals {
  lines: number;
  bytes: number;
  /** Stat calls of the tailer's poll on open files. */
  polls: number;
}

export interface AgentMetricsSources {
  status: () => AgentStatus;
  reads: () => ReadTotals;
}

const BATCH_EVENTS_BUCKETS = [1, 10, 100, 500, 1000, 2500, 5000, 10_000, 20_000, 50_000];
const BATCH_BYTES_BUCKETS = [1024, 4096, 16_384, 65_536, 262_144, 1_048_576, 4_194_304, 16_777_216];
const ACK_LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const STREAM_STATES = ["active", "draining", "idle", "detached", "orphan", "done"] as const;

export class AgentMetrics implements ShipperObserver {
  readonly registry: Registry;
  private readonly sentBatches: Counter;
  private readonly sentEvents: Counter;
  private readonly sentBytes: Counter;
  private readonly ackedEvents: Counter;
  private readonly ackedBytes: Counter;
  private readonly retries: Counter<"reason">;
  private readonly rejectedBatches: Counter<"reason">;
  private readonly rejectedEvents: Counter<"reason">;
  private readonly batchEvents: Histogram;
  private readonly batchBytes: Histogram;
  private readonly ackLatency: Histogram;
  private readonly reloads: Counter<"result">;
  /** One status() per scrape, however many metrics read it (cleared once the scrape's collect callbacks have run). */
  private scrapedStatus: AgentStatus | null = null;

  constructor(sources: AgentMetricsSources) {
    const registry = createMetricsRegistry();
    this.registry = registry;
    const registers = [registry];
    const counter = <Label extends string = string>(name: string, help: string, labelNames: Label[] = []): Counter<Label> => new Counter<Label>({ name, help, labelNames, registers });
    this.sentBatches = counter("logship_agent_sent_batches_total", "Batch sends to a collector (every attempt, retries included).");
    this.sentEvents = counter("logship_agent_sent_events_total", "Events in the batch sends (every attempt).");
    this.sentBytes = counter("logship_agent_sent_bytes_total", "Compressed bytes of the batch sends (every attempt).");
    this.ackedEvents = counter("logship_agent_acked_events_total", "Events in batches a collector acknowledged (200, duplicates included).");
    this.ackedBytes = counter("logship_agent_acked_bytes_total", "Compressed bytes of the batches a collector acknowledged.");
    this.retries = counter("logship_agent_retries_total", "Batch sends that will be retried, by reason (network, response_cut_off, http_<status>).", ["reason"]);
    this.rejectedBatches = counter("logship_agent_rejected_batches_total", "Batches a collector rejected for good (dead-lettered), by reason (http_<status>).", ["reason"]);
    this.rejectedEvents = counter("logship_agent_rejected_events_total", "Events in rejected batches, by reason.", ["reason"]);
    this.batchEvents = new Histogram({ name: "logship_agent_batch_events", help: "Events per batch, when the batch is spooled.", buckets: BATCH_EVENTS_BUCKETS, registers });
    this.batchBytes = new Histogram({ name: "logship_agent_batch_bytes", help: "Compressed bytes per batch, when the batch is spooled.", buckets: BATCH_BYTES_BUCKETS, registers });
    this.ackLatency = new Histogram({ name: "logship_agent_batch_ack_latency_seconds", help: "From sending a batch to the collector's acknowledgement (acknowledged attempts only).", buckets: ACK_LATENCY_BUCKETS, registers });
    this.reloads = counter("logship_agent_config_reloads_total", "Config reloads (SIGHUP), by result: applied, or rejected (the file did not load; the old rules keep running).", ["result"]);
    this.registerScrapeTime(registry, { status: () => this.statusOnce(sources), reads: sources.reads });
  }

  private statusOnce(sources: AgentMetricsSources): AgentStatus {
    if (this.scrapedStatus === null) {
      this.scrapedStatus = sources.status();
      setImmediate(() => (this.scrapedStatus = null));
    }
    return this.scrapedStatus;
  }

  /** A batch is built, compressed and spooled (once per batch). */
  batchSpooled(events: number, bytes: number): void {
    this.batchEvents.observe(events);
    this.batchBytes.observe(bytes);
  }

  /** A SIGHUP reload was applied, or rejected (reload.ts). */
  reloaded(result: "applied" | "rejected"): void {
    this.reloads.inc({ result });
  }

  sent(events: number, bytes: number): void {
    this.sentBatches.inc();
    this.sentEvents.inc(events);
    this.sentBytes.inc(bytes);
  }

  delivered(events: number, bytes: number, latencySeconds: number): void {
    this.ackedEvents.inc(events);
    this.ackedBytes.inc(bytes);
    this.ackLatency.observe(latencySeconds);
  }

  retried(reason: string): void {
    this.retries.inc({ reason });
  }

  rejected(reason: string, events: number): void {
    this.rejectedBatches.inc({ reason });
    this.rejectedEvents.inc({ reason }, events);
  }

  /** Totals and gauges the agent keeps anyway, read when scraped. */
  private registerScrapeTime(registry: Registry, sources: AgentMetricsSources): void {
    const scraped = <Label extends string = string>(name: string, help: string, totals: () => ScrapedValues<Label>, labelNames: Label[] = []): void =>
      scrapedCounter(registry, name, help, labelNames, totals);
    const gauge = <Label extends string = string>(name: string, help: string, values: () => ScrapedValues<Label>, labelNames: Label[] = []): void =>
      scrapedGauge(registry, name, help, labelNames, values);
    scraped("logship_agent_lines_read_total", "Lines read from tailed files (before multiline joining and filters).", () => [[{}, sources.reads().lines]]);
    scraped("logship_agent_read_bytes_total", "Bytes read from tailed files.", () => [[{}, sources.reads().bytes]]);
    scraped("logship_agent_file_polls_total", "Stat calls on open files by the tailer's poll (quiet files are polled less and less often, down to tail.max_backoff).", () => [[{}, sources.reads().polls]]);
    scraped("logship_agent_acked_batches_total", "Batches a collector acknowledged (200, duplicates included).", () => [[{}, sources.status().batches.delivered]]);
    scraped("logship_agent_duplicate_batches_total", "Acknowledged batches the collector already had (a resend after a lost answer).", () => [[{}, sources.status().batches.duplicates]]);
    scraped("logship_agent_spool_dropped_batches_total", "Batches dropped from a full spool (spool.when_full: drop_oldest).", () => [[{}, sources.status().spool.droppedBatches]]);
    scraped("logship_agent_spool_dropped_events_total", "Events in batches dropped from a full spool.", () => [[{}, sources.status().spool.droppedEvents]]);
    scraped("logship_agent_uncompressed_bytes_total", "Batch payload bytes before zstd.", () => [[{}, sources.status().compression.uncompressed_bytes]]);
    scraped("logship_agent_compressed_bytes_total", "Batch bytes after zstd.", () => [[{}, sources.status().compression.compressed_bytes]]);
    const transformTotals = (count: "dropped_events" | "redactions" | "redacted_events" | "parse_failures") => (): [Partial<Record<"source" | "step", string>>, number][] =>
      sources.status().transforms.map((step) => [{ source: step.source, step: step.step }, step[count]]);
    scraped("logship_agent_transform_dropped_events_total", "Events a transform step dropped (drop, keep, sample, throttle), by source and step (<index>_<kind>).", transformTotals("dropped_events"), ["source", "step"]);
    scraped("logship_agent_transform_redactions_total", "Matches a redact step masked, by source and step.", transformTotals("redactions"), ["source", "step"]);
    scraped("logship_agent_transform_redacted_events_total", "Events in which a redact step masked at least one match, by source and step.", transformTotals("redacted_events"), ["source", "step"]);
    scraped("logship_agent_transform_parse_failures_total", "Events whose field a parse step could not parse (left unchanged), by source and step.", transformTotals("parse_failures"), ["source", "step"]);
    gauge("logship_agent_spool_bytes", "Bytes the spool holds on disk (batches not yet acknowledged).", () => [[{}, sources.status().spool.bytes]]);
    gauge("logship_agent_spool_limit_bytes", "spool.max_bytes.", () => [[{}, sources.status().spool.bytesMax]]);
    gauge("logship_agent_spool_batches", "Batches in the spool not yet acknowledged.", () => [[{}, sources.status().spool.records]]);
    gauge("logship_agent_backlog_batches", "Batches queued or in flight to the collectors.", () => [[{}, sources.status().batches.backlog]]);
    gauge("logship_agent_files", "Files (streams) the tailer follows, by state.", () => filesByState(sources.status()), ["state"]);
    gauge("logship_agent_files_open", "Files the tailer holds open (states active and draining).", () => [[{}, openFiles(sources.status())]]);
    gauge("logship_agent_checkpoint_lag_bytes", "Bytes read but not yet acknowledged, summed over all files: what the checkpoints trail the reads by.", () => [[{}, checkpointLagBytes(sources.status())]]);
    gauge(
      "logship_agent_collector_up",
      "1 while the collector takes batches, 0 while it is taken out after failures.",
      () => sources.status().collectors.map((collector): [Partial<Record<"collector", string>>, number] => [{ collector: collector.url }, collector.healthy ? 1 : 0]),
      ["collector"],
    );
  }
}

function filesByState(status: AgentStatus): [Partial<Record<"state", string>>, number][] {
  const counts = new Map<string, number>(STREAM_STATES.map((state) => [state, 0]));
  for (const file of status.files) counts.set(file.state, (counts.get(file.state) ?? 0) + 1);
  return [...counts].map(([state, count]) => [{ state }, count]);
}

function openFiles(status: AgentStatus): number {
  return status.files.filter((file) => file.state === "active" || file.state === "draining").length;
}

function checkpointLagBytes(status: AgentStatus): number {
  return status.files.reduce((sum, file) => sum + Math.max(0, file.readOffset - file.ackedOffset), 0);
}
