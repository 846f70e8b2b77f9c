/**
 * The opensearch sink against a real OpenSearch node (test/engines/opensearch.sh):
 * - a send is stored under the event ids, one index per tenant per day,
 *   mapped by the sink's index template; sending it again changes nothing;
 * - a bulk with mixed failures (a field mapped to the wrong type) through a
 *   real runner over the embedded log: exactly those events in the
 *   dead-letter file, each with OpenSearch's reason, the rest delivered and
 *   the runner past the whole batch;
 * - `sinks.search: {type: opensearch}` in a collector config builds the
 *   sink; batches ingested over HTTP end up in OpenSearch.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "../../shared/logger.ts";
import { EmbeddedLog } from "../../collector/log/log.ts";
import { IndexNames } from "../../collector/opensearch/index-name.ts";
import type { OpenSearchClient } from "../../collector/opensearch/client.ts";
import { deadLetterDirectory } from "../../collector/sinks/dead-letter.ts";
import { SinkFanout } from "../../collector/sinks/fanout.ts";
import { OpenSearchSink } from "../../collector/sinks/opensearch/sink.ts";
import type { SinkEvent } from "../../collector/sinks/types.ts";
import { makeBatch, numberedLines } from "../../collector/testing/batches.ts";
import { postBatch, SEARCH_TOKEN, startTestCollector } from "../../collector/testing/collector.ts";
import { runLogship } from "../helpers/processes.ts";
import { waitFor } from "../../collector/testing/memory-sink.ts";
import { encodePayload, eventsSegment } from "../../shared/wire/batch.ts";
import { zstdCompressSync } from "node:zlib";
import { startOpenSearch, stopOpenSearch } from "../engines/opensearch.ts";
import { countDocuments, deleteIndices, deleteTestTemplates, documentIds, testClient } from "../helpers/opensearch-index.ts";

let url = "";
let client: OpenSearchClient;

before(async () => {
  url = startOpenSearch().url;
  client = testClient(url);
  await deleteTestTemplates(client);
});

after(async () => {
  await client.close();
  stopOpenSearch();
});

function temporaryDirectory(t: { after: (fn: () => void) => void }): string {
  const directory = mkdtempSync(join(tmpdir(), "logship-opensearch-sink-"));
  t.after(() => rmSync(directory, { recursive: true, force: true }));
  return directory;
}

function sinkEvent(index: number, overrides: Partial<SinkEvent> = {}): SinkEvent {
  return {
    id: `evt-${String(index).padStart(5, "0")}`,
    time: index % 2 === 0 ? "2026-11-29T23:59:59.000Z" : "2026-11-30T00:00:01.000Z",
    observed_time: "2026-11-30T00:00:02.000Z",
    host: `web-${index % 3}`,
    source: "app",
    path: "/var/log/app.log",
    offset: index * 100,
    message: `line ${index} Top_up db-1 日本語`,
    fields: { n: index, service: "api" },
    tenant: "sinktest",
    ...overrides,
  };
}

function newSink(template: string, options: { bulkEventsMax?: number } = {}): OpenSearchSink {
  return new OpenSearchSink({ client: testClient(url), names: new IndexNames(template), gzip: true, bulkBytesMax: 1024 * 1024, bulkEventsMax: options.bulkEventsMax ?? 5000, template: {}, logger: silentLogger });
}

test("a send is stored under the event ids, one index per tenant and day, mapped by the template; sending it again stores nothing twice", { timeout: 120_000 }, async (t) => {
  const template = "itest-sink-{tenant}-%Y.%m.%d";
  await deleteIndices(client, "itest-sink-*");
  const sink = newSink(template, { bulkEventsMax: 70 });
  t.after(() => sink.close());
  const events = Array.from({ length: 500 }, (_, index) => sinkEvent(index));
  assert.deepEqual(await sink.send(events, new AbortController().signal), { kind: "delivered" });
  assert.equal(await countDocuments(client, "itest-sink-sinktest-*"), 500);
  const indices = (await client.expect("GET", "/_cat/indices/itest-sink-*?h=index&format=json")).body as { index: string }[];
  assert.deepEqual(indices.map((entry) => entry.index).sort(), ["itest-sink-sinktest-2026.11.29", "itest-sink-sinktest-2026.11.30"]);
  assert.deepEqual(await sink.send(events, new AbortController().signal), { kind: "delivered" });
  assert.equal(await countDocuments(client, "itest-sink-sinktest-*"), 500, "a replay changes nothing");
  assert.deepEqual(await documentIds(client, "itest-sink-*"), events.map((event) => event.id));

  const stored = (await client.expect("GET", `/itest-sink-sinktest-2026.11.29/_doc/evt-00002`)).body as { _source: Record<string, unknown> };
  const { tenant: _tenant, ...expected } = events[2] as SinkEvent;
  const { indexed_at: indexedAt, ...document } = stored._source;
  assert.deepEqual(document, { ...expected, tenant: "sinktest" }, "the document is the event, without the token field, and the sink's stamp");
  assert.ok(typeof indexedAt === "number" && Number.isSafeInteger(indexedAt), "indexed_at: the collector's clock in ms when the bulk request was sent");
  const mapping = (await client.expect("GET", "/itest-sink-sinktest-2026.11.29/_mapping")).body as Record<string, { mappings: { properties: Record<string, { type?: string; properties?: Record<string, { type: string }> }> } }>;
  const properties = mapping["itest-sink-sinktest-2026.11.29"]?.mappings.properties ?? {};
  assert.equal(properties.time?.type, "date");
  assert.equal(properties.host?.type, "keyword");
  assert.equal(properties.message_tokens?.type, "text");
  assert.deepEqual(properties.fields?.properties, { n: { type: "keyword", ignore_above: 8191 }, service: { type: "keyword", ignore_above: 8191 } } as unknown);
  const tokens = await client.expect("POST", "/itest-sink-sinktest-*/_count", { body: { query: { match_phrase: { message_tokens: "top up db 1 日本語" } } } });
  assert.equal((tokens.body as { count: number }).count, 500, "the message's tokens are logship's tokens");
});

test("a bulk with mixed failures through a real runner: exactly the events of the wrongly mapped field are dead-lettered with OpenSearch's reason, the rest delivered", { timeout: 120_000 }, async (t) => {
  const dataDirectory = temporaryDirectory(t);
  const template = "itest-mixed-{tenant}-%Y.%m.%d";
  await deleteIndices(client, "itest-mixed-*");
  // The day's index exists with fields.count mapped as a number: an event whose count is text cannot go in.
  await client.expect("PUT", "/itest-mixed-default-2026.11.29", { body: { mappings: { properties: { fields: { properties: { count: { type: "long" } } } } } } });
  const sink = newSink(template);
  const fanout = new SinkFanout({ sinks: [sink], dataDirectory, logger: silentLogger, limits: { eventsPerSendMax: 1000, idlePollMs: 50 } });
  const log = await EmbeddedLog.open({ directory: join(dataDirectory, "log"), segmentBytes: 1024 * 1024, fsyncIntervalMs: 0, logger: silentLogger, sync: async () => {}, lowestNeededOffset: (tenant) => fanout.lowestNeededOffset(tenant) });
  t.after(async () => {
    await fanout.close();
    await sink.close();
    await log.close();
  });
  await fanout.start(log);
  // 300 events: every 50th has a count that is not a number.
  const lines = Array.from({ length: 300 }, (_, index) => ({ count: index % 50 === 7 ? `many-${index}` : index }));
  const observedMs = Date.parse("2026-11-29T12:00:00.000Z");
  const parsed = jsonBatch(lines, observedMs);
  await log.append("default", { batch: parsed, events: lines.length, agent: "agent-1", seq: 1, floor: 0, observedMinMs: observedMs, observedMaxMs: observedMs });
  await waitFor(() => fanout.status().length === 1 && fanout.status().every((status) => status.committedOffset === 300), 60_000, "the runner to pass the batch");
  const status = fanout.status()[0];
  assert.equal(status?.rejectedEvents, 6);
  assert.equal(status?.deliveredEvents, 294);
  assert.equal(await countDocuments(client, "itest-mixed-default-*"), 294);
  const directory = deadLetterDirectory(dataDirectory, "search");
  const files = readdirSync(directory);
  assert.deepEqual(files, ["default-0-300.ndjson"]);
  const dead = readFileSync(join(directory, files[0] as string), "utf8").trim().split("\n").map((line) => JSON.parse(line) as { reason: string; event: SinkEvent });
  assert.deepEqual(dead.map((entry) => entry.event.fields.count), [7, 57, 107, 157, 207, 257].map((index) => `many-${index}`));
  for (const entry of dead) assert.match(entry.reason, /^400 mapper_parsing_exception: failed to parse field \[fields\.count\] of type \[long\]/);
});

/** A wire batch (zstd) of events with parsed fields, as an agent with `parser: json` sends them. */
function jsonBatch(fields: readonly Record<string, unknown>[], observedMs: number): Buffer {
  const events = fields.map((value, index) => ({ offset: index * 40, message: JSON.stringify(value), truncated: false, timeMs: observedMs, fields: { ...value } }));
  const stream = { key: "stream-key-mixed-00000", source: "app", path: "/var/log/app.json", fields: {} };
  return zstdCompressSync(encodePayload({ agent: "agent-1", host: "web-1", seq: 1, floor: 0, created_ms: observedMs, streams: [stream] }, [eventsSegment(0, observedMs, events)]));
}

test("sinks.search type opensearch and search.backend opensearch in a collector config: ingested batches are stored in OpenSearch and found through /v1/search, /v1/histogram and logship search", { timeout: 120_000 }, async (t) => {
  const dataDir = temporaryDirectory(t);
  await deleteIndices(client, "itest-config-*");
  const collector = await startTestCollector({ dataDir, config: { sinks: { search: { type: "opensearch", url, index: "itest-config-{tenant}-%Y.%m.%d" } }, search: { backend: "opensearch" } } });
  try {
    for (let seq = 1; seq <= 4; seq++) {
      const batch = makeBatch({ seq, lines: numberedLines(`batch ${seq} line`, 0, 250), baseOffset: seq * 100_000 });
      assert.equal((await postBatch(collector.url, batch.body)).status, 200);
    }
    const deadline = Date.now() + 60_000;
    while ((await countDocuments(client, "itest-config-default-*")) < 1000 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(await countDocuments(client, "itest-config-default-*"), 1000);
    const headers = { authorization: `Bearer ${SEARCH_TOKEN}` };
    const page = (await (await fetch(`${collector.url}/v1/search?q=${encodeURIComponent('"batch 3 line 7"')}&since=2025-01-01T00:00:00Z&limit=10`, { headers })).json()) as { events: SinkEvent[]; cursor: string | null; partial: boolean };
    assert.deepEqual(page.events.map((event) => event.message), ["batch 3 line 7"]);
    assert.deepEqual([page.cursor, page.partial], [null, false]);
    const histogram = (await (await fetch(`${collector.url}/v1/histogram?q=batch&since=2025-11-24T16:00:00Z&until=2025-11-24T17:00:00Z`, { headers })).json()) as { buckets: { count: number }[]; complete: boolean };
    assert.deepEqual([histogram.buckets.reduce((sum, bucket) => sum + bucket.count, 0), histogram.complete], [1000, true]);
    const cli = await runLogship(["search", "line AND 249", "--server", collector.url, "--token", SEARCH_TOKEN, "--since", "2025-01-01T00:00:00Z", "--output", "ndjson", "--order", "asc"]);
    assert.equal(cli.code, 0, cli.stderr);
    assert.deepEqual(cli.stdout.trim().split("\n").map((line) => (JSON.parse(line) as SinkEvent).message), [1, 2, 3, 4].map((seq) => `batch ${seq} line 249`));
  } finally {
    await collector.stop();
  }
});
