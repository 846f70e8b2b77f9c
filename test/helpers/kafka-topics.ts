/**
 * Kafka helpers for the integration tests: create a topic (our client's
 * admin API), and read a topic back with `kcat`, the independent client
 * (test/engines/kafka.ts installs it), as text records.
 */
import { execFileSync } from "node:child_process";
import { Admin, Producer } from "@platformatic/kafka";

export async function createTopic(bootstrap: string, topic: string, partitions: number, configs: Record<string, string> = {}): Promise<void> {
  const admin = new Admin({ clientId: "logship-itest-admin", bootstrapBrokers: [bootstrap] });
  try {
    await admin.createTopics({ topics: [topic], partitions, replicas: 1, configs: Object.entries(configs).map(([name, value]) => ({ name, value })) });
  } finally {
    await admin.close();
  }
}

/**
 * Waits until a new broker hands out idempotent producer ids: right after
 * start its transaction coordinator is still loading
 * (COORDINATOR_LOAD_IN_PROGRESS), which a test that expects its first
 * produce to succeed must not race. Produces one record to a topic of its own.
 */
export async function waitForProducerIds(bootstrap: string): Promise<void> {
  const topic = "logship-itest-warm-up";
  const admin = new Admin({ clientId: "logship-itest-admin", bootstrapBrokers: [bootstrap] });
  try {
    const existing = await admin.listTopics();
    if (!existing.includes(topic)) await admin.createTopics({ topics: [topic], partitions: 1, replicas: 1 });
  } finally {
    await admin.close();
  }
  // The client's idempotent producer retries until the coordinator answers (the test's timeout bounds it).
  const producer = new Producer({ clientId: "logship-itest-warm-up", bootstrapBrokers: [bootstrap], idempotent: true });
  try {
    await producer.send({ messages: [{ topic, value: Buffer.from("warm-up") }] });
  } finally {
    await producer.close();
  }
}

export interface KcatRecord {
  partition: number;
  offset: number;
  key: string;
  headers: Record<string, string>;
  /** Value bytes (kcat's %S). */
  valueBytes: number;
  /** The value as text; only when asked for (binary values would break the line format). */
  value: string;
}

/**
 * Every record of `topic` as kcat prints it, from the beginning to the end
 * as of now. Keys, header names and values must not contain tabs or
 * newlines (logship's do not); with `withValues` the values must not either
 * (JSON text does not).
 */
export function kcatRecords(kcat: string, bootstrap: string, topic: string, options: { withValues: boolean }): KcatRecord[] {
  const format = options.withValues ? "%p\t%o\t%k\t%h\t%S\t%s\n" : "%p\t%o\t%k\t%h\t%S\n";
  const out = execFileSync(kcat, ["-b", bootstrap, "-C", "-t", topic, "-o", "beginning", "-e", "-q", "-f", format], { encoding: "utf8", maxBuffer: 1 << 30, timeout: 120_000 });
  const records: KcatRecord[] = [];
  for (const line of out.split("\n")) {
    if (line === "") continue;
    const [partition, offset, key, headers, valueBytes, ...value] = line.split("\t");
    records.push({
      partition: Number(partition),
      offset: Number(offset),
      key: key ?? "",
      headers: Object.fromEntries((headers ?? "").split(",").filter((pair) => pair !== "").map((pair) => [pair.slice(0, pair.indexOf("=")), pair.slice(pair.indexOf("=") + 1)])),
      valueBytes: Number(valueBytes),
      value: value.join("\t"),
    });
  }
  return records;
}

/** One record's value as bytes, read by kcat. */
export function kcatValue(kcat: string, bootstrap: string, topic: string, partition: number, offset: number): Buffer {
  return execFileSync(kcat, ["-b", bootstrap, "-C", "-t", topic, "-p", String(partition), "-o", String(offset), "-c", "1", "-e", "-q", "-f", "%s"], { maxBuffer: 1 << 30, timeout: 60_000 });
}
