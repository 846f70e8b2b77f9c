/**
 * Shipper: sends spooled batches to the collectors and reports outcomes.
 *
 * - Spreads batches over healthy collectors (least requests in flight first),
 *   at most `inFlightMax` per collector.
 * - A collector that fails `failuresToEject` times in a row (network errors,
 *   timeouts, 5xx) is taken out and probed (`/readyz`) with backoff until it
 *   answers; its batches go to the others meanwhile.
 * - Retries: exponential backoff with full jitter per batch, capped;
 *   `Retry-After` on 429/503 honoured. 408/429/5xx and network errors are
 *   retried for ever (the spool holds the batch); other 4xx are rejected:
 *   counted, logged with the reason and written to the dead-letter folder.
 */
import { appendFile, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "../../shared/logger.ts";
import type { Spool, SpoolRecord } from "../spool/spool.ts";
import { backoffMs } from "./backoff.ts";
import { WakeableSleep } from "../../shared/wakeable-sleep.ts";
import { CollectorClient, type CollectorClientOptions } from "./collector-client.ts";

export interface ShipperOptions {
  collectors: string[];
  client: Omit<CollectorClientOptions, "url" | "connectionsMax">;
  inFlightMax: number;
  retryBaseMs: number;
  retryCapMs: number;
  failuresToEject: number;
  spool: Spool;
  deadLetterDirectory: string;
  logger: Logger;
  onDelivered: (record: SpoolRecord) => void;
  /** Told of every send and its outcome, once per batch attempt (agent/metrics.ts). */
  observer?: ShipperObserver;
}

/** Hears each batch send and its outcome (metrics). Reasons are bounded labels: `network`, `response_cut_off`, `http_<status>`. */
export interface ShipperObserver {
  sent(events: number, bytes: number): void;
  delivered(events: number, bytes: number, latencySeconds: number): void;
  retried(reason: string): void;
  rejected(reason: string, events: number): void;
}

interface Target {
  client: CollectorClient;
  inFlight: number;
  failures: number;
  ejectedUntilMs: number;
  ejections: number;
  probing: boolean;
  delivered: number;
  lastError: string | null;
}

interface Queued {
  record: SpoolRecord;
  attempt: number;
  notBeforeMs: number;
}

export interface CollectorStatus {
  url: string;
  healthy: boolean;
  inFlight: number;
  delivered: number;
  lastError: string | null;
}

export class Shipper {
  private readonly options: ShipperOptions;
  private readonly logger: Logger;
  private readonly targets: Target[];
  private queue: Queued[] = [];
  private inFlight = 0;
  private readonly sleeper = new WakeableSleep();
  private readonly controller = new AbortController();
  private roundRobin = 0;
  delivered = 0;
  duplicates = 0;
  retries = 0;
  rejected = 0;

  constructor(options: ShipperOptions) {
    this.options = options;
    this.logger = options.logger;
    this.targets = options.collectors.map((url) => ({
      client: new CollectorClient({ ...options.client, url, connectionsMax: options.inFlightMax }),
      inFlight: 0,
      failures: 0,
      ejectedUntilMs: 0,
      ejections: 0,
      probing: false,
      delivered: 0,
      lastError: null,
    }));
  }

  enqueue(record: SpoolRecord): void {
    this.queue.push({ record, attempt: 0, notBeforeMs: 0 });
    this.wake();
  }

  /** Batches not yet acknowledged (queued or in flight). */
  get backlog(): number {
    return this.queue.length + this.inFlight;
  }

  collectors(): CollectorStatus[] {
    return this.targets.map((target) => ({
      url: target.client.url,
      // Taken out until a probe succeeds (which sets ejectedUntilMs back to 0), as pickTarget sees it:
      // not "healthy" again in the moment between the end of a backoff and the probe that follows it.
      healthy: target.ejectedUntilMs === 0,
      inFlight: target.inFlight,
      delivered: target.delivered,
      lastError: target.lastError,
    }));
  }

  /** Dispatch until `signal` aborts. */
  async run(signal: AbortSignal): Promise<void> {
    const onAbort = (): void => this.wake();
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      while (!signal.aborted) await this.sleeper.sleep(this.dispatch(Date.now()));
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  /** Wait until nothing is queued or in flight, or `deadlineMs` passes. Returns true when drained. */
  async drained(deadlineMs: number): Promise<boolean> {
    while (this.backlog > 0 && Date.now() < deadlineMs) await new Promise((resolve) => setTimeout(resolve, 20));
    return this.backlog === 0;
  }

  async close(): Promise<void> {
    this.controller.abort();
    await Promise.all(this.targets.map((target) => target.client.destroy()));
  }

  private wake(): void {
    this.sleeper.wake();
  }

  /** Start every send that may start now; returns how long to sleep before looking again. */
  private dispatch(nowMs: number): number {
    let sleepMs = 1000;
    for (const target of this.targets) {
      if (target.ejectedUntilMs > nowMs) sleepMs = Math.min(sleepMs, target.ejectedUntilMs - nowMs);
      else if (target.ejectedUntilMs > 0 && !target.probing) void this.probe(target);
    }
    for (let index = 0; index < this.queue.length; ) {
      const queued = this.queue[index] as Queued;
      if (queued.notBeforeMs > nowMs) {
        sleepMs = Math.min(sleepMs, queued.notBeforeMs - nowMs);
        index++;
        continue;
      }
      const target = this.pickTarget();
      if (target === null) break;
      this.queue.splice(index, 1);
      void this.send(target, queued);
    }
    return Math.max(1, sleepMs);
  }

  private pickTarget(): Target | null {
    let best: Target | null = null;
    const count = this.targets.length;
    for (let step = 0; step < count; step++) {
      const target = this.targets[(this.roundRobin + step) % count] as Target;
      if (target.ejectedUntilMs > 0 || target.inFlight >= this.options.inFlightMax) continue;
      if (best === null || target.inFlight < best.inFlight) best = target;
    }
    if (best !== null) this.roundRobin = (this.targets.indexOf(best) + 1) % count;
    return best;
  }

  private async send(target: Target, queued: Queued): Promise<void> {
    target.inFlight++;
    this.inFlight++;
    const record = queued.record;
    try {
      const body = await this.options.spool.batchOf(record);
      const observer = this.options.observer;
      observer?.sent(record.events, body.length);
      const sentMs = performance.now();
      const outcome = await target.client.sendBatch(body, this.options.spool.agentId, record.seq, this.controller.signal);
      if (outcome.kind === "delivered") {
        observer?.delivered(record.events, body.length, (performance.now() - sentMs) / 1000);
        target.failures = 0;
        target.delivered++;
        this.delivered++;
        if (outcome.duplicate) this.duplicates++;
        this.options.onDelivered(record);
        return;
      }
      if (outcome.kind === "reject") {
        this.rejected++;
        observer?.rejected(`http_${outcome.status}`, record.events);
        target.lastError = outcome.reason;
        this.logger.error("collector rejected a batch; it is written to the dead-letter folder and not retried", {
          collector: target.client.url,
          seq: record.seq,
          events: record.events,
          reason: outcome.reason,
        });
        await this.deadLetter(record, body, outcome.reason);
        this.options.onDelivered(record);
        return;
      }
      this.retries++;
      observer?.retried(outcome.status !== undefined ? `http_${outcome.status}` : outcome.cutOff === true ? "response_cut_off" : "network");
      target.lastError = outcome.reason;
      if (outcome.collectorFault) this.failed(target, outcome.reason);
      const delayMs = outcome.afterMs ?? backoffMs(queued.attempt, this.options.retryBaseMs, this.options.retryCapMs);
      if (queued.attempt === 0 || queued.attempt % 10 === 0) {
        this.logger.warn("batch not delivered; will retry", { collector: target.client.url, seq: record.seq, attempt: queued.attempt + 1, retry_in_ms: delayMs, reason: outcome.reason });
      }
      this.requeue({ record, attempt: queued.attempt + 1, notBeforeMs: Date.now() + delayMs });
    } catch (error) {
      // Reading the batch back from the spool failed: retry later, loudly.
      this.logger.error("cannot read a spooled batch; will retry", { seq: record.seq, error: (error as Error).message });
      this.requeue({ record, attempt: queued.attempt + 1, notBeforeMs: Date.now() + backoffMs(queued.attempt, this.options.retryBaseMs, this.options.retryCapMs) });
    } finally {
      target.inFlight--;
      this.inFlight--;
      this.wake();
    }
  }

  /** Put a batch back in seq order, so older batches keep going first. */
  private requeue(queued: Queued): void {
    const index = this.queue.findIndex((other) => other.record.seq > queued.record.seq);
    if (index === -1) this.queue.push(queued);
    else this.queue.splice(index, 0, queued);
  }

  private failed(target: Target, reason: string): void {
    target.failures++;
    if (target.failures < this.options.failuresToEject || target.ejectedUntilMs > 0) return;
    target.ejections++;
    target.ejectedUntilMs = Date.now() + Math.max(this.options.retryBaseMs, backoffMs(target.ejections, 500, 30_000));
    this.logger.warn("collector taken out after repeated failures; probing it", { collector: target.client.url, failures: target.failures, reason });
  }

  private async probe(target: Target): Promise<void> {
    target.probing = true;
    try {
      if (await target.client.probe(this.controller.signal)) {
        this.logger.info("collector answers again; sending to it", { collector: target.client.url });
        target.ejectedUntilMs = 0;
        target.failures = 0;
        target.ejections = 0;
      } else {
        target.ejections++;
        target.ejectedUntilMs = Date.now() + backoffMs(target.ejections, 500, 30_000) + 100;
      }
    } finally {
      target.probing = false;
      this.wake();
    }
  }

  private async deadLetter(record: SpoolRecord, body: Buffer, reason: string): Promise<void> {
    const directory = this.options.deadLetterDirectory;
    await mkdir(directory, { recursive: true });
    const name = `${this.options.spool.agentId}-${record.seq}.batch.zst`;
    await writeFile(join(directory, name), body);
    await appendFile(join(directory, "index.ndjson"), JSON.stringify({ time: new Date().toISOString(), file: name, seq: record.seq, events: record.events, reason }) + "\n");
  }
}
