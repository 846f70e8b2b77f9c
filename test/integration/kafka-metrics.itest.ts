/**
 * /metrics with the real Kafka log backend (issue 8, docs/METRICS.md): a
 * `logship agent` ships a known workload to a `logship collector` with
 * `log.backend: kafka` and the embedded search sink. The scrape's counters
 * equal the workload: events ingested and delivered by the sink equal the
 * lines written, records produced equal the batches ingested and the
 * partitions' end offsets add up to them (a fresh topic), bytes produced
 * equal the bytes ingested; the sink group's lag per partition drains to 0,
 * and nothing was retried, rejected or undecodable.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startKafka, stopKafka } from "../engines/kafka.ts";
import { createTopic, waitForProducerIds } from "../helpers/kafka-topics.ts";
import { cleanups } from "../helpers/cleanups.ts";
import { agentSetup, collectorSetup, until, waitDelivered, writeNumbered } from "../helpers/processes.ts";
import { scrape, seriesOf, sumOf } from "../../shared/testing/exposition.ts";

const LINES = 20_000;
const PARTITIONS = 3;
const DELIVERY_TIMEOUT_MS = 90_000;
const DRAIN_TIMEOUT_MS = 90_000;

let bootstrap = "";

before(() => {
  bootstrap = startKafka();
});

after(() => {
  stopKafka();
});

test("with the Kafka log, /metrics counts the log's records and bytes per topic and each sink's outcomes, and the sink lag drains to 0", async (t) => {
  const directory = await mkdtemp(join(tmpdir(), "logship-kafka-metrics-"));
  const defer = cleanups(t);
  defer(() => rm(directory, { recursive: true, force: true, maxRetries: 5 }));
  await waitForProducerIds(bootstrap);
  const topic = `logship-metrics-${randomUUID().slice(0, 8)}`;
  await createTopic(bootstrap, topic, PARTITIONS);
  const collector = await collectorSetup(join(directory, "collector"), ["log:", "  backend: kafka", `  kafka: { brokers: ["${bootstrap}"], topic: ${topic} }`, ""].join("\n"));
  const collectorProcess = await collector.start();
  defer(() => collectorProcess.kill());
  const file = join(directory, "app.log");
  await writeNumbered(file, "metrics", LINES, { batchLines: 2000, pauseMs: 20 });
  const agent = await agentSetup(join(directory, "agent"), [collector.url], [file]);
  const agentProcess = await agent.start();
  defer(() => agentProcess.kill());
  await waitDelivered(agent, [file], DELIVERY_TIMEOUT_MS);

  const drained = await until("the search sink's group lag (records and seconds) drains to 0 and every event is delivered", DRAIN_TIMEOUT_MS, async () => {
    const samples = await scrape(collector.url);
    const lag = seriesOf(samples, "logship_collector_sink_lag_records").filter((sample) => sample.labels["sink"] === "search");
    const delivered = sumOf(samples, "logship_collector_sink_delivered_events_total", { sink: "search", topic });
    // The lag in seconds is the age of the send in progress: 0 once the last one has been committed, which the offsets Kafka reports can show a moment before.
    const lagSeconds = sumOf(samples, "logship_collector_sink_lag_seconds", { sink: "search", topic });
    return lag.length === PARTITIONS && lag.every((sample) => sample.value === 0) && delivered >= LINES && lagSeconds === 0 ? samples : undefined;
  });

  const ingestedBatches = sumOf(drained, "logship_collector_ingest_batches_total", { tenant: "default" });
  assert.equal(sumOf(drained, "logship_collector_ingest_events_total", { tenant: "default" }), LINES, "events ingested = lines written");
  assert.ok(ingestedBatches > 0);
  assert.equal(sumOf(drained, "logship_collector_log_produced_records_total", { topic }), ingestedBatches, "records produced = batches ingested");
  assert.equal(sumOf(drained, "logship_collector_log_produced_bytes_total", { topic }), sumOf(drained, "logship_collector_ingest_bytes_total", { tenant: "default" }), "bytes produced = bytes ingested");
  const ends = seriesOf(drained, "logship_collector_log_partition_end_offset").filter((sample) => sample.labels["topic"] === topic);
  assert.deepEqual(ends.map((sample) => sample.labels["partition"]).sort(), ["0", "1", "2"], "one end offset per partition");
  assert.equal(ends.reduce((sum, sample) => sum + sample.value, 0), ingestedBatches, "the fresh topic's end offsets add up to the records produced");
  assert.equal(sumOf(drained, "logship_collector_log_partition_first_offset", { topic }), 0, "nothing was deleted yet");
  assert.equal(sumOf(drained, "logship_collector_sink_delivered_events_total", { sink: "search", topic }), LINES, "the sink delivered every event once");
  for (const name of ["logship_collector_sink_retries_total", "logship_collector_sink_rejected_events_total", "logship_collector_sink_undecodable_records_total", "logship_collector_sink_duplicate_records_total"]) {
    const found = seriesOf(drained, name).filter((sample) => sample.labels["sink"] === "search");
    assert.equal(found.length, 1, `${name} has the search sink's series`);
    assert.equal(found[0]?.value, 0, `${name} is 0`);
  }
  assert.equal(sumOf(drained, "logship_collector_sink_lag_seconds", { sink: "search", topic }), 0, "nothing is being delivered");
  assert.equal(seriesOf(drained, "logship_collector_sink_lag_events").length, 0, "the embedded log's lag in events has no series with the Kafka log");
});
