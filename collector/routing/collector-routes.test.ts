/**
 * A collector in this process with transforms and routes: the ingest
 * answer says where the events went, the metrics count what each stream
 * got and what each step did, the search sink reads only the streams it
 * subscribes to, and status shows each stream's log as a row of its own.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { RunningCollector } from "../main.ts";
import { makeBatch } from "../testing/batches.ts";
import { SEARCH_TOKEN, postBatch, startTestCollector } from "../testing/collector.ts";
import { scrapeUntil, sampleValue } from "../../shared/testing/exposition.ts";

const LINES = ["purchase by a@example.com", "noise", "error in checkout", "hello", "top_up by b@example.com", "noise"];

async function collectorWith(t: { after: (fn: () => Promise<void>) => void }, config: Record<string, unknown>): Promise<RunningCollector> {
  const dataDir = mkdtempSync(join(tmpdir(), "logship-routes-"));
  const collector = await startTestCollector({ dataDir, config });
  t.after(async () => {
    await collector.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return collector;
}

const PROCESSING = {
  transforms: [{ drop: "noise" }, { redact: { patterns: ["email"] } }],
  routes: [
    { stream: "payments", when: "purchase OR top_up" },
    { stream: "errors", when: "error" },
  ],
};

test("ingest with routes: the answer names each stream's part; metrics count events per stream and per step", async (t) => {
  const collector = await collectorWith(t, PROCESSING);
  const response = await postBatch(collector.url, makeBatch({ seq: 1, lines: LINES }).body);
  assert.equal(response.status, 200);
  assert.deepEqual(response.json, {
    offset: 0,
    events: 4,
    streams: { default: { offset: 0, events: 1 }, errors: { offset: 0, events: 1 }, payments: { offset: 0, events: 2 } },
  });
  const again = await postBatch(collector.url, makeBatch({ seq: 1, lines: LINES }).body);
  assert.equal(again.json["duplicate"], true);
  const metrics = await scrapeUntil(collector.url, "the search sink reads every stream", (exposition) =>
    ["default", "default@errors", "default@payments"].every((log) => sampleValue(exposition, `logship_collector_sink_lag_events{sink="search",tenant="${log}"}`) === 0),
  );
  assert.equal(sampleValue(metrics, 'logship_collector_routed_events_total{tenant="default",stream="payments"}'), 2, "a duplicate is not counted again");
  assert.equal(sampleValue(metrics, 'logship_collector_routed_events_total{tenant="default",stream="errors"}'), 1);
  assert.equal(sampleValue(metrics, 'logship_collector_routed_events_total{tenant="default",stream="default"}'), 1);
  assert.equal(sampleValue(metrics, 'logship_collector_transform_dropped_events_total{step="0_drop"}'), 2);
  assert.equal(sampleValue(metrics, 'logship_collector_transform_redactions_total{step="1_redact"}'), 2);
  assert.equal(sampleValue(metrics, 'logship_collector_log_end_offset{tenant="default@payments"}'), 2);
});

test("a sink subscribed to one stream reads only it; search's stream: restricts a query", async (t) => {
  const collector = await collectorWith(t, { ...PROCESSING, sinks: { search: { streams: ["payments"] } } });
  assert.equal((await postBatch(collector.url, makeBatch({ seq: 1, lines: LINES }).body)).status, 200);
  await scrapeUntil(collector.url, "the search sink caught up with payments", (exposition) => sampleValue(exposition, 'logship_collector_sink_delivered_events_total{sink="search",tenant="default@payments"}') === 2);
  const search = async (query: string): Promise<{ message: string; stream?: string }[]> => {
    const response = await fetch(`${collector.url}/v1/search?${new URLSearchParams({ q: query, since: "2000-01-01T00:00:00Z" })}`, { headers: { authorization: `Bearer ${SEARCH_TOKEN}` } });
    return ((await response.json()) as { events: { message: string; stream?: string }[] }).events;
  };
  const all = await search("*");
  assert.deepEqual(all.map((event) => [event.message, event.stream]).sort(), [["purchase by [REDACTED:email]", "payments"], ["top_up by [REDACTED:email]", "payments"]]);
  assert.deepEqual(await search("stream:default"), []);
  assert.equal((await search("stream:payments AND top_up")).length, 1);
  const status = await fetch(`${collector.url}/v1/status`, { headers: { authorization: `Bearer ${SEARCH_TOKEN}` } });
  const body = (await status.json()) as { tenants: { tenant: string }[]; sinks: { tenant: string }[] };
  assert.deepEqual(body.tenants.map((row) => row.tenant), ["default", "default@errors", "default@payments"], "a search token sees its tenant's stream logs");
  assert.deepEqual(body.sinks.map((row) => row.tenant), ["default@payments"], "the search sink runs for its stream only");
});
