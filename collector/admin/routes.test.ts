import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request } from "undici";
import { makeBatch, numberedLines } from "../testing/batches.ts";
import { INGEST_TOKEN, PAYMENTS_TOKEN, SEARCH_TOKEN, postBatch, startTestCollector } from "../testing/collector.ts";
import { MemorySink, waitFor } from "../testing/memory-sink.ts";
import type { RunningCollector } from "../main.ts";
import type { CollectorStatusJson } from "./status.ts";
import type { SinkFanout } from "../sinks/fanout.ts";
import type { SinkRunnerStatus } from "../sinks/runner.ts";

function temporaryDirectory(t: { after: (fn: () => unknown) => void }): string {
  const directory = mkdtempSync(join(tmpdir(), "logship-admin-"));
  t.after(() => rmSync(directory, { recursive: true, force: true }));
  return directory;
}

async function call(url: string, method: "GET" | "POST", path: string, token: string | undefined, body?: string): Promise<{ status: number; json: Record<string, unknown>; headers: Record<string, unknown> }> {
  const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
  const response = await request(`${url}${path}`, { method, headers, ...(body === undefined ? {} : { body }) });
  return { status: response.statusCode, json: (await response.body.json()) as Record<string, unknown>, headers: response.headers };
}

/** A collector with sinks "search" (healthy) and "archive" (failing with a reason); 3 batches of 100 events for default, 1 of 7 for payments. */
async function collectorWithTraffic(t: { after: (fn: () => unknown) => void }): Promise<{ collector: RunningCollector; search: MemorySink; archive: MemorySink; bodyBytes: number }> {
  const search = new MemorySink("search");
  const archive = new MemorySink("archive");
  archive.failing = true;
  archive.retryReason = "archive target unreachable";
  const collector = await startTestCollector({ dataDir: temporaryDirectory(t), sinks: [search, archive] });
  t.after(() => collector.stop());
  let bodyBytes = 0;
  for (let seq = 1; seq <= 3; seq++) {
    const batch = makeBatch({ seq, lines: numberedLines(`default ${seq}`, 0, 100), streamKey: `d${String(seq).padStart(15, "0")}------` });
    bodyBytes += batch.body.length;
    assert.equal((await postBatch(collector.url, batch.body)).status, 200);
  }
  // Sent again: a duplicate, counted apart.
  assert.equal((await postBatch(collector.url, makeBatch({ seq: 3, lines: numberedLines("default 3", 0, 100), streamKey: `d${String(3).padStart(15, "0")}------` }).body)).json["duplicate"], true);
  const payments = makeBatch({ seq: 1, lines: numberedLines("payments", 0, 7), streamKey: `p${String(1).padStart(15, "0")}------` });
  assert.equal((await postBatch(collector.url, payments.body, { authorization: `Bearer ${PAYMENTS_TOKEN}` })).status, 200);
  await waitFor(() => search.ids.size === 307 && archive.sends > 0, 10_000, "the search sink to deliver everything and the archive sink to fail");
  // A runner commits its offset after the sink's answer: the tests read committed offsets, so wait for them too.
  const searchRunners = (): SinkRunnerStatus[] => (collector.sinks as SinkFanout).status().filter((runner) => runner.sink === "search");
  await waitFor(() => searchRunners().length === 2 && searchRunners().every((runner) => runner.committedOffset === runner.endOffset), 10_000, "the search sink's offsets to be committed");
  return { collector, search, archive, bodyBytes };
}

test("GET /v1/status: ingest totals and rates, each tenant's log, every sink runner's offset, lag (events, bytes, age), state and last error; admin sees every tenant, search its own", async (t) => {
  const { collector, bodyBytes } = await collectorWithTraffic(t);
  const admin = await call(collector.url, "GET", "/v1/status", PAYMENTS_TOKEN);
  assert.equal(admin.status, 200);
  const status = admin.json as unknown as CollectorStatusJson;
  assert.equal(status.kind, "collector");
  assert.equal(status.ready, true);
  assert.deepEqual(status.scope, { role: "admin", tenants: "all" });
  assert.deepEqual(
    status.tenants.map((tenant) => [tenant.tenant, tenant.ingest.batches_total, tenant.ingest.events_total, tenant.ingest.duplicate_batches_total, tenant.log.first_offset, tenant.log.next_offset, tenant.log.segments]),
    [
      ["default", 3, 300, 1, 0, 300, 1],
      ["payments", 1, 7, 0, 0, 7, 1],
    ],
  );
  const defaultTenant = status.tenants[0];
  assert.ok(defaultTenant !== undefined);
  assert.equal(defaultTenant.ingest.bytes_total, bodyBytes, "bytes as received");
  assert.ok(defaultTenant.log.bytes > bodyBytes, "the log holds the bodies plus record headers");
  assert.equal(status.ingest.batches_total, 4);
  assert.equal(status.ingest.events_total, 307);
  assert.ok(status.ingest.window_ms >= 0 && status.ingest.batches_per_second >= 0);

  const sinks = Object.fromEntries(status.sinks.map((sink) => [`${sink.sink}/${sink.tenant}`, sink]));
  assert.deepEqual(Object.keys(sinks), ["archive/default", "archive/payments", "search/default", "search/payments"]);
  const searchDefault = sinks["search/default"];
  const archiveDefault = sinks["archive/default"];
  assert.ok(searchDefault !== undefined && archiveDefault !== undefined);
  assert.deepEqual([searchDefault.committed_offset, searchDefault.end_offset, searchDefault.lag, searchDefault.delivered_events, searchDefault.last_error], [300, 300, { events: 0, bytes: 0, age_ms: 0 }, 300, null]);
  assert.equal(archiveDefault.committed_offset, 0);
  assert.equal(archiveDefault.lag.events, 300);
  // Every record of the tenant's log is still to be delivered: all its bytes but the segment header.
  assert.equal(archiveDefault.lag.bytes, defaultTenant.log.bytes - 32);
  assert.ok(archiveDefault.lag.age_ms > 0);
  assert.ok(archiveDefault.retries > 0);
  assert.ok(["backing-off", "sending", "reading"].includes(archiveDefault.state), archiveDefault.state);
  assert.equal(archiveDefault.last_error?.message, "archive target unreachable");
  assert.ok(!Number.isNaN(Date.parse(archiveDefault.last_error?.at ?? "")));

  // A search token sees its own tenant only.
  const own = (await call(collector.url, "GET", "/v1/status", SEARCH_TOKEN)).json as unknown as CollectorStatusJson;
  assert.deepEqual(own.scope, { role: "search", tenants: "default" });
  assert.deepEqual(own.tenants.map((tenant) => tenant.tenant), ["default"]);
  assert.deepEqual(own.sinks.map((sink) => `${sink.sink}/${sink.tenant}`), ["archive/default", "search/default"]);
  assert.equal(own.ingest.batches_total, 3);

  // Ingest tokens (on every agent host) may not read it; no token is 401; only GET.
  assert.deepEqual([(await call(collector.url, "GET", "/v1/status", INGEST_TOKEN)).json["code"]], ["LOGSHIP_AUTH_FORBIDDEN"]);
  const anonymous = await call(collector.url, "GET", "/v1/status", undefined);
  assert.deepEqual([anonymous.status, anonymous.json["code"], anonymous.headers["www-authenticate"]], [401, "LOGSHIP_AUTH_MISSING", 'Bearer realm="logship"']);
  const post = await call(collector.url, "POST", "/v1/status", PAYMENTS_TOKEN, "{}");
  assert.deepEqual([post.status, post.headers["allow"]], [405, "GET"]);
});

test("POST /v1/sinks/NAME/replay: admin only; that sink gets the range again (idempotently); clear refusals", async (t) => {
  const { collector, search, archive } = await collectorWithTraffic(t);
  const replay = (body: unknown, token: string | undefined, sink: string) => call(collector.url, "POST", `/v1/sinks/${sink}/replay`, token, typeof body === "string" ? body : JSON.stringify(body));

  const done = await replay({ tenant: "default", from_offset: 100 }, PAYMENTS_TOKEN, "search");
  assert.equal(done.status, 200, JSON.stringify(done.json));
  assert.deepEqual(done.json, { sink: "search", tenant: "default", from_offset: 100, previous_offset: 300, committed_offset: 100, end_offset: 300, replayed_events: 200 });
  await waitFor(() => search.duplicates === 200, 10_000, "the replayed range to reach the search sink again");
  assert.equal(search.ids.size, 307, "held once each");
  assert.equal(archive.ids.size, 0, "the other sink is untouched");
  // From a time: every record was observed after the epoch, so this is the log's start.
  const byTime = await replay({ tenant: "payments", from_time_ms: 0 }, PAYMENTS_TOKEN, "search");
  assert.deepEqual([byTime.status, byTime.json["from_offset"], byTime.json["replayed_events"]], [200, 0, 7]);
  const status = (await call(collector.url, "GET", "/v1/status", PAYMENTS_TOKEN)).json as unknown as CollectorStatusJson;
  assert.deepEqual(status.sinks.filter((sink) => sink.sink === "search").map((sink) => sink.replays), [1, 1]);

  const refusals: [unknown, string | undefined, string, number, string, RegExp][] = [
    [{ from_offset: 0 }, SEARCH_TOKEN, "search", 403, "LOGSHIP_AUTH_FORBIDDEN", /needs admin/],
    [{ from_offset: 0 }, undefined, "search", 401, "LOGSHIP_AUTH_MISSING", /bearer token/],
    [{ from_offset: 0 }, PAYMENTS_TOKEN, "opensearch", 404, "LOGSHIP_REPLAY_UNKNOWN_SINK", /^unknown sink "opensearch"; known sinks: search, archive$/],
    [{ tenant: "billing", from_offset: 0 }, PAYMENTS_TOKEN, "search", 404, "LOGSHIP_REPLAY_UNKNOWN_TENANT", /^tenant "billing" has no log on this collector; tenants with a log: default, payments$/],
    [{ from_offset: 301 }, PAYMENTS_TOKEN, "search", 400, "LOGSHIP_REPLAY_OFFSET_BEYOND_END", /offset 301 is beyond the end of tenant default's log \(its next offset is 300\)/],
    ["not json", PAYMENTS_TOKEN, "search", 400, "LOGSHIP_REPLAY_REQUEST", /must be JSON/],
    [{ from_offset: 1, from_time_ms: 1 }, PAYMENTS_TOKEN, "search", 400, "LOGSHIP_REPLAY_REQUEST", /exactly one of from_offset, from_offsets and from_time_ms/],
    [{ from_offsets: { "0": 1 } }, PAYMENTS_TOKEN, "search", 400, "LOGSHIP_REPLAY_REQUEST", /^offsets per partition \(PARTITION:OFFSET\) are for the Kafka log; this collector's embedded log has one offset per tenant$/],
    [{ from_offsets: { x: 1 } }, PAYMENTS_TOKEN, "search", 400, "LOGSHIP_REPLAY_REQUEST", /^from_offsets: "x" is not a partition number$/],
    [{ from_offsets: {} }, PAYMENTS_TOKEN, "search", 400, "LOGSHIP_REPLAY_REQUEST", /^from_offsets must name 1 to 10000 partitions$/],
    [{ from_offset: -1 }, PAYMENTS_TOKEN, "search", 400, "LOGSHIP_REPLAY_REQUEST", /whole number/],
    [{ from_offset: 1, since: "1h" }, PAYMENTS_TOKEN, "search", 400, "LOGSHIP_REPLAY_REQUEST", /unknown field "since"/],
  ];
  for (const [body, token, sink, status, code, message] of refusals) {
    const answer = await replay(body, token, sink);
    assert.deepEqual([answer.status, answer.json["code"]], [status, code], JSON.stringify(answer.json));
    assert.match(String(answer.json["error"]), message);
  }
  const get = await call(collector.url, "GET", "/v1/sinks/search/replay", PAYMENTS_TOKEN);
  assert.deepEqual([get.status, get.headers["allow"]], [405, "POST"]);
});
