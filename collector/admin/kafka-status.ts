/**
 * The body of `GET /v1/status` on a collector with `log.backend: kafka`
 * (docs/KAFKA.md, "Status and replay"). The same top-level fields as with
 * the embedded log (status.ts): kind, version, uptime, ready, scope,
 * ingest, tenants (ingest only: the tenants share one topic). Then what
 * differs:
 *
 * - `log`: the topic, its brokers, each partition's first and end offset
 *   (Kafka's ListOffsets), and `error` when Kafka did not answer;
 * - `sinks`, one row per sink (not per tenant: a sink's consumer group
 *   reads every tenant's records): per partition the group's committed
 *   offset (Kafka's, so the same on every collector), the end offset and
 *   the lag in records; the sink's lag in records and its age (from the
 *   send this collector is delivering, if any); this collector's runner's
 *   state, partitions and counts, its replays, and its last error.
 *
 * Partitions and sinks hold every tenant's records, so only an admin token
 * sees them; a search token gets its tenant's ingest, the topic's name and
 * brokers, and empty `log.partitions` and `sinks`.
 */
import type { IngestMeter, IngestMeterSnapshot } from "../ingest/meter.ts";
import type { PartitionOffsets } from "../log/kafka/offsets.ts";
import { lagRecords } from "../sinks/kafka-log-positions.ts";
import type { KafkaSinkStatus } from "../sinks/kafka-log-fanout.ts";
import type { KafkaLogRunnerState } from "../sinks/kafka-log-runner.ts";
import type { StatusPrincipal } from "./routes.ts";
import { ingestJson, sumSnapshots, type IngestStatusJson } from "./status.ts";

export interface KafkaLogStatusJson {
  backend: "kafka";
  topic: string;
  brokers: string[];
  partitions: { partition: number; first_offset: number; end_offset: number }[];
  /** Records in the topic: the sum of end − first offsets; null when Kafka did not answer or the token may not see it. */
  records: number | null;
  /** Why `partitions` is empty although the token may see them: what Kafka (not) answered. */
  error: string | null;
}

export interface KafkaSinkPartitionJson {
  partition: number;
  /** The sink group's committed offset; null when it committed none there yet (it starts at the partition's first record). */
  committed_offset: number | null;
  end_offset: number;
  /** end − max(committed, first): records the group has yet to deliver. */
  lag_records: number;
}

export interface KafkaReplayStatusJson {
  tenant: string;
  group: string;
  state: "running" | "done" | "stopped";
  started_at: string;
  ended_at: string | null;
  partitions: { partition: number; from_offset: number; to_offset: number; next_offset: number }[];
  remaining_records: number;
  delivered_events: number;
  rejected_events: number;
  last_error: { message: string; at: string } | null;
}

export interface KafkaSinkStatusJson {
  sink: string;
  group: string;
  /** This collector's runner. */
  state: KafkaLogRunnerState;
  /** Partitions this collector's runner holds now. */
  partitions_here: number[];
  /** Every partition of the topic, from Kafka (empty when Kafka did not answer). */
  partitions: KafkaSinkPartitionJson[];
  /** `records`: summed over `partitions` (null when Kafka did not answer); `age_ms`: now − the observed time of the oldest record this collector is delivering, 0 when none. */
  lag: { records: number | null; age_ms: number };
  /** This collector's counts: its runner's and its replays' together. */
  delivered_events: number;
  retries: number;
  rejected_events: number;
  replays: number;
  duplicate_records: number;
  undecodable_records: number;
  sessions: number;
  /** The replay running on this collector, or the latest that ended; null when none was started here. */
  replay: KafkaReplayStatusJson | null;
  last_error: { message: string; at: string } | null;
}

export interface KafkaCollectorStatusJson {
  kind: "collector";
  version: string;
  started_at: string;
  uptime_ms: number;
  /** Same as /readyz: the last produce or probe of the topic succeeded. */
  ready: boolean;
  scope: { role: string; tenants: "all" | string };
  ingest: IngestStatusJson;
  tenants: { tenant: string; ingest: IngestStatusJson }[];
  log: KafkaLogStatusJson;
  sinks: KafkaSinkStatusJson[];
}

export interface KafkaStatusSources {
  version: string;
  startedMs: number;
  ready: () => boolean;
  meter: IngestMeter;
  topic: string;
  brokers: readonly string[];
  offsets: {
    partitions(): Promise<PartitionOffsets[]>;
    committed(group: string, partitions: readonly number[]): Promise<Map<number, bigint | null>>;
  };
  sinks: { sinkStatus(): KafkaSinkStatus[] };
  nowMs?: () => number;
}

export async function kafkaCollectorStatus(sources: KafkaStatusSources, principal: StatusPrincipal): Promise<KafkaCollectorStatusJson> {
  const nowMs = (sources.nowMs ?? Date.now)();
  const tenants = principal.tenant === null ? sources.meter.tenants().sort() : [principal.tenant];
  const snapshots: IngestMeterSnapshot[] = tenants.map((tenant) => sources.meter.snapshot(tenant));
  const admin = principal.tenant === null;
  const sinks = admin ? sources.sinks.sinkStatus() : [];
  const kafka = admin ? await askKafka(sources, sinks) : { partitions: [], committed: new Map<string, Map<number, bigint | null>>(), error: null };
  return {
    kind: "collector",
    version: sources.version,
    started_at: new Date(sources.startedMs).toISOString(),
    uptime_ms: nowMs - sources.startedMs,
    ready: sources.ready(),
    scope: { role: principal.role, tenants: principal.tenant ?? "all" },
    ingest: ingestJson(sumSnapshots(snapshots, sources.meter.rateWindowMs())),
    tenants: tenants.map((tenant, index) => ({ tenant, ingest: ingestJson(snapshots[index] as IngestMeterSnapshot) })),
    log: {
      backend: "kafka",
      topic: sources.topic,
      brokers: [...sources.brokers],
      partitions: kafka.partitions.map((entry) => ({ partition: entry.partition, first_offset: Number(entry.firstOffset), end_offset: Number(entry.endOffset) })),
      records: admin && kafka.error === null ? kafka.partitions.reduce((sum, entry) => sum + Number(entry.endOffset - entry.firstOffset), 0) : null,
      error: kafka.error,
    },
    sinks: sinks.map((sink) => sinkJson(sink, kafka.partitions, kafka.error === null ? (kafka.committed.get(sink.runner.group) ?? null) : null, nowMs)).sort((a, b) => a.sink.localeCompare(b.sink)),
  };
}

/** The topic's offsets and every sink group's committed offsets; the reason instead when Kafka does not answer. */
async function askKafka(
  sources: KafkaStatusSources,
  sinks: readonly KafkaSinkStatus[],
): Promise<{ partitions: PartitionOffsets[]; committed: Map<string, Map<number, bigint | null>>; error: string | null }> {
  try {
    const partitions = await sources.offsets.partitions();
    const numbers = partitions.map((entry) => entry.partition);
    const groups = sinks.map((sink) => sink.runner.group);
    const committed = await Promise.all(groups.map((group) => sources.offsets.committed(group, numbers)));
    return { partitions, committed: new Map(groups.map((group, index) => [group, committed[index] as Map<number, bigint | null>])), error: null };
  } catch (error) {
    return { partitions: [], committed: new Map(), error: error instanceof Error ? error.message : String(error) };
  }
}

function sinkJson(sink: KafkaSinkStatus, partitions: readonly PartitionOffsets[], committed: Map<number, bigint | null> | null, nowMs: number): KafkaSinkStatusJson {
  const { runner } = sink;
  const rows = committed === null ? [] : partitions.map((entry) => partitionJson(entry, committed.get(entry.partition) ?? null));
  const lagRecords = committed === null ? null : rows.reduce((sum, row) => sum + row.lag_records, 0);
  return {
    sink: runner.sink,
    group: runner.group,
    state: runner.state,
    partitions_here: runner.partitions,
    partitions: rows,
    lag: { records: lagRecords, age_ms: lagRecords === 0 || runner.deliveringObservedMs === null ? 0 : Math.max(0, nowMs - runner.deliveringObservedMs) },
    delivered_events: runner.deliveredEvents + sink.replayDeliveredEvents,
    retries: runner.retries,
    rejected_events: runner.rejectedEvents + sink.replayRejectedEvents,
    replays: sink.replays,
    duplicate_records: runner.duplicateRecords,
    undecodable_records: runner.undecodableRecords,
    sessions: runner.sessions,
    replay: sink.replay === null ? null : replayJson(sink.replay),
    last_error: errorJson(runner.lastError),
  };
}

function partitionJson(entry: PartitionOffsets, committed: bigint | null): KafkaSinkPartitionJson {
  return {
    partition: entry.partition,
    committed_offset: committed === null ? null : Number(committed),
    end_offset: Number(entry.endOffset),
    // A committed offset retention passed is read from the first record left (auto.offset.reset=earliest).
    lag_records: lagRecords(entry, committed),
  };
}

function replayJson(replay: NonNullable<KafkaSinkStatus["replay"]>): KafkaReplayStatusJson {
  return {
    tenant: replay.tenant,
    group: replay.group,
    state: replay.state,
    started_at: new Date(replay.startedMs).toISOString(),
    ended_at: replay.endedMs === null ? null : new Date(replay.endedMs).toISOString(),
    partitions: replay.partitions.map((entry) => ({ partition: entry.partition, from_offset: Number(entry.fromOffset), to_offset: Number(entry.toOffset), next_offset: Number(entry.nextOffset) })),
    remaining_records: replay.remainingRecords,
    delivered_events: replay.runner.deliveredEvents,
    rejected_events: replay.runner.rejectedEvents,
    last_error: errorJson(replay.runner.lastError),
  };
}

function errorJson(error: { message: string; atMs: number } | null): { message: string; at: string } | null {
  return error === null ? null : { message: error.message, at: new Date(error.atMs).toISOString() };
}
