/**
 * From a request body to a checked batch: zstd frames whole, decompressed
 * (stopped at `batchBytesMax` so a zip bomb costs at most that much memory),
 * wire v1 validated (CRC, structure), header and limits checked. Pure: no
 * state outside this request is touched, so a bad request cannot affect
 * others. It runs in the decode worker threads (decode-pool.ts), where the
 * decompressed payload lives and dies: only the body's summary comes back.
 */
import { zstdDecompressSync } from "node:zlib";
import { WireError, validatePayload, type BatchSummary } from "../../shared/wire/batch.ts";
import { AGENT_ID_BYTES_MAX } from "../log/format.ts";
import { IngestError } from "./errors.ts";
import { checkZstdFrames } from "./zstd-frames.ts";

const DECOMPRESS_CHUNK_BYTES = 1024 * 1024;
/** zlib's smallest chunk size. */
const MIN_CHUNK_BYTES = 64;

export interface DecodeLimits {
  batchBytesMax: number;
  eventsMax: number;
}

/** Decompresses and validates `body`; throws IngestError (400 or 413). The decompressed payload is dropped on return. */
export function decodeBatch(body: Buffer, limits: DecodeLimits): BatchSummary {
  return decodePayload(body, limits).summary;
}

/** decodeBatch, keeping the decompressed payload (for the collector's transforms and routes, collector/routing/). */
export function decodePayload(body: Buffer, limits: DecodeLimits): { payload: Buffer; summary: BatchSummary } {
  const frames = checkZstdFrames(body);
  if (!frames.ok) throw new IngestError(frames.truncated ? "LOGSHIP_INGEST_ZSTD_TRUNCATED" : "LOGSHIP_INGEST_ZSTD", frames.reason);
  if (frames.contentBytes !== null && frames.contentBytes > limits.batchBytesMax) {
    throw new IngestError("LOGSHIP_INGEST_BATCH_TOO_LARGE", `batch declares ${frames.contentBytes} bytes decompressed; ingest.max_batch_bytes is ${limits.batchBytesMax}`);
  }
  const payload = decompressBounded(body, limits.batchBytesMax, frames.contentBytes);
  let summary: BatchSummary;
  try {
    summary = validatePayload(payload);
  } catch (error) {
    if (error instanceof WireError) throw new IngestError("LOGSHIP_WIRE", error.message, { cause: error });
    throw error;
  }
  checkHeader(summary, limits);
  return { payload, summary };
}

/**
 * Output goes into pieces of `chunkSize` bytes; the default 16 KiB would
 * cut a MiB into 64. So: one piece of the declared size (+1, so the
 * decompressor never finds it full), else DECOMPRESS_CHUNK_BYTES pieces.
 */
function decompressBounded(body: Buffer, batchBytesMax: number, declaredBytes: number | null): Buffer {
  const chunkSize = Math.max(MIN_CHUNK_BYTES, Math.min(declaredBytes === null ? DECOMPRESS_CHUNK_BYTES : declaredBytes + 1, batchBytesMax));
  try {
    return zstdDecompressSync(body, { maxOutputLength: batchBytesMax, chunkSize });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ERR_BUFFER_TOO_LARGE") {
      throw new IngestError("LOGSHIP_INGEST_BATCH_TOO_LARGE", `batch decompresses to more than ingest.max_batch_bytes (${batchBytesMax} bytes)`);
    }
    throw new IngestError("LOGSHIP_INGEST_ZSTD", `zstd decompression failed: ${(error as Error).message}`, { cause: error });
  }
}

function checkHeader(summary: BatchSummary, limits: DecodeLimits): void {
  const { header } = summary;
  if (summary.events > limits.eventsMax) {
    throw new IngestError("LOGSHIP_INGEST_TOO_MANY_EVENTS", `batch has ${summary.events} events; ingest.max_events is ${limits.eventsMax}`);
  }
  if (Buffer.byteLength(header.agent, "utf8") > AGENT_ID_BYTES_MAX) {
    throw new IngestError("LOGSHIP_INGEST_HEADER", `agent id is longer than ${AGENT_ID_BYTES_MAX} bytes`);
  }
  if (header.seq < 0 || header.floor < 0 || header.seq < header.floor) {
    throw new IngestError("LOGSHIP_INGEST_HEADER", `seq ${header.seq} and floor ${header.floor} must be ≥ 0 with floor ≤ seq`);
  }
}
