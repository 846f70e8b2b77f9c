/**
 * The kafka sink without a broker (nothing listens on the port): a send is
 * one attempt that ends in `retry` with a logged reason, quickly, never a
 * throw or a hang; an aborted send stops. What the sink does with a real
 * broker (delivered, too large → split or reject) is in
 * test/integration/kafka-sink.itest.ts.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import type { SinkEvent } from "../types.ts";
import { KafkaSink } from "./sink.ts";
import { recordingLogger } from "../../testing/recording-logger.ts";
import { freePort } from "../../../test/helpers/processes.ts";

const events: SinkEvent[] = Array.from({ length: 3 }, (_, index) => ({
  tenant: "default",
  id: `id-${index}`,
  time: "2026-11-29T10:00:00.000Z",
  observed_time: "2026-11-29T10:00:00.000Z",
  host: "web-1",
  source: "app",
  path: "/var/log/app.log",
  offset: index * 10,
  message: `line ${index}`,
  fields: {},
}));

test("with no broker a send is one attempt answered retry, with the reason logged", async (t) => {
  const lines: { level: string; message: string; context: Record<string, unknown> }[] = [];
  const sink = new KafkaSink({ brokers: [`127.0.0.1:${await freePort()}`], topic: "events", compression: "none", timeoutMs: 2000, logger: recordingLogger(lines) });
  t.after(() => sink.close());
  assert.equal(sink.name, "kafka");
  const outcome = await sink.send(events, new AbortController().signal);
  assert.equal(outcome.kind, "retry");
  assert.match(outcome.kind === "retry" ? (outcome.reason ?? "") : "", /^Kafka topic events: .*(ECONNREFUSED|Cannot connect|Connection to 127\.0\.0\.1:\d+ failed)/);
  const warning = lines.find((line) => line.level === "warn");
  assert.equal(warning?.message, "kafka sink: Kafka did not acknowledge the events; they are sent again after a backoff");
  assert.equal(warning?.context.topic, "events");
  assert.equal(warning?.context.events, 3);
  assert.match(String(warning?.context.error), /ECONNREFUSED|Cannot connect/);
});

test("an aborted send stops with the abort reason", async (t) => {
  const sink = new KafkaSink({ brokers: [`127.0.0.1:${await freePort()}`], topic: "events", compression: "none", timeoutMs: 2000, logger: recordingLogger([]) });
  t.after(() => sink.close());
  const controller = new AbortController();
  controller.abort(new Error("runner destroyed"));
  await assert.rejects(sink.send(events, controller.signal), /runner destroyed/);
});
