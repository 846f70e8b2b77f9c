/**
 * A search index writer thread (collector/search/block-writer-worker.ts)
 * that fails on purpose, for the tests of block-writer.ts and the search
 * sink: a chunk or commit whose events carry the token `exitnow` in a
 * message makes the thread exit (code 3); one carrying `failnow` is
 * pointed at a file in a directory that does not exist, so SQLite's open
 * fails and the thread answers the failure as it would any other; one
 * carrying `exitonce` makes the thread exit (code 3) unless
 * `writer.exited` is in the index directory, which it writes first (the
 * events are then written when sent again). Every other request is
 * written as the real thread writes it.
 */
import { existsSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { parentPort } from "node:worker_threads";
import type { WriterRequest } from "../search/block-writer-protocol.ts";

parentPort?.on("message", (request: WriterRequest) => {
  if (request.kind !== "chunk" && request.kind !== "commit") return;
  for (const work of request.files) {
    const text = [...work.blocks.map((block) => block.text), ...work.pending.map((pending) => pending.text)].join("\n");
    if (text.includes("exitnow")) process.exit(3);
    if (text.includes("exitonce")) {
      // <index>/<tenant>/<day>.db: the marker goes into <index>.
      const marker = join(dirname(dirname(work.file)), "writer.exited");
      if (!existsSync(marker)) {
        writeFileSync(marker, "");
        process.exit(3);
      }
    }
    if (text.includes("failnow")) work.file = "/nonexistent-logship-directory/partition.db";
  }
});
await import("../search/block-writer-worker.ts");
