/**
 * The OpenSearch test helpers' wait for readable indices, against a
 * loopback server that answers as a node does while the sink creates an
 * index: health at once (no index matched yet), then `_count` 503 "all
 * shards failed" until the primary has started. The real node's side of
 * this is the OpenSearch integration suite; the race itself cannot be
 * timed against it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { cleanups, type Defer } from "./cleanups.ts";
import { countDocuments, testClient } from "./opensearch-index.ts";

const ALL_SHARDS_FAILED = JSON.stringify({ error: { type: "search_phase_execution_exception", reason: "all shards failed" }, status: 503 });

async function fakeNode(defer: Defer, countAnswers: [number, string][]): Promise<{ url: string; paths: string[] }> {
  const paths: string[] = [];
  const server = createServer((request, response) => {
    const path = (request.url ?? "").split("?")[0] as string;
    paths.push(`${request.method} ${path}`);
    const [status, body] = path.endsWith("/_count") ? (countAnswers.shift() ?? [200, '{"count":0}']) : [200, "{}"];
    response.writeHead(status, { "content-type": "application/json" }).end(body);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  defer(() => new Promise((resolve) => server.close(resolve)));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, paths };
}

test("countDocuments: a 503 'all shards failed' from an index created after the health wait waits for health again and counts", async (t) => {
  const defer = cleanups(t);
  const node = await fakeNode(defer, [
    [503, ALL_SHARDS_FAILED],
    [503, ALL_SHARDS_FAILED],
    [200, '{"count":7}'],
  ]);
  const client = testClient(node.url);
  defer(() => client.close());
  assert.equal(await countDocuments(client, "itest-*"), 7);
  const round = ["GET /_cluster/health/itest-*", "POST /itest-*/_refresh", "GET /itest-*/_count"];
  assert.deepEqual(node.paths, [...round, ...round, ...round]);
});

test("countDocuments: any other failure fails at once", async (t) => {
  const defer = cleanups(t);
  const node = await fakeNode(defer, [[400, JSON.stringify({ error: { type: "parsing_exception", reason: "bad" }, status: 400 })]]);
  const client = testClient(node.url);
  defer(() => client.close());
  await assert.rejects(countDocuments(client, "itest-*"), /400 .*parsing_exception/);
  assert.equal(node.paths.filter((path) => path.endsWith("/_count")).length, 1);
});
