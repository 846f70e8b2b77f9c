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
import { parentPort } from "node:worker_threads";
import { decodeBatch, type DecodeLimits } from "./decode.ts";
import { IngestError } from "./errors.ts";
import type { DecodeAnswer, DecodeRequest } from "./decode-pool.ts";

const port = parentPort;
if (port === null) throw new Error("decode-worker.ts runs as a worker thread (decode-pool.ts starts it)");
setFlagsFromString("--expose-gc");
const collectYoung = runInNewContext("gc") as (options: { type: "minor" }) => void;
/** Dead payload bytes a thread holds at most before it collects them (one scavenge per this much: ~8 batches of 1 MiB). */
const COLLECT_EVERY_BYTES = 8 * 1024 * 1024;
let decodedBytes = 0;

port.on("message", (request: DecodeRequest) => {
  const body = Buffer.from(request.body.buffer, request.body.byteOffset, request.body.byteLength);
  let answer: DecodeAnswer;
  try {
    answer = { id: request.id, summary: decodeBatch(body, request.limits satisfies DecodeLimits) };
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
