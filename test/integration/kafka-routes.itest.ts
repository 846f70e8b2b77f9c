/**
 * Routes with the real Kafka log backend (issue 11, docs/ROUTING.md): a
 * `logship agent` (drop + redact) ships to a `logship collector` with
 * `log.backend: kafka`, collector transforms and three routes. Each stream
 * lands in its own log topic (`<topic>.<stream>`, the default stream in the
 * log topic itself), and the `kafka` sink, whose topic is
 * `events-….{stream}`, forwards each stream to its own events topic. Both
 * counted and checked with kcat (a client no one here wrote): every topic
 * holds exactly its stream's events, each once.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { appendFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { zstdDecompressSync } from "node:zlib";
import type { Event } from "../../shared/event.ts";
import { payloadEvents } from "../../shared/wire/batch.ts";
import { ensureKcat, startKafka, stopKafka } from "../engines/kafka.ts";
import { createTopic, kcatRecords, kcatValue, waitForProducerIds } from "../helpers/kafka-topics.ts";
import { cleanups } from "../helpers/cleanups.ts";
import { agentSetup, collectorSetup, until, waitDelivered } from "../helpers/processes.ts";
import { AGENT_SOURCE_YAML, collectorRoutesYaml, expectedStreams, orderLine, orderSeq } from "../helpers/routed-lines.ts";

const LINES = 3000;
const LINES_PER_WRITE = 250;
const STREAMS = ["default", "payments", "errors", "audit"];
const DELIVERY_TIMEOUT_MS = 90_000;
const FORWARD_TIMEOUT_MS = 90_000;

let bootstrap = "";
let kcat = "";

before(() => {
  kcat = ensureKcat();
  bootstrap = startKafka();
});

after(() => {
  stopKafka();
});

/** Line numbers of the events in a log topic: every record's batch decompressed and decoded. */
function logTopicLines(topic: string): { lines: number[]; streamHeaders: Set<string> } {
  const lines: number[] = [];
  const streamHeaders = new Set<string>();
  for (const record of kcatRecords(kcat, bootstrap, topic, { withValues: false })) {
    streamHeaders.add(record.headers["logship.stream"] ?? "(none)");
    const payload = zstdDecompressSync(kcatValue(kcat, bootstrap, topic, record.partition, record.offset));
    const events = [...payloadEvents(payload)];
    assert.equal(events.length, Number(record.headers["logship.events"]), "the logship.events header counts the record's events");
    for (const event of events) lines.push(orderSeq(event.message));
  }
  return { lines: lines.sort((a, b) => a - b), streamHeaders };
}

test("with the Kafka log, each stream lands in its own topic, and the kafka sink's {stream} topics each get their stream", async (t) => {
  const directory = await mkdtemp(join(tmpdir(), "logship-kafka-routes-"));
  const defer = cleanups(t);
  defer(() => rm(directory, { recursive: true, force: true, maxRetries: 5 }));
  await waitForProducerIds(bootstrap);
  const suffix = randomUUID().slice(0, 8);
  const logTopic = `logship-routes-${suffix}`;
  const eventsTopic = `events-${suffix}`;
  const logTopics = new Map(STREAMS.map((stream) => [stream, stream === "default" ? logTopic : `${logTopic}.${stream}`]));
  for (const topic of logTopics.values()) await createTopic(bootstrap, topic, 2);
  for (const stream of STREAMS) await createTopic(bootstrap, `${eventsTopic}.${stream}`, 1);

  const collector = await collectorSetup(
    join(directory, "collector"),
    [
      "log:",
      "  backend: kafka",
      `  kafka: { brokers: ["${bootstrap}"], topic: ${logTopic} }`,
      collectorRoutesYaml({ auditRetention: false }).trimEnd(),
      "sinks:",
      "  search: { type: none }",
      `  kafka: { brokers: ["${bootstrap}"], topic: '${eventsTopic}.{stream}' }`,
      "",
    ].join("\n"),
  );
  const collectorProcess = await collector.start();
  defer(() => collectorProcess.kill());
  const file = join(directory, "orders.log");
  const agent = await agentSetup(join(directory, "agent"), [collector.url], [file], AGENT_SOURCE_YAML);
  const agentProcess = await agent.start();
  defer(() => agentProcess.kill());
  for (let seq = 0; seq < LINES; seq += LINES_PER_WRITE) await appendFile(file, Array.from({ length: LINES_PER_WRITE }, (_, index) => orderLine(seq + index)).join(""));
  await waitDelivered(agent, [file], DELIVERY_TIMEOUT_MS);

  const expected = expectedStreams(LINES);
  for (const stream of STREAMS) {
    const topic = logTopics.get(stream) as string;
    const { lines, streamHeaders } = logTopicLines(topic);
    assert.deepEqual(lines, expected.get(stream), `log topic ${topic} holds exactly stream ${stream}'s events, each once`);
    assert.deepEqual([...streamHeaders], [stream === "default" ? "(none)" : stream], `the records of ${topic} name their stream`);
  }

  for (const stream of STREAMS) {
    const topic = `${eventsTopic}.${stream}`;
    const wanted = expected.get(stream)?.length ?? 0;
    const records = await until(`kafka sink forwards ${wanted} events to ${topic}`, FORWARD_TIMEOUT_MS, async () => {
      const found = kcatRecords(kcat, bootstrap, topic, { withValues: true });
      return new Set(found.map((record) => record.headers["logship.id"])).size >= wanted ? found : undefined;
    });
    const events = new Map(records.map((record) => [record.headers["logship.id"], JSON.parse(record.value) as Event]));
    assert.deepEqual([...events.values()].map((event) => orderSeq(event.message)).sort((a, b) => a - b), expected.get(stream), `events topic ${topic} holds exactly stream ${stream}`);
    for (const event of events.values()) {
      assert.equal(event.stream, stream === "default" ? undefined : stream);
      assert.ok(event.message.includes("[REDACTED:email]") && event.fields["collector"] === "e2e-host", JSON.stringify(event));
    }
  }
});
