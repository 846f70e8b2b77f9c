/**
 * A collector with `log.backend: kafka` whose brokers cannot be reached
 * (nothing listens on the port, or a socket accepts and never answers; no
 * broker is needed for this): it still starts and says why it is not
 * ready, answers ingest with 503 and Retry-After instead of acknowledging,
 * its sink runner keeps trying to join its group without crashing
 * anything, and it stops. With a real broker: test/integration/kafka-*.itest.ts.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request } from "undici";
import type { KafkaLogFanout } from "./sinks/kafka-log-fanout.ts";
import { makeBatch, numberedLines } from "./testing/batches.ts";
import { postBatch, startTestCollector, until } from "./testing/collector.ts";
import { MemorySink } from "./testing/memory-sink.ts";
import { recordingLogger, type LoggedLine } from "./testing/recording-logger.ts";
import { freePort } from "../test/helpers/processes.ts";

test("Kafka down at start: the collector listens, is not ready, answers ingest 503 with Retry-After, and stops", { timeout: 60_000 }, async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), "logship-kafka-down-"));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const lines: LoggedLine[] = [];
  const broker = `127.0.0.1:${await freePort()}`;
  const sink = new MemorySink("memory");
  const collector = await startTestCollector({
    dataDir,
    logger: recordingLogger(lines),
    config: { log: { backend: "kafka", kafka: { brokers: [broker], topic: "logship", timeout: "1s" } } },
    sinks: [sink],
  });
  let stopped = false;
  t.after(async () => {
    if (!stopped) await collector.stop();
  });

  const startError = lines.find((line) => line.level === "error" && line.message.startsWith("kafka log:"));
  assert.equal(startError?.message, "kafka log: cannot reach the topic at start; ingest answers 503 until it can");
  assert.deepEqual(startError?.context.brokers, [broker]);
  assert.match(String(startError?.context.error), /ECONNREFUSED|Cannot connect|Connection to 127.0.0.1:\d+ failed/);
  assert.ok(lines.some((line) => line.message === "listening"), "it serves anyway");

  const ready = await request(`${collector.url}/readyz`);
  assert.equal(ready.statusCode, 503);
  assert.deepEqual(await ready.body.json(), { status: "log not writable" });

  const answer = await postBatch(collector.url, makeBatch({ seq: 1, lines: numberedLines("line", 0, 3) }).body);
  assert.equal(answer.status, 503);
  assert.equal(answer.headers["retry-after"], "1");
  assert.equal(answer.json.code, "LOGSHIP_LOG_UNAVAILABLE");
  assert.match(String(answer.json.error), /^Kafka did not acknowledge the batch: /);
  // Refused, not half-stored: the same batch is not remembered as a duplicate.
  const again = await postBatch(collector.url, makeBatch({ seq: 1, lines: numberedLines("line", 0, 3) }).body);
  assert.equal(again.status, 503);

  const runners = collector.sinks as KafkaLogFanout;
  await until(() => runners.status()[0]?.lastError !== null, "the sink runner reports that it cannot join", 15_000);
  const [status] = runners.status();
  assert.equal(status?.group, "logship-sink-memory");
  assert.deepEqual(status?.partitions, []);
  assert.equal(status?.deliveredEvents, 0);
  assert.ok(lines.some((line) => line.level === "error" && line.message.startsWith("sink runner cannot consume the Kafka log")));
  assert.equal(sink.sends, 0);

  stopped = true;
  await collector.stop();
  assert.ok(lines.some((line) => line.message === "collector stopped"));
});

test("a broker that accepts connections and never answers: requests time out, ingest answers 503, stop does not wait on it", { timeout: 60_000 }, async (t) => {
  const sockets: Socket[] = [];
  const silent = createServer((socket) => sockets.push(socket));
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  t.after(() => {
    for (const socket of sockets) socket.destroy();
    silent.close();
  });
  const dataDir = mkdtempSync(join(tmpdir(), "logship-kafka-silent-"));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const lines: LoggedLine[] = [];
  const broker = `127.0.0.1:${(silent.address() as { port: number }).port}`;
  const collector = await startTestCollector({
    dataDir,
    logger: recordingLogger(lines),
    config: { log: { backend: "kafka", kafka: { brokers: [broker], topic: "logship", timeout: "500ms" } } },
    sinks: [new MemorySink("memory")],
  });
  try {
    assert.match(String(lines.find((line) => line.message.startsWith("kafka log: cannot reach the topic at start"))?.context.error), /timed out/);
    const answer = await postBatch(collector.url, makeBatch({ seq: 1, lines: numberedLines("line", 0, 3) }).body);
    assert.equal(answer.status, 503);
    assert.equal(answer.headers["retry-after"], "1");
    assert.match(String(answer.json.error), /^Kafka did not acknowledge the batch: .*timed out/);
  } finally {
    await collector.stop();
  }
});
