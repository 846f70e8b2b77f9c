/**
 * The `kafka` sink against the real broker (test/engines/kafka.sh), read
 * back with `kcat`:
 * - built from `sinks.kafka` in a collector config (embedded log), batches
 *   ingested over HTTP reach the topic as one record per event, keyed
 *   host:path, valued with what `logship log dump` prints, with the id
 *   header;
 * - a topic whose `max.message.bytes` is below the sink's request size:
 *   the sink shrinks its requests until they fit, everything is delivered,
 *   and the next send fits at once;
 * - an event over that limit: `reject` naming it, every other event of
 *   the send delivered.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "../../shared/logger.ts";
import { KafkaSink } from "../../collector/sinks/kafka/sink.ts";
import type { SinkEvent } from "../../collector/sinks/types.ts";
import { makeBatch, numberedLines } from "../../collector/testing/batches.ts";
import { postBatch, startTestCollector } from "../../collector/testing/collector.ts";
import { dumpLog } from "../helpers/processes.ts";
import { ensureKcat, startKafka, stopKafka } from "../engines/kafka.ts";
import { createTopic, kcatRecords, waitForProducerIds, type KcatRecord } from "../helpers/kafka-topics.ts";

let bootstrap = "";
let kcat = "";

before(async () => {
  kcat = ensureKcat();
  bootstrap = startKafka();
  await waitForProducerIds(bootstrap);
});

after(() => {
  stopKafka();
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function readUntil(topic: string, count: number, timeoutMs = 60_000): Promise<KcatRecord[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const records = kcatRecords(kcat, bootstrap, topic, { withValues: true });
    if (records.length >= count || Date.now() > deadline) return records;
    await sleep(250);
  }
}

function sinkEvent(index: number, overrides: Partial<SinkEvent> = {}): SinkEvent {
  return {
    id: `evt-${index}`,
    time: "2026-11-29T10:00:00.000Z",
    observed_time: "2026-11-29T10:00:00.000Z",
    host: `web-${index % 3}`,
    source: "app",
    path: "/var/log/app.log",
    offset: index * 100,
    message: `line ${index}`,
    fields: {},
    tenant: "default",
    ...overrides,
  };
}

test("sinks.kafka in a collector config forwards every ingested event: keyed host:path, the log dump JSON, the id header", { timeout: 120_000 }, async (t) => {
  const topic = `logship-itest-sink-${randomUUID().slice(0, 8)}`;
  await createTopic(bootstrap, topic, 3);
  const dataDir = mkdtempSync(join(tmpdir(), "logship-kafka-sink-"));
  const configPath = join(dataDir, "collector.yaml");
  const collector = await startTestCollector({ dataDir, config: { sinks: { kafka: { brokers: [bootstrap], topic } } } });
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  try {
    for (let seq = 1; seq <= 6; seq++) {
      const batch = makeBatch({ seq, host: "web-1", path: `/var/log/app-${seq % 2}.log`, streamKey: `stream-key-${seq % 2}-000000000`, baseOffset: seq * 10_000, lines: numberedLines(`batch ${seq} line`, 0, 500) });
      assert.equal((await postBatch(collector.url, batch.body)).status, 200);
    }
    const records = await readUntil(topic, 3000);
    assert.equal(records.length, 3000, "one record per event, none twice");
    const keys = new Map<string, number>();
    for (const record of records) {
      const event = JSON.parse(record.value) as SinkEvent;
      assert.equal(record.key, `${event.host}:${event.path}`);
      assert.equal(record.headers["logship.id"], event.id);
      assert.equal(record.headers["logship.tenant"], "default");
      assert.equal(keys.get(record.key) ?? record.partition, record.partition, "a key stays on one partition");
      keys.set(record.key, record.partition);
    }
    assert.deepEqual([...keys.keys()].sort(), ["web-1:/var/log/app-0.log", "web-1:/var/log/app-1.log"]);
    // The values are exactly the lines `logship log dump` prints for the collector's own log.
    await collector.stop();
    writeFileSync(configPath, `data_dir: ${dataDir}\n`);
    const dumped = (await dumpLog(configPath)).map((event) => JSON.stringify(event));
    assert.deepEqual(new Set(records.map((record) => record.value)), new Set(dumped));
  } finally {
    await collector.stop();
  }
});

test("a topic with a small max.message.bytes: the sink shrinks its requests until they fit (later sends fit at once); an event over the limit is rejected by id, the rest delivered", { timeout: 120_000 }, async () => {
  const topic = `logship-itest-small-${randomUUID().slice(0, 8)}`;
  await createTopic(bootstrap, topic, 2, { "max.message.bytes": "20000" });
  const sink = new KafkaSink({ brokers: [bootstrap], topic, compression: "none", timeoutMs: 10_000, logger: silentLogger });
  try {
    // 400 events of ~600 bytes: one 1 MB request at first, far over 20 kB per partition batch. The sink learns the size that fits.
    const events = Array.from({ length: 400 }, (_, index) => sinkEvent(index, { message: `line ${index} ${"x".repeat(500)}` }));
    assert.deepEqual(await sink.send(events, new AbortController().signal), { kind: "delivered" });
    const delivered = await readUntil(topic, 400);
    assert.deepEqual(new Set(delivered.map((record) => record.headers["logship.id"])), new Set(events.map((event) => event.id)), "every event, each under its id");
    // Per key, first deliveries in send order (a partition Kafka took from a refused request holds those events twice).
    const lastOfKey = new Map<string, number>();
    const seen = new Set<string>();
    for (const record of delivered) {
      const id = record.headers["logship.id"] ?? "";
      if (seen.has(id)) continue;
      seen.add(id);
      const index = Number(/^evt-(\d+)$/.exec(id)?.[1]);
      assert.ok(index > (lastOfKey.get(record.key) ?? -1), `${record.key}: ${id} out of order`);
      lastOfKey.set(record.key, index);
    }
    // Learned: the next send fits at once, nothing twice.
    const more = Array.from({ length: 400 }, (_, index) => sinkEvent(500 + index, { message: `line ${500 + index} ${"x".repeat(500)}` }));
    assert.deepEqual(await sink.send(more, new AbortController().signal), { kind: "delivered" });
    const total = delivered.length + more.length;
    assert.equal((await readUntil(topic, total)).length, total, "the second send added each event once");

    const mixed = Array.from({ length: 10 }, (_, index) => sinkEvent(1000 + index, index === 4 ? { message: "y".repeat(50_000) } : {}));
    const outcome = await sink.send(mixed, new AbortController().signal);
    assert.equal(outcome.kind, "reject");
    assert.match(outcome.kind === "reject" ? outcome.reason : "", /^Kafka topic logship-itest-small-\w+ refused 1 of 10 events: evt-1004 \(\d+ bytes, over the topic's max\.message\.bytes\); the other 9 were delivered$/);
    const mixedIds = new Set(mixed.map((event) => event.id));
    const arrived = (await readUntil(topic, total + 9)).map((record) => record.headers["logship.id"] ?? "").filter((id) => mixedIds.has(id));
    assert.deepEqual(arrived.sort(), mixed.filter((_, index) => index !== 4).map((event) => event.id).sort());
  } finally {
    await sink.close();
  }
});
