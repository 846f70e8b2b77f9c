/**
 * zstd compression of batch payloads with long-lived contexts: a few
 * `ZstdCompress` streams, each turning one payload into one whole zstd frame
 * (every write ends a frame: `flush: ZSTD_e_end`; the payload arrives in one
 * piece, so the frame header declares its content size, as with
 * `zstdCompress`). Compression runs on libuv's thread pool, off the main
 * thread.
 *
 * Why not `zstdCompress` per batch: Node 24.9 frees a zstd context's native
 * memory (megabytes for a 1 MiB payload) only when its JavaScript wrapper is
 * garbage-collected, and does not report that memory to V8 (nodejs/node#61717
 * changes both). V8 sees almost nothing to collect, so at tens of batches a
 * second dead contexts piled up: the agent's RSS climbed by ~60 MB in 30 s at
 * 50 MB/s, and a loop of 600 compressions of 1 MiB grew a process by 280 MB.
 * Here each context lives as long as the agent.
 *
 * Limit: at most `contexts` compressions at once (callers wait for a free
 * context); each context keeps its native memory for the agent's life.
 *
 * The stream writes its output into a CHUNK_BYTES buffer and, once that is
 * full, into a new one; the full one is never written again, and once a
 * batch's chunks are copied into its frame nothing reads it either. Left
 * to the garbage collector, these buffers (about a frame's worth per batch)
 * live until the next full collection: V8 promotes them while a batch is in
 * flight and collects them only when its old generation fills, and at
 * 150 MB/s they piled up by tens of megabytes between two collections and
 * set the agent's peak RSS (docs/ARCHITECTURE.md, agent memory). So they
 * are freed at once (`releaseRetired`).
 */
import { constants, ZstdCompress } from "node:zlib";
import { detach } from "../../shared/detach.ts";

const ZSTD_MAGIC = 0xfd2fb528;
/**
 * zstd output per round trip to the thread pool. With node:zlib's default
 * (16 KiB) a batch took a dozen round trips, and their callbacks stood
 * high in a profile of the agent's main thread.
 */
const CHUNK_BYTES = 128 * 1024;

/** zstd's match-finding strategies, fastest first; `auto` keeps the one the level implies. */
export const ZSTD_STRATEGIES = {
  auto: 0,
  fast: constants.ZSTD_fast,
  dfast: constants.ZSTD_dfast,
  greedy: constants.ZSTD_greedy,
  lazy: constants.ZSTD_lazy,
  lazy2: constants.ZSTD_lazy2,
  btlazy2: constants.ZSTD_btlazy2,
  btopt: constants.ZSTD_btopt,
  btultra: constants.ZSTD_btultra,
  btultra2: constants.ZSTD_btultra2,
} as const;

export type ZstdStrategy = keyof typeof ZSTD_STRATEGIES;

export interface CompressionSettings {
  level: number;
  strategy: ZstdStrategy;
}

/** zstd parameters of a setting: the level, and the strategy over the level's own where one is named. */
export function zstdParams(settings: CompressionSettings): Record<number, number> {
  const params: Record<number, number> = { [constants.ZSTD_c_compressionLevel]: settings.level };
  if (settings.strategy !== "auto") params[constants.ZSTD_c_strategy] = ZSTD_STRATEGIES[settings.strategy];
  return params;
}

interface Context {
  stream: ZstdCompress;
  chunks: Buffer[];
}

/**
 * Free (detach) the stream's output buffers that `chunks` were cut from,
 * except the one it writes into now: the last chunk's. A buffer is freed
 * only when it is one of the stream's own (exactly CHUNK_BYTES, each
 * allocated on its own), never a slice of Node's shared pool. The caller
 * holds no other reference to `chunks`.
 */
function releaseRetired(chunks: readonly Buffer[]): void {
  const current = chunks.at(-1)?.buffer;
  const retired = new Set<ArrayBuffer>();
  for (const chunk of chunks) {
    const buffer = chunk.buffer;
    if (buffer !== current && buffer instanceof ArrayBuffer && buffer.byteLength === CHUNK_BYTES) retired.add(buffer);
  }
  for (const buffer of retired) detach(buffer);
}

export class BatchCompressor {
  private readonly params: Record<number, number>;
  private readonly contextsMax: number;
  private readonly idle: Context[] = [];
  private contexts = 0;
  private readonly waiters: ((context: Context) => void)[] = [];

  constructor(options: CompressionSettings & { contexts: number }) {
    if (!(options.contexts >= 1)) throw new Error("assertion failed: at least one compression context");
    this.params = zstdParams(options);
    this.contextsMax = options.contexts;
  }

  /** One zstd frame holding `payload`. `payload` is not read any more once this settles. */
  async compress(payload: Buffer): Promise<Buffer> {
    const context = await this.acquire();
    let frame: Buffer;
    try {
      frame = await new Promise<Buffer>((resolve, reject) => {
        context.stream.write(payload, (error) => {
          if (error) return reject(error);
          // A write's output is pushed before its callback; wait one turn so that output
          // buffered by the readable side (were it not emitted at once) is in `chunks` too.
          setImmediate(() => {
            const chunks = context.chunks;
            context.chunks = [];
            // Always a copy: zstd's output chunks are slices of one CHUNK_BYTES buffer that
            // the next batches write on, which a cached spool record would otherwise pin.
            const copy = Buffer.concat(chunks);
            releaseRetired(chunks);
            resolve(copy);
          });
        });
      });
      if (frame.length < 4 || frame.readUInt32LE(0) !== ZSTD_MAGIC) throw new Error("assertion failed: a compressed batch does not start a zstd frame");
    } catch (error) {
      // A context that failed is not reused: its state is unknown.
      context.stream.destroy();
      this.contexts--;
      this.handOver();
      throw error;
    }
    this.release(context);
    return frame;
  }

  /** Free the idle contexts (their native memory goes when they are collected). */
  close(): void {
    for (const context of this.idle.splice(0)) {
      context.stream.destroy();
      this.contexts--;
    }
  }

  private acquire(): Promise<Context> {
    const context = this.idle.pop();
    if (context !== undefined) return Promise.resolve(context);
    if (this.contexts < this.contextsMax) return Promise.resolve(this.create());
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private create(): Context {
    this.contexts++;
    const stream = new ZstdCompress({ flush: constants.ZSTD_e_end, params: this.params, chunkSize: CHUNK_BYTES });
    const context: Context = { stream, chunks: [] };
    stream.on("data", (chunk: Buffer) => context.chunks.push(chunk));
    // Errors reach the write callback; without a listener the 'error' event would also be thrown.
    stream.on("error", () => {});
    return context;
  }

  private release(context: Context): void {
    const waiter = this.waiters.shift();
    if (waiter !== undefined) waiter(context);
    else this.idle.push(context);
  }

  /** A context was dropped: a waiter gets a new one. */
  private handOver(): void {
    const waiter = this.waiters.shift();
    if (waiter !== undefined) waiter(this.create());
  }
}
