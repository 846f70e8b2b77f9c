/**
 * A decode worker thread (decode-pool.ts): takes request bodies, answers
 * each with its batch summary or the IngestError that refuses it. One at a
 * time, in arrival order. The decompressed payloads are allocated and
 * collected on this thread's small heap, not on the collector's main one.
 *
 * After every COLLECT_EVERY_BYTES of payload, a minor GC (a scavenge of
 * this thread's young generation) frees the dead payloads' buffers. Without
 * it the
 * thread allocates almost no JavaScript, so no scavenge comes, and dead
 * ~1 MiB payloads piled up until V8's external-memory limit forced a full
 * collection, and the collector's peak RSS in bench/ingest.bench.ts
 * (collector_peak_rss_mb) roughly doubled. `gc` is reached through a fresh context with
 * --expose-gc set at run time, which leaves every other context as it was.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { parentPort, workerData } from "node:worker_threads";
import { WireError } from "../../shared/wire/batch.ts";
import { BatchProcessor, type ProcessingConfig } from "../routing/processing.ts";
import { decodePayload, type DecodeLimits } from "./decode.ts";
import { IngestError } from "./errors.ts";
import type { DecodeAnswer, DecodeRequest } from "./decode-pool.ts";

const port = parentPort;
if (port === null) throw new Error("decode-worker.ts runs as a worker thread (decode-pool.ts starts it)");
setFlagsFromString("--expose-gc");
const collectYoung = runInNewContext("gc") as (options: { type: "minor" }) => void;
/** Dead payload bytes a thread holds at most before it collects them (one scavenge per this much: ~8 batches of 1 MiB). */
const COLLECT_EVERY_BYTES = 8 * 1024 * 1024;
let decodedBytes = 0;
/** The collector's transforms and routes (decode-pool.ts passes them when the config has any), compiled once. */
const processor = workerData === null || workerData === undefined ? null : new BatchProcessor(workerData as ProcessingConfig);

port.on("message", (request: DecodeRequest) => {
  const body = Buffer.from(request.body.buffer, request.body.byteOffset, request.body.byteLength);
  let answer: DecodeAnswer;
  try {
    answer = decodeAnswer(request.id, body, request.limits);
  } catch (error) {
    answer =
      error instanceof IngestError
        ? { id: request.id, refusal: { code: error.code, message: error.message } }
        : { id: request.id, failure: error instanceof Error ? (error.stack ?? error.message) : String(error) };
  }
  port.postMessage(answer);
  decodedBytes += "summary" in answer ? answer.summary.payloadBytes : 0;
  if (decodedBytes >= COLLECT_EVERY_BYTES) {
    decodedBytes = 0;
    collectYoung({ type: "minor" });
  }
});

function decodeAnswer(id: number, body: Buffer, limits: DecodeLimits): DecodeAnswer {
  const { payload, summary } = decodePayload(body, limits);
  if (processor === null) return { id, summary };
  try {
    return { id, summary, processed: processor.process(payload, summary, Date.now()) };
  } catch (error) {
    // validatePayload checks the structure only; an event record that does not decode is the same refusal as a bad CRC.
    if (error instanceof WireError) throw new IngestError("LOGSHIP_WIRE", error.message, { cause: error });
    throw error;
  }
}
