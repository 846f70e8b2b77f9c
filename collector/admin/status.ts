/**
 * The body of `GET /v1/status` (docs/SINKS.md, "Status"): ingest rates and
 * totals, each tenant's log on disk, and every sink runner's committed
 * offset, lag (events, bytes, age), state and last error. An admin token
 * sees every tenant; a search token only its own. The JSON is the contract
 * `logship status` prints (shared/cli/collector-status.ts).
 */
import { parseLogName } from "../routing/streams.ts";
import type { IngestCounts, IngestMeter, IngestMeterSnapshot } from "../ingest/meter.ts";
import type { StatusPrincipal } from "./routes.ts";
import type { TenantLogUsage } from "../log/usage.ts";
import type { SinkRunnerStatus } from "../sinks/runner.ts";

export interface IngestStatusJson {
  window_ms: number;
  batches_per_second: number;
  events_per_second: number;
  /** Bytes as received (zstd-compressed; what the log stores). */
  bytes_per_second: number;
  batches_total: number;
  events_total: number;
  bytes_total: number;
  duplicate_batches_total: number;
}

export interface TenantStatusJson {
  tenant: string;
  ingest: IngestStatusJson;
  log: { segments: number; bytes: number; first_offset: number; next_offset: number };
}

export interface SinkStatusJson {
  sink: string;
  tenant: string;
  state: SinkRunnerStatus["state"];
  committed_offset: number;
  end_offset: number;
  lag: { events: number; bytes: number; age_ms: number };
  delivered_events: number;
  retries: number;
  rejected_events: number;
  replays: number;
  last_error: { message: string; at: string } | null;
}

export interface CollectorStatusJson {
  kind: "collector";
  version: string;
  started_at: string;
  uptime_ms: number;
  /** Same as /readyz: the log is open and writable. */
  ready: boolean;
  /** Tenants this answer covers: every one (admin) or the token's own (search). */
  scope: { role: string; tenants: "all" | string };
  /** Summed over the tenants below. */
  ingest: IngestStatusJson;
  tenants: TenantStatusJson[];
  sinks: SinkStatusJson[];
}

/** What the status is read from (the running collector's parts). */
export interface StatusSources {
  version: string;
  startedMs: number;
  ready: () => boolean;
  meter: IngestMeter;
  log: {
    tenants(): string[];
    endOffset(tenant: string): number;
    usage(tenant: string, fromOffsets: readonly number[]): Promise<TenantLogUsage>;
  };
  sinks: { status(): SinkRunnerStatus[] };
  nowMs?: () => number;
}

/** `tenant` null: every tenant (admin); otherwise that one only. */
export async function collectorStatus(sources: StatusSources, principal: StatusPrincipal): Promise<CollectorStatusJson> {
  const nowMs = (sources.nowMs ?? Date.now)();
  const all = [...new Set([...sources.log.tenants(), ...sources.meter.tenants()])].sort();
  // A tenant's streams (routes) are logs of their own: `<tenant>@<stream>` rows (collector/routing/streams.ts).
  const own = principal.tenant;
  const tenants = own === null ? all : [own, ...all.filter((name) => name !== own && parseLogName(name)?.tenant === own)];
  const runners = sources.sinks.status().filter((runner) => tenants.includes(runner.tenant));
  const tenantJson: TenantStatusJson[] = [];
  const sinkJson: SinkStatusJson[] = [];
  const snapshots: IngestMeterSnapshot[] = [];
  for (const tenant of tenants) {
    const own = runners.filter((runner) => runner.tenant === tenant);
    const usage = await sources.log.usage(tenant, own.map((runner) => runner.committedOffset));
    const snapshot = sources.meter.snapshot(tenant);
    snapshots.push(snapshot);
    tenantJson.push({
      tenant,
      ingest: ingestJson(snapshot),
      log: { segments: usage.segments, bytes: usage.bytes, first_offset: usage.firstOffset, next_offset: sources.log.endOffset(tenant) },
    });
    own.forEach((runner, index) => sinkJson.push(sinkStatusJson(runner, runner.lagEvents === 0 ? 0 : (usage.bytesFrom[index] ?? 0))));
  }
  sinkJson.sort((a, b) => a.sink.localeCompare(b.sink) || a.tenant.localeCompare(b.tenant));
  return {
    kind: "collector",
    version: sources.version,
    started_at: new Date(sources.startedMs).toISOString(),
    uptime_ms: nowMs - sources.startedMs,
    ready: sources.ready(),
    scope: { role: principal.role, tenants: principal.tenant ?? "all" },
    ingest: ingestJson(sumSnapshots(snapshots, sources.meter.rateWindowMs())),
    tenants: tenantJson,
    sinks: sinkJson,
  };
}

function sinkStatusJson(runner: SinkRunnerStatus, lagBytes: number): SinkStatusJson {
  return {
    sink: runner.sink,
    tenant: runner.tenant,
    state: runner.state,
    committed_offset: runner.committedOffset,
    end_offset: runner.endOffset,
    lag: { events: runner.lagEvents, bytes: lagBytes, age_ms: runner.lagAgeMs },
    delivered_events: runner.deliveredEvents,
    retries: runner.retries,
    rejected_events: runner.rejectedEvents,
    replays: runner.replays,
    last_error: runner.lastError === null ? null : { message: runner.lastError.message, at: new Date(runner.lastError.atMs).toISOString() },
  };
}

export function ingestJson(snapshot: IngestMeterSnapshot): IngestStatusJson {
  return {
    window_ms: snapshot.windowMs,
    batches_per_second: round(snapshot.perSecond.batches),
    events_per_second: round(snapshot.perSecond.events),
    bytes_per_second: round(snapshot.perSecond.bytes),
    batches_total: snapshot.totals.batches,
    events_total: snapshot.totals.events,
    bytes_total: snapshot.totals.bytes,
    duplicate_batches_total: snapshot.totals.duplicateBatches,
  };
}

/** Every tenant's snapshot covers the same window, so rates add up. */
export function sumSnapshots(snapshots: readonly IngestMeterSnapshot[], windowMs: number): IngestMeterSnapshot {
  const sum = (pick: (snapshot: IngestMeterSnapshot) => IngestCounts): IngestCounts => ({
    batches: snapshots.reduce((total, snapshot) => total + pick(snapshot).batches, 0),
    events: snapshots.reduce((total, snapshot) => total + pick(snapshot).events, 0),
    bytes: snapshots.reduce((total, snapshot) => total + pick(snapshot).bytes, 0),
    duplicateBatches: snapshots.reduce((total, snapshot) => total + pick(snapshot).duplicateBatches, 0),
  });
  return { totals: sum((snapshot) => snapshot.totals), perSecond: sum((snapshot) => snapshot.perSecond), windowMs };
}

/** Rates to 0.01: enough for a person, stable for tests. */
function round(value: number): number {
  return Math.round(value * 100) / 100;
}
