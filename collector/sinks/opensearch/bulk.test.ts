import { test } from "node:test";
import assert from "node:assert/strict";
import { IndexNames } from "../../opensearch/index-name.ts";
import type { SinkEvent } from "../types.ts";
import { bulkBody, encodeBulk } from "./bulk.ts";
import { judgeBulkItems } from "./bulk-response.ts";

function event(index: number, time = "2026-11-29T10:00:00.000Z"): SinkEvent {
  return { id: `e${index}`, time, observed_time: time, host: "h", source: "s", path: "/p", offset: index, message: `Line ${index} Top_up`, fields: { n: index }, tenant: "default" };
}

test("bulk requests: create actions under the event id, each document stamped with indexed_at when its body is made, cut by events and bytes; an event without a day is refused before any request", () => {
  const events = [event(0), event(1, "yesterday"), event(2), event(3), event(4)];
  const encoded = encodeBulk(events, [0, 1, 2, 3, 4], new IndexNames("logship-{tenant}-%Y.%m.%d"), { bytesMax: 1 << 20, eventsMax: 3 });
  assert.deepEqual(encoded.refused, [{ index: 1, reason: 'time "yesterday" is not an RFC 3339 time between years 0000 and 9999' }]);
  assert.deepEqual(encoded.requests.map((request) => request.items), [[0, 2, 3], [4]]);
  const request = encoded.requests[0];
  assert.ok(request !== undefined);
  const body = bulkBody(request, 1796000000123);
  assert.equal(body.length, request.bytes, "bytes counts the stamps");
  const lines = body.toString().trimEnd().split("\n").map((line) => JSON.parse(line) as Record<string, unknown>);
  assert.equal(lines.length, 6);
  assert.deepEqual(lines[0], { create: { _index: "logship-default-2026.11.29", _id: "e0" } });
  assert.deepEqual(lines[1], { tenant: "default", id: "e0", time: event(0).time, observed_time: event(0).time, host: "h", source: "s", path: "/p", offset: 0, message: "Line 0 Top_up", message_tokens: "line 0 top up", fields: { n: 0 }, indexed_at: 1796000000123 });
  assert.deepEqual(lines.filter((_, index) => index % 2 === 1).map((line) => line["indexed_at"]), [1796000000123, 1796000000123, 1796000000123]);
  assert.equal(JSON.parse(bulkBody(request, 7).toString().split("\n")[1] ?? "")["indexed_at"], 7, "a body made again (a retry) is stamped again");
  const small = encodeBulk(events, [0, 2, 3], new IndexNames("logship-{tenant}-%Y.%m.%d"), { bytesMax: 10, eventsMax: 100 });
  assert.deepEqual(small.requests.map((request) => request.items), [[0], [2], [3]], "an event over bytesMax goes alone");
});

test("bulk answers: 2xx and 409 done, 429 and 5xx retriable (429 throttles), other 4xx refused with OpenSearch's reason", () => {
  const verdicts = judgeBulkItems(
    {
      errors: true,
      items: [
        { create: { status: 201 } },
        { create: { status: 409, error: { type: "version_conflict_engine_exception", reason: "exists" } } },
        { create: { status: 429, error: { type: "es_rejected_execution_exception", reason: "queue full" } } },
        { create: { status: 503, error: { type: "unavailable_shards_exception", reason: "primary not active" } } },
        { create: { status: 400, error: { type: "mapper_parsing_exception", reason: "failed to parse field [fields.n] of type [long]", caused_by: { type: "illegal_argument_exception", reason: "For input string" } } } },
      ],
    },
    5,
  );
  assert.deepEqual(verdicts, [
    { kind: "done" },
    { kind: "done" },
    { kind: "retry", throttled: true, reason: "429 es_rejected_execution_exception: queue full" },
    { kind: "retry", throttled: false, reason: "503 unavailable_shards_exception: primary not active" },
    { kind: "reject", reason: "400 mapper_parsing_exception: failed to parse field [fields.n] of type [long] (caused by: illegal_argument_exception: For input string)" },
  ]);
  assert.throws(() => judgeBulkItems({ items: [] }, 1), /has 0 items for 1 actions/);
});
