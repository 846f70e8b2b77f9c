/**
 * The kafka sink's records: keyed host:path (one file, one partition, its
 * order), valued with exactly what `logship log dump` prints, carrying the
 * event id; and produce requests cut in order within the byte budget.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import type { SinkEvent } from "../types.ts";
import { ID_HEADER, TENANT_HEADER, eventKey, eventRecord, eventValue, nextRequest, recordBytes, type KafkaRecord } from "./records.ts";

function event(overrides: Partial<SinkEvent> = {}): SinkEvent {
  // Built the way the runner builds it: the decoded event, then the tenant assigned onto it.
  const decoded = {
    id: "Xq3kT0aBcDeFgHiJ1z",
    time: "2026-11-29T10:00:00.000Z",
    observed_time: "2026-11-29T10:00:00.005Z",
    host: "web-1",
    source: "nginx",
    path: "/var/log/nginx/access.log",
    offset: 1234,
    message: 'GET /healthz "200"',
    fields: { service: "web", status: 200 },
  };
  return Object.assign({ ...decoded, ...overrides }, { tenant: overrides.tenant ?? "default" });
}

test("the key is host:path, so one file's events share a partition and keep their order", () => {
  assert.equal(eventKey(event()).toString(), "web-1:/var/log/nginx/access.log");
  assert.deepEqual(eventKey(event({ offset: 1, message: "other" })), eventKey(event()));
  assert.notDeepEqual(eventKey(event({ host: "web-2" })), eventKey(event()));
  assert.notDeepEqual(eventKey(event({ path: "/var/log/nginx/error.log" })), eventKey(event()));
});

test("the value is the event as `logship log dump` prints it: tenant first, then the event's fields in order", () => {
  const sinkEvent = event({ tenant: "payments", truncated: true });
  const { tenant, ...decoded } = sinkEvent;
  // shared/cli/commands/log.ts prints JSON.stringify({ tenant, ...event }) for each decoded event.
  assert.equal(eventValue(sinkEvent).toString(), JSON.stringify({ tenant, ...decoded }));
  assert.deepEqual(Object.keys(JSON.parse(eventValue(sinkEvent).toString()) as object), ["tenant", "id", "time", "observed_time", "host", "source", "path", "offset", "message", "fields", "truncated"]);
});

test("each record carries the event id and tenant as headers, for consumers that deduplicate or route", () => {
  const record = eventRecord("events", event({ tenant: "payments" }));
  assert.equal(record.topic, "events");
  const headers = Object.fromEntries([...(record.headers as Map<Buffer, Buffer>)].map(([name, value]) => [name.toString(), value.toString()]));
  assert.deepEqual(headers, { [ID_HEADER]: "Xq3kT0aBcDeFgHiJ1z", [TENANT_HEADER]: "payments" });
  assert.ok(recordBytes(record) > record.key!.length + record.value!.length + 18 + 8, "headers and framing are counted");
});

test("requests take every record once, in order, each within the budget unless a single record is larger", () => {
  fc.assert(
    fc.property(fc.array(fc.nat({ max: 3000 }), { maxLength: 200 }), fc.integer({ min: 200, max: 5000 }), (sizes, budget) => {
      const records: KafkaRecord[] = sizes.map((size, index) => eventRecord("t", event({ id: `id-${index}`, message: "x".repeat(size) })));
      const requests: KafkaRecord[][] = [];
      for (let start = 0; start < records.length; ) {
        const { end, bytes } = nextRequest(records, start, budget);
        const request = records.slice(start, end);
        assert.ok(request.length > 0);
        assert.equal(bytes, request.reduce((total, record) => total + recordBytes(record), 0));
        assert.ok(bytes <= budget || request.length === 1, `request of ${request.length} records is ${bytes} bytes`);
        // Greedy: a request ends only because the next record would not fit.
        if (end < records.length) assert.ok(bytes + recordBytes(records[end] as KafkaRecord) > budget);
        requests.push(request);
        start = end;
      }
      assert.deepEqual(requests.flat(), records);
    }),
  );
});
