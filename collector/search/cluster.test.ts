import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request } from "undici";
import type { Event } from "../../shared/event.ts";
import { freePort } from "../../test/helpers/processes.ts";
import type { RunningCollector } from "../main.ts";
import { SinkFanout } from "../sinks/fanout.ts";
import { makeBatch, numberedLines } from "../testing/batches.ts";
import { INGEST_TOKEN, PAYMENTS_TOKEN, SEARCH_TOKEN, postBatch, startTestCollector, until } from "../testing/collector.ts";

const T0_MS = Date.parse("2026-11-29T10:00:00Z");
const MINUTE_MS = 60_000;
const HOUR = { since: "2026-11-29T10:00:00Z", until: "2026-11-29T11:00:00Z" };

type Context = { after: (fn: () => unknown) => void };

function temporaryDirectory(t: Context): string {
  const directory = mkdtempSync(join(tmpdir(), "logship-cluster-"));
  t.after(() => rmSync(directory, { recursive: true, force: true }));
  return directory;
}

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: Record<string, unknown>;
}

async function get(url: string, path: string, token: string, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await request(`${url}${path}`, { headers: { ...headers, authorization: `Bearer ${token}` } });
  const text = await response.body.text();
  const json = (response.headers["content-type"] === "application/json" ? JSON.parse(text) : {}) as Record<string, unknown>;
  return { status: response.statusCode, headers: response.headers, text, json };
}

function query(parameters: Record<string, string>): string {
  return `?${new URLSearchParams(parameters)}`;
}

function events(answer: Answer): Event[] {
  return answer.json["events"] as Event[];
}

/** Collectors on ports chosen first, so that each config can list the others; `peersOf(urls, index)` says whom collector `index` lists. */
async function startCollectors(t: Context, count: number, peersOf: (urls: string[], index: number) => string[], config: (index: number) => Record<string, unknown> = () => ({})): Promise<RunningCollector[]> {
  const ports = await Promise.all(Array.from({ length: count }, () => freePort()));
  const urls = ports.map((port) => `http://127.0.0.1:${port}`);
  const collectors: RunningCollector[] = [];
  for (const [index, port] of ports.entries()) {
    const collector = await startTestCollector({ dataDir: temporaryDirectory(t), config: { listen: `127.0.0.1:${port}`, peers: peersOf(urls, index), ...config(index) } });
    t.after(() => collector.stop());
    collectors.push(collector);
  }
  return collectors;
}

async function post(collector: RunningCollector, options: Parameters<typeof makeBatch>[0], token = INGEST_TOKEN): Promise<void> {
  assert.equal((await postBatch(collector.url, makeBatch(options).body, { authorization: `Bearer ${token}` })).status, 200);
}

async function indexed(collector: RunningCollector, events: number): Promise<void> {
  await until(() => {
    assert.ok(collector.sinks instanceof SinkFanout);
    const runners = collector.sinks.status().filter((runner) => runner.sink === "search");
    return runners.reduce((sum, runner) => sum + runner.committedOffset, 0) === events && runners.every((runner) => runner.lagEvents === 0);
  }, `the search sink to index ${events} events`);
}

/**
 * Three collectors, each listing all three (itself too, as a config shared
 * by every collector would): alpha (50 events at 10:00) on the first, beta
 * (40 at 10:01) on the second, gamma (30 at 10:00, tying alpha's times) on
 * the third, and the same batch of 20 shared events (10:02) stored on the
 * first and the second; 7 payments events on the second.
 */
async function threeNodeCluster(t: Context): Promise<RunningCollector[]> {
  const collectors = await startCollectors(t, 3, (urls) => urls);
  const [first, second, third] = collectors as [RunningCollector, RunningCollector, RunningCollector];
  await post(first, { seq: 1, lines: numberedLines("alpha", 0, 50), streamKey: "a".repeat(22), observedMs: T0_MS });
  await post(second, { seq: 1, lines: numberedLines("beta", 0, 40), streamKey: "b".repeat(22), observedMs: T0_MS + MINUTE_MS });
  await post(third, { seq: 1, lines: numberedLines("gamma", 0, 30), streamKey: "c".repeat(22), observedMs: T0_MS });
  const shared = { agent: "agent-shared", seq: 1, lines: numberedLines("shared", 0, 20), streamKey: "s".repeat(22), observedMs: T0_MS + 2 * MINUTE_MS };
  await post(first, shared);
  await post(second, shared);
  await post(second, { seq: 1, lines: numberedLines("payments", 0, 7), streamKey: "p".repeat(22), observedMs: T0_MS }, PAYMENTS_TOKEN);
  await Promise.all([indexed(first, 70), indexed(second, 67), indexed(third, 30)]);
  return collectors;
}

const UNION = [...numberedLines("alpha", 0, 50), ...numberedLines("beta", 0, 40), ...numberedLines("gamma", 0, 30), ...numberedLines("shared", 0, 20)];

/** Every page of a search on `url` with `limit` per page. */
async function pageThrough(url: string, parameters: Record<string, string>, limit: number): Promise<Event[]> {
  const seen: Event[] = [];
  let cursor: string | null = null;
  do {
    const page = await get(url, `/v1/search${query({ ...parameters, limit: String(limit), ...(cursor === null ? {} : { cursor }) })}`, SEARCH_TOKEN);
    assert.equal(page.status, 200, page.text);
    assert.equal(page.json["partial"], false);
    seen.push(...events(page));
    cursor = page.json["cursor"] as string | null;
  } while (cursor !== null);
  return seen;
}

test("a collector with peers searches the cluster: the union once (an event stored twice, too), pages without gaps or repeats in both orders, tenancy per peer, its own index alone with Logship-Scope: local", async (t) => {
  const collectors = await threeNodeCluster(t);
  for (const collector of collectors) {
    const whole = await get(collector.url, "/v1/search?limit=1000", SEARCH_TOKEN);
    assert.equal(whole.status, 200, whole.text);
    assert.deepEqual([whole.json["partial"], whole.json["cursor"], whole.json["peers_failed"]], [false, null, undefined]);
    assert.deepEqual(events(whole).map((event) => event.message).sort(), [...UNION].sort(), `asked of ${collector.url}`);
  }
  const [first, second, third] = collectors as [RunningCollector, RunningCollector, RunningCollector];
  const newestFirst = events(await get(third.url, "/v1/search?limit=1000", SEARCH_TOKEN));
  for (let index = 1; index < newestFirst.length; index++) {
    const [before, after] = [newestFirst[index - 1] as Event, newestFirst[index] as Event];
    assert.ok(before.time > after.time || (before.time === after.time && before.id > after.id), "newest first, by (time, id)");
  }
  for (const order of ["desc", "asc"] as const) {
    for (const [q, matches] of [["", () => true], ["shared OR gamma", (message: string) => /^(shared|gamma) /.test(message)], ["/^(alpha|beta) \\d*7$/", (message: string) => /^(alpha|beta) \d*7$/.test(message)]] as const) {
      const expected = newestFirst.filter((event) => matches(event.message)).map((event) => event.id);
      if (order === "asc") expected.reverse();
      const paged = await pageThrough(second.url, { q, order }, 7);
      assert.deepEqual(paged.map((event) => event.id), expected, `${order} ${JSON.stringify(q)}`);
    }
  }
  // Each peer checks the token itself: the payments tenant (an admin token's own) lives on the second collector only.
  const payments = await get(first.url, "/v1/search?limit=100", PAYMENTS_TOKEN);
  assert.deepEqual(events(payments).map((event) => event.message).sort(), numberedLines("payments", 0, 7).sort());
  assert.equal(events(await get(first.url, `/v1/search${query({ q: "payments", limit: "100" })}`, SEARCH_TOKEN)).length, 0);

  // Logship-Scope: local is what a peer is asked: this collector's index alone.
  const local = await get(first.url, "/v1/search?limit=1000", SEARCH_TOKEN, { "logship-scope": "local" });
  assert.deepEqual(events(local).map((event) => event.message).sort(), [...numberedLines("alpha", 0, 50), ...numberedLines("shared", 0, 20)].sort());
  const nodes = new Set(await Promise.all(collectors.map(async (collector) => (await get(collector.url, "/v1/search?limit=1", SEARCH_TOKEN)).headers["logship-node"])));
  assert.equal(nodes.size, 3, "every collector names itself differently");

  // NDJSON: the events alone, the cursor and Logship-Partial in headers.
  const ndjson = await get(second.url, `/v1/search${query({ q: "shared OR beta", limit: "25", order: "asc" })}`, SEARCH_TOKEN, { accept: "application/x-ndjson" });
  const lines = ndjson.text.trimEnd().split("\n").map((line) => JSON.parse(line) as Event);
  assert.ok(lines.every((event) => event.message.startsWith("beta ")), "beta (10:01) comes before shared (10:02)");
  assert.equal(new Set(lines.map((event) => event.id)).size, 25);
  assert.equal(lines.length, 25);
  assert.equal(ndjson.headers["logship-partial"], "false");
  assert.equal(typeof ndjson.headers["logship-cursor"], "string");
});

test("a cluster histogram sums every collector's counts over the same buckets (a collector listed as its own peer counts once)", async (t) => {
  const [first] = (await threeNodeCluster(t)) as [RunningCollector];
  const cases: [string, number[]][] = [
    // alpha + gamma at 10:00, beta at 10:01; shared is stored on two collectors and counted on each (docs/SEARCH.md).
    ["-shared", [80, 40, 0, 0]],
    ["alpha OR beta", [50, 40, 0, 0]],
    ["/^gamma \\d*[05]$/", [6, 0, 0, 0]],
    ["shared", [0, 0, 40, 0]],
  ];
  for (const [q, counts] of cases) {
    const answer = await get(first.url, `/v1/histogram${query({ ...HOUR, q })}`, SEARCH_TOKEN);
    assert.equal(answer.status, 200, answer.text);
    assert.deepEqual([answer.json["bucket_ms"], answer.json["complete"], answer.json["partial"]], [MINUTE_MS, true, false]);
    const buckets = answer.json["buckets"] as { time: string; count: number }[];
    assert.equal(buckets.length, 60);
    assert.deepEqual(buckets.slice(0, 4).map((bucket) => bucket.count), counts, JSON.stringify(q));
    assert.deepEqual(buckets[1]?.time, "2026-11-29T10:01:00.000Z");
  }
  // A relative range is made absolute before it is passed on: every node counts the same buckets.
  const relative = await get(first.url, `/v1/histogram${query({ since: "2h", q: "alpha" })}`, SEARCH_TOKEN);
  assert.deepEqual([relative.status, relative.json["partial"]], [200, false], relative.text);
});

/** An HTTP server that accepts requests and never answers them. */
async function silentServer(t: Context): Promise<string> {
  const server: Server = createServer(() => {});
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

test("peers that do not answer in time, cannot be reached or refuse the token are named in peers_failed (partial: true); the answer is exactly the rest", async (t) => {
  const silent = await silentServer(t);
  const closed = `http://127.0.0.1:${await freePort()}`;
  // The second collector knows no search token: it refuses the one passed on.
  const collectors = await startCollectors(
    t,
    2,
    (urls, index) => (index === 0 ? [silent, closed, urls[1] as string] : []),
    (index) => (index === 0 ? { search: { peer_timeout: "300ms" } } : { tokens: [{ token: INGEST_TOKEN, tenant: "default", role: "ingest" }] }),
  );
  const [first, second] = collectors as [RunningCollector, RunningCollector];
  await post(first, { seq: 1, lines: numberedLines("alpha", 0, 12), observedMs: T0_MS });
  await post(second, { seq: 1, lines: numberedLines("beta", 0, 5), observedMs: T0_MS });
  await Promise.all([indexed(first, 12), indexed(second, 5)]);

  const page = await get(first.url, "/v1/search?limit=5", SEARCH_TOKEN);
  assert.equal(page.status, 200, page.text);
  assert.equal(page.json["partial"], true);
  const failed = page.json["peers_failed"] as { peer: string; code: string; reason: string }[];
  assert.deepEqual(failed.map((failure) => [failure.peer, failure.code]), [
    [silent, "LOGSHIP_PEER_TIMEOUT"],
    [closed, "LOGSHIP_PEER_UNREACHABLE"],
    [second.url, "LOGSHIP_PEER_REFUSED"],
  ]);
  assert.equal(failed[0]?.reason, "no answer within 300ms");
  assert.match(failed[1]?.reason ?? "", /^no answer: .*ECONNREFUSED/);
  assert.equal(failed[2]?.reason, "answered 401 LOGSHIP_AUTH_INVALID: unknown token");
  // Paging the rest: exactly the first collector's events, each once.
  const rest: Event[] = [...events(page)];
  let cursor = page.json["cursor"] as string | null;
  while (cursor !== null) {
    const next = await get(first.url, `/v1/search${query({ limit: "5", cursor })}`, SEARCH_TOKEN);
    assert.equal(next.json["partial"], true);
    rest.push(...events(next));
    cursor = next.json["cursor"] as string | null;
  }
  assert.deepEqual(rest.map((event) => event.message).sort(), numberedLines("alpha", 0, 12).sort());

  const ndjson = await get(first.url, "/v1/search?limit=100", SEARCH_TOKEN, { accept: "application/x-ndjson" });
  assert.equal(ndjson.headers["logship-partial"], "true");
  assert.deepEqual(JSON.parse(String(ndjson.headers["logship-peers-failed"])), failed);
  assert.equal(ndjson.text.trimEnd().split("\n").length, 12);

  const histogram = await get(first.url, `/v1/histogram${query(HOUR)}`, SEARCH_TOKEN);
  assert.deepEqual([histogram.json["partial"], (histogram.json["peers_failed"] as { code: string }[]).map((failure) => failure.code)], [true, ["LOGSHIP_PEER_TIMEOUT", "LOGSHIP_PEER_UNREACHABLE", "LOGSHIP_PEER_REFUSED"]]);
  assert.equal((histogram.json["buckets"] as { count: number }[])[0]?.count, 12);
});

test("a cluster search refuses before asking anyone: a cursor no node made, a Logship-Scope it does not know", async (t) => {
  const [first] = (await startCollectors(t, 2, (urls, index) => [urls[1 - index] as string])) as [RunningCollector];
  const cursor = await get(first.url, "/v1/search?cursor=bm90LWEtY3Vyc29y", SEARCH_TOKEN);
  assert.deepEqual([cursor.status, cursor.json["code"]], [400, "LOGSHIP_INDEX_CURSOR"]);
  const scope = await get(first.url, "/v1/search", SEARCH_TOKEN, { "logship-scope": "everywhere" });
  assert.deepEqual([scope.status, scope.json["code"], scope.json["error"]], [400, "LOGSHIP_SEARCH_REQUEST", 'Logship-Scope: expected local (answer from this collector\'s index only); got "everywhere"']);
  const empty = await get(first.url, "/v1/search", SEARCH_TOKEN);
  assert.deepEqual([empty.status, events(empty), empty.json["partial"]], [200, [], false]);
});
