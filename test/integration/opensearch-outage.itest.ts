/**
 * Acceptance (issue 10): OpenSearch stopped for 60 s in the middle of a run.
 * Real processes: writers append numbered lines to two files the whole
 * time, a `logship agent` ships them, a `logship collector` indexes into an
 * OpenSearch node of this test's own (port 29220, so the shared node is
 * untouched). While the node is down the collector keeps taking batches
 * (its ingest total rises in every sample window), the search sink's lag
 * grows; once the node is back the lag drains to 0 and `_count` equals the
 * lines written, each document id once.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { killOpenSearch, restartOpenSearch, startOpenSearch, stopOpenSearch } from "../engines/opensearch.ts";
import { countDocuments, documentIds, testClient } from "../helpers/opensearch-index.ts";
import { collectorStatus, openSearchPipeline, searchSinkRow } from "../helpers/opensearch-pipeline.ts";
import { cleanups } from "../helpers/cleanups.ts";
import { until, waitDelivered, writeNumbered } from "../helpers/processes.ts";

const PORT = 29220;
const NAMES = ["a", "b"];
const OUTAGE_MS = 60_000;
/** How often the collector's status is sampled during the outage. */
const SAMPLE_EVERY_MS = 5_000;
/** Lines per file per write, and the pause after each: a steady stream while the test runs. */
const LINES_PER_WRITE = 200;
const PAUSE_MS = 100;
const DELIVERY_TIMEOUT_MS = 300_000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

test("OpenSearch stopped for 60 s mid-run: ingest never stops, the sink's lag grows and drains, nothing is lost or stored twice", { timeout: 900_000 }, async (t) => {
  const defer = cleanups(t);
  const node = startOpenSearch({ port: PORT });
  defer(() => stopOpenSearch({ port: PORT }));
  const client = testClient(node.url);
  defer(() => client.close());
  const directory = await mkdtemp(join(tmpdir(), "logship-opensearch-outage-"));
  defer(() => rm(directory, { recursive: true, force: true }));
  const pipeline = await openSearchPipeline(directory, node.url, "itest-outage-{tenant}-%Y.%m.%d", NAMES);
  const collector = await pipeline.collector.start();
  defer(() => collector.kill());
  const agent = await pipeline.agent.start();
  defer(() => agent.kill());

  const stopWriting = new AbortController();
  const written = NAMES.map(() => 0);
  const writers = pipeline.paths.map(async (path, index) => {
    while (!stopWriting.signal.aborted) {
      await writeNumbered(path, `${NAMES[index]}-${written[index]}`, LINES_PER_WRITE, { batchLines: LINES_PER_WRITE, pauseMs: PAUSE_MS });
      written[index] = (written[index] as number) + LINES_PER_WRITE;
    }
  });
  defer(() => stopWriting.abort());

  await until("the first documents in OpenSearch", 120_000, async () => ((await countDocuments(client, "itest-outage-default-*")) > 5000 ? true : undefined));
  killOpenSearch({ port: PORT });
  const samples: { ingested: number; lag: number }[] = [];
  const outageEnd = Date.now() + OUTAGE_MS;
  while (Date.now() < outageEnd) {
    const status = await collectorStatus(pipeline.collector);
    assert.ok(status !== null, "the collector answers during the outage");
    samples.push({ ingested: status.ingest.events_total, lag: searchSinkRow(status)?.lag.events ?? 0 });
    // Whole windows only: a last one cut short by the outage's end could see no batch arrive.
    await sleep(SAMPLE_EVERY_MS);
  }
  const status = (await collectorStatus(pipeline.collector)) ?? assert.fail("the collector answers");
  samples.push({ ingested: status.ingest.events_total, lag: searchSinkRow(status)?.lag.events ?? 0 });
  t.diagnostic(`outage samples (ingested events, sink lag): ${samples.map((sample) => `${sample.ingested}/${sample.lag}`).join(" ")}`);
  for (let index = 1; index < samples.length; index++) {
    assert.ok((samples[index]?.ingested ?? 0) > (samples[index - 1]?.ingested ?? 0), `ingest went on in sample window ${index}`);
  }
  assert.ok((samples.at(-1)?.lag ?? 0) > (samples[0]?.lag ?? 0) + 10_000, "the sink's lag grew while OpenSearch was down");
  const peakLag = Math.max(...samples.map((sample) => sample.lag));
  assert.equal(searchSinkRow(status)?.state, "backing-off");

  restartOpenSearch({ port: PORT });
  await sleep(10_000);
  stopWriting.abort();
  await Promise.all(writers);
  const total = written.reduce((sum, count) => sum + count, 0);
  await waitDelivered(pipeline.agent, pipeline.paths, DELIVERY_TIMEOUT_MS);
  await until("the sink's lag to drain", DELIVERY_TIMEOUT_MS, async () => {
    const row = searchSinkRow((await collectorStatus(pipeline.collector)) ?? assert.fail("no status"));
    return row !== undefined && row.end_offset === total && row.lag.events === 0 ? true : undefined;
  });
  t.diagnostic(`lines written ${total}, peak sink lag ${peakLag}`);
  assert.equal(await countDocuments(client, "itest-outage-default-*"), total, "nothing lost");
  const ids = await documentIds(client, "itest-outage-default-*");
  assert.equal(new Set(ids).size, total, "nothing stored twice");
  await agent.kill();
  await collector.kill();
  assert.equal((await collector.exited).code, 0);
});
