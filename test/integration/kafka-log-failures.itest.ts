/**
 * Failures under a collector with `log.backend: kafka`, with a real broker
 * of this file's own (port 29192, so stopping it leaves the shared one on
 * 29092 alone):
 * - the broker goes down mid-run: ingest answers 503 with Retry-After
 *   (never 200), /readyz answers 503, and the collector says so in its
 *   log; when the broker is back (same data) the collector becomes ready by
 *   itself, accepts the refused batch, and the sink runner, whose session
 *   failed meanwhile, rejoins its group and delivers every event exactly
 *   once;
 * - a batch larger than the log topic's max.message.bytes: 413
 *   LOGSHIP_LOG_RECORD_TOO_LARGE (nothing else changes), and the collector
 *   warned at start that ingest.max_body_bytes allows such batches.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request } from "undici";
import type { Logger } from "../../shared/logger.ts";
import type { KafkaLogFanout } from "../../collector/sinks/kafka-log-fanout.ts";
import { makeBatch, numberedLines } from "../../collector/testing/batches.ts";
import { postBatch, startTestCollector, until } from "../../collector/testing/collector.ts";
import { MemorySink } from "../../collector/testing/memory-sink.ts";
import { startKafka, stopKafka } from "../engines/kafka.ts";
import { createTopic, waitForProducerIds } from "../helpers/kafka-topics.ts";

const PORT = 29192;
const EVENTS_PER_BATCH = 200;

let bootstrap = "";

before(async () => {
  bootstrap = startKafka({ port: PORT });
  await waitForProducerIds(bootstrap);
});

after(() => {
  stopKafka(PORT);
});

interface Line {
  level: string;
  message: string;
  context: Record<string, unknown>;
}

function recordingLogger(lines: Line[]): Logger {
  const logger: Logger = {
    debug: () => undefined,
    info: (message, context = {}) => lines.push({ level: "info", message, context }),
    warn: (message, context = {}) => lines.push({ level: "warn", message, context }),
    error: (message, context = {}) => lines.push({ level: "error", message, context }),
    child: () => logger,
  };
  return logger;
}

function batch(seq: number): Buffer {
  return makeBatch({ seq, floor: seq, baseOffset: seq * 100_000, lines: numberedLines(`batch ${seq} line`, 0, EVENTS_PER_BATCH) }).body;
}

async function readyStatus(url: string): Promise<number> {
  const response = await request(`${url}/readyz`);
  await response.body.dump();
  return response.statusCode;
}

test("broker down mid-run: 503 with Retry-After instead of acks, ready again when it is back, every event delivered once", { timeout: 240_000 }, async (t) => {
  const topic = "logship-itest-outage";
  await createTopic(bootstrap, topic, 2);
  const dataDir = mkdtempSync(join(tmpdir(), "logship-kafka-outage-"));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const lines: Line[] = [];
  const sink = new MemorySink("memory");
  const collector = await startTestCollector({
    dataDir,
    logger: recordingLogger(lines),
    config: { log: { backend: "kafka", kafka: { brokers: [bootstrap], topic, timeout: "1s", session_timeout: "6s" } } },
    sinks: [sink],
  });
  try {
    assert.equal(await readyStatus(collector.url), 200);
    for (let seq = 1; seq <= 5; seq++) assert.equal((await postBatch(collector.url, batch(seq))).status, 200);
    const runners = collector.sinks as KafkaLogFanout;
    await until(() => runners.status()[0]?.committedRecords === 5, "the first batches delivered and committed", 60_000);

    stopKafka(PORT);
    const refused = await postBatch(collector.url, batch(6));
    assert.equal(refused.status, 503, "never acknowledged while Kafka cannot take it");
    assert.equal(refused.headers["retry-after"], "1");
    assert.equal(refused.json.code, "LOGSHIP_LOG_UNAVAILABLE");
    assert.equal(await readyStatus(collector.url), 503);
    const down = lines.find((line) => line.message === "kafka log: cannot produce to Kafka; ingest answers 503 until it can");
    assert.equal(down?.level, "error");
    assert.equal(down?.context.topic, topic);
    await until(() => lines.some((line) => line.message.startsWith("sink runner cannot consume the Kafka log")), "the sink runner notices", 60_000);

    assert.equal(startKafka({ port: PORT, fresh: false }), bootstrap);
    await waitForProducerIds(bootstrap);
    await until(() => lines.some((line) => line.message === "kafka log: Kafka answers again; ingest accepts batches"), "the collector notices by itself", 60_000);
    assert.equal(await readyStatus(collector.url), 200);
    for (let seq = 6; seq <= 10; seq++) assert.equal((await postBatch(collector.url, batch(seq))).status, 200);
    await until(() => sink.ids.size === 10 * EVENTS_PER_BATCH, "the sink got every event", 120_000);
    const [status] = runners.status();
    t.diagnostic(`sink sessions ${status?.sessions}; events delivered ${status?.deliveredEvents}; sends ${sink.sends}; duplicates at the sink ${sink.duplicates}`);
    assert.ok((status?.sessions ?? 0) >= 2, "the runner started a new session after the outage");
    assert.equal(sink.duplicates, 0, "what was committed before the outage is not sent again");
  } finally {
    await collector.stop();
  }
});

test("a batch over the log topic's max.message.bytes: 413, other batches unaffected, and a warning at start", { timeout: 120_000 }, async (t) => {
  const topic = "logship-itest-small-records";
  await createTopic(bootstrap, topic, 1, { "max.message.bytes": "65536" });
  const dataDir = mkdtempSync(join(tmpdir(), "logship-kafka-too-large-"));
  t.after(() => rmSync(dataDir, { recursive: true, force: true }));
  const lines: Line[] = [];
  const collector = await startTestCollector({ dataDir, logger: recordingLogger(lines), config: { log: { backend: "kafka", kafka: { brokers: [bootstrap], topic } } }, sinks: [] });
  try {
    const warning = lines.find((line) => line.message.startsWith("kafka log: the topic accepts smaller records than ingest.max_body_bytes allows"));
    assert.deepEqual(warning?.context, { topic, max_message_bytes: 65536, max_body_bytes: 8 * 1024 * 1024 });
    // Random text does not compress: about 150 kB of zstd body.
    const big = makeBatch({ seq: 1, lines: Array.from({ length: 100 }, () => randomBytes(1500).toString("base64")) }).body;
    assert.ok(big.length > 65536);
    const refused = await postBatch(collector.url, big);
    assert.equal(refused.status, 413);
    assert.equal(refused.json.code, "LOGSHIP_LOG_RECORD_TOO_LARGE");
    assert.match(String(refused.json.error), /larger than Kafka topic logship-itest-small-records accepts/);
    assert.equal(refused.headers["retry-after"], undefined);
    assert.equal(await readyStatus(collector.url), 200, "a refused record is no outage");
    assert.equal((await postBatch(collector.url, batch(2))).status, 200);
  } finally {
    await collector.stop();
  }
});
