/**
 * Test and benchmark helper: wire v1 batches as an agent sends them (raw
 * line segments, zstd-compressed body).
 */
import { zstdCompressSync } from "node:zlib";
import { encodePayload, rawSegment, type BatchHeader } from "../../shared/wire/batch.ts";

export interface TestBatchOptions {
  agent?: string;
  host?: string;
  seq: number;
  floor?: number;
  /** Lines without "\n". */
  lines: readonly string[];
  streamKey?: string;
  path?: string;
  /** Byte offset of the first line in its file. */
  baseOffset?: number;
  observedMs?: number;
}

export interface TestBatch {
  header: Omit<BatchHeader, "streams">;
  payload: Buffer;
  /** The HTTP body: the payload compressed with zstd. */
  body: Buffer;
  events: number;
}

export function makeBatch(options: TestBatchOptions): TestBatch {
  const header = {
    agent: options.agent ?? "agent-1",
    host: options.host ?? "web-1",
    seq: options.seq,
    floor: options.floor ?? 0,
    created_ms: options.observedMs ?? 1_764_000_000_000,
  };
  const lines = Buffer.from(options.lines.map((line) => `${line}\n`).join(""), "utf8");
  const segment = rawSegment(0, options.observedMs ?? 1_764_000_000_000, options.baseOffset ?? 0, options.lines.length, lines, false);
  const stream = { key: options.streamKey ?? "stream-key-0000000000", source: "app", path: options.path ?? "/var/log/app.log", fields: {} };
  const payload = encodePayload({ ...header, streams: options.lines.length === 0 ? [] : [stream] }, options.lines.length === 0 ? [] : [segment]);
  return { header, payload, body: zstdCompressSync(payload), events: options.lines.length };
}

/** Numbered lines "<prefix> <n>" for n in [from, from + count). */
export function numberedLines(prefix: string, from: number, count: number): string[] {
  return Array.from({ length: count }, (_, index) => `${prefix} ${from + index}`);
}
