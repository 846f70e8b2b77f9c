/**
 * Acceptance for the Kafka log (issue 4), with real processes and the real
 * broker (test/engines/kafka.sh): a `logship agent` tails 4 files while
 * writers append numbered lines and ships to two `logship collector`s with
 * `log.backend: kafka`; both produce to one log topic and both run the
 * `kafka` sink as members of the consumer group `logship-sink-kafka`,
 * forwarding events to a second topic. Mid-run the collector whose sink
 * runner holds the partition with the agent's batches (one agent: one key,
 * one partition) is SIGKILLed and restarted on the same port: that
 * partition goes to the other collector after the session timeout, which
 * delivers again what the dead one had not committed.
 *
 * At the end, read with `kcat` (a client no one here wrote):
 * - the log topic holds the agent's batches as records keyed tenant/agent
 *   with the logship.* headers; each value is the agent's zstd wire batch
 *   byte for byte (it decompresses and validates, and names the record's
 *   agent and seq); a batch stored twice is byte-identical;
 * - the events topic holds every line, exactly once by event id (a record
 *   delivered again after the kill carries the same id), keyed host:path,
 *   each key on one partition, and each file's lines first delivered in the
 *   order the log holds them.
 *
 * LOGSHIP_E2E_KEEP=1 keeps the scratch directory (always kept on failure,
 * with every process's log).
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { zstdDecompressSync } from "node:zlib";
import type { Event } from "../../shared/event.ts";
import { payloadEvents, validatePayload } from "../../shared/wire/batch.ts";
import { ensureKcat, startKafka, stopKafka } from "../engines/kafka.ts";
import { createTopic, kcatRecords, kcatValue, type KcatRecord } from "../helpers/kafka-topics.ts";
import { agentSetup, collectorSetup, exactlyOnce, waitDelivered, writeNumbered, type CollectorSetup, type LogshipProcess } from "../helpers/processes.ts";

const KEEP = process.env.LOGSHIP_E2E_KEEP === "1";
const NAMES = ["a", "b", "c", "d"];
const LINES_PER_FILE = 20_000;
const LOG_PARTITIONS = 4;
const EVENTS_PARTITIONS = 3;
/** Upper bound for the sink to forward the backlog once the agent is done (reached only when something is wrong). */
const FORWARD_TIMEOUT_MS = 120_000;

let bootstrap = "";
let kcat = "";

before(() => {
  kcat = ensureKcat();
  bootstrap = startKafka();
});

after(() => {
  stopKafka();
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function collectorYaml(logTopic: string, eventsTopic: string): string {
  return [
    "log:",
    "  backend: kafka",
    // The broker's group.min.session.timeout.ms is 6 s: the killed collector's partitions move after that.
    `  kafka: { brokers: ["${bootstrap}"], topic: ${logTopic}, session_timeout: 6s }`,
    "sinks:",
    `  kafka: { brokers: ["${bootstrap}"], topic: ${eventsTopic} }`,
    "",
  ].join("\n");
}

/** The collector whose sink runner was last assigned `partition` (from its "joined" log lines). */
function ownerOf(collectors: CollectorSetup[], partition: number): CollectorSetup {
  for (const collector of collectors) {
    const joins = (collector.process?.log ?? []).filter((line) => line.includes("sink runner joined its Kafka consumer group"));
    const last = joins.at(-1);
    if (last !== undefined && (JSON.parse(last) as { partitions: number[] }).partitions.includes(partition)) return collector;
  }
  throw new Error(`no collector holds partition ${partition}`);
}

/** Distinct event ids in the events topic (kcat), until there are `expected` or the time is up. */
async function waitForwarded(eventsTopic: string, expected: number, timeoutMs: number): Promise<number> {
  const deadline = Date.now() + timeoutMs;
  let distinct = 0;
  while (Date.now() < deadline) {
    distinct = new Set(kcatRecords(kcat, bootstrap, eventsTopic, { withValues: false }).map((record) => record.headers["logship.id"])).size;
    if (distinct >= expected) return distinct;
    await sleep(1000);
  }
  throw new Error(`the kafka sink forwarded ${distinct} of ${expected} events within ${timeoutMs} ms`);
}

/**
 * The log topic, read by kcat, values included (one kcat call per record):
 * every record keyed tenant/agent with the logship.* headers, its value the
 * agent's zstd wire batch byte for byte (it decompresses, validates, and
 * names the record's agent and seq); a batch stored twice is the same bytes.
 * Returns, per file, the order in which its lines first appear in the log.
 */
function checkLogTopic(logTopic: string, records: KcatRecord[]): { lineOrder: Map<string, string[]>; batches: number; copies: number; partitions: number } {
  const values = new Map<string, Buffer>();
  const lineOrder = new Map<string, string[]>();
  const placed = new Set<string>();
  let copies = 0;
  const inLogOrder = [...records].sort((a, b) => a.partition - b.partition || a.offset - b.offset);
  for (const record of inLogOrder) {
    const headers = record.headers;
    assert.equal(headers["logship.format"], "1");
    assert.equal(headers["logship.tenant"], "default");
    assert.equal(record.key, `default/${headers["logship.agent"]}`, "keyed tenant/agent");
    const value = kcatValue(kcat, bootstrap, logTopic, record.partition, record.offset);
    assert.equal(value.length, record.valueBytes);
    const name = `${headers["logship.agent"]}/${headers["logship.seq"]}`;
    const first = values.get(name);
    if (first !== undefined) {
      // Acknowledged by a collector that was then killed, re-sent to the other: the very same batch.
      assert.deepEqual(value, first, `the copy of batch ${name} is byte-identical`);
      copies++;
      continue;
    }
    values.set(name, value);
    const payload = zstdDecompressSync(value);
    const summary = validatePayload(payload);
    assert.equal(`${summary.header.agent}/${summary.header.seq}`, name, "the headers describe the batch in the value");
    assert.equal(summary.events, Number(headers["logship.events"]));
    for (const event of payloadEvents(payload)) {
      const line = /^file=(\S+) seq=\d+ /.exec(event.message);
      if (line === null || placed.has(event.id)) continue;
      placed.add(event.id);
      const order = lineOrder.get(`${event.host}:${event.path}`) ?? [];
      order.push(event.message);
      lineOrder.set(`${event.host}:${event.path}`, order);
    }
  }
  return { lineOrder, batches: values.size, copies, partitions: new Set(records.map((record) => record.partition)).size };
}

/**
 * The events topic, read by kcat: one record per event delivery, keyed
 * host:path, each key on one partition, the id header equal to the value's
 * id, and per key the lines first delivered in the log's order (a delivery
 * after the kill repeats an earlier stretch with the same ids).
 */
function checkEventsTopic(records: KcatRecord[], lineOrder: Map<string, string[]>): { events: Event[]; redelivered: number } {
  const byId = new Map<string, Event>();
  const partitionOfKey = new Map<string, number>();
  const deliveredOrder = new Map<string, string[]>();
  let redelivered = 0;
  for (const record of [...records].sort((a, b) => a.partition - b.partition || a.offset - b.offset)) {
    const event = JSON.parse(record.value) as Event & { tenant: string };
    assert.equal(record.headers["logship.id"], event.id, "the id header is the event's id");
    assert.equal(record.headers["logship.tenant"], "default");
    assert.equal(event.tenant, "default");
    assert.equal(record.key, `${event.host}:${event.path}`, "keyed host:path");
    assert.equal(partitionOfKey.get(record.key) ?? record.partition, record.partition, `key ${record.key} spans partitions`);
    partitionOfKey.set(record.key, record.partition);
    const seen = byId.get(event.id);
    if (seen !== undefined) {
      assert.equal(seen.message, event.message, "one id, one line");
      redelivered++;
      continue;
    }
    byId.set(event.id, event);
    const order = deliveredOrder.get(record.key) ?? [];
    order.push(event.message);
    deliveredOrder.set(record.key, order);
  }
  assert.equal(partitionOfKey.size, NAMES.length, "one key per file");
  for (const [key, order] of deliveredOrder) assert.deepEqual(order, lineOrder.get(key), `${key}: lines forwarded in the log's order`);
  return { events: [...byId.values()], redelivered };
}

test("agent → two collectors → Kafka log → kafka sink: every line forwarded exactly once by id, with a collector SIGKILLed mid-run", { timeout: 300_000 }, async (t) => {
  const dir = await mkdtemp(join(tmpdir(), "logship-kafka-log-"));
  const run = randomUUID().slice(0, 8);
  const logTopic = `logship-itest-log-${run}`;
  const eventsTopic = `logship-itest-events-${run}`;
  await createTopic(bootstrap, logTopic, LOG_PARTITIONS);
  await createTopic(bootstrap, eventsTopic, EVENTS_PARTITIONS);
  const logsDir = join(dir, "logs");
  await mkdir(logsDir);
  const paths = NAMES.map((name) => join(logsDir, `${name}.log`));
  for (const path of paths) await writeFile(path, "");
  const collectors = [await collectorSetup(join(dir, "collector-1"), collectorYaml(logTopic, eventsTopic)), await collectorSetup(join(dir, "collector-2"), collectorYaml(logTopic, eventsTopic))];
  const agent = await agentSetup(join(dir, "agent"), collectors.map((collector) => collector.url), [join(logsDir, "*.log")]);
  const processes: { name: string; process: LogshipProcess }[] = [];
  const startCollector = async (collector: CollectorSetup, name: string): Promise<void> => {
    processes.push({ name, process: await collector.start() });
  };
  let passed = false;
  try {
    await startCollector(collectors[0] as CollectorSetup, "collector-1");
    await startCollector(collectors[1] as CollectorSetup, "collector-2");
    processes.push({ name: "agent", process: await agent.start() });
    const startedMs = Date.now();
    const writing = Promise.all(paths.map((path, index) => writeNumbered(path, NAMES[index] as string, LINES_PER_FILE, { batchLines: 400, pauseMs: 200 })));

    // Mid-run: SIGKILL the collector forwarding the agent's partition while lines are written, shipped and forwarded; restart it.
    await sleep(4000);
    const [first] = kcatRecords(kcat, bootstrap, logTopic, { withValues: false });
    assert.ok(first !== undefined, "batches reached the log topic");
    const victim = ownerOf(collectors, first.partition);
    const victimName = `collector-${collectors.indexOf(victim) + 1}`;
    const killed = victim.process as LogshipProcess;
    await killed.kill("SIGKILL");
    assert.equal((await killed.exited).signal, "SIGKILL", `${victimName} died before it was killed; last log:\n${killed.log.slice(-10).join("\n")}`);
    const killedMs = Date.now();
    await sleep(1000);
    await startCollector(victim, `${victimName}-restarted`);
    await writing;
    const wroteMs = Date.now();

    await waitDelivered(agent, paths, FORWARD_TIMEOUT_MS);
    const acknowledgedMs = Date.now();
    const forwarded = await waitForwarded(eventsTopic, NAMES.length * LINES_PER_FILE, FORWARD_TIMEOUT_MS);
    const forwardedMs = Date.now();

    for (const entry of [agent.process, collectors[0]?.process, collectors[1]?.process]) {
      const process = entry as LogshipProcess;
      await process.kill("SIGTERM");
      assert.deepEqual(await process.exited, { code: 0, signal: null }, `exit on SIGTERM; last log:\n${process.log.slice(-10).join("\n")}`);
    }

    const log = checkLogTopic(logTopic, kcatRecords(kcat, bootstrap, logTopic, { withValues: false }));
    const { events, redelivered } = checkEventsTopic(kcatRecords(kcat, bootstrap, eventsTopic, { withValues: true }), log.lineOrder);
    const report = exactlyOnce(events, Object.fromEntries(NAMES.map((name) => [name, LINES_PER_FILE])));
    const sessions = processes.flatMap(({ name, process }) => process.log.filter((line) => line.includes("sink runner joined its Kafka consumer group")).map(() => name));
    t.diagnostic(
      `${NAMES.length * LINES_PER_FILE} lines written in ${wroteMs - startedMs} ms (${victimName}, holding log partition ${first.partition}, killed at +${killedMs - startedMs} ms, restarted 1 s later); ` +
        `all acknowledged +${acknowledgedMs - wroteMs} ms after writing ended, all forwarded +${forwardedMs - acknowledgedMs} ms after that; ` +
        `log topic: ${log.batches} batches over ${log.partitions} partitions, ${log.copies} stored twice; ` +
        `events topic: ${events.length} distinct ids (${forwarded} when first complete), ${redelivered} records delivered again; group joins: ${sessions.length} (${sessions.join(", ")})`,
    );
    assert.equal(report.missing, 0, `missing lines: ${report.examples.join(", ")}`);
    assert.equal(report.duplicates, 0, `a line under two ids: ${report.examples.join(", ")}`);
    assert.equal(events.length, NAMES.length * LINES_PER_FILE);
    passed = true;
  } finally {
    for (const setup of [agent, ...collectors]) await setup.process?.kill("SIGKILL");
    if (passed && !KEEP) await rm(dir, { recursive: true, force: true });
    else {
      for (const { name, process } of processes) await writeFile(join(dir, `${name}.log`), process.log.join("\n") + "\n");
      t.diagnostic(`scratch directory kept (with every process's log): ${dir}`);
    }
  }
});
