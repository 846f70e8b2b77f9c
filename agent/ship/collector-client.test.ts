import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { test } from "node:test";
import { CollectorClient } from "./collector-client.ts";

/** A loopback HTTP server answering each request with `answer`; records what arrived. */
async function collector(answer: (request: IncomingMessage, body: Buffer, response: ServerResponse) => void) {
  const seen: { method: string; url: string; headers: IncomingMessage["headers"]; body: Buffer }[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const body = Buffer.concat(chunks);
      seen.push({ method: request.method ?? "", url: request.url ?? "", headers: request.headers, body });
      answer(request, body, response);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, seen, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

function client(url: string): CollectorClient {
  return new CollectorClient({ url, token: "t0k", connectionsMax: 2, connectTimeoutMs: 1000, requestTimeoutMs: 5000, tls: undefined });
}

test("sendBatch posts the batch with its headers; 200 is delivered, a duplicate answer is marked", async (t) => {
  let duplicate = false;
  const server = await collector((_request, _body, response) => {
    response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ ok: true, duplicate }));
  });
  const sender = client(server.url);
  t.after(async () => { await sender.destroy(); await server.close(); });
  const body = Buffer.from("frame bytes");
  assert.deepEqual(await sender.sendBatch(body, "agent-1", 7, AbortSignal.timeout(5000)), { kind: "delivered", duplicate: false });
  duplicate = true;
  assert.deepEqual(await sender.sendBatch(body, "agent-1", 7, AbortSignal.timeout(5000)), { kind: "delivered", duplicate: true });
  const first = server.seen[0];
  assert.ok(first);
  assert.equal(first.method, "POST");
  assert.equal(first.url, "/v1/ingest");
  assert.equal(first.headers["authorization"], "Bearer t0k");
  assert.equal(first.headers["content-encoding"], "zstd");
  assert.equal(first.headers["x-logship-agent"], "agent-1");
  assert.equal(first.headers["x-logship-seq"], "7");
  assert.deepEqual(first.body, body);
});

test("sendBatch: 429 and 503 are retried after Retry-After, 500 is retried, other 4xx are rejected with the reason", async (t) => {
  const answers: [number, Record<string, string>, string][] = [
    [429, { "retry-after": "3" }, '{"error":"queue full","code":"LOGSHIP_OVERLOADED"}'],
    [503, { "retry-after": "1" }, '{"error":"log not writable"}'],
    [500, {}, "boom"],
    [400, {}, '{"error":"CRC mismatch","code":"LOGSHIP_BAD_BATCH"}'],
  ];
  const server = await collector((_request, _body, response) => {
    const [status, headers, text] = answers.shift() ?? [599, {}, ""];
    response.writeHead(status, headers).end(text);
  });
  const sender = client(server.url);
  t.after(async () => { await sender.destroy(); await server.close(); });
  const send = () => sender.sendBatch(Buffer.from("x"), "a", 1, AbortSignal.timeout(5000));
  const overloaded = await send();
  assert.equal(overloaded.kind, "retry");
  assert.ok(overloaded.kind === "retry" && overloaded.afterMs !== undefined && overloaded.afterMs > 2000 && overloaded.afterMs <= 3000);
  assert.ok(overloaded.kind === "retry" && !overloaded.collectorFault, "429 is not the collector failing");
  const unavailable = await send();
  assert.ok(unavailable.kind === "retry" && unavailable.collectorFault && unavailable.afterMs !== undefined);
  assert.deepEqual(await send(), { kind: "retry", reason: "500 boom", collectorFault: true, status: 500 });
  assert.deepEqual(await send(), { kind: "reject", status: 400, reason: "400 LOGSHIP_BAD_BATCH: CRC mismatch" });
});

test("a collector that is not listening is a retry; probe says whether /readyz answers 200", async (t) => {
  const server = await collector((request, _body, response) => {
    response.writeHead(request.url === "/readyz" ? 200 : 404).end();
  });
  const sender = client(server.url);
  t.after(async () => { await sender.destroy(); });
  assert.equal(await sender.probe(AbortSignal.timeout(5000)), true);
  await sender.destroy();
  await server.close();
  const gone = client(server.url);
  t.after(() => gone.destroy());
  const outcome = await gone.sendBatch(Buffer.from("x"), "a", 1, AbortSignal.timeout(5000));
  assert.equal(outcome.kind, "retry");
  assert.match(outcome.kind === "retry" ? outcome.reason : "", /ECONNREFUSED/);
  assert.equal(await gone.probe(AbortSignal.timeout(5000)), false);
});
