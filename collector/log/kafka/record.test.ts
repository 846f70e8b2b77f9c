/**
 * The Kafka log record format: the key names the agent stream, the value is
 * the batch as received, headers carry the wire header's fields as text and
 * decode back; anything else is refused with a reason.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { makeBatch, numberedLines } from "../../testing/batches.ts";
import { HEADER, decodeRecordHeaders, encodeRecord, recordKey, streamTopic } from "./record.ts";

const batch = makeBatch({ agent: "agent-7f3a", seq: 42, floor: 40, lines: numberedLines("line", 0, 5), observedMs: 1_764_000_000_123 });
const input = { batch: batch.body, events: 5, agent: "agent-7f3a", seq: 42, floor: 40, observedMinMs: 1_764_000_000_123, observedMaxMs: 1_764_000_000_456 };

function textHeaders(headers: Map<Buffer, Buffer>): Record<string, string> {
  return Object.fromEntries([...headers].map(([name, value]) => [name.toString(), value.toString()]));
}

test("a record is keyed tenant/agent, carries the batch bytes untouched and readable headers", () => {
  const record = encodeRecord("logship", "payments", input);
  assert.equal(record.topic, "logship");
  assert.equal(record.key?.toString(), "payments/agent-7f3a");
  assert.equal(record.value, batch.body, "the very bytes ingest received: not re-encoded, not copied");
  assert.deepEqual(textHeaders(record.headers as Map<Buffer, Buffer>), {
    "logship.format": "1",
    "logship.tenant": "payments",
    "logship.agent": "agent-7f3a",
    "logship.seq": "42",
    "logship.floor": "40",
    "logship.events": "5",
    "logship.observed_min_ms": "1764000000123",
    "logship.observed_max_ms": "1764000000456",
  });
});

test("one agent stream has one key whatever its batches; tenants and agents each change it", () => {
  assert.deepEqual(recordKey("default", "a"), encodeRecord("t", "default", { ...input, agent: "a", seq: 1 }).key);
  assert.deepEqual(encodeRecord("t", "default", { ...input, agent: "a", seq: 1 }).key, encodeRecord("t", "default", { ...input, agent: "a", seq: 99 }).key);
  assert.notDeepEqual(recordKey("default", "a"), recordKey("other", "a"));
  assert.notDeepEqual(recordKey("default", "a"), recordKey("default", "b"));
});

test("headers decode back to the batch's fields, from bytes as a consumer receives them", () => {
  const record = encodeRecord("logship", "default", input);
  assert.deepEqual(decodeRecordHeaders(record.headers as Map<Buffer, Buffer>), {
    tenant: "default",
    stream: "default",
    agent: "agent-7f3a",
    seq: 42,
    floor: 40,
    events: 5,
    observedMinMs: 1_764_000_000_123,
    observedMaxMs: 1_764_000_000_456,
  });
});

test("a named stream's record goes to its own topic and names its stream; the default stream's has no stream header", () => {
  const record = encodeRecord(streamTopic("logship", "payments"), "default", input, "payments");
  assert.equal(record.topic, "logship.payments");
  const header = decodeRecordHeaders(record.headers as Map<Buffer, Buffer>);
  assert.ok(typeof header !== "string" && header.stream === "payments" && header.tenant === "default");
  assert.equal(textHeaders(encodeRecord("logship", "default", input).headers as Map<Buffer, Buffer>)[HEADER.stream], undefined);
  assert.equal(streamTopic("logship", "default"), "logship");
});

test("a record that is not a logship log record of this format is refused with the reason", () => {
  const good = textHeaders(encodeRecord("logship", "default", input).headers as Map<Buffer, Buffer>);
  const decode = (changes: Record<string, string | undefined>): unknown => {
    const headers = new Map<Buffer, Buffer>();
    for (const [name, value] of Object.entries({ ...good, ...changes })) if (value !== undefined) headers.set(Buffer.from(name), Buffer.from(value));
    return decodeRecordHeaders(headers);
  };
  assert.equal(decode({ [HEADER.format]: undefined }), "no logship.format header: not a logship log record");
  assert.equal(decode({ [HEADER.format]: "2" }), 'unknown record format "2"');
  assert.equal(decode({ [HEADER.tenant]: "../etc" }), 'logship.tenant "../etc" is not a tenant name');
  assert.equal(decode({ [HEADER.agent]: "" }), "logship.agent is missing");
  assert.equal(decode({ [HEADER.seq]: "-1" }), 'logship.seq "-1" is not a whole number ≥ 0');
  assert.equal(decode({ [HEADER.events]: "1.5" }), 'logship.events "1.5" is not a whole number ≥ 0');
  assert.equal(decode({ [HEADER.floor]: undefined }), "logship.floor null is not a whole number ≥ 0");
  assert.equal(decode({ [HEADER.observedMaxMs]: undefined }), "logship.observed_min_ms or logship.observed_max_ms is missing");
  assert.equal(decodeRecordHeaders(new Map()), "no logship.format header: not a logship log record");
});
