import { test } from "node:test";
import assert from "node:assert/strict";
import { gzipSync, zstdCompressSync } from "node:zlib";
import { startAckingEndpoint } from "../../bench/acking-endpoint.ts";
import { freePort } from "../../bench/processes.ts";

test("the endpoint Fluent Bit ships into acks a body only after decompressing it and counting its lines; an undecodable body is answered 400 and not counted", async (t) => {
  const endpoint = await startAckingEndpoint(await freePort());
  t.after(() => endpoint.close());
  const lines = '{"date":1,"log":"a"}\n{"date":2,"log":"b"}\n{"date":3,"log":"c"}\n';
  const post = (body: Buffer, encoding?: string): Promise<Response> => fetch(`${endpoint.url}/ingest`, { method: "POST", body, headers: encoding === undefined ? {} : { "content-encoding": encoding } });
  const zstd = zstdCompressSync(Buffer.from(lines));
  assert.equal((await post(zstd, "zstd")).status, 200);
  assert.equal((await post(gzipSync(Buffer.from(lines)), "gzip")).status, 200);
  assert.equal((await post(Buffer.from(lines))).status, 200);
  assert.equal((await post(Buffer.from("not zstd"), "zstd")).status, 400);
  const counts = endpoint.counts();
  assert.equal(counts.lines, 9);
  assert.equal(counts.requests, 4);
  assert.equal(counts.rejectedRequests, 1);
  assert.equal(counts.bodyBytes, 3 * Buffer.byteLength(lines));
  assert.ok(counts.wireBytes > zstd.length && counts.lastLinesAtMs !== null);
});
