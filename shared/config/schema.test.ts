import { test } from "node:test";
import assert from "node:assert/strict";
import { detectConfigKind } from "./kinds.ts";
import { jsonSchemaFor } from "./schema.ts";

test("agent JSON Schema describes the input side: units as strings, defaults, no extra keys", () => {
  const schema = JSON.parse(JSON.stringify(jsonSchemaFor("agent"))) as Record<string, any>;
  assert.equal(schema.type, "object");
  assert.equal(schema.additionalProperties, false);
  assert.deepEqual(schema.required, ["sources"]);
  const source = schema.properties.sources.items;
  assert.deepEqual(source.required, ["name", "paths"]);
  assert.equal(source.properties.max_line_bytes.default, "1MiB");
  assert.deepEqual(schema.properties.batch.properties.linger.type, ["string", "number"]);
});

test("collector JSON Schema has every top-level key", () => {
  const schema = jsonSchemaFor("collector") as { properties: Record<string, unknown> };
  assert.deepEqual(Object.keys(schema.properties).sort(), ["data_dir", "ingest", "listen", "log", "peers", "routes", "search", "sinks", "tokens", "transforms"]);
});

test("detectConfigKind looks at top-level keys", () => {
  assert.equal(detectConfigKind({ sources: [] }), "agent");
  assert.equal(detectConfigKind({ listen: "x" }), "collector");
  assert.equal(detectConfigKind({ log: {} }), "collector");
  assert.equal(detectConfigKind({ collector: {} }), "up");
  assert.equal(detectConfigKind({ data_dir: "d", agent: { sources: [] } }), "up");
  assert.equal(detectConfigKind({ batch: {} }), undefined);
  assert.equal(detectConfigKind(["sources"]), undefined);
  assert.equal(detectConfigKind(null), undefined);
});

test("up JSON Schema has the collector and agent sections, with up's listen default and no agent collectors", () => {
  const schema = JSON.parse(JSON.stringify(jsonSchemaFor("up"))) as Record<string, any>;
  assert.deepEqual(Object.keys(schema.properties).sort(), ["agent", "collector", "data_dir"]);
  assert.equal(schema.properties.collector.properties.listen.default, "127.0.0.1:7170");
  assert.equal(schema.properties.data_dir.default, "logship-data");
  assert.deepEqual(schema.properties.agent.properties.collectors.not, {});
  assert.equal(schema.properties.agent.required, undefined);
});
