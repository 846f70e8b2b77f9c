/**
 * The main thread's side of the thread that writes version 4 partitions
 * (block-writer-worker.ts, messages in block-writer-protocol.ts).
 *
 * - One thread per index, started with the first request, serving every
 *   file in arrival order. It is ref'd only while a commit waits: an idle
 *   index never keeps the process alive.
 * - `commit` resolves when the send is durable. A failure (the thread
 *   answers one, throws, or dies) rejects every waiting commit with
 *   IndexError LOGSHIP_INDEX_WRITER and the reason, tells `onLost` (the
 *   index drops what it holds in memory of version 4 files: it ran ahead
 *   of them) and ends the thread; the next request starts another, which
 *   starts from what is committed.
 * - `close` lets waiting commits finish, then ends the thread.
 *
 * Where the thread's code is: shared/bundled-worker.ts (beside this module
 * from the sources, `block-writer-worker.mjs` beside a bundle, the SEA
 * asset BLOCK_WRITER_WORKER_ASSET in the single executable).
 */
import { Worker } from "node:worker_threads";
import { bundledWorkerAsset, startBundledWorker } from "../../shared/bundled-worker.ts";
import { IndexError } from "./errors.ts";
import type { FileWork, WriterAnswer, WriterRequest } from "./block-writer-protocol.ts";

/** The writer thread's entry; its SEA asset holds its code (one CommonJS file) in the single executable. */
const BLOCK_WRITER_WORKER = { entry: "block-writer-worker", moduleUrl: import.meta.url, threadName: "logship-index-writer" };
export const BLOCK_WRITER_WORKER_ASSET = bundledWorkerAsset(BLOCK_WRITER_WORKER.entry);

interface Waiting {
  resolve(): void;
  reject(error: Error): void;
}

export class BlockWriter {
  private worker: Worker | null = null;
  private readonly waiting = new Map<number, Waiting>();
  private readonly workerUrl: URL | undefined;
  private readonly onLost: (reason: string) => void;
  private nextSend = 0;
  /** The end of the last thread that failed. */
  private ending: Promise<void> = Promise.resolve();
  /** Commits not answered yet (close waits for them). */
  private readonly inFlight = new Set<Promise<void>>();
  private closing: Promise<void> | undefined;

  /** `workerUrl`: the thread's module (default: found as the module doc says); tests give one that fails. */
  constructor(options: { onLost: (reason: string) => void; workerUrl?: URL }) {
    this.onLost = options.onLost;
    this.workerUrl = options.workerUrl;
  }

  /** A new send's number, for its chunks and its commit. */
  begin(): number {
    return this.nextSend++;
  }

  /** Part of a send, applied as soon as the thread gets to it. */
  chunk(send: number, files: FileWork[]): void {
    this.post({ kind: "chunk", send, files });
  }

  /** The send's last part; resolves once every file it touched is committed. */
  commit(send: number, files: FileWork[]): Promise<void> {
    const worker = this.worker ?? this.start();
    const committed = new Promise<void>((resolve, reject) => {
      if (this.waiting.size === 0) worker.ref();
      this.waiting.set(send, { resolve, reject });
      this.post({ kind: "commit", send, files });
    });
    this.inFlight.add(committed);
    const forget = (): void => void this.inFlight.delete(committed);
    committed.then(forget, forget);
    return committed;
  }

  /** Drops a send that will not be committed (its preparation failed): the thread rolls back its chunks. */
  abort(send: number): void {
    if (this.worker !== null) this.post({ kind: "abort", send });
  }

  /** The thread lets go of a file (deleted by retention, or no longer cached); resolves once it did (at once without a thread). */
  closeFile(file: string): Promise<void> {
    const worker = this.worker;
    if (worker === null) return Promise.resolve();
    const send = this.begin();
    return new Promise<void>((resolve, reject) => {
      if (this.waiting.size === 0) worker.ref();
      this.waiting.set(send, { resolve, reject });
      this.post({ kind: "close-file", send, file });
    });
  }

  /** Waits for the commits in flight, then closes the thread's files and ends it. */
  close(): Promise<void> {
    this.closing ??= this.closeThread();
    return this.closing;
  }

  private async closeThread(): Promise<void> {
    await Promise.allSettled(this.inFlight);
    const worker = this.worker;
    if (worker === null) return;
    const send = this.begin();
    const closed = new Promise<void>((resolve, reject) => this.waiting.set(send, { resolve, reject }));
    worker.ref();
    this.post({ kind: "close", send });
    await closed;
    this.worker = null;
    worker.removeAllListeners();
    await worker.terminate();
  }

  private post(request: WriterRequest): void {
    (this.worker ?? this.start()).postMessage(request);
  }

  /** Resolves once a failed thread has ended (at once when none did): a write starts its next thread only then. */
  ended(): Promise<void> {
    return this.ending;
  }

  private start(): Worker {
    const worker = this.workerUrl !== undefined ? new Worker(this.workerUrl, { name: "logship-index-writer" }) : startBundledWorker(BLOCK_WRITER_WORKER);
    worker.unref();
    worker.on("message", (answer: WriterAnswer) => {
      if ("failure" in answer) return this.lost(worker, answer.failure);
      const waiting = this.waiting.get(answer.send);
      if (waiting === undefined) return;
      this.waiting.delete(answer.send);
      if (this.waiting.size === 0) worker.unref();
      waiting.resolve();
    });
    worker.on("error", (error) => this.lost(worker, error.message));
    worker.on("exit", (code) => this.lost(worker, `the thread exited with code ${code}`));
    this.worker = worker;
    return worker;
  }

  /**
   * The thread failed: whatever waits fails, the index forgets what ran
   * ahead, the next request starts another thread. Both once the thread
   * has ended: its connections (and their locks) are gone then.
   */
  private lost(worker: Worker, reason: string): void {
    if (this.worker !== worker) return;
    this.worker = null;
    const failure = new IndexError("LOGSHIP_INDEX_WRITER", `the search index writer thread failed (${reason}); nothing since its last commit is stored`);
    const waiting = [...this.waiting.values()];
    this.waiting.clear();
    worker.removeAllListeners();
    const ended = worker.terminate().then(
      () => undefined,
      () => undefined,
    );
    this.ending = ended;
    void ended.then(() => {
      this.onLost(reason);
      for (const entry of waiting) entry.reject(failure);
    });
  }
}
