/**
 * `logship status` for a collector: the JSON of `GET /v1/status` as a few
 * readable lines and tables. With the embedded log
 * (collector/admin/status.ts): one row per tenant and one per (sink,
 * tenant). With the Kafka log (collector/admin/kafka-status.ts, told apart
 * by `log.backend`): one row per tenant (ingest), the topic's partitions,
 * one row per sink, one per (sink, partition), and each sink's replay.
 */
import type { KafkaCollectorStatusJson, KafkaReplayStatusJson } from "../../collector/admin/kafka-status.ts";
import type { CollectorStatusJson, IngestStatusJson } from "../../collector/admin/status.ts";
import { formatBytes, formatDuration, table } from "./table.ts";

export function formatCollectorStatus(status: CollectorStatusJson | KafkaCollectorStatusJson, url: string): string {
  if ("log" in status && status.log.backend === "kafka") return formatKafkaCollectorStatus(status, url);
  return formatEmbeddedCollectorStatus(status as CollectorStatusJson, url);
}

function formatEmbeddedCollectorStatus(status: CollectorStatusJson, url: string): string {
  const scope = status.scope.tenants === "all" ? "every tenant" : `tenant ${status.scope.tenants}`;
  const lines = [
    `collector ${url}: logship ${status.version}, up ${formatDuration(status.uptime_ms)}, ${status.ready ? "ready" : "NOT READY (log not writable)"}; showing ${scope} (token role ${status.scope.role})`,
    "",
    `ingest, last ${formatDuration(status.ingest.window_ms)}: ${rates(status.ingest)}`,
    `ingest since start: ${totals(status.ingest)}`,
    "",
    table(
      ["tenant", "batches/s", "bytes/s", "batches", "events", "log size", "segments", "first offset", "next offset"],
      status.tenants.map((tenant) => [
        tenant.tenant,
        String(tenant.ingest.batches_per_second),
        `${formatBytes(tenant.ingest.bytes_per_second)}/s`,
        String(tenant.ingest.batches_total),
        String(tenant.ingest.events_total),
        formatBytes(tenant.log.bytes),
        String(tenant.log.segments),
        String(tenant.log.first_offset),
        String(tenant.log.next_offset),
      ]),
    ),
    "",
  ];
  if (status.sinks.length === 0) {
    lines.push("sinks: none configured");
  } else {
    lines.push(
      table(
        ["sink", "tenant", "state", "committed", "end", "lag events", "lag bytes", "lag age", "delivered", "retries", "rejected", "replays", "last error"],
        status.sinks.map((sink) => [
          sink.sink,
          sink.tenant,
          sink.state,
          String(sink.committed_offset),
          String(sink.end_offset),
          String(sink.lag.events),
          formatBytes(sink.lag.bytes),
          formatDuration(sink.lag.age_ms),
          String(sink.delivered_events),
          String(sink.retries),
          String(sink.rejected_events),
          String(sink.replays),
          sink.last_error === null ? "" : `${sink.last_error.at} ${sink.last_error.message}`,
        ]),
      ),
    );
  }
  return lines.join("\n") + "\n";
}

function formatKafkaCollectorStatus(status: KafkaCollectorStatusJson, url: string): string {
  const scope = status.scope.tenants === "all" ? "every tenant" : `tenant ${status.scope.tenants}`;
  const { log } = status;
  const lines = [
    `collector ${url}: logship ${status.version}, up ${formatDuration(status.uptime_ms)}, ${status.ready ? "ready" : "NOT READY (Kafka not writable)"}; showing ${scope} (token role ${status.scope.role})`,
    "",
    `ingest, last ${formatDuration(status.ingest.window_ms)}: ${rates(status.ingest)}`,
    `ingest since start: ${totals(status.ingest)}`,
    "",
    table(
      ["tenant", "batches/s", "bytes/s", "batches", "events"],
      status.tenants.map((tenant) => [tenant.tenant, String(tenant.ingest.batches_per_second), `${formatBytes(tenant.ingest.bytes_per_second)}/s`, String(tenant.ingest.batches_total), String(tenant.ingest.events_total)]),
    ),
    "",
  ];
  const where = `log: Kafka topic ${log.topic} on ${log.brokers.join(",")}`;
  if (log.error !== null) lines.push(`${where}; Kafka did not answer: ${log.error}`);
  else if (status.scope.tenants !== "all") lines.push(`${where} (partitions and sinks hold every tenant's records: an admin token shows them)`);
  else {
    lines.push(`${where}: ${log.partitions.length} partitions, ${log.records ?? 0} records`);
    lines.push(table(["partition", "first offset", "end offset"], log.partitions.map((entry) => [String(entry.partition), String(entry.first_offset), String(entry.end_offset)])));
  }
  lines.push("");
  if (status.sinks.length === 0) {
    if (status.scope.tenants === "all") lines.push("sinks: none configured");
    return lines.join("\n") + "\n";
  }
  lines.push(
    table(
      ["sink", "group", "state", "partitions here", "lag records", "lag age", "delivered", "retries", "rejected", "replays", "last error"],
      status.sinks.map((sink) => [
        sink.sink,
        sink.group,
        sink.state,
        sink.partitions_here.length === 0 ? "-" : sink.partitions_here.join(","),
        sink.lag.records === null ? "?" : String(sink.lag.records),
        formatDuration(sink.lag.age_ms),
        String(sink.delivered_events),
        String(sink.retries),
        String(sink.rejected_events),
        String(sink.replays),
        sink.last_error === null ? "" : `${sink.last_error.at} ${sink.last_error.message}`,
      ]),
    ),
  );
  const partitionRows = status.sinks.flatMap((sink) =>
    sink.partitions.map((entry) => [sink.sink, String(entry.partition), entry.committed_offset === null ? "-" : String(entry.committed_offset), String(entry.end_offset), String(entry.lag_records)]),
  );
  if (partitionRows.length > 0) lines.push("", table(["sink", "partition", "committed", "end", "lag records"], partitionRows));
  for (const sink of status.sinks) if (sink.replay !== null) lines.push("", describeReplay(sink.sink, sink.replay));
  return lines.join("\n") + "\n";
}

function describeReplay(sink: string, replay: KafkaReplayStatusJson): string {
  const total = replay.partitions.reduce((sum, entry) => sum + (entry.to_offset - entry.from_offset), 0);
  const ranges = replay.partitions.map((entry) => `${entry.partition}:${entry.from_offset}-${entry.to_offset}`).join(" ");
  const error = replay.last_error === null ? "" : `; last error ${replay.last_error.at} ${replay.last_error.message}`;
  return (
    `replay of sink ${sink} (tenant ${replay.tenant}, group ${replay.group}): ${replay.state}, ${total - replay.remaining_records} of ${total} records passed ` +
    `(partition:from-to ${ranges}), ${replay.delivered_events} events delivered again, ${replay.rejected_events} rejected, started ${replay.started_at}${replay.ended_at === null ? "" : `, ended ${replay.ended_at}`}${error}`
  );
}

function rates(ingest: IngestStatusJson): string {
  return `${ingest.batches_per_second} batches/s, ${ingest.events_per_second} events/s, ${formatBytes(ingest.bytes_per_second)}/s (compressed, as stored)`;
}

function totals(ingest: IngestStatusJson): string {
  return `${ingest.batches_total} batches, ${ingest.events_total} events, ${formatBytes(ingest.bytes_total)}; ${ingest.duplicate_batches_total} duplicate batches acknowledged without storing`;
}
