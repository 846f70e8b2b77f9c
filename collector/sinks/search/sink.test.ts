import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "../../../shared/logger.ts";
import { FIXTURE_EVENTS } from "../../../shared/query/fixture-events.ts";
import { parseQuery } from "../../../shared/query/index.ts";
import { collectorConfigSchema } from "../../config.ts";
import { EmbeddedLog } from "../../log/log.ts";
import { SearchIndex } from "../../search/search-index.ts";
import { searchIndex } from "../../search/search.ts";
import { makeBatch, numberedLines } from "../../testing/batches.ts";
import { waitFor } from "../../testing/memory-sink.ts";
import { buildSinks, closeSinks } from "../build.ts";
import { SinkFanout } from "../fanout.ts";
import { SearchSink } from "./sink.ts";

function temporaryDirectory(t: { after: (fn: () => void) => void }): string {
  const directory = mkdtempSync(join(tmpdir(), "logship-search-sink-"));
  t.after(() => rmSync(directory, { recursive: true, force: true }));
  return directory;
}

const BATCHES = 20;
const LINES_PER_BATCH = 250;

test("search sink behind a real fan-out over the embedded log: every appended line is searchable once, per tenant; a replay of the whole log changes nothing", async (t) => {
  const dataDirectory = temporaryDirectory(t);
  const index = new SearchIndex({ directory: join(dataDirectory, "index") });
  const sink = new SearchSink(index);
  const fanout = new SinkFanout({ sinks: [sink], dataDirectory, logger: silentLogger, limits: { eventsPerSendMax: 1000, idlePollMs: 50 } });
  const log = await EmbeddedLog.open({ directory: join(dataDirectory, "log"), segmentBytes: 64 * 1024, fsyncIntervalMs: 0, logger: silentLogger, sync: async () => {}, lowestNeededOffset: (tenant) => fanout.lowestNeededOffset(tenant) });
  t.after(async () => {
    await fanout.close();
    await closeSinks([sink], silentLogger);
    await log.close();
  });
  await fanout.start(log);
  const observedMs = Date.parse("2026-03-01T23:59:59.000Z");
  for (let seq = 1; seq <= BATCHES; seq++) {
    // Half the batches a day later: the events land in two partitions.
    const batch = makeBatch({ seq, lines: numberedLines(`batch ${seq} line`, 0, LINES_PER_BATCH), streamKey: `k${String(seq).padStart(15, "0")}------`, observedMs: observedMs + (seq % 2) * 86_400_000 });
    await log.append("default", { batch: batch.body, events: LINES_PER_BATCH, agent: "agent-1", seq, floor: 0, observedMinMs: observedMs, observedMaxMs: observedMs });
  }
  const other = makeBatch({ seq: 1, lines: ["payments only line"], observedMs });
  await log.append("payments", { batch: other.body, events: 1, agent: "agent-2", seq: 1, floor: 0, observedMinMs: observedMs, observedMaxMs: observedMs });

  const caughtUp = (): boolean => fanout.status().length === 2 && fanout.status().every((status) => status.committedOffset === status.endOffset);
  await waitFor(caughtUp, 30_000, "the search sink to confirm every record");
  const everything = (tenant: string, query = "*"): string[] => {
    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const page: { events: { id: string }[]; cursor: string | null } = searchIndex(index, { tenant, query: parseQuery(query), limit: 999, ...(cursor === null ? {} : { cursor }) });
      ids.push(...page.events.map((event) => event.id));
      cursor = page.cursor;
    } while (cursor !== null);
    return ids;
  };
  const before = everything("default");
  assert.equal(before.length, BATCHES * LINES_PER_BATCH);
  assert.equal(new Set(before).size, before.length);
  assert.equal(index.partitions("default", undefined, undefined, "asc").length, 2);
  assert.equal(everything("default", '"batch 7 line 249"').length, 1);
  assert.equal(everything("default", "payments").length, 0, "tenants are apart");
  assert.equal(everything("payments", "payments").length, 1);

  const replay = await fanout.replay({ sink: "search", tenant: "default", from: { offset: 0 } });
  assert.equal(replay.replayedEvents, BATCHES * LINES_PER_BATCH);
  await waitFor(() => caughtUp() && fanout.status().some((status) => status.tenant === "default" && status.replays === 1), 30_000, "the replay to be delivered");
  assert.deepEqual(everything("default"), before);
  const status = fanout.status().find((entry) => entry.tenant === "default");
  assert.equal(status?.rejectedEvents, 0);
  assert.equal(status?.deliveredEvents, 2 * BATCHES * LINES_PER_BATCH);
});

test("search sink: an event whose time cannot be placed is a reject naming it; the others of the send are stored", async (t) => {
  const index = new SearchIndex({ directory: temporaryDirectory(t) });
  const sink = new SearchSink(index);
  t.after(() => sink.close());
  const good = { ...(FIXTURE_EVENTS[0] as (typeof FIXTURE_EVENTS)[number]), tenant: "default" };
  const outcome = await sink.send([{ ...good, id: "broken", time: "not a time" }, good], new AbortController().signal);
  assert.deepEqual(outcome, { kind: "reject", reason: 'the search index cannot store 1 of 2 events: broken (time "not a time" is not an RFC 3339 time between years 0000 and 9999); the other 1 were stored' });
  assert.deepEqual(searchIndex(index, { tenant: "default", query: parseQuery("*"), limit: 10 }).events.map((event) => event.id), ["e01"]);
  assert.deepEqual(await sink.send([good], new AbortController().signal), { kind: "delivered" });
});

test("search sink: a write SQLite cannot do (the index directory is a file) is a retry with the reason", async (t) => {
  const directory = temporaryDirectory(t);
  const sink = new SearchSink(new SearchIndex({ directory: join(directory, "blocked") }));
  t.after(() => sink.close());
  writeFileSync(join(directory, "blocked"), "not a directory");
  const outcome = await sink.send([{ ...(FIXTURE_EVENTS[0] as (typeof FIXTURE_EVENTS)[number]), tenant: "default" }], new AbortController().signal);
  assert.equal(outcome.kind, "retry");
  assert.match(outcome.kind === "retry" ? (outcome.reason ?? "") : "", /^search index .*blocked: .*ENOTDIR/);
});

test("the default collector config builds the embedded search sink over data_dir/index", async (t) => {
  const directory = temporaryDirectory(t);
  const sinks = await buildSinks(collectorConfigSchema.parse({ data_dir: directory }), silentLogger);
  t.after(() => closeSinks(sinks, silentLogger));
  assert.deepEqual(sinks.map((sink) => sink.name), ["search"]);
  assert.equal((sinks[0] as SearchSink).index.directory, join(directory, "index"));
});

test("sinks.search.type none builds no index; url and index are refused outside opensearch", async () => {
  const directory = "/nonexistent/logship-none";
  assert.deepEqual(await buildSinks(collectorConfigSchema.parse({ data_dir: directory, sinks: { search: { type: "none" } } }), silentLogger), []);
  const refused = collectorConfigSchema.safeParse({ data_dir: directory, sinks: { search: { type: "none", url: "http://localhost:9200" } } });
  assert.equal(refused.success, false);
  assert.match(JSON.stringify(refused.error?.issues), /url is only allowed with type \\"opensearch\\"/);
});
