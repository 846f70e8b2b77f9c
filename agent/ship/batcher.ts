/**
 * Batcher: the tailer's BlockOutput. Gathers blocks into batches bounded by
 * `batch.max_bytes` (uncompressed), `batch.max_events` and `batch.linger`,
 * compresses each with zstd (node:zlib, on libuv's thread pool: off the main
 * thread; long-lived contexts, see compressor.ts) and writes it to the spool. `send` resolves once the block is in a
 * batch being built; it waits while compression or the spool is behind
 * (backpressure reaches the tailer, which stops reading).
 *
 * Blocks are acknowledged (their checkpoints may move) when the batch that
 * holds them is acknowledged by a collector — see Agent.
 */
import type { BlockOutput, EventBlock } from "../events.ts";
import { BatchBuilder, type BuiltBatch } from "./batch-builder.ts";
import { BatchCompressor, type CompressionSettings } from "./compressor.ts";
import type { Spool, SpoolRecord } from "../spool/spool.ts";
import { BufferPool } from "../../shared/buffer-pool.ts";

const PAYLOAD_SLACK_BYTES = 512 * 1024;

export interface BatcherOptions {
  bytesMax: number;
  eventsMax: number;
  lingerMs: number;
  compression: CompressionSettings;
  host: string;
  spool: Spool;
  /** Called with each spooled batch and the acks of its blocks. */
  onSpooled: (record: SpoolRecord, acks: (() => void)[]) => void;
  /** Compressions running at once (each holds one batch in memory). */
  compressionsMax: number;
}

export class Batcher implements BlockOutput {
  private readonly options: BatcherOptions;
  private builder = new BatchBuilder();
  /** One zstd context per compression in progress, kept for the agent's life. */
  private readonly compressor: BatchCompressor;
  /** Payload buffers (one per compression in progress), reused: see BufferPool. */
  private readonly payloads: BufferPool;
  private lingerTimer: NodeJS.Timeout | null = null;
  /** Batches being compressed/spooled, in seq order. */
  private inFlight: Promise<void>[] = [];
  private lastSpooled: Promise<void> = Promise.resolve();
  private failure: unknown = null;
  compressedBytes = 0;
  uncompressedBytes = 0;

  constructor(options: BatcherOptions) {
    this.options = options;
    this.compressor = new BatchCompressor({ ...options.compression, contexts: options.compressionsMax });
    // A batch closes once it reaches bytesMax; the block that crossed it can add up to one read's worth more.
    this.payloads = new BufferPool(options.bytesMax + PAYLOAD_SLACK_BYTES, options.compressionsMax + 1);
  }

  async send(block: EventBlock): Promise<void> {
    if (this.failure !== null) throw this.failure;
    this.builder.add(block, Date.now());
    if (this.builder.bytes >= this.options.bytesMax || this.builder.events >= this.options.eventsMax) {
      await this.flush();
    } else if (this.lingerTimer === null) {
      this.lingerTimer = setTimeout(() => {
        this.lingerTimer = null;
        this.flush().catch((error: unknown) => (this.failure = error));
      }, this.options.lingerMs);
    }
  }

  /** Close the batch being built and hand it to compression; waits while too many are in progress. */
  async flush(): Promise<void> {
    if (this.lingerTimer !== null) {
      clearTimeout(this.lingerTimer);
      this.lingerTimer = null;
    }
    if (this.builder.empty) return;
    while (this.inFlight.length >= this.options.compressionsMax) await Promise.race(this.inFlight);
    const spool = this.options.spool;
    const seq = await spool.allocateSeq();
    // Another flush (the linger timer) may have taken the batch meanwhile; the seq then stays unused (gaps are fine).
    if (this.builder.empty) {
      spool.abandonSeq(seq);
      return;
    }
    let pooled: Buffer | null = null;
    const built = this.builder.build({ agent: spool.agentId, host: this.options.host, seq, floor: spool.persistedFloor, created_ms: Date.now() }, (bytes) => (pooled = this.payloads.acquire(bytes)));
    const done = this.compressAndSpool(seq, built, () => {
      if (pooled !== null) this.payloads.release(pooled);
    });
    this.inFlight.push(done);
    void done.finally(() => {
      this.inFlight = this.inFlight.filter((promise) => promise !== done);
    });
    await (this.failure === null ? Promise.resolve() : Promise.reject(this.failure));
  }

  private async compressAndSpool(seq: number, built: BuiltBatch, releasePayload: () => void): Promise<void> {
    try {
      let compressed: Buffer;
      try {
        compressed = await this.compressor.compress(built.payload);
      } finally {
        releasePayload();
      }
      this.uncompressedBytes += built.payload.length;
      this.compressedBytes += compressed.length;
      // Spool in seq order, whichever compression finishes first.
      const previous = this.lastSpooled;
      let spooled!: () => void;
      this.lastSpooled = new Promise((resolve) => (spooled = resolve));
      try {
        await previous;
        const record = await this.options.spool.append(seq, built.events, built.ranges, compressed);
        this.options.onSpooled(record, built.acks);
      } finally {
        spooled();
      }
    } catch (error) {
      this.failure ??= error;
      throw error;
    }
  }

  /** Flush what is buffered and wait until every batch is spooled. */
  async drain(): Promise<void> {
    await this.flush();
    await Promise.allSettled(this.inFlight);
    if (this.failure !== null) throw this.failure;
  }
}
