/**
 * A replay over the Kafka log (`logship replay` with `log.backend: kafka`;
 * docs/KAFKA.md, "Replay"): which records of which partitions one sink gets
 * again, and how far a replay has come.
 *
 * A replay never touches the sink's consumer group (Kafka lets an admin
 * move a group's offsets only while the group has no members, and every
 * collector's runner is one). Instead the collector that is asked runs a
 * second runner for the sink (kafka-log-runner.ts with `replay`), in a
 * consumer group of its own, `logship-replay-<sink>-<id>`, that reads each
 * partition from the replay's start to the sink group's committed offset
 * as it was when the replay was asked for, delivers the records of one
 * tenant, commits nothing to Kafka, and ends. What lies past the committed
 * offset the sink's own runners deliver anyway. Sinks are idempotent by
 * event id, so the events delivered twice are stored once.
 *
 * planKafkaReplay is pure: it turns the request and the offsets Kafka gave
 * into per-partition ranges, or a ReplayError saying what is wrong.
 */
import { randomUUID } from "node:crypto";
import type { PartitionOffsets } from "../log/kafka/offsets.ts";
import { ReplayError } from "./replay-error.ts";

/** Where a replay starts: one offset for every partition, an offset per partition, or the first offset at or after a time (per partition; null: none). */
export type KafkaReplayStart = { offset: number } | { partitionOffsets: ReadonlyMap<number, number> } | { atTime: ReadonlyMap<number, bigint | null> };

export interface KafkaReplayPartitionPlan {
  partition: number;
  /** Where re-delivery starts in this partition. */
  fromOffset: bigint;
  /** The sink group's committed offset when asked (where re-delivery stops); null when it had committed none. */
  committedOffset: bigint | null;
  endOffset: bigint;
  /** Records in [fromOffset, committedOffset): the ones delivered again (only the tenant's events among them). */
  records: number;
}

export interface KafkaReplayPlanInput {
  topic: string;
  partitions: readonly PartitionOffsets[];
  committed: ReadonlyMap<number, bigint | null>;
  start: KafkaReplayStart;
}

/** Per partition, the range to deliver again. Throws ReplayError for a start outside the log. */
export function planKafkaReplay(input: KafkaReplayPlanInput): KafkaReplayPartitionPlan[] {
  const { topic, partitions, start } = input;
  const starts = new Map<number, bigint | null>();
  if ("partitionOffsets" in start) {
    for (const [partition, offset] of start.partitionOffsets) {
      const known = partitions.find((entry) => entry.partition === partition);
      if (known === undefined) throw new ReplayError("LOGSHIP_REPLAY_REQUEST", `topic ${topic} has no partition ${partition} (it has ${partitions.length}: 0 to ${partitions.length - 1})`);
      if (BigInt(offset) > known.endOffset) {
        throw new ReplayError("LOGSHIP_REPLAY_OFFSET_BEYOND_END", `offset ${offset} is beyond the end of partition ${partition} of topic ${topic} (its next offset is ${known.endOffset})`);
      }
      starts.set(partition, BigInt(offset));
    }
  } else if ("offset" in start) {
    const offset = BigInt(start.offset);
    if (partitions.every((entry) => offset > entry.endOffset)) {
      throw new ReplayError("LOGSHIP_REPLAY_OFFSET_BEYOND_END", `offset ${start.offset} is beyond the end of every partition of topic ${topic} (next offsets: ${describeOffsets(partitions, (entry) => entry.endOffset)})`);
    }
    for (const entry of partitions) starts.set(entry.partition, offset);
  } else {
    for (const entry of partitions) starts.set(entry.partition, start.atTime.get(entry.partition) ?? entry.endOffset);
  }
  return partitions.map((entry) => {
    const committedOffset = input.committed.get(entry.partition) ?? null;
    const fromOffset = starts.get(entry.partition) ?? entry.endOffset;
    const records = committedOffset === null || fromOffset >= committedOffset ? 0 : Number(committedOffset - fromOffset);
    if (records > 0 && fromOffset < entry.firstOffset) {
      throw new ReplayError(
        "LOGSHIP_REPLAY_OFFSET_DELETED",
        `offset ${fromOffset} of partition ${entry.partition} was deleted by retention (the partition starts at offset ${entry.firstOffset}); give a time (--from 7d) or offsets per partition (--from ${describeOffsets(partitions, (each) => each.firstOffset, ",")})`,
      );
    }
    return { partition: entry.partition, fromOffset, committedOffset, endOffset: entry.endOffset, records };
  });
}

function describeOffsets(partitions: readonly PartitionOffsets[], pick: (entry: PartitionOffsets) => bigint, separator = ", "): string {
  return partitions.map((entry) => `${entry.partition}:${pick(entry)}`).join(separator);
}

/** The consumer group of one replay: unique, so a replay never joins another's group or the sink's. */
export function replayGroup(sink: string): string {
  return `logship-replay-${sink}-${randomUUID().slice(0, 8)}`;
}

export interface KafkaReplayProgress {
  partition: number;
  fromOffset: bigint;
  toOffset: bigint;
  /** The next record not yet delivered (or skipped); toOffset when the partition is done. */
  nextOffset: bigint;
}

/**
 * The ranges a replay runner reads and where it is in each (in memory:
 * a replay commits nothing to Kafka, and a new session of the runner goes
 * on from here). Only partitions with records to replay are held.
 */
export class KafkaReplayRange {
  readonly group: string;
  readonly tenant: string;
  private readonly ranges: Map<number, KafkaReplayProgress>;

  constructor(group: string, tenant: string, plan: readonly KafkaReplayPartitionPlan[]) {
    this.group = group;
    this.tenant = tenant;
    this.ranges = new Map();
    for (const entry of plan) {
      if (entry.records === 0 || entry.committedOffset === null) continue;
      this.ranges.set(entry.partition, { partition: entry.partition, fromOffset: entry.fromOffset, toOffset: entry.committedOffset, nextOffset: entry.fromOffset });
    }
  }

  /** Where a stream starts (MANUAL mode): each unfinished partition at its next offset. */
  fetchOffsets(topic: string): { topic: string; partition: number; offset: bigint }[] {
    return [...this.ranges.values()].filter((range) => range.nextOffset < range.toOffset).map((range) => ({ topic, partition: range.partition, offset: range.nextOffset }));
  }

  /** True for a record inside the range and not yet passed. */
  covers(partition: number, offset: bigint): boolean {
    const range = this.ranges.get(partition);
    return range !== undefined && offset >= range.nextOffset && offset < range.toOffset;
  }

  /** Everything before `nextOffset` in `partition` was delivered or skipped. */
  advance(partition: number, nextOffset: bigint): void {
    const range = this.ranges.get(partition);
    if (range === undefined) return;
    const capped = nextOffset < range.toOffset ? nextOffset : range.toOffset;
    if (capped > range.nextOffset) range.nextOffset = capped;
  }

  get done(): boolean {
    return [...this.ranges.values()].every((range) => range.nextOffset >= range.toOffset);
  }

  remainingRecords(): number {
    return [...this.ranges.values()].reduce((sum, range) => sum + Number(range.toOffset - range.nextOffset), 0);
  }

  progress(): KafkaReplayProgress[] {
    return [...this.ranges.values()].map((range) => ({ ...range })).sort((a, b) => a.partition - b.partition);
  }
}
