import { test } from "node:test";
import assert from "node:assert/strict";
import { BufferPool } from "./buffer-pool.ts";

test("buffer pool: reuses released buffers, keeps at most buffersMax, hands out one-offs above its size", () => {
  const pool = new BufferPool(1024, 2);
  const a = pool.acquire(100);
  const b = pool.acquire(1024);
  const c = pool.acquire(10);
  assert.equal(a.length, 1024);
  pool.release(a);
  pool.release(b);
  pool.release(c); // over buffersMax: dropped
  const reused = [pool.acquire(1), pool.acquire(1)];
  assert.ok(reused.includes(a) && reused.includes(b));
  assert.notEqual(pool.acquire(1), c);
  const big = pool.acquire(5000);
  assert.equal(big.length, 5000);
  pool.release(big); // not the pool's: ignored
  assert.throws(() => {
    const once = pool.acquire(1);
    pool.release(once);
    pool.release(once);
  }, /released twice/);
});
