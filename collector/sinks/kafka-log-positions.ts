/**
 * Where the Kafka log and its sink groups stand, for /metrics with
 * `log.backend: kafka` (docs/METRICS.md): per topic the log reads (the
 * default stream's and each routed stream's) its partitions' first and end
 * offsets, and per sink runner's consumer group its committed offset and
 * lag in records per partition. Asked of Kafka through one admin client per
 * topic (offsets.ts: every call bounded), at most once per
 * SNAPSHOT_REUSE_MS: the gauges of one scrape share one snapshot, and
 * scrapes closer together than that reuse it.
 *
 * A topic Kafka does not answer for is left out of the snapshot (its
 * series are absent from that scrape; the reason is logged at debug, and
 * `logship status` says it too).
 */
import type { Logger } from "../../shared/logger.ts";
import { KafkaLogOffsets, type PartitionOffsets } from "../log/kafka/offsets.ts";

/** A snapshot serves every gauge of one scrape and scrapes within this long of each other. */
const SNAPSHOT_REUSE_MS = 1000;

export interface KafkaGroupOfTopic {
  sink: string;
  group: string;
  topic: string;
}

export interface KafkaTopicPartitionOffsets extends PartitionOffsets {
  topic: string;
}

export interface KafkaSinkPartitionLag {
  sink: string;
  topic: string;
  partition: number;
  /** Records from the group's committed offset (or the first record, when it committed none or retention passed it) to the end. */
  lagRecords: number;
}

export interface KafkaLogPositionsSnapshot {
  partitions: KafkaTopicPartitionOffsets[];
  lag: KafkaSinkPartitionLag[];
}

export interface KafkaLogPositionsOptions {
  brokers: readonly string[];
  timeoutMs: number;
  logger: Logger;
  nowMs?: () => number;
}

export class KafkaLogPositions {
  private readonly options: KafkaLogPositionsOptions;
  private readonly nowMs: () => number;
  /** One admin client per topic; bounded by the topics the config names. */
  private readonly offsetsByTopic = new Map<string, KafkaLogOffsets>();
  private latest: { atMs: number; snapshot: Promise<KafkaLogPositionsSnapshot> } | null = null;

  constructor(options: KafkaLogPositionsOptions) {
    this.options = options;
    this.nowMs = options.nowMs ?? Date.now;
  }

  /** The offsets of `topics` and of `groups`' topics, and the groups' lag (a snapshot younger than SNAPSHOT_REUSE_MS is reused). */
  snapshot(topics: readonly string[], groups: readonly KafkaGroupOfTopic[]): Promise<KafkaLogPositionsSnapshot> {
    const nowMs = this.nowMs();
    if (this.latest !== null && nowMs - this.latest.atMs < SNAPSHOT_REUSE_MS) return this.latest.snapshot;
    const snapshot = this.ask(topics, groups);
    this.latest = { atMs: nowMs, snapshot };
    return snapshot;
  }

  async close(): Promise<void> {
    await Promise.all([...this.offsetsByTopic.values()].map((offsets) => offsets.close()));
    this.offsetsByTopic.clear();
  }

  private async ask(topicsAsked: readonly string[], groups: readonly KafkaGroupOfTopic[]): Promise<KafkaLogPositionsSnapshot> {
    const topics = [...new Set([...topicsAsked, ...groups.map((entry) => entry.topic)])];
    const answers = await Promise.all(topics.map((topic) => this.askTopic(topic, groups.filter((entry) => entry.topic === topic))));
    return { partitions: answers.flatMap((answer) => answer.partitions), lag: answers.flatMap((answer) => answer.lag) };
  }

  private async askTopic(topic: string, groups: readonly KafkaGroupOfTopic[]): Promise<KafkaLogPositionsSnapshot> {
    const offsets = this.offsetsOf(topic);
    try {
      const partitions = await offsets.partitions();
      const numbers = partitions.map((entry) => entry.partition);
      const committed = await Promise.all(groups.map((entry) => offsets.committed(entry.group, numbers)));
      const lag = groups.flatMap((entry, index) =>
        partitions.map((partition) => ({ sink: entry.sink, topic, partition: partition.partition, lagRecords: lagRecords(partition, committed[index]?.get(partition.partition) ?? null) })),
      );
      return { partitions: partitions.map((entry) => ({ topic, ...entry })), lag };
    } catch (error) {
      this.options.logger.debug("metrics: Kafka did not answer for the log's offsets; their series are left out of this scrape", { topic, error: error instanceof Error ? error.message : String(error) });
      return { partitions: [], lag: [] };
    }
  }

  private offsetsOf(topic: string): KafkaLogOffsets {
    let offsets = this.offsetsByTopic.get(topic);
    if (offsets === undefined) {
      offsets = new KafkaLogOffsets({ brokers: this.options.brokers, topic, timeoutMs: this.options.timeoutMs });
      this.offsetsByTopic.set(topic, offsets);
    }
    return offsets;
  }
}

/** end − max(committed, first): a group that committed nothing, or whose offset retention passed, reads from the first record left. */
export function lagRecords(partition: PartitionOffsets, committed: bigint | null): number {
  const next = committed === null || committed < partition.firstOffset ? partition.firstOffset : committed;
  return next >= partition.endOffset ? 0 : Number(partition.endOffset - next);
}
