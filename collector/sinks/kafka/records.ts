/**
 * The kafka sink's records (docs/SINKS.md, "kafka"): one Kafka record per
 * event.
 *
 *   key      "<host>:<path>", UTF-8: one file's events share a key, hence a
 *            partition, hence their order.
 *   value    the event as JSON, the same object `logship log dump` prints:
 *            {"tenant", "id", "time", "observed_time", "host", "source",
 *            "path", "offset", "message", "fields"[, "truncated"]}.
 *   headers  logship.id (the event id: consumers deduplicate by it),
 *            logship.tenant.
 *
 * A send is cut into produce requests of at most REQUEST_BYTES_MAX record
 * bytes (Kafka's default `max.message.bytes` is 1 MiB per partition batch;
 * counting every partition's records against it stays under it for any
 * partitioning), or less once the topic showed it takes less (sink.ts).
 * Requests go one after another, so a key's events stay in order.
 */
import type { MessageToProduce } from "@platformatic/kafka";
import type { SinkEvent } from "../types.ts";

export type KafkaRecord = MessageToProduce<Buffer, Buffer, Buffer, Buffer>;

/** Record bytes per produce request at most (a larger single record goes alone). */
export const REQUEST_BYTES_MAX = 1_000_000;
/** What Kafka's record framing adds to key, value and headers, at most (varint lengths, deltas, attributes). */
const RECORD_FRAMING_BYTES = 64;

export const ID_HEADER = "logship.id";
export const TENANT_HEADER = "logship.tenant";

export function eventKey(event: SinkEvent): Buffer {
  return Buffer.from(`${event.host}:${event.path}`, "utf8");
}

/** The event as `logship log dump` prints it: tenant first, then the event's own fields. */
export function eventValue(event: SinkEvent): Buffer {
  const { tenant, ...rest } = event;
  return Buffer.from(JSON.stringify({ tenant, ...rest }), "utf8");
}

export function eventRecord(topic: string, event: SinkEvent): KafkaRecord {
  return {
    topic,
    key: eventKey(event),
    value: eventValue(event),
    headers: new Map([
      [Buffer.from(ID_HEADER), Buffer.from(event.id, "utf8")],
      [Buffer.from(TENANT_HEADER), Buffer.from(event.tenant, "utf8")],
    ]),
  };
}

/** Bytes a record takes in a produce request (upper bound). */
export function recordBytes(record: KafkaRecord): number {
  let bytes = RECORD_FRAMING_BYTES + (record.key?.length ?? 0) + (record.value?.length ?? 0);
  if (record.headers instanceof Map) for (const [name, value] of record.headers) bytes += name.length + value.length + 2;
  return bytes;
}

/**
 * The next produce request: records [start, end) of `records`, as many as
 * fit in `bytesMax` (at least one: a single larger record goes alone).
 */
export function nextRequest(records: readonly KafkaRecord[], start: number, bytesMax: number): { end: number; bytes: number } {
  let end = start;
  let bytes = 0;
  while (end < records.length) {
    const next = recordBytes(records[end] as KafkaRecord);
    if (end > start && bytes + next > bytesMax) break;
    bytes += next;
    end++;
  }
  return { end, bytes };
}
