import { test } from "node:test";
import assert from "node:assert/strict";
import { zstdDecompressSync } from "node:zlib";
import type { Event } from "../../shared/event.ts";
import { encodePayload, eventsSegment, payloadEvents, rawSegment, validatePayload } from "../../shared/wire/batch.ts";
import { routesSchema } from "./schema.ts";
import { transformsSchema } from "../../agent/transforms/schema.ts";
import { BatchProcessor } from "./processing.ts";

const OBSERVED_MS = 1_764_000_000_000;

/** Two files: a raw one (checkout, static fields) and a parsed one (api), the way an agent sends them. */
function mixedPayload(): Buffer {
  const header = {
    agent: "agent-1",
    host: "web-1",
    seq: 7,
    floor: 3,
    created_ms: OBSERVED_MS,
    streams: [
      { key: "checkout-key-000000000", source: "checkout", path: "/var/log/checkout.log", fields: { service: "shop" } },
      { key: "api-key-00000000000000", source: "api", path: "/var/log/api.log", fields: { service: "api" } },
    ],
  };
  const lines = ["purchase ok user=a@example.com", "debug noise", "refund ok", "purchase failed"];
  const raw = Buffer.from(lines.map((line) => `${line}\n`).join(""));
  const parsed = eventsSegment(1, OBSERVED_MS + 5, {
    offsets: [0, 40, 80],
    messages: ["GET /a", "GET /healthz", "POST /pay"],
    timesMs: [OBSERVED_MS - 1000, undefined, OBSERVED_MS - 500],
    fields: [{ level: "info", event: "purchase" }, { level: "debug" }, { level: "error", event: "top_up" }],
  }, [2]);
  return encodePayload(header, [rawSegment(0, OBSERVED_MS, 100, lines.length, raw, false), parsed]);
}

function processor(transforms: unknown[], routes: unknown[]): BatchProcessor {
  return new BatchProcessor({ transforms: transformsSchema.parse(transforms), routes: routesSchema.parse(routes) });
}

function partEvents(body: Uint8Array | null, payload: Buffer): Event[] {
  return [...payloadEvents(body === null ? payload : zstdDecompressSync(body))];
}

const ROUTES = [
  { stream: "payments", when: "source:checkout AND purchase" },
  { stream: "errors", when: "level:error" },
  { stream: "default" },
];

test("a batch is split by its routes: each part holds exactly its events, with their ids, times, fields and truncation", () => {
  const payload = mixedPayload();
  const summary = validatePayload(payload);
  const all = [...payloadEvents(payload)];
  const result = processor([], ROUTES).process(payload, summary, OBSERVED_MS);
  assert.deepEqual(result.parts.map((part) => part.stream), ["default", "errors", "payments"], "parts sorted by stream name");
  const byStream = new Map(result.parts.map((part) => [part.stream, partEvents(part.body, payload)]));
  assert.deepEqual(byStream.get("payments")?.map((event) => event.message), ["purchase ok user=a@example.com", "purchase failed"]);
  assert.deepEqual(byStream.get("errors")?.map((event) => event.message), ["POST /pay"]);
  assert.deepEqual(byStream.get("default")?.map((event) => event.message), ["debug noise", "refund ok", "GET /a", "GET /healthz"]);
  // Every event in exactly one part, unchanged (ids included): the union is the batch.
  const union = [...byStream.values()].flat();
  assert.equal(union.length, all.length);
  for (const event of all) assert.deepEqual(union.filter((candidate) => candidate.id === event.id), [event]);
  for (const part of result.parts) {
    const summaryOfPart = validatePayload(zstdDecompressSync(part.body as Uint8Array));
    assert.equal(summaryOfPart.events, part.events);
    assert.deepEqual([summaryOfPart.header.agent, summaryOfPart.header.seq, summaryOfPart.header.floor], ["agent-1", 7, 3]);
    assert.deepEqual([part.observedMinMs, part.observedMaxMs], [summaryOfPart.observedMinMs, summaryOfPart.observedMaxMs]);
  }
  assert.equal(result.dropped, 0);
});

test("transforms run before routing; a step may change a static field; counts are per batch", () => {
  const payload = mixedPayload();
  const summary = validatePayload(payload);
  const batchProcessor = processor(
    [{ drop: "level:debug OR debug" }, { redact: { patterns: ["email"] } }, { set: { "fields.service": "{source}-{host}" } }],
    [{ stream: "payments", when: 'fields.service:"checkout-web-1" AND purchase' }],
  );
  const first = batchProcessor.process(payload, summary, OBSERVED_MS);
  const events = first.parts.flatMap((part) => partEvents(part.body, payload));
  assert.equal(events.length, 5, "two debug events dropped");
  assert.ok(events.every((event) => event.fields["service"] === `${event.source}-web-1`), "the static field was replaced");
  const payments = partEvents(first.parts.find((part) => part.stream === "payments")?.body ?? null, payload);
  assert.deepEqual(payments.map((event) => event.message), ["purchase ok user=[REDACTED:email]", "purchase failed"]);
  assert.equal(first.dropped, 2);
  assert.deepEqual(first.steps.map((step) => [step.step, step.dropped, step.redactions]), [["0_drop", 2, 0], ["1_redact", 0, 1], ["2_set", 0, 0]]);
  const second = batchProcessor.process(payload, summary, OBSERVED_MS);
  assert.deepEqual(second.steps.map((step) => step.dropped), [2, 0, 0], "the second batch's counts are its own");
});

test("without transforms, a batch whose events all go to one stream is stored as received", () => {
  const payload = mixedPayload();
  const result = processor([], [{ stream: "everything", when: "*" }]).process(payload, validatePayload(payload), OBSERVED_MS);
  assert.deepEqual(result.parts.map((part) => [part.stream, part.body, part.events]), [["everything", null, 7]]);
});

test("an empty batch is one 0-event part of the default stream; a batch whose events are all dropped has no part", () => {
  const empty = encodePayload({ agent: "a", host: "h", seq: 1, floor: 0, created_ms: OBSERVED_MS, streams: [] }, []);
  assert.deepEqual(processor([], ROUTES).process(empty, validatePayload(empty), OBSERVED_MS).parts.map((part) => [part.stream, part.events]), [["default", 0]]);
  const payload = mixedPayload();
  const result = processor([{ drop: "*" }], ROUTES).process(payload, validatePayload(payload), OBSERVED_MS);
  assert.deepEqual([result.parts, result.dropped], [[], 7]);
});

test("routes: the first match wins; events no route takes go to the default stream", () => {
  const payload = mixedPayload();
  const result = processor([], [{ stream: "a", when: "level:*" }, { stream: "b", when: "level:error" }]).process(payload, validatePayload(payload), OBSERVED_MS);
  assert.deepEqual(result.parts.map((part) => [part.stream, part.events]), [["a", 3], ["default", 4]]);
});
