/**
 * Acceptance (issue 10, context and facets from OpenSearch): the same
 * events are written through each backend's own sink into a real
 * OpenSearch node and a temporary embedded index; then
 * - `context` gives the same event and lines before/after from both
 *   backends (the same file only: not a rotated file of the same path,
 *   another host or another path; not another tenant's events);
 * - `facets` gives the same answer from both for queries of the shared
 *   table (exact and not), also when eventsMax or scanRowsMax cut it;
 * - over HTTP, a collector with the OpenSearch backend and no embedded
 *   index answers /v1/context and /v1/facets as one with the embedded
 *   index does;
 * - with a shard of the tenant's indices that cannot answer, every read
 *   fails with OpenSearch's 503 (over HTTP: 503 with Retry-After) instead of
 *   answering from the other indices as if they were all.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request } from "undici";
import type { Event } from "../../shared/event.ts";
import { silentLogger } from "../../shared/logger.ts";
import { FIXTURE_EVENTS } from "../../shared/query/fixture-events.ts";
import { QUERY_TABLE } from "../../shared/query/fixture-queries.ts";
import { parseQuery } from "../../shared/query/index.ts";
import { OpenSearchError, type OpenSearchClient } from "../../collector/opensearch/client.ts";
import { IndexNames } from "../../collector/opensearch/index-name.ts";
import { TokenTable } from "../../collector/ingest/auth.ts";
import type { SearchBackend } from "../../collector/search/backend.ts";
import { EmbeddedBackend } from "../../collector/search/embedded-backend.ts";
import { OpenSearchBackend } from "../../collector/search/opensearch/backend.ts";
import { searchRoutes } from "../../collector/search/routes.ts";
import { SearchIndex } from "../../collector/search/search-index.ts";
import { lineEvent } from "../../collector/testing/search-routes.ts";
import { OpenSearchSink } from "../../collector/sinks/opensearch/sink.ts";
import { SearchSink } from "../../collector/sinks/search/sink.ts";
import { startOpenSearch, stopOpenSearch } from "../engines/opensearch.ts";
import { cleanups } from "../helpers/cleanups.ts";
import { deleteIndices, deleteTestTemplates, testClient } from "../helpers/opensearch-index.ts";

const TEMPLATE = "itest-ctx-{tenant}-%Y.%m.%d";
const TEN_MINUTES_MS = 600_000;
const TOKEN = "token-search-a";
/** Tenant c's indices get one whose shard cannot be allocated on this node. */
const TOKEN_C = "token-search-c";

/** Line n of one file, 10 minutes apart: lines 12 on are on the next day. */
const FILE = Array.from({ length: 20 }, (_, line) => lineEvent({ line, time: new Date(Date.parse("2026-11-29T22:00:00Z") + line * TEN_MINUTES_MS).toISOString(), message: `app line ${line}` }));
/** Same offsets and times as FILE, other files: rotated away from the same path, another host, another path. */
const OTHERS = FILE.flatMap((event, line) => [
  { ...lineEvent({ line, stream: "streamOLDOLDOLDO", time: event.time }), message: `rotated line ${line}` },
  { ...lineEvent({ line, stream: "streamWEB2WEB2WE", host: "web-2", time: event.time }), message: `web-2 line ${line}` },
  { ...lineEvent({ line, stream: "streamOTHEROTHER", path: "/var/log/other.log", time: event.time }), message: `other line ${line}` },
]);
/** Lines of FILE's stream in tenant b: never context for tenant a. */
const TENANT_B = [3, 4, 6].map((line) => ({ ...lineEvent({ line, stream: "streamAAAAAAAAAA", time: "2026-11-29T22:30:00.000Z" }), id: `streamAAAAAAAAAAb${line}`, offset: line * 100 + 1, message: `b line ${line}` }));

let client: OpenSearchClient;
let directory = "";
let index: SearchIndex;
let embedded: SearchBackend;
let opensearch: SearchBackend;

before(async () => {
  const node = startOpenSearch();
  client = testClient(node.url);
  await deleteTestTemplates(client);
  await deleteIndices(client, "itest-ctx-*");
  const events = [
    ...[...FILE, ...OTHERS].map((event) => ({ ...event, tenant: "a" })),
    ...FIXTURE_EVENTS.map((event) => ({ ...event, tenant: "a" })),
    ...TENANT_B.map((event) => ({ ...event, tenant: "b" })),
  ];
  const sink = new OpenSearchSink({ client: testClient(node.url), names: new IndexNames(TEMPLATE), gzip: false, bulkBytesMax: 1 << 20, bulkEventsMax: 1000, template: {}, logger: silentLogger });
  assert.deepEqual(await sink.send(events, new AbortController().signal), { kind: "delivered" });
  await sink.close();
  await client.expect("POST", "/itest-ctx-*/_refresh");
  directory = mkdtempSync(join(tmpdir(), "logship-context-facets-"));
  index = new SearchIndex({ directory });
  assert.deepEqual(await new SearchSink(index).send(events, new AbortController().signal), { kind: "delivered" });
  embedded = new EmbeddedBackend(index);
  opensearch = new OpenSearchBackend({ client, names: new IndexNames(TEMPLATE) });
});

after(async () => {
  await index.close();
  rmSync(directory, { recursive: true, force: true });
  await client.close();
  stopOpenSearch();
});

function messages(events: readonly Event[] | undefined): string[] {
  return (events ?? []).map((event) => event.message);
}

test("context: the same event and lines before and after it in its file from both backends", async () => {
  const cases: [Event, number, number, string[], string[]][] = [
    [FILE[5] as Event, 2, 2, ["app line 3", "app line 4"], ["app line 6", "app line 7"]],
    [FILE[11] as Event, 1, 2, ["app line 10"], ["app line 12", "app line 13"]],
    [FILE[0] as Event, 3, 1, [], ["app line 1"]],
    [FILE[19] as Event, 100, 0, FILE.slice(0, 19).map((event) => event.message), []],
    [FILE[7] as Event, 0, 0, [], []],
    [OTHERS[3] as Event, 1, 1, ["rotated line 0"], ["rotated line 2"]],
    [OTHERS[4] as Event, 1, 1, ["web-2 line 0"], ["web-2 line 2"]],
  ];
  for (const [event, before, after, expectedBefore, expectedAfter] of cases) {
    const request = { tenant: "a", id: event.id, before, after };
    const fromEmbedded = await embedded.context?.(request);
    const fromOpenSearch = await opensearch.context?.(request);
    assert.deepEqual(fromOpenSearch, fromEmbedded, `${event.message} -B ${before} -A ${after}`);
    assert.deepEqual(fromOpenSearch?.event, event);
    assert.deepEqual([messages(fromOpenSearch?.before), messages(fromOpenSearch?.after)], [expectedBefore, expectedAfter], `${event.message} -B ${before} -A ${after}`);
  }
  for (const backend of [embedded, opensearch]) {
    assert.equal(await backend.context?.({ tenant: "b", id: (FILE[5] as Event).id, before: 1, after: 1 }), undefined, `${backend.kind}: another tenant's event`);
    assert.equal(await backend.context?.({ tenant: "a", id: "no-such-id", before: 1, after: 1 }), undefined, `${backend.kind}: an unknown id`);
  }
});

test("facets: the same answer from both backends for the table's queries, whole and cut by eventsMax and scanRowsMax", async () => {
  const queries = ["", ...QUERY_TABLE.map(([text]) => text)];
  for (const text of queries) {
    const request = { tenant: "a", query: parseQuery(text) };
    assert.deepEqual(await opensearch.facets?.(request), await embedded.facets?.(request), `q=${text}`);
  }
  const cut = [
    { query: parseQuery(""), eventsMax: 5 },
    { query: parseQuery("level:error OR level:info"), eventsMax: 2 },
    { query: parseQuery("app"), scanRowsMax: 7 },
    { query: parseQuery("line"), sinceMs: Date.parse("2026-11-29T23:00:00Z"), untilMs: Date.parse("2026-11-30T01:00:00Z") },
  ];
  for (const request of cut) {
    const fromOpenSearch = await opensearch.facets?.({ tenant: "a", ...request });
    assert.deepEqual(fromOpenSearch, await embedded.facets?.({ tenant: "a", ...request }), JSON.stringify(request));
  }
  assert.deepEqual((await opensearch.facets?.({ tenant: "a", query: parseQuery(""), eventsMax: 5 }))?.complete, false);
});

/** A server with the search routes over `backend` (and no embedded index), tenant a. */
async function routeServer(options: { backend?: SearchBackend; index?: SearchIndex }): Promise<{ url: string; close(): Promise<void> }> {
  const tokens = new TokenTable([
    { token: TOKEN, tenant: "a", role: "search" },
    { token: TOKEN_C, tenant: "c", role: "search" },
  ]);
  const routes = searchRoutes({ tokens, index: options.index, ...(options.backend === undefined ? {} : { backend: options.backend }), logger: silentLogger });
  const server: Server = createServer((incoming, response) => {
    if (!routes(incoming, response, (incoming.url ?? "/").split("?", 1)[0] ?? "/")) response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function getJson(url: string, token = TOKEN): Promise<{ status: number; body: Record<string, unknown>; retryAfter: unknown }> {
  const response = await request(url, { headers: { authorization: `Bearer ${token}` } });
  return { status: response.statusCode, body: (await response.body.json()) as Record<string, unknown>, retryAfter: response.headers["retry-after"] };
}

test("over HTTP: a collector with the OpenSearch backend and no embedded index answers /v1/context and /v1/facets as the embedded index does", async () => {
  const withOpenSearch = await routeServer({ backend: opensearch });
  const withEmbedded = await routeServer({ index });
  try {
    const paths = [
      `/v1/context?${new URLSearchParams({ id: (FILE[11] as Event).id, before: "2", after: "2" })}`,
      `/v1/facets?${new URLSearchParams({ q: "level:error", since: "2026-11-28T00:00:00Z", until: "2026-12-01T00:00:00Z" })}`,
      `/v1/facets?${new URLSearchParams({ q: "fields.service:web", since: "2026-11-28T00:00:00Z", until: "2026-12-01T00:00:00Z" })}`,
    ];
    for (const path of paths) {
      const answer = await getJson(`${withOpenSearch.url}${path}`);
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.deepEqual(answer.body, (await getJson(`${withEmbedded.url}${path}`)).body, path);
    }
    const missing = await getJson(`${withOpenSearch.url}/v1/context?id=no-such-id`);
    assert.deepEqual([missing.status, missing.body["code"]], [404, "LOGSHIP_EVENT_NOT_FOUND"]);
  } finally {
    await withOpenSearch.close();
    await withEmbedded.close();
  }
});

test("a shard that cannot answer (an index created on no node): search, histogram, facets, context and a tail poll fail with 503 rather than answer from the other indices", async (t) => {
  const healthy = FILE.slice(0, 5).map((event) => ({ ...event, tenant: "c" }));
  const sink = new OpenSearchSink({ client: testClient(client.url), names: new IndexNames(TEMPLATE), gzip: false, bulkBytesMax: 1 << 20, bulkEventsMax: 1000, template: {}, logger: silentLogger });
  assert.deepEqual(await sink.send(healthy, new AbortController().signal), { kind: "delivered" });
  await sink.close();
  await client.expect("POST", "/itest-ctx-c-*/_refresh");
  // The index of the next day, required on a node that does not exist: its primary stays unassigned.
  const defer = cleanups(t);
  const red = "itest-ctx-c-2026.11.30";
  await client.expect("PUT", `/${red}?wait_for_active_shards=0`, { body: { settings: { number_of_shards: 1, number_of_replicas: 0, "index.routing.allocation.require._name": "no-such-node" } } });
  defer(() => deleteIndices(client, red));
  // What a search that allows partial results gets: a 200 with the healthy index's documents, one shard short of the total and none counted as failed.
  const partial = await client.expect("POST", "/itest-ctx-c-*/_search?ignore_unavailable=true&allow_no_indices=true", { body: { size: 100, query: { term: { tenant: "c" } } } });
  const partialBody = partial.body as { _shards: { total: number; successful: number }; hits: { hits: unknown[] } };
  assert.deepEqual([partialBody._shards.total, partialBody._shards.successful], [2, 1], JSON.stringify(partialBody._shards));
  assert.equal(partialBody.hits.hits.length, healthy.length);

  const withOpenSearch = await routeServer({ backend: opensearch });
  defer(() => withOpenSearch.close());
  const range = { since: "2026-11-28T00:00:00Z", until: "2026-12-01T00:00:00Z" };
  const paths = [
    `/v1/search?${new URLSearchParams({ q: "app", ...range })}`,
    `/v1/histogram?${new URLSearchParams({ q: "", ...range })}`,
    `/v1/histogram?${new URLSearchParams({ q: "line 3", ...range })}`,
    `/v1/facets?${new URLSearchParams({ q: "", ...range })}`,
    `/v1/context?${new URLSearchParams({ id: (healthy[2] as Event).id })}`,
  ];
  for (const path of paths) {
    const answer = await getJson(`${withOpenSearch.url}${path}`, TOKEN_C);
    assert.deepEqual([answer.status, answer.body["code"], answer.retryAfter], [503, "LOGSHIP_OPENSEARCH_RESPONSE", "5"], `${path}: ${JSON.stringify(answer.body)}`);
  }
  // The tail would move its position past documents it never saw: its poll fails instead, and the stream ends for the client to resume.
  const tailing = new OpenSearchBackend({ client, names: new IndexNames(TEMPLATE), tail: { pollIntervalMs: 0, settleMs: 0 } });
  const source = await tailing.tail({ tenant: "c", query: parseQuery("") });
  await assert.rejects(source.next(new AbortController().signal), (error: unknown) => error instanceof OpenSearchError && error.status === 503);

  await deleteIndices(client, red);
  const whole = await getJson(`${withOpenSearch.url}/v1/search?${new URLSearchParams({ q: "app", ...range })}`, TOKEN_C);
  assert.equal(whole.status, 200);
  assert.equal((whole.body["events"] as Event[]).length, healthy.length);
});
