/**
 * Test helper: a collector in this process on 127.0.0.1 port 0 over a temp
 * data_dir, and an ingest client (undici).
 */
import type { FileHandle } from "node:fs/promises";
import { Readable } from "node:stream";
import { createZstdCompress } from "node:zlib";
import { request } from "undici";
import { collectorConfigSchema } from "../config.ts";
import { startCollector, type RunningCollector } from "../main.ts";
import { silentLogger, type Logger } from "../../shared/logger.ts";
import type { SyncFunction } from "../log/tenant-log.ts";
import type { Sink } from "../sinks/types.ts";

export const INGEST_TOKEN = "ingest-secret";
export const SEARCH_TOKEN = "search-secret";
export const PAYMENTS_TOKEN = "payments-secret";

export interface TestCollectorOptions {
  dataDir: string;
  /** Merged over the test config (tokens, listen and data_dir are set). */
  config?: Record<string, unknown>;
  sync?: SyncFunction;
  logger?: Logger;
  shutdownTimeoutMs?: number;
  /** Sinks fed from the log (default: those the config builds). */
  sinks?: readonly Sink[];
}

export function startTestCollector(options: TestCollectorOptions): Promise<RunningCollector> {
  const config = collectorConfigSchema.parse({
    listen: "127.0.0.1:0",
    data_dir: options.dataDir,
    tokens: [
      { token: INGEST_TOKEN, tenant: "default", role: "ingest" },
      { token: SEARCH_TOKEN, tenant: "default", role: "search" },
      { token: PAYMENTS_TOKEN, tenant: "payments", role: "admin" },
    ],
    ...options.config,
  });
  return startCollector({
    config,
    logger: options.logger ?? silentLogger,
    ...(options.sync === undefined ? {} : { sync: options.sync }),
    ...(options.shutdownTimeoutMs === undefined ? {} : { shutdownTimeoutMs: options.shutdownTimeoutMs }),
    ...(options.sinks === undefined ? {} : { sinks: options.sinks }),
  });
}

export interface IngestResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  json: Record<string, unknown>;
}

/** POST /v1/ingest with a token and `Content-Encoding: zstd` unless `headers` says otherwise. */
export async function postBatch(url: string, body: Buffer | AsyncIterable<Buffer>, headers: Record<string, string | undefined> = {}): Promise<IngestResponse> {
  const all: Record<string, string> = {};
  for (const [name, value] of Object.entries({ authorization: `Bearer ${INGEST_TOKEN}`, "content-encoding": "zstd", ...headers })) {
    if (value !== undefined) all[name] = value;
  }
  const response = await request(`${url}/v1/ingest`, { method: "POST", headers: all, body: Buffer.isBuffer(body) ? body : Readable.from(body) });
  const text = await response.body.text();
  return { status: response.statusCode, headers: response.headers, json: text === "" ? {} : (JSON.parse(text) as Record<string, unknown>) };
}

/** A sync that waits until `open()` is called (to hold appends in flight). */
export function gatedSync(): { sync: SyncFunction; open: () => void; syncs: () => number } {
  let opened = false;
  let count = 0;
  const waiting: (() => void)[] = [];
  return {
    sync: async (file: FileHandle) => {
      if (!opened) await new Promise<void>((resolve) => waiting.push(resolve));
      await file.datasync();
      count++;
    },
    open: () => {
      opened = true;
      for (const wake of waiting.splice(0)) wake();
    },
    syncs: () => count,
  };
}

/** zstd of `bytes` zeros, compressed as a stream (the input never exists in memory). 1 GiB → ~32 KiB. */
export async function zipBomb(bytes: number): Promise<Buffer> {
  const compressor = createZstdCompress();
  const chunks: Buffer[] = [];
  compressor.on("data", (chunk: Buffer) => chunks.push(chunk));
  const ended = new Promise<void>((resolve, reject) => {
    compressor.on("end", resolve);
    compressor.on("error", reject);
  });
  const zeros = Buffer.alloc(1 << 20);
  for (let written = 0; written < bytes; written += zeros.length) {
    if (!compressor.write(zeros.subarray(0, Math.min(zeros.length, bytes - written)))) {
      await new Promise<void>((resolve) => compressor.once("drain", resolve));
    }
  }
  compressor.end();
  await ended;
  return Buffer.concat(chunks);
}

/** Polls `condition` every 5 ms until true (test synchronisation, not timing). */
export async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
