/**
 * A search index writer thread (collector/search/block-writer-worker.ts)
 * whose commits can be held, for the tests of the search sink's events in
 * flight: a commit whose events carry the token `holdcommit` in a message
 * waits (the thread blocks) until the file `writer.gate` is in the index
 * directory, then is written as the real thread writes it. Every other
 * request is served at once.
 */
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { parentPort } from "node:worker_threads";
import type { WriterRequest } from "../search/block-writer-protocol.ts";

/** How often a held commit looks for the gate. */
const GATE_POLL_MS = 10;

parentPort?.on("message", (request: WriterRequest) => {
  if (request.kind !== "commit") return;
  for (const work of request.files) {
    const text = [...work.blocks.map((block) => block.text), ...work.pending.map((pending) => pending.text)].join("\n");
    if (!text.includes("holdcommit")) continue;
    // <index>/<tenant>/<day>.db: the gate is <index>/writer.gate.
    const gate = join(dirname(dirname(work.file)), "writer.gate");
    const sleeper = new Int32Array(new SharedArrayBuffer(4));
    while (!existsSync(gate)) Atomics.wait(sleeper, 0, 0, GATE_POLL_MS);
  }
});
await import("../search/block-writer-worker.ts");
