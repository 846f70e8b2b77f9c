/**
 * A decode worker that dies (exit code 3) on a body whose first byte is 0x00
 * and decodes every other one as the real worker does, for the tests of
 * decode-pool.ts: a crash in the worker must fail only the bodies it held.
 */
import { parentPort } from "node:worker_threads";
import type { DecodeRequest } from "../ingest/decode-pool.ts";

parentPort?.on("message", (request: DecodeRequest) => {
  if (request.body[0] === 0) process.exit(3);
});
await import("../ingest/decode-worker.ts");
