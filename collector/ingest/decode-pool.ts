/**
 * Decoding ingest bodies on worker threads. Each batch is decompressed into
 * a fresh ~1 MiB buffer that lives for a few milliseconds; on the main
 * thread those buffers drove V8 into frequent full collections of the
 * collector's whole heap (a CPU profile of bench/ingest.bench.ts), and the
 * CRC and structure checks ran there too. A worker's heap holds almost
 * nothing, so its collections are cheap, and the main thread keeps HTTP,
 * idempotence and the log. bench/ingest.bench.ts prints what it gives.
 *
 * - `threads` workers (config `ingest.decode_threads`), started on the first
 *   batch that finds every running one busy; each decodes one body at a
 *   time (decode-worker.ts), so at most `threads` decompressed payloads
 *   exist at once. The body is copied to the worker (structured clone,
 *   ~150 KB); the original stays here to be appended to the log as received.
 * - With the collector's transforms or routes (`processing`, given to each
 *   worker as `workerData`), a worker also splits the batch into stream
 *   parts (collector/routing/split.ts) and sends those back (compressed).
 * - A body goes to the worker with the fewest bodies waiting.
 * - A worker that dies (a crash in Node's zstd, out of memory) fails the
 *   bodies it held with an error (500, which agents retry), is logged, and
 *   is replaced on demand. Nothing else is affected.
 * - Workers are unref'd: they never keep the process alive; `close()`
 *   terminates them.
 *
 * Where the worker's code is: beside this module when running from the
 * sources (`decode-worker.ts`); in a bundle, `decode-worker.mjs` is an entry
 * of its own beside the main one (bench/bundle.ts emits it), and this code
 * sits either in that directory or in its `chunks/`; in the single
 * executable (packaging/build-sea.ts) there are no files at all: the
 * worker's code is the SEA asset `decode-worker.cjs`, started as source
 * (`eval`).
 */
import { Worker } from "node:worker_threads";
import { bundledWorkerAsset, startBundledWorker } from "../../shared/bundled-worker.ts";
import type { Logger } from "../../shared/logger.ts";
import type { BatchSummary } from "../../shared/wire/batch.ts";
import type { ProcessedBatch, ProcessingConfig } from "../routing/processing.ts";
import type { DecodeLimits } from "./decode.ts";
import { IngestError, type IngestErrorCode } from "./errors.ts";

export interface DecodeRequest {
  id: number;
  body: Uint8Array;
  limits: DecodeLimits;
}

export type DecodeAnswer =
  /** `processed` when the pool has transforms or routes (collector/routing/). */
  | { id: number; summary: BatchSummary; processed?: ProcessedBatch }
  | { id: number; refusal: { code: IngestErrorCode; message: string } }
  /** Not a refusal of the body: a bug or a resource failure in the worker (the stack). */
  | { id: number; failure: string };

/** A checked body: its summary and, with transforms or routes, its stream parts. */
export interface Decoded {
  summary: BatchSummary;
  processed: ProcessedBatch | null;
}

interface Pending {
  resolve(decoded: Decoded): void;
  reject(error: Error): void;
}

interface DecodeThread {
  worker: Worker;
  pending: Map<number, Pending>;
}

export interface DecodePoolOptions {
  threads: number;
  logger: Logger;
  /** The worker's module (default: decode-worker.ts or .mjs, found as below); tests give a failing one. */
  workerUrl?: URL;
  /** The collector's transforms and routes, given to every worker; absent: bodies are only checked (the fast path). */
  processing?: ProcessingConfig;
}

export class DecodePool {
  private readonly options: DecodePoolOptions;
  private readonly threads: DecodeThread[] = [];
  private nextId = 0;
  private closed = false;

  constructor(options: DecodePoolOptions) {
    this.options = options;
  }

  /** Worker threads running now (at most `threads`). */
  get workers(): number {
    return this.threads.length;
  }

  /** The body's summary (and parts); rejects with IngestError (400, 413) for a body it refuses, Error for a worker failure. */
  decode(body: Buffer, limits: DecodeLimits): Promise<Decoded> {
    if (this.closed) return Promise.reject(new IngestError("LOGSHIP_SHUTTING_DOWN", "the collector is shutting down; retry", { retryAfterSeconds: 1 }));
    const thread = this.pick();
    const id = this.nextId++;
    return new Promise<Decoded>((resolve, reject) => {
      thread.pending.set(id, { resolve, reject });
      thread.worker.postMessage({ id, body, limits } satisfies DecodeRequest);
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const threads = this.threads.splice(0);
    for (const thread of threads) this.fail(thread, new IngestError("LOGSHIP_SHUTTING_DOWN", "the collector is shutting down; retry", { retryAfterSeconds: 1 }));
    await Promise.all(threads.map((thread) => thread.worker.terminate()));
  }

  /** An idle worker, else a new one while under `threads`, else the one with the fewest bodies waiting. */
  private pick(): DecodeThread {
    let best: DecodeThread | undefined;
    for (const thread of this.threads) if (best === undefined || thread.pending.size < best.pending.size) best = thread;
    if (best !== undefined && (best.pending.size === 0 || this.threads.length >= this.options.threads)) return best;
    return this.start();
  }

  private start(): DecodeThread {
    const workerData = this.options.processing ?? null;
    const worker = this.options.workerUrl !== undefined ? new Worker(this.options.workerUrl, { name: "logship-decode", workerData }) : startBundledWorker(DECODE_WORKER, workerData);
    worker.unref();
    const thread: DecodeThread = { worker, pending: new Map() };
    worker.on("message", (answer: DecodeAnswer) => {
      const pending = thread.pending.get(answer.id);
      if (pending === undefined) return;
      thread.pending.delete(answer.id);
      if ("summary" in answer) pending.resolve({ summary: answer.summary, processed: answer.processed ?? null });
      else if ("refusal" in answer) pending.reject(new IngestError(answer.refusal.code, answer.refusal.message));
      else pending.reject(new Error(`the decode worker failed on this batch: ${answer.failure}`));
    });
    worker.on("error", (error) => this.lost(thread, error));
    worker.on("exit", (code) => this.lost(thread, new Error(`exited with code ${code}`)));
    this.threads.push(thread);
    return thread;
  }

  /** A worker died: its bodies fail (agents retry a 500), and the next batch starts another. */
  private lost(thread: DecodeThread, error: Error): void {
    const index = this.threads.indexOf(thread);
    if (index === -1) return;
    this.threads.splice(index, 1);
    this.options.logger.error("ingest decode worker died; its batches were refused with 500 (agents send them again) and another worker starts with the next batch", {
      reason: error.message,
      batches: thread.pending.size,
    });
    this.fail(thread, new Error(`the decode worker died: ${error.message}`));
    void thread.worker.terminate();
  }

  private fail(thread: DecodeThread, error: Error): void {
    for (const pending of thread.pending.values()) pending.reject(error);
    thread.pending.clear();
  }
}

/** The decode worker's entry; its SEA asset holds its code (one CommonJS file) in the single executable. */
const DECODE_WORKER = { entry: "decode-worker", moduleUrl: import.meta.url, threadName: "logship-decode" };
export const DECODE_WORKER_ASSET = bundledWorkerAsset(DECODE_WORKER.entry);
