/**
 * `logship status` and `logship replay` against a `logship collector` with
 * `log.backend: kafka` and the real broker (test/engines/kafka.sh), as an
 * operator runs them: the real CLI against a real collector process whose
 * only sink is the embedded search index (every collector has it), so the
 * sink's content can be counted from outside with `logship search --count`.
 *
 * Six batches of 100 events from six agents (six keys over a 3-partition
 * log topic). Status shows the topic's partitions and the search sink's
 * consumer group at lag 0, committed = end in every partition. A replay
 * from a time between the first three batches and the last three, then
 * one from offset 0 (every partition), re-deliver those records: the
 * sink's delivered counter grows by their events, the replay shows as
 * done, the group's offsets do not move, and the index still holds each
 * event once. Refusals (unknown sink, a partition the topic lacks, an
 * offset past the end, a --from that is none of the forms) are one line
 * each.
 *
 * Then two collectors in the sink's group, each holding some partitions:
 * both show the same committed offsets; a replay on one is not held up by
 * the other's membership, and fills the asking collector's own index
 * (the embedded index is per collector) with every event, once, while the
 * other's is unchanged.
 *
 * The embedded-log counterpart is test/e2e/status-replay.test.ts.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { KafkaCollectorStatusJson } from "../../collector/admin/kafka-status.ts";
import { makeBatch, numberedLines } from "../../collector/testing/batches.ts";
import { startKafka, stopKafka } from "../engines/kafka.ts";
import { createTopic, waitForProducerIds } from "../helpers/kafka-topics.ts";
import { INGEST_TOKEN, collectorSetup, runLogship as logship, until, type CliRun } from "../helpers/processes.ts";
import { cleanups } from "../helpers/cleanups.ts";

const ADMIN_TOKEN = "itest-admin-token";
const SEARCH_TOKEN = "itest-search-token";
const PARTITIONS = 3;
const EVENTS_PER_BATCH = 100;

let bootstrap = "";

before(async () => {
  bootstrap = startKafka();
  await waitForProducerIds(bootstrap);
});

after(() => {
  stopKafka();
});

/** Batches `first`..`last` (1-based), one per agent, each of its own stream (so of its own event ids). */
async function sendBatches(url: string, first: number, last: number): Promise<void> {
  for (let index = first; index <= last; index++) {
    const batch = makeBatch({ agent: `agent-${index}`, seq: 1, lines: numberedLines(`batch ${index} line`, 0, EVENTS_PER_BATCH), streamKey: `k${String(index).padStart(15, "0")}------` });
    const response = await fetch(`${url}/v1/ingest`, { method: "POST", headers: { authorization: `Bearer ${INGEST_TOKEN}`, "content-encoding": "zstd" }, body: batch.body });
    assert.equal(response.status, 200, await response.text());
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function kafkaCollectorYaml(topic: string): string {
  return [
    `  - { token: ${ADMIN_TOKEN}, tenant: default, role: admin }`,
    `  - { token: ${SEARCH_TOKEN}, tenant: default, role: search }`,
    "log:",
    "  backend: kafka",
    // The broker's group.min.session.timeout.ms is 6 s.
    `  kafka: { brokers: ["${bootstrap}"], topic: ${topic}, session_timeout: 6s }`,
    "",
  ].join("\n");
}

async function statusOf(configPath: string): Promise<KafkaCollectorStatusJson> {
  const run = await logship(["status", "--config", configPath, "--json"]);
  assert.equal(run.code, 0, run.stderr);
  return JSON.parse(run.stdout) as KafkaCollectorStatusJson;
}

/** Events in the collector's own search index (`logship search --count`; the index keeps one row per event id). */
async function searchCount(configPath: string): Promise<number> {
  const run = await logship(["search", "--config", configPath, "--count", "line"]);
  assert.ok(run.code === 0 || run.code === 1, run.stderr);
  return Number(run.stdout.trim());
}

test("logship status and replay with the Kafka log: partitions, the sink group's offsets and lag; a replay re-delivers without storing twice; refusals", { timeout: 120_000 }, async (t) => {
  const topic = `logship-itest-status-${randomUUID().slice(0, 8)}`;
  await createTopic(bootstrap, topic, PARTITIONS);
  const directory = mkdtempSync(join(tmpdir(), "logship-kafka-status-"));
  const defer = cleanups(t);
  defer(() => rmSync(directory, { recursive: true, force: true }));
  const setup = await collectorSetup(directory, kafkaCollectorYaml(topic));
  const collector = await setup.start();
  defer(() => collector.kill());

  await sendBatches(setup.url, 1, 3);
  // Record timestamps are the produce times: the replay by time starts after the first three.
  await sleep(20);
  const betweenMs = Date.now();
  await sleep(20);
  await sendBatches(setup.url, 4, 6);

  const status = (): Promise<KafkaCollectorStatusJson> => statusOf(setup.configPath);
  const caughtUp = await until("the search sink to deliver all 6 records", 45_000, async () => {
    const now = await status();
    const search = now.sinks.find((sink) => sink.sink === "search");
    return search?.lag.records === 0 && search.delivered_events === 600 && search.partitions.every((entry) => (entry.committed_offset ?? 0) === entry.end_offset) ? now : undefined;
  });
  assert.equal(caughtUp.ready, true);
  assert.deepEqual([caughtUp.log.backend, caughtUp.log.topic, caughtUp.log.brokers, caughtUp.log.records, caughtUp.log.error], ["kafka", topic, [bootstrap], 6, null]);
  assert.deepEqual(caughtUp.log.partitions.map((entry) => entry.partition), [0, 1, 2]);
  const endOffsets = caughtUp.log.partitions.map((entry) => entry.end_offset);
  assert.equal(endOffsets.reduce((sum, offset) => sum + offset, 0), 6);
  const [search] = caughtUp.sinks;
  assert.equal(search?.sink, "search");
  assert.equal(search.group, "logship-sink-search");
  assert.deepEqual(search.partitions_here, [0, 1, 2], "the only collector holds every partition");
  assert.deepEqual(
    search.partitions.map((entry) => [entry.partition, entry.committed_offset, entry.end_offset, entry.lag_records]),
    endOffsets.map((end, partition) => [partition, end === 0 ? null : end, end, 0]),
  );
  assert.deepEqual([search.lag.age_ms, search.rejected_events, search.replays, search.replay, search.last_error], [0, 0, 0, null, null]);
  assert.equal(caughtUp.tenants[0]?.ingest.events_total, 600);

  // The table: the log's partitions, the sink's row at lag 0, and a row per (sink, partition).
  const table = await logship(["status", "--config", setup.configPath]);
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, new RegExp(`^collector ${setup.url}: logship \\S+, up .*, ready; showing every tenant \\(token role admin\\)$`, "m"));
  assert.match(table.stdout, new RegExp(`^log: Kafka topic ${topic} on ${bootstrap}: 3 partitions, 6 records$`, "m"));
  for (const [partition, end] of endOffsets.entries()) {
    assert.match(table.stdout, new RegExp(`^${partition}\\s+0\\s+${end}$`, "m"));
    assert.match(table.stdout, new RegExp(`^search\\s+${partition}\\s+${end === 0 ? "-" : end}\\s+${end}\\s+0$`, "m"));
  }
  assert.match(table.stdout, /^search\s+logship-sink-search\s+idle\s+0,1,2\s+0\s+0s\s+600\s+0\s+0\s+0$/m);

  // A search token sees its tenant's ingest, not the partitions and sinks (they hold every tenant's records).
  const scoped = await logship(["status", "--server", setup.url, "--token", SEARCH_TOKEN, "--json"]);
  assert.equal(scoped.code, 0, scoped.stderr);
  const scopedJson = JSON.parse(scoped.stdout) as KafkaCollectorStatusJson;
  assert.deepEqual([scopedJson.scope, scopedJson.log.partitions, scopedJson.sinks], [{ role: "search", tenants: "default" }, [], []]);

  assert.equal(await searchCount(setup.configPath), 600);
  const replay = (...args: string[]): Promise<CliRun> => logship(["replay", "--config", setup.configPath, ...args]);
  const replayDone = (delivered: number): Promise<KafkaCollectorStatusJson> =>
    until(`the replay to end with ${delivered} events delivered in all`, 45_000, async () => {
      const now = await status();
      const sink = now.sinks[0];
      return sink?.replay?.state === "done" && sink.delivered_events === delivered ? now : undefined;
    });

  // From a time: the three records produced after it.
  const byTime = await replay("--sink", "search", "--from", new Date(betweenMs).toISOString(), "--json");
  assert.equal(byTime.code, 0, byTime.stderr);
  const byTimeAnswer = JSON.parse(byTime.stdout) as { sink: string; tenant: string; group: string; replayed_records: number; partitions: { partition: number; from_offset: number; committed_offset: number | null; records: number }[] };
  assert.deepEqual([byTimeAnswer.sink, byTimeAnswer.tenant, byTimeAnswer.replayed_records], ["search", "default", 3]);
  assert.match(byTimeAnswer.group, /^logship-replay-search-[0-9a-f]{8}$/);
  const afterTime = await replayDone(900);
  const timeReplay = afterTime.sinks[0]?.replay;
  assert.deepEqual([timeReplay?.tenant, timeReplay?.group, timeReplay?.remaining_records, timeReplay?.delivered_events, timeReplay?.rejected_events], ["default", byTimeAnswer.group, 0, 300, 0]);
  assert.equal(afterTime.sinks[0]?.replays, 1);
  assert.deepEqual(
    afterTime.sinks[0]?.partitions.map((entry) => entry.committed_offset),
    search.partitions.map((entry) => entry.committed_offset),
    "the sink group's offsets did not move",
  );
  assert.equal(await searchCount(setup.configPath), 600, "the index holds each event once");

  // From offset 0 of every partition: all six records, as one line for a person.
  const fromZero = await replay("--sink", "search", "--from", "0");
  assert.equal(fromZero.code, 0, fromZero.stderr);
  assert.match(fromZero.stdout, /^sink search, tenant default: replaying 6 Kafka records, partition:from-to .*, in consumer group logship-replay-search-[0-9a-f]{8}; .* nothing is stored twice\.\n$/);
  const afterZero = await replayDone(1500);
  assert.equal(afterZero.sinks[0]?.replays, 2);
  assert.equal(afterZero.sinks[0]?.lag.records, 0);
  assert.equal(await searchCount(setup.configPath), 600, "the index still holds each event once");
  const shown = await logship(["status", "--config", setup.configPath]);
  assert.match(shown.stdout, /^replay of sink search \(tenant default, group logship-replay-search-[0-9a-f]{8}\): done, 6 of 6 records passed \(partition:from-to .*\), 600 events delivered again, 0 rejected, started \S+, ended \S+$/m);

  // Another tenant's replay passes every record and delivers nothing.
  const otherTenant = await replay("--sink", "search", "--from", "0", "--tenant", "payments", "--json");
  assert.equal(otherTenant.code, 0, otherTenant.stderr);
  const afterOther = await until("the payments replay to end", 45_000, async () => {
    const now = await status();
    return now.sinks[0]?.replay?.tenant === "payments" && now.sinks[0].replay.state === "done" ? now : undefined;
  });
  assert.deepEqual([afterOther.sinks[0]?.replay?.delivered_events, afterOther.sinks[0]?.delivered_events], [0, 1500]);

  // Refusals, one line each.
  const unknownSink = await replay("--sink", "archive", "--from", "0");
  assert.deepEqual([unknownSink.code, unknownSink.stderr], [2, `logship: ${setup.url} answered 404: unknown sink "archive"; known sinks: search\n`]);
  const noPartition = await replay("--sink", "search", "--from", "7:0");
  assert.deepEqual([noPartition.code, noPartition.stderr], [2, `logship: ${setup.url} answered 400: topic ${topic} has no partition 7 (it has 3: 0 to 2)\n`]);
  const beyond = await replay("--sink", "search", "--from", `0:${(endOffsets[0] ?? 0) + 1}`);
  assert.deepEqual([beyond.code, beyond.stderr], [2, `logship: ${setup.url} answered 400: offset ${(endOffsets[0] ?? 0) + 1} is beyond the end of partition 0 of topic ${topic} (its next offset is ${endOffsets[0]})\n`]);
  const beyondAll = await replay("--sink", "search", "--from", "100");
  assert.equal(beyondAll.code, 2);
  assert.match(beyondAll.stderr, new RegExp(`^logship: ${setup.url} answered 400: offset 100 is beyond the end of every partition of topic ${topic} \\(next offsets: 0:\\d+, 1:\\d+, 2:\\d+\\)\n$`));
  const badFrom = await replay("--sink", "search", "--from", "0:1:2");
  assert.equal(badFrom.code, 2);
  assert.match(badFrom.stderr, /^logship: --from: expected an offset \(1200\), an RFC 3339 time \(2025-06-01T12:00:00Z\) or a duration ago \(15m, 2h\); got "0:1:2"\n$/);
  // Nothing past the group's committed offsets: a time after every record replays nothing, and says so.
  const nothing = await replay("--sink", "search", "--from", new Date(Date.now() + 3_600_000).toISOString(), "--json");
  assert.equal(nothing.code, 0, nothing.stderr);
  assert.deepEqual((JSON.parse(nothing.stdout) as { replayed_records: number; group: string | null }).replayed_records, 0);
});

test("two collectors in the sink's group: the same offsets on both; a replay on one goes ahead while the other is a member, and fills its own index once", { timeout: 120_000 }, async (t) => {
  const topic = `logship-itest-status-two-${randomUUID().slice(0, 8)}`;
  await createTopic(bootstrap, topic, PARTITIONS);
  const directory = mkdtempSync(join(tmpdir(), "logship-kafka-status-two-"));
  const defer = cleanups(t);
  defer(() => rmSync(directory, { recursive: true, force: true }));
  const setups = [await collectorSetup(join(directory, "a"), kafkaCollectorYaml(topic)), await collectorSetup(join(directory, "b"), kafkaCollectorYaml(topic))];
  for (const setup of setups) {
    const started = await setup.start();
    defer(() => started.kill());
  }
  const [a, b] = setups as [(typeof setups)[0], (typeof setups)[0]];
  // Both runners joined and the partitions are split between them before anything is shipped (no rebalance under a delivery).
  await until("the partitions to be split between the two collectors", 45_000, async () => {
    const [here, there] = [(await statusOf(a.configPath)).sinks[0]?.partitions_here ?? [], (await statusOf(b.configPath)).sinks[0]?.partitions_here ?? []];
    return here.length > 0 && there.length > 0 && [...here, ...there].sort().join() === "0,1,2" ? true : undefined;
  });
  await sendBatches(a.url, 1, 6);
  const [caughtUpA, caughtUpB] = await until("the group to deliver all 6 records", 45_000, async () => {
    const both = [await statusOf(a.configPath), await statusOf(b.configPath)];
    return both.every((status) => status.sinks[0]?.lag.records === 0 && status.log.records === 6) ? both : undefined;
  });
  assert.deepEqual(caughtUpA?.sinks[0]?.partitions, caughtUpB?.sinks[0]?.partitions, "the group's offsets are Kafka's: the same from either collector");
  assert.equal((caughtUpA?.sinks[0]?.delivered_events ?? 0) + (caughtUpB?.sinks[0]?.delivered_events ?? 0), 600, "each collector counts what its runner delivered");
  const [beforeA, beforeB] = [await searchCount(a.configPath), await searchCount(b.configPath)];
  assert.equal(beforeA + beforeB, 600);

  const replay = await logship(["replay", "--config", a.configPath, "--sink", "search", "--from", "0", "--json"]);
  assert.equal(replay.code, 0, replay.stderr);
  assert.equal((JSON.parse(replay.stdout) as { replayed_records: number }).replayed_records, 6);
  const done = await until("the replay on collector a to end", 45_000, async () => {
    const status = await statusOf(a.configPath);
    return status.sinks[0]?.replay?.state === "done" ? status : undefined;
  });
  assert.deepEqual([done.sinks[0]?.replay?.delivered_events, done.sinks[0]?.delivered_events], [600, (caughtUpA?.sinks[0]?.delivered_events ?? 0) + 600]);
  assert.deepEqual([await searchCount(a.configPath), await searchCount(b.configPath)], [600, beforeB], "a's index has every event once; b's is untouched");
  assert.deepEqual((await statusOf(b.configPath)).sinks[0]?.partitions, caughtUpB?.sinks[0]?.partitions, "the group's offsets did not move");
});
