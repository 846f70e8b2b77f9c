/**
 * A Parquet encoder thread that dies (exit code 3) on a row group whose
 * first message starts with "\u0000" and encodes every other request as the
 * real thread does, for the tests of parquet-encoder.ts: a thread that dies
 * fails the files it held, and the next file gets a new thread.
 */
import { parentPort } from "node:worker_threads";
import type { EncoderRequest } from "../sinks/archive/parquet-encoder.ts";

parentPort?.on("message", (request: EncoderRequest) => {
  if (request.kind === "rowGroup" && request.rows.message.bytes[0] === 0) process.exit(3);
});
await import("../sinks/archive/parquet-encoder-worker.ts");
