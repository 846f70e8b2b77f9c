/**
 * POST /v1/ingest against a real server on 127.0.0.1 (undici client):
 * statuses and codes of docs/INGEST.md, idempotence across restarts,
 * overload, hostile input beside a well-behaved client, graceful stop.
 */
import { test, before } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { zstdCompressSync } from "node:zlib";
import { request } from "undici";
import { readTenantLog } from "../log/reader.ts";
import type { RunningCollector } from "../main.ts";
import { makeBatch, numberedLines } from "../testing/batches.ts";
import { PAYMENTS_TOKEN, SEARCH_TOKEN, gatedSync, postBatch, startTestCollector, until, zipBomb } from "../testing/collector.ts";
import type { SyncFunction } from "../log/tenant-log.ts";

let bomb: Buffer;
before(async () => {
  bomb = await zipBomb(1024 ** 3);
});

interface Fixture {
  dataDir: string;
  collector: RunningCollector;
}

async function fixture(t: { after: (fn: () => Promise<void> | void) => void }, config: Record<string, unknown> = {}, sync?: SyncFunction): Promise<Fixture> {
  const dataDir = mkdtempSync(join(tmpdir(), "logship-ingest-"));
  const collector = await startTestCollector({ dataDir, config, ...(sync === undefined ? {} : { sync }) });
  const state = { dataDir, collector };
  t.after(async () => {
    await state.collector.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return state;
}

async function storedSeqs(dataDir: string, tenant = "default"): Promise<number[]> {
  const seqs: number[] = [];
  for await (const entry of readTenantLog(join(dataDir, "log"), tenant, { fromOffset: 0 })) seqs.push(entry.header.seq);
  return seqs;
}

function batch(seq: number, events = 3, more: { floor?: number; agent?: string } = {}): Buffer {
  return makeBatch({ seq, ...more, lines: numberedLines(`batch ${seq} line`, 0, events) }).body;
}

test("a batch is stored and acknowledged with its offset; the same batch again is a duplicate and is not stored twice", async (t) => {
  const { collector, dataDir } = await fixture(t);
  const first = await postBatch(collector.url, batch(1, 3));
  assert.equal(first.status, 200);
  assert.deepEqual(first.json, { offset: 0, events: 3 });
  const second = await postBatch(collector.url, batch(2, 4));
  assert.deepEqual(second.json, { offset: 3, events: 4 });
  const again = await postBatch(collector.url, batch(1, 3));
  assert.equal(again.status, 200);
  assert.deepEqual(again.json, { duplicate: true, offset: 0, events: 3 });
  assert.deepEqual(await storedSeqs(dataDir), [1, 2]);
});

test("idempotence survives a collector restart; a seq below the agent's floor is a duplicate", async (t) => {
  const state = await fixture(t);
  assert.equal((await postBatch(state.collector.url, batch(1))).status, 200);
  assert.equal((await postBatch(state.collector.url, batch(2, 3, { floor: 1 }))).status, 200);
  await state.collector.stop();
  state.collector = await startTestCollector({ dataDir: state.dataDir });
  assert.deepEqual((await postBatch(state.collector.url, batch(2, 3, { floor: 1 }))).json, { duplicate: true, offset: 3, events: 3 });
  assert.deepEqual((await postBatch(state.collector.url, batch(1))).json, { duplicate: true, offset: 0, events: 3 });
  assert.deepEqual((await postBatch(state.collector.url, batch(3, 3, { floor: 2 }))).json, { offset: 6, events: 3 });
  // Floor 2: seq 1 is below it, so it was acknowledged; its offset is no longer remembered.
  assert.deepEqual((await postBatch(state.collector.url, batch(1))).json, { duplicate: true, events: 3 });
  // Another agent's seq 1 is its own.
  assert.deepEqual((await postBatch(state.collector.url, batch(1, 3, { agent: "agent-2" }))).json, { offset: 9, events: 3 });
  assert.deepEqual(await storedSeqs(state.dataDir), [1, 2, 3, 1]);
});

test("tokens: missing or unknown → 401, wrong role → 403; events go under the token's tenant", async (t) => {
  const { collector, dataDir } = await fixture(t);
  const missing = await postBatch(collector.url, batch(1), { authorization: undefined });
  assert.equal(missing.status, 401);
  assert.equal(missing.json["code"], "LOGSHIP_AUTH_MISSING");
  assert.equal(missing.headers["www-authenticate"], 'Bearer realm="logship"');
  const unknown = await postBatch(collector.url, batch(1), { authorization: "Bearer nope" });
  assert.deepEqual([unknown.status, unknown.json["code"]], [401, "LOGSHIP_AUTH_INVALID"]);
  const wrongRole = await postBatch(collector.url, batch(1), { authorization: `Bearer ${SEARCH_TOKEN}` });
  assert.deepEqual([wrongRole.status, wrongRole.json["code"]], [403, "LOGSHIP_AUTH_FORBIDDEN"]);
  const payments = await postBatch(collector.url, batch(7), { authorization: `Bearer ${PAYMENTS_TOKEN}` });
  assert.deepEqual([payments.status, payments.json], [200, { offset: 0, events: 3 }]);
  assert.deepEqual(await storedSeqs(dataDir, "payments"), [7]);
  assert.deepEqual(await storedSeqs(dataDir, "default"), []);
});

test("Content-Encoding must be zstd → else 415", async (t) => {
  const { collector } = await fixture(t);
  for (const encoding of [undefined, "gzip", "identity"]) {
    const response = await postBatch(collector.url, batch(1), { "content-encoding": encoding });
    assert.deepEqual([response.status, response.json["code"]], [415, "LOGSHIP_INGEST_ENCODING"]);
  }
});

test("limits: Content-Length and counted body over max_body_bytes, a 1 GiB zip bomb, too many events → 413", async (t) => {
  const { collector, dataDir } = await fixture(t, { ingest: { max_body_bytes: "64KiB", max_batch_bytes: "4MiB", max_events: 10 } });
  const declared = await postBatch(collector.url, Buffer.alloc(10 << 20));
  assert.deepEqual([declared.status, declared.json["code"]], [413, "LOGSHIP_INGEST_BODY_TOO_LARGE"]);
  assert.match(String(declared.json["error"]), /Content-Length/);
  async function* chunked(): AsyncGenerator<Buffer> {
    for (let index = 0; index < 64; index++) yield Buffer.alloc(16 * 1024, 1);
  }
  const counted = await postBatch(collector.url, chunked());
  assert.deepEqual([counted.status, counted.json["code"]], [413, "LOGSHIP_INGEST_BODY_TOO_LARGE"]);
  assert.ok(bomb.length < 64 * 1024, `the bomb is small on the wire (${bomb.length} bytes)`);
  const exploded = await postBatch(collector.url, bomb);
  assert.deepEqual([exploded.status, exploded.json["code"]], [413, "LOGSHIP_INGEST_BATCH_TOO_LARGE"]);
  const declaredLarge = await postBatch(collector.url, zstdCompressSync(Buffer.alloc(5 << 20)));
  assert.deepEqual([declaredLarge.status, declaredLarge.json["code"]], [413, "LOGSHIP_INGEST_BATCH_TOO_LARGE"]);
  assert.match(String(declaredLarge.json["error"]), /declares/);
  const tooMany = await postBatch(collector.url, batch(1, 11));
  assert.deepEqual([tooMany.status, tooMany.json["code"]], [413, "LOGSHIP_INGEST_TOO_MANY_EVENTS"]);
  assert.equal((await postBatch(collector.url, batch(2, 10))).status, 200, "a batch within the limits still goes through");
  assert.deepEqual(await storedSeqs(dataDir), [2]);
});

test("garbage, truncated zstd, a CRC mismatch, something not a batch, a bad header → 400", async (t) => {
  const { collector, dataDir } = await fixture(t);
  const garbage = await postBatch(collector.url, Buffer.from("this is not zstd at all"));
  assert.deepEqual([garbage.status, garbage.json["code"]], [400, "LOGSHIP_INGEST_ZSTD"]);
  const good = makeBatch({ seq: 1, lines: numberedLines("line", 0, 2000) });
  const truncated = await postBatch(collector.url, good.body.subarray(0, good.body.length - 20));
  assert.deepEqual([truncated.status, truncated.json["code"]], [400, "LOGSHIP_INGEST_ZSTD_TRUNCATED"]);
  const damaged = Buffer.from(good.payload);
  damaged[damaged.length - 100] = (damaged[damaged.length - 100] as number) ^ 0xff;
  const crc = await postBatch(collector.url, zstdCompressSync(damaged));
  assert.deepEqual([crc.status, crc.json["code"]], [400, "LOGSHIP_WIRE"]);
  assert.match(String(crc.json["error"]), /CRC mismatch/);
  const notBatch = await postBatch(collector.url, zstdCompressSync(Buffer.from('{"hello": "world"}')));
  assert.deepEqual([notBatch.status, notBatch.json["code"]], [400, "LOGSHIP_WIRE"]);
  const badHeader = await postBatch(collector.url, batch(3, 1, { floor: 5 }));
  assert.deepEqual([badHeader.status, badHeader.json["code"]], [400, "LOGSHIP_INGEST_HEADER"]);
  const empty = await postBatch(collector.url, Buffer.alloc(0));
  assert.deepEqual([empty.status, empty.json["code"]], [400, "LOGSHIP_INGEST_ZSTD_TRUNCATED"]);
  assert.deepEqual(await storedSeqs(dataDir), []);
});

test("beyond queue_max requests in processing → 429 with Retry-After at once; the held ones are acknowledged", async (t) => {
  const gate = gatedSync();
  const { collector, dataDir } = await fixture(t, { ingest: { queue_max: 2 } }, gate.sync);
  const held = [postBatch(collector.url, batch(1)), postBatch(collector.url, batch(2))];
  await until(() => collector.server.stats().inFlight === 2, "two requests in processing");
  const refused = await postBatch(collector.url, batch(3));
  assert.equal(refused.status, 429);
  assert.equal(refused.headers["retry-after"], "1");
  assert.equal(refused.json["code"], "LOGSHIP_INGEST_OVERLOADED");
  gate.open();
  assert.deepEqual((await Promise.all(held)).map((response) => response.status), [200, 200]);
  assert.equal((await postBatch(collector.url, batch(3))).status, 200, "accepted once there is room");
  assert.deepEqual((await storedSeqs(dataDir)).sort(), [1, 2, 3]);
});

test("two copies of a batch in flight at once: one is stored, the other answered as a duplicate", async (t) => {
  const gate = gatedSync();
  const { collector, dataDir } = await fixture(t, {}, gate.sync);
  const copies = [postBatch(collector.url, batch(1)), postBatch(collector.url, batch(1))];
  await until(() => collector.server.stats().inFlight === 2, "both copies in processing");
  gate.open();
  const answers = (await Promise.all(copies)).map((response) => response.json);
  assert.deepEqual(
    answers.sort((a, b) => Number(a["duplicate"] ?? 0) - Number(b["duplicate"] ?? 0)),
    [
      { offset: 0, events: 3 },
      { duplicate: true, offset: 0, events: 3 },
    ],
  );
  assert.deepEqual(await storedSeqs(dataDir), [1]);
});

test("a well-behaved agent keeps getting 200 while hostile requests arrive at the same time", async (t) => {
  const { collector, dataDir } = await fixture(t, { ingest: { max_body_bytes: "1MiB", max_batch_bytes: "8MiB" } });
  let stop = false;
  const damaged = Buffer.from(makeBatch({ seq: 99, lines: ["x"] }).payload);
  damaged[10] = 0;
  const hostile: (() => Promise<unknown>)[] = [
    () => postBatch(collector.url, bomb),
    () => postBatch(collector.url, Buffer.from("garbage".repeat(1000))),
    () => postBatch(collector.url, batch(1000), { authorization: "Bearer wrong" }),
    () => postBatch(collector.url, zstdCompressSync(damaged)),
    () => postBatch(collector.url, Buffer.alloc(4 << 20)),
    () => postBatch(collector.url, batch(1001).subarray(0, 30)),
  ];
  const attackers = hostile.map(async (attack) => {
    let sent = 0;
    while (!stop) {
      const response = (await attack()) as { status: number };
      assert.ok(response.status >= 400 && response.status < 500, `hostile request got ${response.status}`);
      sent++;
    }
    return sent;
  });
  const statuses: number[] = [];
  for (let seq = 1; seq <= 40; seq++) statuses.push((await postBatch(collector.url, batch(seq, 50, { floor: seq - 1 }))).status);
  stop = true;
  const sent = await Promise.all(attackers);
  assert.deepEqual(statuses, Array.from({ length: 40 }, () => 200));
  assert.ok(sent.every((count) => count > 0));
  assert.deepEqual(
    await storedSeqs(dataDir),
    Array.from({ length: 40 }, (_, index) => index + 1),
  );
  const health = await request(`${collector.url}/healthz`);
  assert.equal(health.statusCode, 200);
  await health.body.dump();
});

test("a failed fsync answers 503 with Retry-After, /readyz turns 503, and the retry is stored once", async (t) => {
  let failNext = false;
  const sync: SyncFunction = async (file) => {
    if (failNext) {
      failNext = false;
      throw Object.assign(new Error("EIO: injected"), { code: "EIO" });
    }
    await file.datasync();
  };
  const { collector, dataDir } = await fixture(t, {}, sync);
  const ready = async (): Promise<number> => {
    const response = await request(`${collector.url}/readyz`);
    await response.body.dump();
    return response.statusCode;
  };
  assert.equal(await ready(), 200);
  failNext = true;
  const failed = await postBatch(collector.url, batch(1));
  assert.deepEqual([failed.status, failed.json["code"], failed.headers["retry-after"]], [503, "LOGSHIP_LOG_UNAVAILABLE", "1"]);
  assert.equal(await ready(), 503);
  assert.deepEqual((await postBatch(collector.url, batch(1))).json, { offset: 0, events: 3 });
  assert.equal(await ready(), 200);
  assert.deepEqual(await storedSeqs(dataDir), [1]);
});

test("unknown routes → 404, GET on /v1/ingest → 405", async (t) => {
  const { collector } = await fixture(t);
  const missing = await request(`${collector.url}/nope`);
  assert.equal(missing.statusCode, 404);
  assert.equal(((await missing.body.json()) as { code: string }).code, "LOGSHIP_NOT_FOUND");
  const get = await request(`${collector.url}/v1/ingest`);
  assert.equal(get.statusCode, 405);
  assert.equal(get.headers["allow"], "POST");
  await get.body.dump();
});

test("stop() finishes the batches in processing (they get 200), then refuses new ones and closes the log", async (t) => {
  const gate = gatedSync();
  const state = await fixture(t, {}, gate.sync);
  const inFlight = postBatch(state.collector.url, batch(1));
  await until(() => state.collector.server.stats().inFlight === 1, "a request in processing");
  const stopping = state.collector.stop();
  await new Promise((resolve) => setTimeout(resolve, 20));
  gate.open();
  const answer = await inFlight;
  assert.deepEqual([answer.status, answer.json], [200, { offset: 0, events: 3 }]);
  await stopping;
  await assert.rejects(postBatch(state.collector.url, batch(2)), /ECONNREFUSED|other side closed|SocketError/);
  assert.equal(state.collector.log.writable, false);
  assert.deepEqual(await storedSeqs(state.dataDir), [1]);
});
