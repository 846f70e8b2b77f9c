import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, open, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileStartsWith, ownCopy, readAt } from "./fingerprint.ts";

test("readAt: a small read is a buffer of its own, exactly as long as what was read, not a slice of the shared pool", async () => {
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
      assert.equal(full.buffer.byteLength, 1024);
      const marker = await readAt(handle, 100, 16);
      assert.ok(marker.equals(content.subarray(100, 116)));
      assert.equal(marker.buffer.byteLength, 16);
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

test("ownCopy: the bytes in a buffer of their own, exactly as long, that later writes to the source do not change", () => {
  const pooled = Buffer.from("0123456789abcdefXYZ");
  const copy = ownCopy(pooled.subarray(3, 19));
  assert.equal(copy.toString(), "3456789abcdefXYZ");
  assert.equal(copy.buffer.byteLength, 16);
  pooled.fill(0);
  assert.equal(copy.toString(), "3456789abcdefXYZ");
});

test("fileStartsWith: the file still begins with the head; not once it is shorter or its first bytes changed", async () => {
  const directory = await mkdtemp(join(tmpdir(), "logship-fingerprint-"));
  try {
    const path = join(directory, "head.log");
    const head = Buffer.from("2026-11-30 first line\n");
    await writeFile(path, Buffer.concat([head, Buffer.from("more lines\n")]));
    const handle = await open(path, "r+");
    try {
      assert.equal(fileStartsWith(handle.fd, head), true);
      assert.equal(fileStartsWith(handle.fd, head.subarray(0, 4)), true);
      await handle.truncate(head.length - 1);
      assert.equal(fileStartsWith(handle.fd, head), false, "shorter than the head");
      await handle.truncate(0);
      await handle.write(Buffer.from("2026-11-30 other line\n"), 0, 22, 0);
      assert.equal(fileStartsWith(handle.fd, head), false, "rewritten");
    } finally {
      await handle.close();
    }
  } finally {
    await rm(directory, { recursive: true, force: true });
  }
});
