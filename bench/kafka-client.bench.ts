/**
 * Kafka client comparison against the real local broker
 * (test/engines/kafka.sh, Apache Kafka in KRaft mode on loopback):
 * `@platformatic/kafka` (what logship uses) vs `kafkajs` (devDependency, for
 * this comparison only).
 *
 * The log backend stores each compressed agent batch (~1 MiB, zstd output, so
 * incompressible) as one Kafka record: idempotent producer, acks=all, no Kafka
 * compression, keyed by stream so one stream keeps its order, with `window`
 * sends in flight as concurrent agent requests would make. Then a consumer
 * group reads the topic back from the earliest offset, as a sink runner does.
 * A second case, 1 KiB records sent 1,000 per call, stands for the `kafka`
 * sink that forwards single events.
 *
 *   npx node bench/kafka-client.bench.ts [--bytes 1GiB] [--small-bytes 64MiB] [--window 8] [--rounds 2] [--clients platformatic,kafkajs]
 *
 * Prints one JSON object per client × case × direction × round: records/s,
 * MB/s (10^6 bytes of record values), client CPU seconds per GB. Starts the
 * broker if none is running and stops it afterwards if it started it.
 */
import { randomBytes, randomUUID } from "node:crypto";
import { parseArgs } from "node:util";
import { Admin, Consumer, Producer } from "@platformatic/kafka";
import { Kafka, logLevel } from "kafkajs";
import { parseSize } from "../shared/config/units.ts";
import { startKafka, stopKafka } from "../test/engines/kafka.ts";

const { values } = parseArgs({
  options: {
    bytes: { type: "string", default: "1GiB" },
    "small-bytes": { type: "string", default: "64MiB" },
    window: { type: "string", default: "8" },
    rounds: { type: "string", default: "2" },
    partitions: { type: "string", default: "4" },
    clients: { type: "string", default: "platformatic,kafkajs" },
    // KafkaJS's idempotent producer is specified for 1 request in flight (KIP-98 as KafkaJS implemented it);
    // 0 = unlimited, an ordering-unsafe data point only.
    "kafkajs-inflight": { type: "string", default: "1" },
  },
});

const PARTITIONS = Number(values.partitions);
const WINDOW = Number(values.window);
const STREAMS = 16;
const MAX_FETCH = 64 * 1024 * 1024;
const MAX_FETCH_PARTITION = 16 * 1024 * 1024;
const WARMUP_TOPIC = "bench-warmup";

interface Case {
  name: string;
  recordBytes: number;
  recordsPerSend: number;
  totalRecords: number;
}

const cases: Case[] = [
  { name: "1MiB-batch-records", recordBytes: 1 << 20, recordsPerSend: 1, totalRecords: Math.ceil(parseSize(values.bytes) / (1 << 20)) },
  { name: "1KiB-event-records", recordBytes: 1024, recordsPerSend: 1000, totalRecords: Math.ceil(parseSize(values["small-bytes"]) / 1024) },
];

// Incompressible payloads, like zstd output; a pool so no send reuses the previous buffer.
const pools = new Map<number, Buffer[]>();
function payload(bytes: number, i: number): Buffer {
  let pool = pools.get(bytes);
  if (pool === undefined) {
    pool = Array.from({ length: 32 }, () => randomBytes(bytes));
    pools.set(bytes, pool);
  }
  return pool[i % pool.length]!;
}
const keys = Array.from({ length: STREAMS }, (_, i) => Buffer.from(`agent-${i}/stream`));

interface Result {
  seconds: number;
  cpuSeconds: number;
}

async function timed(work: () => Promise<void>): Promise<Result> {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  await work();
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const used = process.cpuUsage(cpu);
  return { seconds, cpuSeconds: (used.user + used.system) / 1e6 };
}

/** Runs `total` sends with at most WINDOW in flight. */
async function pipeline(total: number, send: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < total) {
      const index = next++;
      await send(index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(WINDOW, total) }, worker));
}

async function createTopic(bootstrap: string, topic: string): Promise<void> {
  const admin = new Admin({ clientId: "logship-bench-admin", bootstrapBrokers: [bootstrap] });
  try {
    await admin.createTopics({ topics: [topic], partitions: PARTITIONS, replicas: 1 });
  } finally {
    await admin.close();
  }
}

async function deleteTopic(bootstrap: string, topic: string): Promise<void> {
  const admin = new Admin({ clientId: "logship-bench-admin", bootstrapBrokers: [bootstrap] });
  try {
    await admin.deleteTopics({ topics: [topic] });
  } finally {
    await admin.close();
  }
}

interface ClientUnderTest {
  /** Connects and warms up (one small record to WARMUP_TOPIC), then times the produce run alone. */
  produce(bootstrap: string, topic: string, c: Case): Promise<Result>;
  consume(bootstrap: string, topic: string, c: Case): Promise<number>;
}

const platformatic: ClientUnderTest = {
  async produce(bootstrap, topic, c) {
    const producer = new Producer({ clientId: "logship-bench", bootstrapBrokers: [bootstrap], acks: -1, idempotent: true });
    try {
      await producer.send({ messages: [{ topic: WARMUP_TOPIC, value: Buffer.from("warm-up") }] });
      const sends = Math.ceil(c.totalRecords / c.recordsPerSend);
      return await timed(() => pipeline(sends, async (s) => {
        const messages = [];
        for (let r = 0; r < c.recordsPerSend && s * c.recordsPerSend + r < c.totalRecords; r++) {
          const i = s * c.recordsPerSend + r;
          messages.push({ topic, key: keys[s % STREAMS]!, value: payload(c.recordBytes, i) });
        }
        await producer.send({ messages });
      }));
    } finally {
      await producer.close();
    }
  },
  async consume(bootstrap, topic, c) {
    const consumer = new Consumer({ groupId: `bench-${randomUUID()}`, clientId: "logship-bench", bootstrapBrokers: [bootstrap] });
    let count = 0;
    let bytes = 0;
    try {
      const stream = await consumer.consume({
        topics: [topic],
        mode: "earliest",
        autocommit: false,
        maxBytes: MAX_FETCH,
        maxBytesPerPartition: MAX_FETCH_PARTITION,
        maxWaitTime: 100,
        highWaterMark: c.recordBytes >= 1 << 20 ? 64 : 4096,
      });
      for await (const message of stream) {
        count++;
        bytes += message.value.length;
        if (count >= c.totalRecords) break;
      }
      await stream.close();
    } finally {
      await consumer.close(true);
    }
    return bytes;
  },
};

const kafkajs: ClientUnderTest = {
  async produce(bootstrap, topic, c) {
    const kafka = new Kafka({ clientId: "logship-bench", brokers: [bootstrap], logLevel: logLevel.ERROR });
    // KafkaJS keeps ordering for an idempotent producer only with one request in flight per broker.
    const inflight = Number(values["kafkajs-inflight"]);
    const producer = kafka.producer({ idempotent: true, allowAutoTopicCreation: false, ...(inflight > 0 ? { maxInFlightRequests: inflight } : {}) });
    await producer.connect();
    try {
      await producer.send({ topic: WARMUP_TOPIC, acks: -1, messages: [{ value: "warm-up" }] });
      const sends = Math.ceil(c.totalRecords / c.recordsPerSend);
      return await timed(() => pipeline(sends, async (s) => {
        const messages = [];
        for (let r = 0; r < c.recordsPerSend && s * c.recordsPerSend + r < c.totalRecords; r++) {
          const i = s * c.recordsPerSend + r;
          messages.push({ key: keys[s % STREAMS]!, value: payload(c.recordBytes, i) });
        }
        await producer.send({ topic, acks: -1, messages });
      }));
    } finally {
      await producer.disconnect();
    }
  },
  async consume(bootstrap, topic, c) {
    const kafka = new Kafka({ clientId: "logship-bench", brokers: [bootstrap], logLevel: logLevel.ERROR });
    const consumer = kafka.consumer({ groupId: `bench-${randomUUID()}`, maxBytes: MAX_FETCH, maxBytesPerPartition: MAX_FETCH_PARTITION, maxWaitTimeInMs: 100 });
    await consumer.connect();
    let count = 0;
    let bytes = 0;
    try {
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        consumer
          .run({
            autoCommit: false,
            eachBatch: async ({ batch }) => {
              for (const message of batch.messages) {
                count++;
                bytes += message.value?.length ?? 0;
              }
              if (count >= c.totalRecords) resolve();
            },
          })
          .catch(reject);
      });
    } finally {
      await consumer.disconnect();
    }
    return bytes;
  },
};

const clients: Record<string, ClientUnderTest> = { platformatic, kafkajs };
const names: Record<string, string> = { platformatic: "@platformatic/kafka", kafkajs: "kafkajs" };

const bootstrap = startKafka();
try {
  await createTopic(bootstrap, WARMUP_TOPIC).catch(() => undefined); // exists from an earlier run
  for (let round = 1; round <= Number(values.rounds); round++) {
    for (const c of cases) {
      for (const name of values.clients.split(",")) {
        const client = clients[name];
        if (client === undefined) throw new Error(`unknown client ${name} (platformatic, kafkajs)`);
        const topic = `bench-${name}-${c.name}-${randomUUID()}`;
        await createTopic(bootstrap, topic);
        const bytes = c.totalRecords * c.recordBytes;
        const produced = await client.produce(bootstrap, topic, c);
        let read = 0;
        const consumed = await timed(async () => {
          read = await client.consume(bootstrap, topic, c);
        });
        if (read !== bytes) throw new Error(`${name} ${c.name}: consumed ${read} bytes, produced ${bytes}`);
        await deleteTopic(bootstrap, topic);
        for (const [direction, r] of [["produce", produced], ["consume", consumed]] as const) {
          process.stdout.write(
            JSON.stringify({
              client: names[name],
              case: c.name,
              direction,
              round,
              records: c.totalRecords,
              record_bytes: c.recordBytes,
              ...(direction === "produce" ? { records_per_send: c.recordsPerSend, window: WINDOW, acks: "all", idempotent: true } : {}),
              ...(direction === "produce" && name === "kafkajs" ? { max_in_flight: Number(values["kafkajs-inflight"]) || "unlimited" } : {}),
              records_per_s: Math.round(c.totalRecords / r.seconds),
              mb_per_s: Number((bytes / 1e6 / r.seconds).toFixed(1)),
              client_cpu_s_per_gb: Number((r.cpuSeconds / (bytes / 1e9)).toFixed(2)),
              seconds: Number(r.seconds.toFixed(2)),
            }) + "\n",
          );
        }
      }
    }
  }
} finally {
  stopKafka();
}
