/**
 * Storing one ingest request's body for a tenant: decode and check it
 * (decode.ts; touches nothing shared), claim its (agent, seq) in the
 * idempotence table, append it to the log as received, and report the
 * outcome once it is durable. With the collector's transforms or routes
 * the decode workers also split the batch into stream parts
 * (collector/routing/), each claimed and appended in its stream's log. HTTP lives in server.ts. The log is either
 * backend (`BatchLog`): the embedded log (durable = fdatasynced) or the
 * Kafka log (durable = acknowledged by Kafka with acks=all).
 */
import type { Logger } from "../../shared/logger.ts";
import type { BatchHeader, BatchSummary } from "../../shared/wire/batch.ts";
import { LogError } from "../log/errors.ts";
import type { AppendInput, Appended } from "../log/tenant-log.ts";
import type { DecodeLimits } from "./decode.ts";
import { hasProcessing, type ProcessedBatch, type ProcessingConfig } from "../routing/processing.ts";
import { routedStreams } from "../routing/schema.ts";
import type { StreamPart } from "../routing/split.ts";
import { DEFAULT_STREAM, logName } from "../routing/streams.ts";
import { DecodePool, type Decoded } from "./decode-pool.ts";
import type { Claim, DedupeIndex } from "./dedupe.ts";
import { IngestError } from "./errors.ts";
import { Semaphore } from "./semaphore.ts";

/** Where the events of a batch went, per stream, with collector routes (docs/ROUTING.md). */
export interface StreamOutcome {
  stream: string;
  /** Base offset in the stream's log; null when the seq is below the agent's floor (stored long ago). */
  offset: number | null;
  events: number;
  duplicate: boolean;
}

export type IngestOutcome =
  /** `offset` null: routed and every event dropped by the transforms (nothing to store). */
  | { kind: "stored"; offset: number | null; events: number; streams?: StreamOutcome[] }
  /** Already stored earlier: nothing written. `offset` is null when the seq is below the agent's floor. */
  | { kind: "duplicate"; offset: number | null; events: number; streams?: StreamOutcome[] };

/** Where accepted batches go: resolves once the batch is durable; rejects with LogError. `log` is a log name (collector/routing/streams.ts): the tenant for its default stream. */
export interface BatchLog {
  append(log: string, input: AppendInput): Promise<Appended>;
}

/** Told once per routed batch that stored something: what its transforms did and what each stream got (collector/metrics.ts). */
export type ProcessedListener = (tenant: string, processed: ProcessedBatch, stored: readonly StreamOutcome[]) => void;

export interface IngestServiceOptions {
  log: BatchLog;
  dedupe: DedupeIndex;
  limits: DecodeLimits;
  decompressConcurrency: number;
  /** Worker threads that decompress and check bodies (decode-pool.ts). */
  decodeThreads: number;
  logger: Logger;
  /** The collector's transforms and routes; absent or empty: batches are stored as received in the tenant's log (the fast path). */
  processing?: ProcessingConfig;
  onProcessed?: ProcessedListener;
}

/** How often a request waits for a concurrent copy of its batch before giving up with 503. */
const BUSY_WAITS_MAX = 5;

type Claimed = Extract<Claim, { kind: "claimed" }>;

export class IngestService {
  private readonly options: IngestServiceOptions;
  private readonly decompressions: Semaphore;
  private readonly decoders: DecodePool;
  /** Every stream the routes can produce (the idempotence floors of all of a tenant's stream logs move together). */
  private readonly streams: readonly string[];

  constructor(options: IngestServiceOptions) {
    this.options = options;
    this.decompressions = new Semaphore(options.decompressConcurrency);
    const processing = options.processing !== undefined && hasProcessing(options.processing) ? options.processing : undefined;
    this.streams = processing === undefined ? [DEFAULT_STREAM] : routedStreams(processing.routes);
    this.decoders = new DecodePool({ threads: options.decodeThreads, logger: options.logger, ...(processing === undefined ? {} : { processing }) });
  }

  /** Stops the decode workers; a request still decoding is refused with 503. */
  close(): Promise<void> {
    return this.decoders.close();
  }

  /** Stores `body` (a zstd-compressed wire v1 batch) for `tenant`. Throws IngestError. */
  async ingest(tenant: string, body: Buffer): Promise<IngestOutcome> {
    const release = await this.decompressions.acquire();
    let decoded: Decoded;
    try {
      decoded = await this.decoders.decode(body, this.options.limits);
    } finally {
      release();
    }
    const { summary, processed } = decoded;
    if (processed === null) {
      const claim = await this.claim(tenant, summary.header);
      if (claim.kind === "duplicate") return { kind: "duplicate", offset: claim.offset, events: summary.events };
      const offset = await this.append(tenant, claim, partInput(body, summary, null));
      return { kind: "stored", offset, events: summary.events };
    }
    return this.ingestParts(tenant, body, summary, processed);
  }

  /**
   * A routed batch: each stream's part is claimed in that stream's log by
   * (agent, seq) and appended only where it is not stored yet, so a batch
   * sent again after a crash between two streams' appends fills in what is
   * missing and stores nothing twice. Parts are claimed in one order (a
   * second copy in processing waits on the first part, then finds each one
   * done), then appended together.
   */
  private async ingestParts(tenant: string, body: Buffer, summary: BatchSummary, processed: ProcessedBatch): Promise<IngestOutcome> {
    const { agent, floor } = summary.header;
    for (const stream of this.streams) this.options.dedupe.noteFloor(logName(tenant, stream), agent, floor);
    const claims: (Claim & { kind: "duplicate" | "claimed" })[] = [];
    try {
      for (const part of processed.parts) claims.push(await this.claim(logName(tenant, part.stream), summary.header));
    } catch (error) {
      for (const claim of claims) if (claim.kind === "claimed") claim.release();
      throw error;
    }
    const appends = processed.parts.map((part, index) => {
      const claim = claims[index] as Claim & { kind: "duplicate" | "claimed" };
      if (claim.kind === "duplicate") return Promise.resolve(claim.offset);
      return this.append(logName(tenant, part.stream), claim, partInput(body, summary, part));
    });
    const settled = await Promise.allSettled(appends);
    const failed = settled.find((result) => result.status === "rejected");
    if (failed !== undefined) throw failed.reason;
    const streams: StreamOutcome[] = processed.parts.map((part, index) => ({
      stream: part.stream,
      offset: (settled[index] as PromiseFulfilledResult<number | null>).value,
      events: part.events,
      duplicate: claims[index]?.kind === "duplicate",
    }));
    const events = streams.reduce((sum, stream) => sum + stream.events, 0);
    const first = streams[0]?.offset ?? null;
    if (streams.length > 0 && streams.every((stream) => stream.duplicate)) return { kind: "duplicate", offset: first, events, streams };
    this.options.onProcessed?.(tenant, processed, streams.filter((stream) => !stream.duplicate));
    return { kind: "stored", offset: first, events, streams };
  }

  /** Claims (log, agent, seq), waiting for a copy of the batch in processing (at most BUSY_WAITS_MAX times). */
  private async claim(log: string, header: BatchHeader): Promise<Claim & { kind: "duplicate" | "claimed" }> {
    for (let waits = 0; waits <= BUSY_WAITS_MAX; waits++) {
      const claim = this.options.dedupe.claim(log, header.agent, header.seq, header.floor);
      if (claim.kind !== "busy") return claim;
      await claim.settled;
    }
    throw new IngestError("LOGSHIP_LOG_UNAVAILABLE", "another copy of this batch keeps failing to be stored; retry later", { retryAfterSeconds: 1 });
  }

  /** Appends under a claim: committed with the base offset once durable, released when storing failed. */
  private async append(log: string, claim: Claimed, input: AppendInput): Promise<number> {
    try {
      const appended = await this.options.log.append(log, input);
      claim.commit(appended.baseOffset);
      return appended.baseOffset;
    } catch (error) {
      claim.release();
      throw storeError(error);
    }
  }
}

/** The log record of a batch (`part` null) or of one stream's part (its own bytes unless it is the body as received). */
function partInput(body: Buffer, summary: BatchSummary, part: StreamPart | null): AppendInput {
  const { agent, seq, floor } = summary.header;
  if (part === null) return { batch: body, events: summary.events, agent, seq, floor, observedMinMs: summary.observedMinMs, observedMaxMs: summary.observedMaxMs };
  const batch = part.body === null ? body : Buffer.from(part.body.buffer, part.body.byteOffset, part.body.byteLength);
  return { batch, events: part.events, agent, seq, floor, observedMinMs: part.observedMinMs, observedMaxMs: part.observedMaxMs };
}

function storeError(error: unknown): Error {
  if (!(error instanceof LogError)) return error instanceof Error ? error : new Error(String(error));
  if (error.code === "LOGSHIP_LOG_CLOSED") return new IngestError("LOGSHIP_SHUTTING_DOWN", "the collector is shutting down; retry", { cause: error, retryAfterSeconds: 1 });
  if (error.code === "LOGSHIP_LOG_RECORD_TOO_LARGE") return new IngestError("LOGSHIP_LOG_RECORD_TOO_LARGE", error.message, { cause: error });
  return new IngestError("LOGSHIP_LOG_UNAVAILABLE", error.message, { cause: error, retryAfterSeconds: 1 });
}
