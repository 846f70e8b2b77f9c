/**
 * Acceptance (issue 10): the shared query table (shared/query/fixture-queries.ts)
 * gives identical results on the embedded index and on OpenSearch. The
 * fixture events are written through each backend's own sink into a real
 * OpenSearch node and a temporary embedded index; then for every query of
 * the table, and for random AND/OR/NOT combinations of them:
 * - both backends return exactly the evaluator's ids, in the same order,
 *   page by page with cursors;
 * - OpenSearch's translation alone (before the evaluator) never selects
 *   fewer, and selects exactly those where it claims to be exact;
 * - histograms agree bucket for bucket.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { silentLogger } from "../../shared/logger.ts";
import type { Event } from "../../shared/event.ts";
import { FIXTURE_EVENTS } from "../../shared/query/fixture-events.ts";
import { QUERY_TABLE } from "../../shared/query/fixture-queries.ts";
import { compileQuery, parseQuery, type Query } from "../../shared/query/index.ts";
import type { OpenSearchClient } from "../../collector/opensearch/client.ts";
import { IndexNames } from "../../collector/opensearch/index-name.ts";
import type { SearchBackend } from "../../collector/search/backend.ts";
import { EmbeddedBackend } from "../../collector/search/embedded-backend.ts";
import { OpenSearchBackend } from "../../collector/search/opensearch/backend.ts";
import { exactOpenSearchQuery, translateToOpenSearch } from "../../collector/search/opensearch/translate.ts";
import { SearchIndex } from "../../collector/search/search-index.ts";
import { OpenSearchSink } from "../../collector/sinks/opensearch/sink.ts";
import { SearchSink } from "../../collector/sinks/search/sink.ts";
import { startOpenSearch, stopOpenSearch } from "../engines/opensearch.ts";
import { deleteIndices, deleteTestTemplates, testClient } from "../helpers/opensearch-index.ts";

const TEMPLATE = "itest-table-{tenant}-%Y.%m.%d";
const PATTERN = "itest-table-default-*";

let client: OpenSearchClient;
let directory = "";
let index: SearchIndex;
const backends: { name: string; backend: SearchBackend }[] = [];

before(async () => {
  const node = startOpenSearch();
  client = testClient(node.url);
  await deleteTestTemplates(client);
  await deleteIndices(client, "itest-table-*");
  const events = FIXTURE_EVENTS.map((event) => ({ ...event, tenant: "default" }));
  const sink = new OpenSearchSink({ client: testClient(node.url), names: new IndexNames(TEMPLATE), gzip: false, bulkBytesMax: 1 << 20, bulkEventsMax: 1000, template: {}, logger: silentLogger });
  assert.deepEqual(await sink.send(events, new AbortController().signal), { kind: "delivered" });
  await sink.close();
  await client.expect("POST", `/${PATTERN}/_refresh`);
  directory = mkdtempSync(join(tmpdir(), "logship-query-table-"));
  index = new SearchIndex({ directory });
  assert.deepEqual(await new SearchSink(index).send(events, new AbortController().signal), { kind: "delivered" });
  backends.push({ name: "embedded", backend: new EmbeddedBackend(index) });
  backends.push({ name: "opensearch", backend: new OpenSearchBackend({ client, names: new IndexNames(TEMPLATE) }) });
});

after(async () => {
  await index.close();
  rmSync(directory, { recursive: true, force: true });
  await client.close();
  stopOpenSearch();
});

/** Every page of a search (3 events a page, so cursors are crossed), in order. */
async function searchAll(backend: SearchBackend, query: Query, order: "asc" | "desc" = "desc"): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null | undefined;
  do {
    const page = await backend.search({ tenant: "default", query, limit: 3, order, ...(cursor === undefined || cursor === null ? {} : { cursor }) });
    ids.push(...page.events.map((event) => event.id));
    cursor = page.cursor;
  } while (cursor !== null);
  return ids;
}

function fixtureOrder(ids: Iterable<string>): string[] {
  const set = new Set(ids);
  return FIXTURE_EVENTS.map((event) => event.id).filter((id) => set.has(id));
}

/** The ids OpenSearch's query alone selects (no evaluator). */
async function openSearchCandidates(query: OpenSearchQuery): Promise<string[]> {
  const response = await client.expect("POST", `/${PATTERN}/_search`, { body: { size: 100, _source: false, query: { bool: { filter: [{ term: { tenant: "default" } }, query] } } } });
  return fixtureOrder((response.body as { hits: { hits: { _id: string }[] } }).hits.hits.map((hit) => hit._id));
}
type OpenSearchQuery = ReturnType<typeof translateToOpenSearch>;

test("the query table: the embedded index and OpenSearch return exactly the evaluator's ids, page by page, in the same order", async () => {
  for (const [text, expected] of QUERY_TABLE) {
    const query = parseQuery(text);
    const [embedded, opensearch] = await Promise.all(backends.map(({ backend }) => searchAll(backend, query)));
    assert.deepEqual(fixtureOrder(embedded ?? []), expected, `embedded, query ${JSON.stringify(text)}`);
    assert.deepEqual(opensearch, embedded, `opensearch and embedded differ on ${JSON.stringify(text)}`);
    const ascending = await Promise.all(backends.map(({ backend }) => searchAll(backend, query, "asc")));
    assert.deepEqual(ascending[1], ascending[0], `ascending order, query ${JSON.stringify(text)}`);
  }
});

test("OpenSearch's translation alone never selects fewer than the evaluator, and exactly as many where it says it is exact", async () => {
  let exactCount = 0;
  for (const [text, expected] of QUERY_TABLE) {
    const query = parseQuery(text);
    const candidates = await openSearchCandidates(translateToOpenSearch(query));
    assert.ok(expected.every((id) => candidates.includes(id)), `query ${JSON.stringify(text)}: OpenSearch selected ${candidates.join(",")}, missing some of ${expected.join(",")}`);
    const exact = exactOpenSearchQuery(query);
    if (exact === undefined) continue;
    exactCount++;
    assert.deepEqual(await openSearchCandidates(exact), expected, `exact query ${JSON.stringify(text)}`);
  }
  assert.ok(exactCount >= QUERY_TABLE.length / 2, `${exactCount} of ${QUERY_TABLE.length} queries are exact in OpenSearch`);
});

test("random AND/OR/NOT combinations of the table's clauses: both backends agree with the evaluator", async () => {
  const clauses = QUERY_TABLE.map(([text]) => text).filter((text) => text !== "");
  const leaf = fc.constantFrom(...clauses).map((text) => parseQuery(text));
  const { tree } = fc.letrec<{ tree: Query }>((tie) => ({
    tree: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      leaf,
      fc.array(tie("tree"), { minLength: 2, maxLength: 3 }).map((parts): Query => ({ kind: "and", clauses: parts })),
      fc.array(tie("tree"), { minLength: 2, maxLength: 3 }).map((parts): Query => ({ kind: "or", clauses: parts })),
      tie("tree").map((clause): Query => ({ kind: "not", clause })),
    ),
  }));
  await fc.assert(
    fc.asyncProperty(tree, async (query) => {
      const expected = fixtureOrder(FIXTURE_EVENTS.filter((event: Event) => compileQuery(query)(event)).map((event) => event.id));
      const [embedded, opensearch] = await Promise.all(backends.map(({ backend }) => searchAll(backend, query)));
      assert.deepEqual(fixtureOrder(embedded ?? []), expected);
      assert.deepEqual(opensearch, embedded);
    }),
    { numRuns: 150 },
  );
});

test("histograms agree bucket for bucket (counted by OpenSearch where exact, by the evaluator elsewhere), over ranges that pick seconds to days", async () => {
  const ranges = [
    [Date.parse("2026-11-29T10:00:00Z"), Date.parse("2026-11-29T10:01:00Z")],
    [Date.parse("2026-11-29T00:00:00Z"), Date.parse("2026-11-30T00:00:00Z")],
    [Date.parse("2026-11-20T00:00:00Z"), Date.parse("2026-12-05T00:00:00Z")],
  ] as const;
  for (const [text] of QUERY_TABLE) {
    for (const [sinceMs, untilMs] of ranges) {
      const query = parseQuery(text);
      const [embedded, opensearch] = await Promise.all(backends.map(({ backend }) => backend.histogram({ tenant: "default", query, sinceMs, untilMs })));
      assert.deepEqual(opensearch, embedded, `histogram of ${JSON.stringify(text)} over ${new Date(sinceMs).toISOString()}..${new Date(untilMs).toISOString()}`);
    }
  }
});
