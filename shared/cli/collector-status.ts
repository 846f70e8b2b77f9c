/**
 * `logship status` for a collector: the JSON of `GET /v1/status`
 * (collector/admin/status.ts) as a few readable lines and two tables, one
 * row per tenant and one per (sink, tenant).
 */
import type { CollectorStatusJson, IngestStatusJson } from "../../collector/admin/status.ts";
import { formatBytes, formatDuration, table } from "./table.ts";

export function formatCollectorStatus(status: CollectorStatusJson, url: string): string {
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

function rates(ingest: IngestStatusJson): string {
  return `${ingest.batches_per_second} batches/s, ${ingest.events_per_second} events/s, ${formatBytes(ingest.bytes_per_second)}/s (compressed, as stored)`;
}

function totals(ingest: IngestStatusJson): string {
  return `${ingest.batches_total} batches, ${ingest.events_total} events, ${formatBytes(ingest.bytes_total)}; ${ingest.duplicate_batches_total} duplicate batches acknowledged without storing`;
}
