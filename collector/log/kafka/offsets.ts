/**
 * What Kafka knows about the log topic's offsets, asked through one admin
 * client (`log.backend: kafka`; docs/KAFKA.md, "Status and replay"): each
 * partition's first and end offset (ListOffsets earliest / latest), a
 * consumer group's committed offsets (OffsetFetch), the first offset at or
 * after a time (ListOffsets by timestamp: the record timestamp is the time
 * the collector produced the batch), and deleting a group that is done
 * (a replay's own group).
 *
 * Every call is one try per broker request (each at most `timeoutMs`) and
 * the whole call at most CALL_DEADLINE_MS, so `logship status` gets its
 * answer, with the reason, even while Kafka does not answer. Failures
 * reject with KafkaOffsetsError (code LOGSHIP_KAFKA_OFFSETS).
 */
import { Admin, ListOffsetTimestamps } from "@platformatic/kafka";
import { LogshipError } from "../../../shared/errors.ts";
import { baseClientOptions } from "../../kafka/client.ts";
import { describeKafkaError } from "../../kafka/errors.ts";

/** A whole call (metadata, then offsets) ends by then: below the CLI's 10 s status timeout. */
const CALL_DEADLINE_MS = 8000;

export interface PartitionOffsets {
  partition: number;
  /** The oldest offset still in the partition (retention deletes from the front). */
  firstOffset: bigint;
  /** The offset the next record gets (the high watermark). */
  endOffset: bigint;
}

export interface KafkaLogOffsetsOptions {
  brokers: readonly string[];
  topic: string;
  /** Per broker request. */
  timeoutMs: number;
}

export class KafkaOffsetsError extends LogshipError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("LOGSHIP_KAFKA_OFFSETS", message, options);
    this.name = "KafkaOffsetsError";
  }
}

export class KafkaLogOffsets {
  readonly topic: string;
  private readonly options: KafkaLogOffsetsOptions;
  private admin: Admin | null = null;
  private closed = false;

  constructor(options: KafkaLogOffsetsOptions) {
    this.options = options;
    this.topic = options.topic;
  }

  /** Every partition of the topic with its first and end offset, by partition. */
  partitions(): Promise<PartitionOffsets[]> {
    return this.call("the log topic's offsets", async (admin) => {
      const partitions = await this.partitionNumbers(admin);
      const [first, end] = await Promise.all([this.listOffsets(admin, partitions, ListOffsetTimestamps.EARLIEST), this.listOffsets(admin, partitions, ListOffsetTimestamps.LATEST)]);
      return partitions.map((partition) => ({ partition, firstOffset: first.get(partition) ?? 0n, endOffset: end.get(partition) ?? 0n }));
    });
  }

  /** The group's committed offset per partition; null where it has committed none (it starts at the earliest record there). */
  committed(group: string, partitions: readonly number[]): Promise<Map<number, bigint | null>> {
    return this.call(`the committed offsets of consumer group ${group}`, async (admin) => {
      const [answer] = await admin.listConsumerGroupOffsets({ groups: [{ groupId: group, topics: [{ name: this.topic, partitionIndexes: [...partitions] }] }] });
      const committed = new Map<number, bigint | null>(partitions.map((partition) => [partition, null]));
      for (const entry of answer?.topics.find((topic) => topic.name === this.topic)?.partitions ?? []) {
        if (entry.committedOffset >= 0n) committed.set(entry.partitionIndex, entry.committedOffset);
      }
      return committed;
    });
  }

  /** Per partition, the offset of the first record whose timestamp is at least `timeMs`; null where every record is older. */
  atTime(timeMs: number, partitions: readonly number[]): Promise<Map<number, bigint | null>> {
    return this.call(`the log topic's offsets at ${new Date(timeMs).toISOString()}`, async (admin) => {
      const found = await this.listOffsets(admin, partitions, BigInt(timeMs));
      return new Map(partitions.map((partition) => {
        const offset = found.get(partition);
        return [partition, offset === undefined || offset < 0n ? null : offset];
      }));
    });
  }

  /** Deletes a consumer group that has no members left. */
  deleteGroup(group: string): Promise<void> {
    return this.call(`deleting consumer group ${group}`, (admin) => admin.deleteGroups({ groups: [group] }));
  }

  async close(): Promise<void> {
    this.closed = true;
    const admin = this.admin;
    this.admin = null;
    await admin?.close();
  }

  private async partitionNumbers(admin: Admin): Promise<number[]> {
    const metadata = await admin.metadata({ topics: [this.topic], forceUpdate: true });
    const topic = metadata.topics.get(this.topic);
    if (topic === undefined) throw new KafkaOffsetsError(`Kafka has no topic ${this.topic}`);
    return Array.from({ length: topic.partitionsCount }, (_, partition) => partition);
  }

  private async listOffsets(admin: Admin, partitions: readonly number[], timestamp: bigint): Promise<Map<number, bigint>> {
    const [topic] = await admin.listOffsets({ topics: [{ name: this.topic, partitions: partitions.map((partitionIndex) => ({ partitionIndex, timestamp })) }] });
    return new Map((topic?.partitions ?? []).map((entry) => [entry.partitionIndex, entry.offset]));
  }

  /** Runs `work` with the admin client (created on first use), within CALL_DEADLINE_MS. */
  private async call<T>(what: string, work: (admin: Admin) => Promise<T>): Promise<T> {
    if (this.closed) throw new KafkaOffsetsError(`cannot ask Kafka for ${what}: the collector is stopping`);
    this.admin ??= new Admin(baseClientOptions({ clientId: "logship-log-offsets", brokers: this.options.brokers, timeoutMs: this.options.timeoutMs, retries: 0 }));
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new KafkaOffsetsError(`Kafka did not answer for ${what} within ${CALL_DEADLINE_MS} ms`)), CALL_DEADLINE_MS);
    });
    try {
      return await Promise.race([work(this.admin), late]);
    } catch (error) {
      if (error instanceof KafkaOffsetsError) throw error;
      throw new KafkaOffsetsError(`cannot ask Kafka for ${what}: ${describeKafkaError(error)}`, { cause: error });
    } finally {
      clearTimeout(timer);
    }
  }
}
