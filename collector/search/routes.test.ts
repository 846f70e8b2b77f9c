import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { request } from "undici";
import type { Event } from "../../shared/event.ts";
import type { RunningCollector } from "../main.ts";
import { SinkFanout } from "../sinks/fanout.ts";
import type { SinkRunnerStatus } from "../sinks/runner.ts";
import { makeBatch } from "../testing/batches.ts";
import { recordingLogger, type LoggedLine } from "../testing/recording-logger.ts";
import { sampleValue, scrapeUntil } from "../../shared/testing/exposition.ts";
import { INGEST_TOKEN, PAYMENTS_TOKEN, SEARCH_TOKEN, postBatch, startTestCollector, until } from "../testing/collector.ts";
import { freePort } from "../../test/helpers/processes.ts";
import { cleanups } from "../../test/helpers/cleanups.ts";

/** Batches of default's events are observed (and so timed) at 10:00, 10:01 and 10:02. */
const FIRST_MS = Date.parse("2026-11-29T10:00:00Z");
const MINUTE_MS = 60_000;

function temporaryDirectory(t: { after: (fn: () => unknown) => void }): string {
  const directory = mkdtempSync(join(tmpdir(), "logship-search-api-"));
  t.after(() => rmSync(directory, { recursive: true, force: true }));
  return directory;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: Record<string, unknown>;
}

async function get(url: string, path: string, token: string | undefined, headers: Record<string, string> = {}): Promise<Answer> {
  const all: Record<string, string> = { ...headers };
  if (token !== undefined) all["authorization"] = `Bearer ${token}`;
  const response = await request(`${url}${path}`, { headers: all });
  const text = await response.body.text();
  const json = (response.headers["content-type"] === "application/json" ? JSON.parse(text) : {}) as Record<string, unknown>;
  return { status: response.statusCode, headers: response.headers, text, json };
}

function query(parameters: Record<string, string>): string {
  return `?${new URLSearchParams(parameters)}`;
}

/** `ERROR batch <seq> line <n>` for every tenth n, else `INFO …`. */
function lines(seq: number, count: number): string[] {
  return Array.from({ length: count }, (_, line) => `${line % 10 === 0 ? "ERROR" : "INFO"} batch ${seq} line ${line}`);
}

/** A collector with its default (embedded search) sink: 3 batches of 100 events for tenant default, 7 events for payments, all indexed. */
async function indexedCollector(t: { after: (fn: () => unknown) => void }): Promise<RunningCollector> {
  const collector = await startTestCollector({ dataDir: temporaryDirectory(t) });
  t.after(() => collector.stop());
  for (let seq = 1; seq <= 3; seq++) {
    const batch = makeBatch({ seq, lines: lines(seq, 100), streamKey: `d${String(seq).padStart(15, "0")}------`, observedMs: FIRST_MS + (seq - 1) * MINUTE_MS });
    assert.equal((await postBatch(collector.url, batch.body)).status, 200);
  }
  const payments = makeBatch({ seq: 1, lines: Array.from({ length: 7 }, (_, line) => `ERROR payments line ${line}`), streamKey: `p${"0".repeat(15)}------`, observedMs: FIRST_MS });
  assert.equal((await postBatch(collector.url, payments.body, { authorization: `Bearer ${PAYMENTS_TOKEN}` })).status, 200);
  await until(() => {
    const search = searchRunners(collector);
    return search.length === 2 && search.every((runner) => runner.lagEvents === 0 && runner.committedOffset === runner.endOffset);
  }, "the search sink to index everything");
  return collector;
}

/** The search sink's runners (the embedded log's fan-out). */
function searchRunners(collector: RunningCollector): SinkRunnerStatus[] {
  assert.ok(collector.sinks instanceof SinkFanout);
  return collector.sinks.status().filter((runner) => runner.sink === "search");
}

function events(answer: Answer): Event[] {
  return answer.json["events"] as Event[];
}

test("GET /v1/search: search and admin tokens only; a token reads its own tenant, an admin token another through tenant", async (t) => {
  const collector = await indexedCollector(t);
  const own = await get(collector.url, "/v1/search?limit=1000", SEARCH_TOKEN);
  assert.equal(own.status, 200, own.text);
  assert.equal(events(own).length, 300);
  assert.ok(events(own).every((event) => /^(ERROR|INFO) batch \d line \d+$/.test(event.message)), "only tenant default's events");
  assert.deepEqual([own.json["cursor"], own.json["partial"]], [null, false]);

  const admin = await get(collector.url, "/v1/search?limit=1000", PAYMENTS_TOKEN);
  assert.deepEqual(events(admin).map((event) => event.message).sort(), Array.from({ length: 7 }, (_, line) => `ERROR payments line ${line}`));
  const adminOther = await get(collector.url, "/v1/search?limit=1000&tenant=default", PAYMENTS_TOKEN);
  assert.equal(events(adminOther).length, 300);

  const refusals: [string, string | undefined, number, string][] = [
    ["/v1/search", undefined, 401, "LOGSHIP_AUTH_MISSING"],
    ["/v1/search", "not-a-token", 401, "LOGSHIP_AUTH_INVALID"],
    ["/v1/search", INGEST_TOKEN, 403, "LOGSHIP_AUTH_FORBIDDEN"],
    ["/v1/search?tenant=payments", SEARCH_TOKEN, 403, "LOGSHIP_AUTH_FORBIDDEN"],
    ["/v1/histogram", INGEST_TOKEN, 403, "LOGSHIP_AUTH_FORBIDDEN"],
    ["/v1/histogram?tenant=payments", SEARCH_TOKEN, 403, "LOGSHIP_AUTH_FORBIDDEN"],
  ];
  for (const [path, token, status, code] of refusals) {
    const answer = await get(collector.url, path, token);
    assert.deepEqual([answer.status, answer.json["code"]], [status, code], `${path} with ${token ?? "no token"}: ${answer.text}`);
  }
  const other = await get(collector.url, "/v1/search?tenant=payments", SEARCH_TOKEN);
  assert.equal(other.json["error"], 'a token of role search reads only its own tenant (default); tenant "payments" needs an admin token');
  // The search token's own tenant, named, is fine.
  assert.equal((await get(collector.url, "/v1/search?tenant=default", SEARCH_TOKEN)).status, 200);
  const post = await request(`${collector.url}/v1/search`, { method: "POST", headers: { authorization: `Bearer ${SEARCH_TOKEN}` }, body: "{}" });
  assert.deepEqual([post.statusCode, post.headers["allow"]], [405, "GET"]);
  await post.body.dump();
});

test("GET /v1/search: events in the DESIGN.md shape, newest first; a query narrows them; NDJSON with Accept, the cursor in a header", async (t) => {
  const collector = await indexedCollector(t);
  const page = await get(collector.url, `/v1/search${query({ q: "ERROR", limit: "5" })}`, SEARCH_TOKEN);
  assert.equal(page.status, 200, page.text);
  const found = events(page);
  assert.equal(found.length, 5);
  assert.ok(found.every((event) => /^ERROR batch 3 line \d*0$/.test(event.message)), "matches of the newest batch first");
  const first = found[0];
  assert.ok(first !== undefined);
  assert.deepEqual(Object.keys(first), ["id", "time", "observed_time", "host", "source", "path", "offset", "message", "fields"]);
  assert.equal(first.time, "2026-11-29T10:02:00.000Z");
  assert.equal(first.observed_time, "2026-11-29T10:02:00.000Z");
  assert.deepEqual([first.host, first.source, first.path, typeof first.offset, first.fields], ["web-1", "app", "/var/log/app.log", "number", {}]);
  assert.equal(typeof page.json["cursor"], "string", "a full page has a cursor");

  const ndjson = await get(collector.url, `/v1/search${query({ q: "ERROR", limit: "5" })}`, SEARCH_TOKEN, { accept: "application/x-ndjson" });
  assert.equal(ndjson.status, 200);
  assert.equal(ndjson.headers["content-type"], "application/x-ndjson");
  assert.ok(ndjson.text.endsWith("\n"));
  assert.deepEqual(ndjson.text.trimEnd().split("\n").map((line) => JSON.parse(line) as Event), found);
  assert.equal(ndjson.headers["logship-cursor"], page.json["cursor"]);
  assert.equal(ndjson.headers["logship-partial"], "false");
  const last = await get(collector.url, `/v1/search${query({ q: "ERROR", limit: "100" })}`, SEARCH_TOKEN, { accept: "application/x-ndjson" });
  assert.equal(last.text.trimEnd().split("\n").length, 30);
  assert.equal(last.headers["logship-cursor"], undefined, "no cursor once the range is exhausted");

  // since/until: RFC 3339 bounds (since inclusive, until exclusive) select the middle batch.
  const middle = await get(collector.url, `/v1/search${query({ since: "2026-11-29T10:01:00Z", until: "2026-11-29T11:01:59.999+01:00", limit: "1000" })}`, SEARCH_TOKEN);
  assert.equal(events(middle).length, 100);
  assert.ok(events(middle).every((event) => event.message.includes(" batch 2 ")));
  // Relative: the events are from 2026, so "the last 15 minutes" holds none of them.
  assert.equal(events(await get(collector.url, "/v1/search?since=15m", SEARCH_TOKEN)).length, 0);
});

test("GET /v1/search: the cursor pages through every match in both orders without gaps or repeats", async (t) => {
  const collector = await indexedCollector(t);
  const whole = events(await get(collector.url, "/v1/search?limit=1000", SEARCH_TOKEN));
  assert.equal(whole.length, 300);
  for (const order of ["desc", "asc"] as const) {
    for (const q of ["", "INFO", "/line \\d*7$/"]) {
      const seen: Event[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const parameters: Record<string, string> = { q, order, limit: "7" };
        if (cursor !== null) parameters["cursor"] = cursor;
        const page = await get(collector.url, `/v1/search${query(parameters)}`, SEARCH_TOKEN);
        assert.equal(page.status, 200, page.text);
        seen.push(...events(page));
        cursor = page.json["cursor"] as string | null;
        pages++;
      } while (cursor !== null);
      const expected = whole.filter((event) => (q === "" ? true : q === "INFO" ? event.message.startsWith("INFO") : / line \d*7$/.test(event.message)));
      if (order === "asc") expected.reverse();
      assert.deepEqual(seen.map((event) => event.id), expected.map((event) => event.id), `${order} ${JSON.stringify(q)}`);
      assert.ok(pages >= Math.ceil(expected.length / 7));
    }
  }
  assert.equal(new Set(whole.map((event) => event.id)).size, 300);
  const wrongOrder = await get(collector.url, `/v1/search${query({ order: "asc", cursor: (await get(collector.url, "/v1/search?limit=1", SEARCH_TOKEN)).json["cursor"] as string })}`, SEARCH_TOKEN);
  assert.deepEqual([wrongOrder.status, wrongOrder.json["code"]], [400, "LOGSHIP_INDEX_CURSOR"]);
});

test("GET /v1/search and /v1/histogram refuse what they cannot answer: a query that does not parse (with its column), bad parameters, a foreign cursor", async (t) => {
  const collector = await indexedCollector(t);
  const broken = await get(collector.url, `/v1/search${query({ q: "level:error AND (timeout" })}`, SEARCH_TOKEN);
  assert.deepEqual(broken.json, { error: "invalid query at column 17: unclosed (: it needs a )", code: "LOGSHIP_QUERY", column: 17 });
  assert.equal(broken.status, 400);
  const histogram = await get(collector.url, `/v1/histogram${query({ q: "host:" })}`, SEARCH_TOKEN);
  assert.deepEqual([histogram.status, histogram.json["code"], histogram.json["column"]], [400, "LOGSHIP_QUERY", 6]);

  const refusals: [string, string, RegExp][] = [
    ["/v1/search?limit=0", "LOGSHIP_SEARCH_REQUEST", /^limit: expected a whole number from 1 to 10000; got "0"$/],
    ["/v1/search?limit=10001", "LOGSHIP_SEARCH_REQUEST", /^limit: /],
    ["/v1/search?order=sideways", "LOGSHIP_SEARCH_REQUEST", /^order: expected desc \(newest first\) or asc; got "sideways"$/],
    ["/v1/search?since=yesterday", "LOGSHIP_SEARCH_REQUEST", /^since: expected an RFC 3339 time/],
    ["/v1/search?until=15", "LOGSHIP_SEARCH_REQUEST", /^until: expected /],
    ["/v1/search?since=1h&until=2h", "LOGSHIP_SEARCH_REQUEST", /^since is after until$/],
    ["/v1/search?size=10", "LOGSHIP_SEARCH_REQUEST", /^unknown parameter "size" \(expected q, since, until, limit, order, cursor, tenant\)$/],
    ["/v1/search?q=a&q=b", "LOGSHIP_SEARCH_REQUEST", /^parameter q is given more than once$/],
    ["/v1/search?cursor=bm90LWEtY3Vyc29y", "LOGSHIP_INDEX_CURSOR", /not one this index made/],
    ["/v1/histogram?since=2h&until=3h", "LOGSHIP_SEARCH_REQUEST", /^a histogram needs since before until$/],
    ["/v1/histogram?limit=5", "LOGSHIP_SEARCH_REQUEST", /^unknown parameter "limit"/],
  ];
  for (const [path, code, message] of refusals) {
    const answer = await get(collector.url, path, SEARCH_TOKEN);
    assert.deepEqual([answer.status, answer.json["code"]], [400, code], `${path}: ${answer.text}`);
    assert.match(String(answer.json["error"]), message, path);
  }
  const badTenant = await get(collector.url, "/v1/search?tenant=..%2Fx", PAYMENTS_TOKEN);
  assert.deepEqual([badTenant.status, badTenant.json["code"]], [400, "LOGSHIP_INDEX_TENANT"]);
});

test("GET /v1/histogram: counts per bucket equal the events per bucket, in SQL and through the evaluator; every bucket of the range is there", async (t) => {
  const collector = await indexedCollector(t);
  const range = { since: "2026-11-29T10:00:00Z", until: "2026-11-29T11:00:00Z" };
  const cases: [string, number][] = [
    ["", 100],
    ["ERROR", 10],
    ["INFO AND -line:x", 90],
    // A regex: counted by the evaluator.
    ["/line \\d*5$/", 10],
  ];
  for (const [q, perBatch] of cases) {
    const answer = await get(collector.url, `/v1/histogram${query({ ...range, q })}`, SEARCH_TOKEN);
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.json["bucket_ms"], MINUTE_MS, "an hour in minutes");
    assert.equal(answer.json["complete"], true);
    const buckets = answer.json["buckets"] as { time: string; count: number }[];
    assert.equal(buckets.length, 60);
    assert.deepEqual(buckets.slice(0, 4), [
      { time: "2026-11-29T10:00:00.000Z", count: perBatch },
      { time: "2026-11-29T10:01:00.000Z", count: perBatch },
      { time: "2026-11-29T10:02:00.000Z", count: perBatch },
      { time: "2026-11-29T10:03:00.000Z", count: 0 },
    ], JSON.stringify(q));
    assert.equal(buckets.reduce((sum, bucket) => sum + bucket.count, 0), 3 * perBatch);
  }
  // The payments tenant (admin's own) counts its own 7 events only.
  const payments = await get(collector.url, `/v1/histogram${query(range)}`, PAYMENTS_TOKEN);
  assert.equal((payments.json["buckets"] as { count: number }[]).reduce((sum, bucket) => sum + bucket.count, 0), 7);
  // Without since: the 24 hours before until, in 30-minute buckets.
  const day = await get(collector.url, `/v1/histogram${query({ until: "2026-11-29T12:00:00Z" })}`, SEARCH_TOKEN);
  assert.equal(day.json["bucket_ms"], 30 * MINUTE_MS);
  const dayBuckets = day.json["buckets"] as { time: string; count: number }[];
  assert.equal(dayBuckets.length, 48);
  assert.deepEqual(dayBuckets.filter((bucket) => bucket.count > 0), [{ time: "2026-11-29T10:00:00.000Z", count: 300 }]);
});

test("a collector without an embedded index answers 404 LOGSHIP_SEARCH_UNAVAILABLE; a collector without tokens answers anyone as tenant default", async (t) => {
  const none = await startTestCollector({ dataDir: temporaryDirectory(t), config: { sinks: { search: { type: "none" } } } });
  t.after(() => none.stop());
  const unavailable = await get(none.url, "/v1/search", SEARCH_TOKEN);
  assert.deepEqual([unavailable.status, unavailable.json["code"]], [404, "LOGSHIP_SEARCH_UNAVAILABLE"]);
  // Auth comes first: an ingest token learns nothing about the index.
  assert.equal((await get(none.url, "/v1/histogram", INGEST_TOKEN)).status, 403);

  const open = await startTestCollector({ dataDir: temporaryDirectory(t), config: { tokens: [] } });
  t.after(() => open.stop());
  assert.equal((await postBatch(open.url, makeBatch({ seq: 1, lines: ["hello open collector"], observedMs: FIRST_MS }).body, { authorization: undefined })).status, 200);
  await until(() => searchRunners(open).some((runner) => runner.committedOffset === 1), "the search sink to index the event");
  const anyone = await get(open.url, "/v1/search?q=open", undefined);
  assert.deepEqual(events(anyone).map((event) => event.message), ["hello open collector"]);
});

test("search.backend opensearch with the node unreachable: 503 LOGSHIP_OPENSEARCH_UNREACHABLE with Retry-After and a warning, counted by status; not a 500", async (t) => {
  const defer = cleanups(t);
  const port = await freePort();
  const logged: LoggedLine[] = [];
  const collector = await startTestCollector({
    dataDir: temporaryDirectory(t),
    logger: recordingLogger(logged),
    config: { sinks: { search: { type: "opensearch", url: `http://127.0.0.1:${port}` } }, search: { backend: "opensearch" } },
  });
  defer(() => collector.stop());
  for (const path of ["/v1/search?q=error", `/v1/histogram${query({ q: "error", since: "2026-11-29T00:00:00Z", until: "2026-11-30T00:00:00Z" })}`]) {
    const answer = await get(collector.url, path, SEARCH_TOKEN);
    assert.deepEqual([answer.status, answer.json["code"], answer.headers["retry-after"]], [503, "LOGSHIP_OPENSEARCH_UNREACHABLE", "5"], path);
    assert.match(answer.json["error"] as string, /ECONNREFUSED|refused/, path);
  }
  const warnings = logged.filter((line) => line.message.startsWith("search backend failed"));
  assert.deepEqual(
    warnings.map((line) => [line.level, line.context["code"], line.context["status"]]),
    [
      ["warn", "LOGSHIP_OPENSEARCH_UNREACHABLE", 503],
      ["warn", "LOGSHIP_OPENSEARCH_UNREACHABLE", 503],
    ],
  );
  assert.equal(logged.filter((line) => line.level === "error" && line.message.includes("failed unexpectedly")).length, 0);
  await scrapeUntil(collector.url, "both answers counted as 503", (exposition) =>
    sampleValue(exposition, 'logship_collector_search_responses_total{route="search",status="503"}') === 1 &&
    sampleValue(exposition, 'logship_collector_search_responses_total{route="histogram",status="503"}') === 1,
  );
});

test("search.backend opensearch answering an error: its 429 or 503 is 503 with Retry-After, anything else 502, each with OpenSearch's reason", async (t) => {
  // Stands in for a node's answers to _search only (the real node's 503 is opensearch-context-facets.itest.ts); anything else the sink asks gets {}.
  const answers: [number, string][] = [
    [429, JSON.stringify({ error: { type: "rejected_execution_exception", reason: "search queue full" }, status: 429 })],
    [500, JSON.stringify({ error: { type: "illegal_state_exception", reason: "node broke" }, status: 500 })],
    [400, JSON.stringify({ error: { type: "search_phase_execution_exception", reason: "too_many_clauses" }, status: 400 })],
  ];
  const defer = cleanups(t);
  const node = createServer((incoming, response) => {
    const answer = (incoming.url ?? "").includes("/_search") ? answers.shift() : undefined;
    response.writeHead(answer?.[0] ?? 200, { "content-type": "application/json" }).end(answer?.[1] ?? "{}");
  });
  await new Promise<void>((resolve) => node.listen(0, "127.0.0.1", resolve));
  defer(() => new Promise((resolve) => node.close(resolve)));
  const collector = await startTestCollector({
    dataDir: temporaryDirectory(t),
    config: { sinks: { search: { type: "opensearch", url: `http://127.0.0.1:${(node.address() as AddressInfo).port}` } }, search: { backend: "opensearch" } },
  });
  defer(() => collector.stop());
  const seen: unknown[][] = [];
  for (let index = 0; index < 3; index++) {
    const answer = await get(collector.url, "/v1/search?q=error", SEARCH_TOKEN);
    seen.push([answer.status, answer.json["code"], answer.headers["retry-after"], /queue full|node broke|too_many_clauses/.exec(answer.json["error"] as string)?.[0]]);
  }
  assert.deepEqual(seen, [
    [503, "LOGSHIP_OPENSEARCH_RESPONSE", "5", "queue full"],
    [502, "LOGSHIP_OPENSEARCH_RESPONSE", undefined, "node broke"],
    [502, "LOGSHIP_OPENSEARCH_RESPONSE", undefined, "too_many_clauses"],
  ]);
});
