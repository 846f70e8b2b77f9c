import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, open, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readAt } from "./fingerprint.ts";

test("readAt: a short read keeps only the bytes it read; a full or large read is returned as read", async () => {
  const directory = await mkdtemp(join(tmpdir(), "logship-fingerprint-"));
  try {
    const path = join(directory, "short.log");
    const content = Buffer.from("a first line of thirty bytes.\n" + "x".repeat(20_000));
    await writeFile(path, content);
    const handle = await open(path, "r");
    try {
      // A 1 KiB head of a file that holds 30 bytes: its own 30-byte buffer, not a slice of the shared pool.
      const tail = await readAt(handle, content.length - 30, 1024);
      assert.ok(tail.equals(content.subarray(content.length - 30)));
      assert.equal(tail.buffer.byteLength, 30);
      const full = await readAt(handle, 0, 1024);
      assert.ok(full.equals(content.subarray(0, 1024)));
      const large = await readAt(handle, 10_000, 64 * 1024);
      assert.ok(large.equals(content.subarray(10_000)));
      assert.equal((await readAt(handle, content.length, 16)).length, 0);
    } finally {
      await handle.close();
    }
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
});
