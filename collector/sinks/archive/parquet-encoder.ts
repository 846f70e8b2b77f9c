/**
 * Parquet encoding on a worker thread (parquet-encoder-worker.ts), so that
 * the sink runner's reading and decoding of the log (main thread) and the
 * encoding and zstd compression of row groups use two cores: the encoding
 * is most of the archive's CPU time (a CPU profile of
 * bench/archive.bench.ts). A ParquetFile (parquet-file.ts) sends its
 * requests here and writes the bytes each answer carries.
 *
 * - One thread per encoder (one per configured format), started with the
 *   first request, serving every open file of the sink one request at a
 *   time; its memory is the row group it encodes.
 * - The thread is ref'd only while a request waits: an idle encoder never
 *   keeps the process alive.
 * - A thread that dies (out of memory, a crash in node:zlib) fails its
 *   waiting requests with ParquetEncoderError; the files it held are gone
 *   (their next request fails the same way, so the sink drops them and
 *   answers `retry`), and the next request starts another thread.
 *
 * Where the thread's code is: beside this module when running from the
 * sources (`parquet-encoder-worker.ts`); in a bundle,
 * `parquet-encoder-worker.mjs` is an entry of its own beside the main one
 * (bench/bundle.ts emits it), this code in that directory or in its
 * `chunks/`; in the single executable (packaging/build-sea.ts) it is the
 * SEA asset `parquet-encoder-worker.cjs`, started as source (`eval`).
 */
import { Worker } from "node:worker_threads";
import { bundledWorkerAsset, startBundledWorker } from "../../../shared/bundled-worker.ts";
import { LogshipError } from "../../../shared/errors.ts";
import type { PackedRowGroup } from "./parquet-rows.ts";

export type ParquetCompression = "zstd" | "snappy";

export type EncoderRequest =
  | { id: number; kind: "open"; file: number; compression: ParquetCompression; zstdLevel: number }
  | { id: number; kind: "rowGroup"; file: number; rows: PackedRowGroup }
  | { id: number; kind: "finish"; file: number }
  | { id: number; kind: "drop"; file: number };

/** The file's next bytes (empty for `drop`), or why the thread could not encode them (the stack). */
export type EncoderAnswer = { id: number; bytes: Uint8Array } | { id: number; failure: string };

/** Distributes the union over its members: each request without its `id`. */
type WithoutId<T> = T extends unknown ? Omit<T, "id"> : never;

/** Encoding failed: the thread threw or died. The file cannot be completed; the sink drops it and reads its events again. */
export class ParquetEncoderError extends LogshipError {
  constructor(message: string) {
    super("LOGSHIP_PARQUET_ENCODER", message);
    this.name = "ParquetEncoderError";
  }
}

interface Pending {
  resolve(bytes: Uint8Array): void;
  reject(error: Error): void;
}

export class ParquetEncoder {
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private readonly workerUrl: URL | undefined;
  private nextRequestId = 0;
  private nextFileId = 0;

  /** `workerUrl`: the thread's module (default: found as the module doc says); tests give one that dies. */
  constructor(options: { workerUrl?: URL } = {}) {
    this.workerUrl = options.workerUrl;
  }

  /** A new file's id for its requests. */
  newFile(): number {
    return this.nextFileId++;
  }

  /** Sends the request; resolves with the bytes to append to the file, rejects with ParquetEncoderError. `transfer`: the request's buffers, handed over without a copy. */
  request(request: WithoutId<EncoderRequest>, transfer: ArrayBuffer[] = []): Promise<Uint8Array> {
    const worker = this.worker ?? this.start();
    const id = this.nextRequestId++;
    return new Promise<Uint8Array>((resolve, reject) => {
      if (this.pending.size === 0) worker.ref();
      this.pending.set(id, { resolve, reject });
      try {
        worker.postMessage({ ...request, id }, transfer);
      } catch (error) {
        // Not sent (a value postMessage cannot clone: a bug): nothing will answer it.
        this.pending.delete(id);
        if (this.pending.size === 0) worker.unref();
        throw error;
      }
    });
  }

  private start(): Worker {
    const worker = this.workerUrl !== undefined ? new Worker(this.workerUrl, { name: "logship-parquet" }) : startBundledWorker(PARQUET_ENCODER_WORKER);
    worker.unref();
    worker.on("message", (answer: EncoderAnswer) => {
      const pending = this.pending.get(answer.id);
      if (pending === undefined) return;
      this.pending.delete(answer.id);
      if (this.pending.size === 0) worker.unref();
      if ("bytes" in answer) pending.resolve(answer.bytes);
      else pending.reject(new ParquetEncoderError(`the parquet encoder failed: ${answer.failure}`));
    });
    worker.on("error", (error) => this.lost(worker, error));
    worker.on("exit", (code) => this.lost(worker, new Error(`exited with code ${code}`)));
    this.worker = worker;
    return worker;
  }

  /** The thread died: whatever waits on it fails, and the next request starts another. */
  private lost(worker: Worker, error: Error): void {
    if (this.worker !== worker) return;
    this.worker = null;
    const failure = new ParquetEncoderError(`the parquet encoder thread died (${error.message}); its open files are lost`);
    for (const pending of this.pending.values()) pending.reject(failure);
    this.pending.clear();
    void worker.terminate();
  }
}

/** The encoder thread's entry; its SEA asset holds its code (one CommonJS file) in the single executable. */
const PARQUET_ENCODER_WORKER = { entry: "parquet-encoder-worker", moduleUrl: import.meta.url, threadName: "logship-parquet" };
export const PARQUET_ENCODER_WORKER_ASSET = bundledWorkerAsset(PARQUET_ENCODER_WORKER.entry);
