/**
 * Ingest totals and recent rates per tenant, for `GET /v1/status`.
 *
 * Every answered batch is counted: stored ones (batches, events, bytes as
 * received, which is what the log stores) and duplicates apart. Rates are
 * over the last `windowMs` of whole `bucketMs` buckets (the current,
 * partial bucket is left out, so a rate lags by at most one bucket): a
 * fixed ring per tenant, so memory does not grow with traffic (tenants are
 * bounded by the tokens of the config). A collector up for less than the
 * window divides by its uptime, so a fresh one does not under-report.
 */
import { assert } from "../../shared/errors.ts";

export interface IngestCounts {
  batches: number;
  events: number;
  bytes: number;
  duplicateBatches: number;
}

export interface IngestMeterSnapshot {
  /** Since the collector started. */
  totals: IngestCounts;
  /** Per second over the last `windowMs` (or the uptime, when shorter). */
  perSecond: IngestCounts;
  windowMs: number;
}

export interface IngestMeterOptions {
  windowMs?: number;
  bucketMs?: number;
  nowMs?: () => number;
}

export const INGEST_RATE_WINDOW_MS_DEFAULT = 60_000;
const BUCKET_MS_DEFAULT = 1000;

interface TenantMeter {
  totals: IngestCounts;
  /** Slot i holds bucket number `bucketNumbers[i]` (time / bucketMs); a slot of an older bucket is stale. */
  bucketNumbers: Float64Array;
  buckets: IngestCounts[];
}

export class IngestMeter {
  private readonly windowMs: number;
  private readonly bucketMs: number;
  private readonly slots: number;
  private readonly nowMs: () => number;
  private readonly startedMs: number;
  private readonly tenantMeters = new Map<string, TenantMeter>();

  constructor(options: IngestMeterOptions = {}) {
    this.windowMs = options.windowMs ?? INGEST_RATE_WINDOW_MS_DEFAULT;
    this.bucketMs = options.bucketMs ?? BUCKET_MS_DEFAULT;
    assert(this.bucketMs > 0 && this.windowMs % this.bucketMs === 0, "the rate window is a whole number of buckets");
    // The window's buckets and the current one.
    this.slots = this.windowMs / this.bucketMs + 1;
    this.nowMs = options.nowMs ?? Date.now;
    this.startedMs = this.nowMs();
  }

  /** Counts one answered batch of `tenant`: `bytes` as received, `events` in it. */
  record(tenant: string, batch: { events: number; bytes: number; duplicate: boolean }): void {
    const meter = this.tenantMeter(tenant);
    const bucket = this.currentBucket(meter);
    for (const counts of [meter.totals, bucket]) {
      if (batch.duplicate) {
        counts.duplicateBatches++;
        continue;
      }
      counts.batches++;
      counts.events += batch.events;
      counts.bytes += batch.bytes;
    }
  }

  /** Tenants that sent at least one batch since start. */
  tenants(): string[] {
    return [...this.tenantMeters.keys()].sort();
  }

  /** Totals and rates of `tenant` (zeros for one that sent nothing). */
  snapshot(tenant: string): IngestMeterSnapshot {
    const meter = this.tenantMeters.get(tenant);
    const nowMs = this.nowMs();
    const current = Math.floor(nowMs / this.bucketMs);
    const windowCounts = zeroCounts();
    if (meter !== undefined) {
      for (let slot = 0; slot < this.slots; slot++) {
        const number = meter.bucketNumbers[slot] as number;
        if (number < current && number >= current - (this.slots - 1)) addCounts(windowCounts, meter.buckets[slot] as IngestCounts);
      }
    }
    const windowMs = this.rateWindowMs(nowMs);
    const perSecond = (count: number): number => (windowMs === 0 ? 0 : (count * 1000) / windowMs);
    return {
      totals: meter === undefined ? zeroCounts() : { ...meter.totals },
      perSecond: {
        batches: perSecond(windowCounts.batches),
        events: perSecond(windowCounts.events),
        bytes: perSecond(windowCounts.bytes),
        duplicateBatches: perSecond(windowCounts.duplicateBatches),
      },
      windowMs,
    };
  }

  /** The span rates are over: the whole buckets of the last `windowMs`, since the start at most (0 in the first bucket). */
  rateWindowMs(nowMs: number = this.nowMs()): number {
    const currentStartMs = Math.floor(nowMs / this.bucketMs) * this.bucketMs;
    return Math.max(0, currentStartMs - Math.max(this.startedMs, currentStartMs - this.windowMs));
  }

  private tenantMeter(tenant: string): TenantMeter {
    let meter = this.tenantMeters.get(tenant);
    if (meter === undefined) {
      meter = { totals: zeroCounts(), bucketNumbers: new Float64Array(this.slots).fill(-1), buckets: Array.from({ length: this.slots }, zeroCounts) };
      this.tenantMeters.set(tenant, meter);
    }
    return meter;
  }

  /** The bucket of now, emptied first if its slot still holds an older one. */
  private currentBucket(meter: TenantMeter): IngestCounts {
    const number = Math.floor(this.nowMs() / this.bucketMs);
    const slot = number % this.slots;
    const bucket = meter.buckets[slot] as IngestCounts;
    if (meter.bucketNumbers[slot] !== number) {
      meter.bucketNumbers[slot] = number;
      Object.assign(bucket, zeroCounts());
    }
    return bucket;
  }
}

function zeroCounts(): IngestCounts {
  return { batches: 0, events: 0, bytes: 0, duplicateBatches: 0 };
}

function addCounts(into: IngestCounts, counts: IngestCounts): void {
  into.batches += counts.batches;
  into.events += counts.events;
  into.bytes += counts.bytes;
  into.duplicateBatches += counts.duplicateBatches;
}
