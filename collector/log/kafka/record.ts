/**
 * The Kafka log's record format, version 1 (docs/KAFKA.md, "The log
 * topic"): one Kafka record per accepted agent batch.
 *
 *   key      "<tenant>/<agent id>", UTF-8. Tenants cannot contain "/", so
 *            the first "/" splits it. One agent's batches share a key, hence
 *            a partition, hence their order.
 *   value    the batch exactly as the agent sent it: a wire v1 payload
 *            compressed with zstd (docs/WIRE.md), never re-encoded.
 *   headers  UTF-8 text, so any client (kcat -f '%h') can read them:
 *              logship.format           "1" (this format)
 *              logship.tenant           tenant
 *              logship.agent            agent id (wire header)
 *              logship.seq              batch seq (wire header), decimal
 *              logship.floor            agent's floor (wire header), decimal
 *              logship.events           event count, decimal
 *              logship.observed_min_ms  earliest observed time, ms since the epoch (as JavaScript prints a number)
 *              logship.observed_max_ms  latest observed time, likewise
 *              logship.stream           the collector stream (routes), only for a
 *                                       stream other than the default; each stream
 *                                       has a topic of its own (streamTopic)
 *
 * The headers repeat what the batch says so that consumers can route,
 * count and deduplicate ((tenant, agent, seq) names a batch for ever)
 * without decompressing it. A consumer refuses a record of another format.
 */
import type { MessageToProduce } from "@platformatic/kafka";
import { DEFAULT_STREAM, isValidStream } from "../../routing/streams.ts";
import { isValidTenant } from "../format.ts";
import type { AppendInput } from "../tenant-log.ts";

export const KAFKA_RECORD_FORMAT = "1";

export const HEADER = {
  format: "logship.format",
  tenant: "logship.tenant",
  agent: "logship.agent",
  seq: "logship.seq",
  floor: "logship.floor",
  events: "logship.events",
  observedMinMs: "logship.observed_min_ms",
  observedMaxMs: "logship.observed_max_ms",
  stream: "logship.stream",
} as const;

/** What a log record says about its batch (everything but the batch bytes). */
export interface KafkaRecordHeader {
  tenant: string;
  /** The collector stream (routes); the default stream's records have no logship.stream header. */
  stream: string;
  agent: string;
  seq: number;
  floor: number;
  events: number;
  observedMinMs: number;
  observedMaxMs: number;
}

/** The record key of a tenant's agent stream. */
export function recordKey(tenant: string, agent: string): Buffer {
  return Buffer.from(`${tenant}/${agent}`, "utf8");
}

/** The topic of a stream: the log topic for the default stream, `<topic>.<stream>` for the others (docs/ROUTING.md). */
export function streamTopic(topic: string, stream: string): string {
  return stream === DEFAULT_STREAM ? topic : `${topic}.${stream}`;
}

export function encodeRecord(topic: string, tenant: string, input: AppendInput, stream: string = DEFAULT_STREAM): MessageToProduce<Buffer, Buffer, Buffer, Buffer> {
  const text: [string, string][] = [
    [HEADER.format, KAFKA_RECORD_FORMAT],
    [HEADER.tenant, tenant],
    [HEADER.agent, input.agent],
    [HEADER.seq, String(input.seq)],
    [HEADER.floor, String(input.floor)],
    [HEADER.events, String(input.events)],
    [HEADER.observedMinMs, String(input.observedMinMs)],
    [HEADER.observedMaxMs, String(input.observedMaxMs)],
  ];
  if (stream !== DEFAULT_STREAM) text.push([HEADER.stream, stream]);
  return {
    topic,
    key: recordKey(tenant, input.agent),
    value: input.batch,
    headers: new Map(text.map(([name, value]) => [Buffer.from(name), Buffer.from(value, "utf8")])),
  };
}

/**
 * The header of a consumed record, or why it is not a logship log record
 * (another format, a header missing or malformed). Header names and values
 * arrive as bytes.
 */
export function decodeRecordHeaders(headers: ReadonlyMap<Buffer | string, Buffer | string | undefined>): KafkaRecordHeader | string {
  const text = new Map<string, string>();
  for (const [name, value] of headers) text.set(name.toString(), value === undefined ? "" : value.toString());
  const format = text.get(HEADER.format);
  if (format !== KAFKA_RECORD_FORMAT) return format === undefined ? `no ${HEADER.format} header: not a logship log record` : `unknown record format ${JSON.stringify(format)}`;
  const tenant = text.get(HEADER.tenant) ?? "";
  if (!isValidTenant(tenant)) return `${HEADER.tenant} ${JSON.stringify(tenant)} is not a tenant name`;
  const stream = text.get(HEADER.stream) ?? DEFAULT_STREAM;
  if (!isValidStream(stream)) return `${HEADER.stream} ${JSON.stringify(stream)} is not a stream name`;
  const agent = text.get(HEADER.agent) ?? "";
  if (agent === "") return `${HEADER.agent} is missing`;
  const counts = { seq: HEADER.seq, floor: HEADER.floor, events: HEADER.events } as const;
  const parsed: Record<keyof typeof counts, number> = { seq: 0, floor: 0, events: 0 };
  for (const [field, name] of Object.entries(counts) as [keyof typeof counts, string][]) {
    const value = text.get(name);
    if (value === undefined || !/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) return `${name} ${JSON.stringify(value ?? null)} is not a whole number ≥ 0`;
    parsed[field] = Number(value);
  }
  const observedMin = text.get(HEADER.observedMinMs);
  const observedMax = text.get(HEADER.observedMaxMs);
  if (observedMin === undefined || observedMax === undefined) return `${HEADER.observedMinMs} or ${HEADER.observedMaxMs} is missing`;
  // Informational (lag age): the agent's clock, written as JavaScript prints a number; not checked further.
  return { tenant, stream, agent, ...parsed, observedMinMs: Number(observedMin), observedMaxMs: Number(observedMax) };
}
