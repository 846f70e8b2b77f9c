/**
 * Acceptance (issue 10, the live tail from OpenSearch): two collectors'
 * opensearch sinks write into one real OpenSearch node, and two
 * collectors' search routes with `search.backend: opensearch` serve
 * `GET /v1/tail` from it:
 * - a tail opened before the writes gets exactly the matching events of
 *   both collectors, each once, in position order (and another tenant's
 *   never); the same events as the embedded tail gives for the same writes;
 * - a client that disconnects mid-stream and reconnects with its
 *   Last-Event-ID — to the other collector — misses nothing and gets
 *   nothing twice, also with writes while it was away;
 * - an index made by the version 2 template (before indexed_at) takes the
 *   new sink's documents; its old documents never show in a tail;
 * - a position the tail did not make is 400 before the stream opens.
 *
 * "Everything was read" is seen on the stream itself: the positions the
 * tail hands out (events and heartbeats) are indexed_at stamps, so once one
 * is past the moment the last write was sent, every document stamped before
 * it has been read.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { request } from "undici";
import type { Event } from "../../shared/event.ts";
import { silentLogger } from "../../shared/logger.ts";
import type { OpenSearchClient } from "../../collector/opensearch/client.ts";
import { indexMappings, indexTemplateName } from "../../collector/opensearch/documents.ts";
import { IndexNames } from "../../collector/opensearch/index-name.ts";
import { TokenTable } from "../../collector/ingest/auth.ts";
import { OpenSearchBackend } from "../../collector/search/opensearch/backend.ts";
import { searchRoutes } from "../../collector/search/routes.ts";
import { lineEvent, openTail, startRouteServer, temporaryDirectory, TOKENS, type TailClient } from "../../collector/testing/search-routes.ts";
import { OpenSearchSink } from "../../collector/sinks/opensearch/sink.ts";
import type { SinkEvent } from "../../collector/sinks/types.ts";
import { startOpenSearch, stopOpenSearch } from "../engines/opensearch.ts";
import { deleteIndices, deleteTestTemplates, testClient } from "../helpers/opensearch-index.ts";

const TEMPLATE = "itest-tail-{tenant}-%Y.%m.%d";
/** Generous for a loaded 2-core machine: a document is searchable within this long of its stamp (bulk + 1 s refresh). */
const SETTLE_MS = 5000;
const TAIL = { pollIntervalMs: 100, settleMs: SETTLE_MS };
const HEARTBEAT = { heartbeatMs: 50 };

let url = "";
let client: OpenSearchClient;
const closers: (() => Promise<void>)[] = [];

before(async () => {
  url = startOpenSearch().url;
  client = testClient(url);
  await deleteTestTemplates(client);
  await deleteIndices(client, "itest-tail-*");
});

after(async () => {
  for (const close of closers.reverse()) await close();
  await client.close();
  stopOpenSearch();
});

/** A collector's opensearch sink (its own client), closed after the tests. */
function collectorSink(): OpenSearchSink {
  const sink = new OpenSearchSink({ client: testClient(url), names: new IndexNames(TEMPLATE), gzip: true, bulkBytesMax: 1 << 20, bulkEventsMax: 100, template: {}, tailSettleMs: SETTLE_MS, logger: silentLogger });
  closers.push(() => sink.close());
  return sink;
}

/** A collector's search routes with the OpenSearch backend and no embedded index (tokens of tenants a and b). */
async function collectorRoutes(): Promise<string> {
  const tokens = new TokenTable([
    { token: TOKENS.a, tenant: "a", role: "search" },
    { token: TOKENS.b, tenant: "b", role: "search" },
  ]);
  const backendClient = testClient(url);
  const routes = searchRoutes({ tokens, index: undefined, backend: new OpenSearchBackend({ client: backendClient, names: new IndexNames(TEMPLATE), tail: TAIL }), logger: silentLogger, tail: HEARTBEAT });
  const server: Server = createServer((incoming, response) => {
    if (!routes(incoming, response, (incoming.url ?? "/").split("?", 1)[0] ?? "/")) response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  closers.push(async () => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeAllConnections();
    await closed;
    await backendClient.close();
  });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** `count` lines of one collector's file (stream key `stream`, 16 characters) from `first`, ERROR every third. */
function lines(stream: string, first: number, count: number, tenant = "a"): SinkEvent[] {
  return Array.from({ length: count }, (_, index) => {
    const line = first + index;
    return { ...lineEvent({ stream, line, time: "2026-11-29T10:00:00.000Z", message: `${line % 3 === 0 ? "ERROR" : "INFO"} ${stream} line ${line}` }), tenant };
  });
}

async function send(sink: OpenSearchSink, events: SinkEvent[]): Promise<void> {
  assert.deepEqual(await sink.send(events, new AbortController().signal), { kind: "delivered" });
}

/** The indexed_at part of a tail position. */
function stampOf(position: string): number {
  return Number(/^\d+/.exec(position)?.[0]);
}

/** Waits until the stream handed out a position past `ms` (every document stamped before it has been read). */
async function passed(tail: TailClient, ms: number, what: string): Promise<void> {
  await tail.until(() => tail.received.some((message) => stampOf(message.lastEventId) > ms), `${what}: a position past ${ms}`, 60_000);
}

function byId(events: readonly Event[]): Event[] {
  return [...events].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function withoutTenant(events: readonly SinkEvent[]): Event[] {
  return events.map(({ tenant: _tenant, ...event }) => event);
}

const isError = (event: Event): boolean => event.message.startsWith("ERROR");

test("a tail shows exactly the matching events both collectors wrote, each once, in position order; the embedded tail shows the same events", async (t) => {
  const [sinkA, sinkB] = [collectorSink(), collectorSink()];
  const routesA = await collectorRoutes();
  const routesB = await collectorRoutes();
  const errors = await openTail(routesA, `/v1/tail?${new URLSearchParams({ q: "ERROR" })}`, TOKENS.a);
  const everything = await openTail(routesB, "/v1/tail", TOKENS.a);
  const ofB = await openTail(routesA, "/v1/tail", TOKENS.b);
  t.after(() => [errors, everything, ofB].forEach((tail) => tail.close()));
  for (const tail of [errors, everything, ofB]) {
    assert.equal(tail.status, 200);
    assert.equal(tail.headers["content-type"], "text/event-stream; charset=utf-8");
    await tail.until(() => tail.received.length > 0, "the start position");
  }
  assert.match(errors.text(), /^retry: 1000\nid: \d+\n\n/, "an id-only message first: where the stream starts");

  const written: SinkEvent[] = [];
  for (let round = 0; round < 4; round++) {
    const fromA = lines("streamCOLLECTORA", round * 150, 150);
    const fromB = lines("streamCOLLECTORB", round * 150, 150);
    await Promise.all([send(sinkA, fromA), send(sinkB, fromB)]);
    written.push(...fromA, ...fromB);
  }
  const ofTenantB = lines("streamCOLLECTORA", 0, 30, "b");
  await send(sinkB, ofTenantB);
  const sentMs = Date.now();
  for (const tail of [errors, everything, ofB]) await passed(tail, sentMs, "the writes");

  const expected = withoutTenant(written);
  assert.equal(everything.events().length, expected.length, "each event once");
  assert.deepEqual(byId(everything.events().map(({ event }) => event)), byId(expected), "every event of both collectors, in the DESIGN.md shape");
  assert.deepEqual(byId(errors.events().map(({ event }) => event)), byId(expected.filter(isError)), "only the matches");
  assert.deepEqual(byId(ofB.events().map(({ event }) => event)), byId(withoutTenant(ofTenantB)), "a tenant sees only its own");
  for (const tail of [errors, everything]) {
    const stamps = tail.events().map(({ id }) => id);
    assert.equal(new Set(stamps).size, stamps.length, "no position twice");
    const ordered = [...stamps].sort((a, b) => stampOf(a) - stampOf(b) || (decodeURIComponent(a.replace(/^\d+-/, "")) < decodeURIComponent(b.replace(/^\d+-/, "")) ? -1 : 1));
    assert.deepEqual(stamps, ordered, "positions rise: (indexed_at, id)");
  }
  for (const { id, event } of errors.events().slice(0, 5)) {
    assert.equal(id, `${stampOf(id)}-${event.id}`, "a position is the stamp and the event id");
    assert.ok(errors.text().includes(`\nid: ${id}\ndata: ${JSON.stringify(event)}\n\n`), "one message per event: id line, data line, blank line");
  }
  assert.ok(errors.text().includes(": ping\n"), "heartbeats");

  // The embedded tail over the same writes: the same events.
  const embedded = await startRouteServer(temporaryDirectory(t), silentLogger, HEARTBEAT);
  t.after(() => embedded.close());
  const embeddedErrors = await openTail(embedded.url, `/v1/tail?${new URLSearchParams({ q: "ERROR" })}`, TOKENS.a);
  t.after(() => embeddedErrors.close());
  await embeddedErrors.until(() => embeddedErrors.received.length > 0, "the embedded tail's start");
  for (let round = 0; round < 4; round++) {
    await embedded.index.write("a", written.slice(round * 300, round * 300 + 300));
  }
  await embeddedErrors.until(() => embeddedErrors.events().length === errors.events().length, "the embedded tail's events");
  assert.deepEqual(byId(embeddedErrors.events().map(({ event }) => event)), byId(errors.events().map(({ event }) => event)), "the same events from both backends");
});

test("a client that reconnects with its Last-Event-ID, to another collector, misses nothing and gets nothing twice, with writes while it was away", async (t) => {
  const [sinkA, sinkB] = [collectorSink(), collectorSink()];
  const routesA = await collectorRoutes();
  const routesB = await collectorRoutes();
  const query = new URLSearchParams({ q: "ERROR" });
  const first = await openTail(routesA, `/v1/tail?${query}`, TOKENS.a);
  t.after(() => first.close());
  await first.until(() => first.received.length > 0, "the start position");
  const before = [...lines("streamRECONNECTA", 0, 300), ...lines("streamRECONNECTB", 0, 300)];
  await Promise.all([send(sinkA, before.slice(0, 300)), send(sinkB, before.slice(300))]);
  // Mid-stream: some events in, then the client goes away.
  await first.until(() => first.events().length >= 20, "some events", 60_000);
  first.close();
  await first.until(() => first.ended(), "the first stream to end");
  const lastId = first.received.at(-1)?.lastEventId ?? "";
  const during = [...lines("streamRECONNECTA", 300, 300), ...lines("streamRECONNECTB", 300, 300)];
  await Promise.all([send(sinkA, during.slice(0, 300)), send(sinkB, during.slice(300))]);

  const second = await openTail(routesB, `/v1/tail?${query}`, TOKENS.a, { "last-event-id": lastId });
  t.after(() => second.close());
  assert.equal(second.status, 200);
  const afterward = [...lines("streamRECONNECTA", 600, 150), ...lines("streamRECONNECTB", 600, 150)];
  await Promise.all([send(sinkA, afterward.slice(0, 150)), send(sinkB, afterward.slice(150))]);
  await passed(second, Date.now(), "the writes");

  const matching = withoutTenant([...before, ...during, ...afterward]).filter(isError);
  const received = [...first.events(), ...second.events()];
  assert.ok(first.events().length < matching.length, "the first stream ended mid-way");
  assert.equal(second.received[0]?.lastEventId, lastId, "the resumed stream starts where the client was");
  assert.equal(new Set(received.map(({ event }) => event.id)).size, received.length, "nothing twice");
  assert.deepEqual(byId(received.map(({ event }) => event)), byId(matching), "nothing missed");
});

test("an index of the version 2 template takes the version 3 sink's documents; its earlier documents (no indexed_at) never show in a tail", async (t) => {
  const index = "itest-tail-a-2026.11.28";
  // Made as the version 2 template made it: without this version's template in the way.
  await client.expect("DELETE", `/_index_template/${indexTemplateName(new IndexNames(TEMPLATE).allPattern())}`, { accepted: [404] });
  const { indexed_at: _stamp, ...properties } = indexMappings().properties as Record<string, unknown>;
  await client.expect("PUT", `/${index}`, { body: { mappings: { ...indexMappings(), _meta: { logship_mapping_version: 2 }, properties } } });
  const old = lineEvent({ stream: "streamVERSIONTWO", line: 1, time: "2026-11-28T10:00:00.000Z", message: "ERROR from before the upgrade" });
  await client.expect("PUT", `/${index}/_doc/${old.id}?refresh=true`, { body: { ...old, tenant: "a", message_tokens: "error from before the upgrade" } });

  const routes = await collectorRoutes();
  const tail = await openTail(routes, "/v1/tail?last_event_id=0", TOKENS.a);
  t.after(() => tail.close());
  const upgraded = lines("streamVERSIONTWO", 2, 10).map((event) => ({ ...event, time: "2026-11-28T11:00:00.000Z" }));
  await send(collectorSink(), upgraded);
  const mapping = (await client.expect("GET", `/${index}/_mapping`)).body as Record<string, { mappings: { _meta: unknown; properties: Record<string, unknown> } }>;
  assert.deepEqual(mapping[index]?.mappings._meta, { logship_mapping_version: 3 });
  assert.ok(mapping[index]?.mappings.properties["indexed_at"] !== undefined, "indexed_at added to the existing index");
  await passed(tail, Date.now(), "the writes");
  const shown = tail.events().map(({ event }) => event).filter((event) => event.id.startsWith("streamVERSIONTWO"));
  assert.deepEqual(byId(shown), byId(withoutTenant(upgraded)), "the new documents, not the one without indexed_at");
});

test("a position the OpenSearch tail did not make is 400 LOGSHIP_SEARCH_REQUEST before the stream opens", async () => {
  const routes = await collectorRoutes();
  for (const [headers, path, message] of [
    [{ "last-event-id": "yesterday" }, "/v1/tail", /^Last-Event-ID: expected a position the tail sent/],
    [{}, "/v1/tail?last_event_id=5-%25zz", /^last_event_id: expected a position the tail sent/],
  ] as const) {
    const response = await request(`${routes}${path}`, { headers: { ...headers, authorization: `Bearer ${TOKENS.a}` } });
    const body = (await response.body.json()) as Record<string, unknown>;
    assert.deepEqual([response.statusCode, body["code"]], [400, "LOGSHIP_SEARCH_REQUEST"]);
    assert.match(String(body["error"]), message);
  }
});
