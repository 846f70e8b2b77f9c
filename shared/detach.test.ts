import { test } from "node:test";
import assert from "node:assert/strict";
import { detach, freeBuffer } from "./detach.ts";

test("freeBuffer frees a buffer that is its whole ArrayBuffer, and nothing cut from a larger one", () => {
  const whole = Buffer.allocUnsafeSlow(256 * 1024).fill(7);
  assert.equal(freeBuffer(whole), true);
  assert.equal(whole.buffer.byteLength, 0);
  assert.equal(whole.length, 0);
  // A slice of Node's shared pool, and a subarray: the rest of their ArrayBuffer may be in use.
  const pooled = Buffer.from("small");
  const neighbour = Buffer.from("neighbour");
  assert.equal(freeBuffer(pooled), false);
  assert.equal(pooled.toString(), "small");
  assert.equal(neighbour.toString(), "neighbour");
  const parent = Buffer.allocUnsafeSlow(64 * 1024).fill(1);
  assert.equal(freeBuffer(parent.subarray(0, 1024)), false);
  assert.equal(parent.length, 64 * 1024);
});

test("detach frees an ArrayBuffer's memory at once, before any garbage collection", () => {
  const before = process.memoryUsage().arrayBuffers;
  const buffers = Array.from({ length: 16 }, () => new ArrayBuffer(1 << 20));
  assert.ok(process.memoryUsage().arrayBuffers - before >= 16 << 20);
  for (const buffer of buffers) detach(buffer);
  assert.ok(process.memoryUsage().arrayBuffers - before < 1 << 20, "the 16 MiB are freed while the objects are still referenced");
  assert.ok(buffers.every((buffer) => buffer.byteLength === 0));
});
