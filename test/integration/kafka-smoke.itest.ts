/**
 * Smoke test against a real Apache Kafka broker (KRaft, started by
 * test/engines/kafka.sh): create a topic, produce a few thousand keyed
 * records with @platformatic/kafka (acks=all, idempotent), consume them back
 * as a consumer group, and read the topic with `kcat` — a client no one here
 * wrote. The other direction too: kcat produces, our client consumes.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { Admin, Consumer, Producer, stringDeserializers, stringSerializers } from "@platformatic/kafka";
import { ensureKcat, startKafka, stopKafka } from "../engines/kafka.ts";

const RECORDS = 3000;
const PARTITIONS = 3;
const HOSTS = 7;

let bootstrap = "";
let kcat = "";

before(() => {
  kcat = ensureKcat();
  bootstrap = startKafka();
});

after(() => {
  stopKafka();
});

async function withTimeout<T>(what: string, ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function createTopic(topic: string): Promise<void> {
  const admin = new Admin({ clientId: "logship-itest-admin", bootstrapBrokers: [bootstrap] });
  try {
    await admin.createTopics({ topics: [topic], partitions: PARTITIONS, replicas: 1 });
  } finally {
    await admin.close();
  }
}

/** Consumes with a fresh group from the earliest offset until `count` records arrived. */
async function consumeAll(topic: string, count: number): Promise<Array<{ key: string; value: string; partition: number; offset: bigint }>> {
  const consumer = new Consumer({
    groupId: `logship-itest-${randomUUID()}`,
    clientId: "logship-itest-consumer",
    bootstrapBrokers: [bootstrap],
    deserializers: stringDeserializers,
  });
  const seen: Array<{ key: string; value: string; partition: number; offset: bigint }> = [];
  try {
    const stream = await consumer.consume({ topics: [topic], mode: "earliest", autocommit: false, maxWaitTime: 200 });
    await withTimeout(`consuming ${count} records from ${topic}`, 60_000, (async () => {
      for await (const message of stream) {
        seen.push({ key: message.key ?? "", value: message.value ?? "", partition: message.partition, offset: message.offset });
        if (seen.length >= count) break;
      }
    })());
    await stream.close();
  } finally {
    await consumer.close(true);
  }
  return seen;
}

function expectedRecords(): Map<string, string> {
  const expected = new Map<string, string>();
  for (let i = 0; i < RECORDS; i++) {
    expected.set(JSON.stringify({ seq: i, host: `host-${i % HOSTS}`, msg: `line ${i} ${"x".repeat(i % 50)}` }), `host-${i % HOSTS}`);
  }
  return expected;
}

test("@platformatic/kafka produces and consumes, kcat reads the same records", { timeout: 300_000 }, async () => {
  const topic = `logship-smoke-${randomUUID()}`;
  await createTopic(topic);
  const expected = expectedRecords();

  const producer = new Producer({
    clientId: "logship-itest-producer",
    bootstrapBrokers: [bootstrap],
    serializers: stringSerializers,
    acks: -1,
    idempotent: true,
  });
  try {
    const values = [...expected.keys()];
    for (let i = 0; i < values.length; i += 500) {
      const chunk = values.slice(i, i + 500).map((value) => ({ topic, key: expected.get(value)!, value }));
      const result = await producer.send({ messages: chunk });
      assert.ok(result.offsets && result.offsets.length > 0, "produce returned offsets");
    }
  } finally {
    await producer.close();
  }

  // Our client, as a consumer group.
  const consumed = await consumeAll(topic, RECORDS);
  assert.equal(consumed.length, RECORDS);
  assert.deepEqual(new Set(consumed.map((r) => r.value)), new Set(expected.keys()));
  for (const record of consumed) assert.equal(record.key, expected.get(record.value));
  // One key, one partition, in produce order.
  const partitionOfKey = new Map<string, number>();
  const lastSeqOfKey = new Map<string, number>();
  for (const record of consumed) {
    const known = partitionOfKey.get(record.key);
    if (known === undefined) partitionOfKey.set(record.key, record.partition);
    else assert.equal(record.partition, known, `key ${record.key} spans partitions`);
    const seq = (JSON.parse(record.value) as { seq: number }).seq;
    assert.ok(seq > (lastSeqOfKey.get(record.key) ?? -1), `key ${record.key} out of order at seq ${seq}`);
    lastSeqOfKey.set(record.key, seq);
  }

  // kcat, an independent client, reads the whole topic.
  const out = execFileSync(kcat, ["-b", bootstrap, "-C", "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%p\t%o\t%k\t%s\n"], {
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
    timeout: 60_000,
  });
  const lines = out.split("\n").filter((line) => line.length > 0);
  assert.equal(lines.length, RECORDS, "kcat read every record");
  const byKcat = new Map<string, string>();
  for (const line of lines) {
    const [partition, offset, key, ...rest] = line.split("\t");
    const value = rest.join("\t");
    byKcat.set(value, key ?? "");
    assert.ok(Number(partition) >= 0 && Number(partition) < PARTITIONS);
    assert.ok(Number(offset) >= 0);
  }
  assert.deepEqual(byKcat, expected);
});

test("records produced by kcat are read by @platformatic/kafka", { timeout: 120_000 }, async () => {
  const topic = `logship-smoke-kcat-${randomUUID()}`;
  await createTopic(topic);
  const input = Array.from({ length: 200 }, (_, i) => `k${i % 5}\tfrom kcat ${i}`).join("\n") + "\n";
  execFileSync(kcat, ["-b", bootstrap, "-P", "-t", topic, "-K", "\t", "-X", "acks=all", "-X", "enable.idempotence=true"], { input, timeout: 60_000 });
  const consumed = await consumeAll(topic, 200);
  assert.equal(consumed.length, 200);
  const values = new Set(consumed.map((r) => `${r.key}\t${r.value}`));
  for (let i = 0; i < 200; i++) assert.ok(values.has(`k${i % 5}\tfrom kcat ${i}`), `record ${i} missing`);
});
