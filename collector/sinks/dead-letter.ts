/**
 * Events a sink rejected: one NDJSON file per rejected batch under
 * `data_dir/dead-letter/<sink>/<tenant>-<fromOffset>-<toOffset>.ndjson`
 * (log offsets [from, to)), written atomically before the runner commits
 * past them, so a rejected event is either in a dead-letter file or sent
 * again after a crash — never silently gone. With the Kafka log the range
 * is Kafka record offsets of one partition, and the name says which:
 * `<tenant>-<topic>-<partition>-<fromOffset>-<toOffset>.ndjson`.
 *
 * Line format, version 1: {"version": 1, "sink", "tenant", "reason", "rejected_ms", "event": {...}}
 * (`reason` is the batch's, or each event's own when the sink named them one by one).
 * A replayed range rejected again overwrites its own file (same name).
 */
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { writeFileAtomic } from "../../shared/fs-atomic.ts";
import { assert } from "../../shared/errors.ts";
import type { RejectedEvent, SinkEvent } from "./types.ts";

export const DEAD_LETTER_VERSION = 1;

export interface DeadLetterBatch {
  dataDirectory: string;
  sink: string;
  tenant: string;
  fromOffset: number;
  toOffset: number;
  reason: string;
  events: readonly SinkEvent[];
  /** Each event's own reason (same length as `events`); absent: `reason` for all. */
  reasons?: readonly string[];
  nowMs: number;
  /** Kafka log: the partition whose record offsets `fromOffset`/`toOffset` are. */
  kafkaPartition?: { topic: string; partition: number };
}

/** Writes the file and returns its path. */
export async function writeDeadLetter(batch: DeadLetterBatch): Promise<string> {
  const directory = deadLetterDirectory(batch.dataDirectory, batch.sink);
  await mkdir(directory, { recursive: true });
  const partition = batch.kafkaPartition === undefined ? "" : `${batch.kafkaPartition.topic}-${batch.kafkaPartition.partition}-`;
  const path = join(directory, `${batch.tenant}-${partition}${batch.fromOffset}-${batch.toOffset}.ndjson`);
  const lines = batch.events.map((event, index) =>
    JSON.stringify({ version: DEAD_LETTER_VERSION, sink: batch.sink, tenant: batch.tenant, reason: batch.reasons?.[index] ?? batch.reason, rejected_ms: batch.nowMs, event }),
  );
  await writeFileAtomic(path, lines.join("\n") + "\n");
  return path;
}

export function deadLetterDirectory(dataDirectory: string, sink: string): string {
  return join(dataDirectory, "dead-letter", sink);
}

/** The events a reject refers to: all of the send, or the ones it names (each with its reason). */
export function rejectedEvents(events: readonly SinkEvent[], rejected: readonly RejectedEvent[] | undefined): { events: readonly SinkEvent[]; reasons: readonly string[] | undefined } {
  if (rejected === undefined) return { events, reasons: undefined };
  return {
    events: rejected.map(({ index }) => {
      const event = events[index];
      assert(event !== undefined, "a sink names rejected events by their index in the send");
      return event;
    }),
    reasons: rejected.map(({ reason }) => reason),
  };
}
