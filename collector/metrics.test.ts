/**
 * GET /metrics of a real collector in this process after a known workload:
 * ingest by tenant, refusals by status and code, the log on disk, fsyncs,
 * the search sink's lag and deliveries, search latency; the exposition
 * parses; two collectors in one process keep their own registries.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RunningCollector } from "./main.ts";
import { makeBatch, numberedLines } from "./testing/batches.ts";
import { PAYMENTS_TOKEN, SEARCH_TOKEN, postBatch, startTestCollector } from "./testing/collector.ts";
import { scrape, scrapeUntil, sampleValue } from "../shared/testing/exposition.ts";

async function collectorFor(t: { after: (fn: () => Promise<void>) => void }): Promise<RunningCollector> {
  const dataDir = mkdtempSync(join(tmpdir(), "logship-metrics-"));
  const collector = await startTestCollector({ dataDir });
  t.after(async () => {
    await collector.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return collector;
}

function batch(seq: number, events: number): Buffer {
  return makeBatch({ seq, lines: numberedLines(`batch ${seq} line`, 0, events) }).body;
}

test("GET /metrics after ingest: batches, events and bytes by tenant, duplicates, refusals by status and code, log, fsyncs, sink lag, search latency and answers by status", async (t) => {
  const collector = await collectorFor(t);
  const bodies = [batch(1, 10), batch(2, 10), batch(3, 10)];
  for (const body of bodies) assert.equal((await postBatch(collector.url, body)).status, 200);
  assert.equal((await postBatch(collector.url, bodies[0] as Buffer)).status, 200, "a duplicate");
  assert.equal((await postBatch(collector.url, batch(1, 5), { authorization: `Bearer ${PAYMENTS_TOKEN}` })).status, 200, "another tenant");
  assert.equal((await postBatch(collector.url, batch(4, 10), { "content-encoding": "gzip" })).status, 415);
  assert.equal((await postBatch(collector.url, batch(5, 10), { "content-encoding": "gzip" })).status, 415);
  assert.equal((await postBatch(collector.url, batch(6, 10), { authorization: undefined })).status, 401);
  const search = await fetch(`${collector.url}/v1/search?q=line&limit=5`, { headers: { authorization: `Bearer ${SEARCH_TOKEN}` } });
  assert.equal(search.status, 200);
  await search.text();
  const refused = await fetch(`${collector.url}/v1/search?q=${encodeURIComponent("level:(")}`, { headers: { authorization: `Bearer ${SEARCH_TOKEN}` } });
  assert.equal(refused.status, 400);
  await refused.text();

  const metrics = await scrapeUntil(
    collector.url,
    "the search sink to catch up (taken and durable: its lag counts what it holds) and the search request to be observed",
    (exposition) =>
      sampleValue(exposition, 'logship_collector_sink_delivered_events_total{sink="search",tenant="default"}') === 30 &&
      sampleValue(exposition, 'logship_collector_sink_lag_events{sink="search",tenant="default"}') === 0 &&
      sampleValue(exposition, 'logship_collector_search_request_seconds_count{route="search"}') === 2,
  );
  const value = (series: string): number | undefined => sampleValue(metrics, series);
  assert.equal(value('logship_collector_ingest_events_total{tenant="default"}'), 30);
  assert.equal(value('logship_collector_ingest_batches_total{tenant="default"}'), 3);
  assert.equal(value('logship_collector_ingest_bytes_total{tenant="default"}'), bodies.reduce((sum, body) => sum + body.length, 0));
  assert.equal(value('logship_collector_ingest_duplicate_batches_total{tenant="default"}'), 1);
  assert.equal(value('logship_collector_ingest_events_total{tenant="payments"}'), 5);
  assert.equal(value('logship_collector_ingest_rejected_total{status="415",code="LOGSHIP_INGEST_ENCODING"}'), 2);
  assert.equal(value('logship_collector_ingest_rejected_total{status="401",code="LOGSHIP_AUTH_MISSING"}'), 1);
  assert.equal(value('logship_collector_log_end_offset{tenant="default"}'), 30);
  assert.equal(value('logship_collector_log_segments{tenant="default"}'), 1);
  assert.ok((value('logship_collector_log_bytes{tenant="default"}') ?? 0) > bodies.reduce((sum, body) => sum + body.length, 0));
  // Four stored batches (three and the other tenant's), each acknowledged only after an fsync round.
  assert.ok((value("logship_collector_log_fsync_seconds_count") ?? 0) >= 1);
  assert.equal(value('logship_collector_sink_lag_events{sink="search",tenant="default"}'), 0);
  assert.equal(value('logship_collector_sink_rejected_events_total{sink="search",tenant="default"}'), 0);
  assert.equal(metrics.types.get("logship_collector_search_request_seconds"), "histogram");
  assert.equal(value('logship_collector_search_responses_total{route="search",status="200"}'), 1);
  assert.equal(value('logship_collector_search_responses_total{route="search",status="400"}'), 1);
  assert.equal(metrics.types.get("logship_collector_ingest_events_total"), "counter");
  assert.equal(metrics.types.get("logship_collector_log_bytes"), "gauge");
  // The default process metrics, from this collector's own registry.
  assert.ok((value("process_resident_memory_bytes") ?? 0) > 0);
  assert.equal(metrics.types.get("nodejs_eventloop_lag_seconds"), "gauge");
});

test("GET /metrics needs no token (like /healthz); other methods are 405", async (t) => {
  const collector = await collectorFor(t);
  const response = await fetch(`${collector.url}/metrics`);
  assert.equal(response.status, 200);
  const text = await response.text();
  assert.match(text, /^# HELP logship_collector_ingest_events_total /m);
  const post = await fetch(`${collector.url}/metrics`, { method: "POST" });
  assert.equal(post.status, 405);
  await post.text();
});

test("two collectors in one process: each /metrics counts its own ingest only", async (t) => {
  const first = await collectorFor(t);
  const second = await collectorFor(t);
  assert.equal((await postBatch(first.url, batch(1, 7))).status, 200);
  const firstMetrics = await scrape(first.url);
  const secondMetrics = await scrape(second.url);
  assert.equal(sampleValue(firstMetrics, 'logship_collector_ingest_events_total{tenant="default"}'), 7);
  assert.equal(sampleValue(secondMetrics, 'logship_collector_ingest_events_total{tenant="default"}'), undefined);
  assert.equal(secondMetrics.types.get("logship_collector_ingest_events_total"), "counter");
});
