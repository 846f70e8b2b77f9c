/**
 * Storing one ingest request's body for a tenant: decode and check it
 * (decode.ts; touches nothing shared), claim its (agent, seq) in the
 * idempotence table, append it to the log as received, and report the
 * outcome once it is durable. HTTP lives in server.ts. The log is either
 * backend (`BatchLog`): the embedded log (durable = fdatasynced) or the
 * Kafka log (durable = acknowledged by Kafka with acks=all).
 */
import type { Logger } from "../../shared/logger.ts";
import type { BatchSummary } from "../../shared/wire/batch.ts";
import { LogError } from "../log/errors.ts";
import type { AppendInput, Appended } from "../log/tenant-log.ts";
import type { DecodeLimits } from "./decode.ts";
import { DecodePool } from "./decode-pool.ts";
import type { DedupeIndex } from "./dedupe.ts";
import { IngestError } from "./errors.ts";
import { Semaphore } from "./semaphore.ts";

export type IngestOutcome =
  | { kind: "stored"; offset: number; events: number }
  /** Already stored earlier: nothing written. `offset` is null when the seq is below the agent's floor. */
  | { kind: "duplicate"; offset: number | null; events: number };

/** Where accepted batches go: resolves once the batch is durable; rejects with LogError. */
export interface BatchLog {
  append(tenant: string, input: AppendInput): Promise<Appended>;
}

export interface IngestServiceOptions {
  log: BatchLog;
  dedupe: DedupeIndex;
  limits: DecodeLimits;
  decompressConcurrency: number;
  /** Worker threads that decompress and check bodies (decode-pool.ts). */
  decodeThreads: number;
  logger: Logger;
}

/** How often a request waits for a concurrent copy of its batch before giving up with 503. */
const BUSY_WAITS_MAX = 5;

export class IngestService {
  private readonly options: IngestServiceOptions;
  private readonly decompressions: Semaphore;
  private readonly decoders: DecodePool;

  constructor(options: IngestServiceOptions) {
    this.options = options;
    this.decompressions = new Semaphore(options.decompressConcurrency);
    this.decoders = new DecodePool({ threads: options.decodeThreads, logger: options.logger });
  }

  /** Stops the decode workers; a request still decoding is refused with 503. */
  close(): Promise<void> {
    return this.decoders.close();
  }

  /** Stores `body` (a zstd-compressed wire v1 batch) for `tenant`. Throws IngestError. */
  async ingest(tenant: string, body: Buffer): Promise<IngestOutcome> {
    const release = await this.decompressions.acquire();
    let summary: BatchSummary;
    try {
      summary = await this.decoders.decode(body, this.options.limits);
    } finally {
      release();
    }
    const { agent, seq, floor } = summary.header;
    for (let waits = 0; waits <= BUSY_WAITS_MAX; waits++) {
      const claim = this.options.dedupe.claim(tenant, agent, seq, floor);
      if (claim.kind === "duplicate") return { kind: "duplicate", offset: claim.offset, events: summary.events };
      if (claim.kind === "busy") {
        await claim.settled;
        continue;
      }
      try {
        const appended = await this.options.log.append(tenant, {
          batch: body,
          events: summary.events,
          agent,
          seq,
          floor,
          observedMinMs: summary.observedMinMs,
          observedMaxMs: summary.observedMaxMs,
        });
        claim.commit(appended.baseOffset);
        return { kind: "stored", offset: appended.baseOffset, events: summary.events };
      } catch (error) {
        claim.release();
        throw storeError(error);
      }
    }
    throw new IngestError("LOGSHIP_LOG_UNAVAILABLE", "another copy of this batch keeps failing to be stored; retry later", { retryAfterSeconds: 1 });
  }
}

function storeError(error: unknown): Error {
  if (!(error instanceof LogError)) return error instanceof Error ? error : new Error(String(error));
  if (error.code === "LOGSHIP_LOG_CLOSED") return new IngestError("LOGSHIP_SHUTTING_DOWN", "the collector is shutting down; retry", { cause: error, retryAfterSeconds: 1 });
  if (error.code === "LOGSHIP_LOG_RECORD_TOO_LARGE") return new IngestError("LOGSHIP_LOG_RECORD_TOO_LARGE", error.message, { cause: error });
  return new IngestError("LOGSHIP_LOG_UNAVAILABLE", error.message, { cause: error, retryAfterSeconds: 1 });
}
