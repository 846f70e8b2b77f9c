import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Event } from "../../shared/event.ts";
import { parseQuery } from "../../shared/query/index.ts";
import { silentLogger } from "../../shared/logger.ts";
import { lineEvent, startRouteServer, temporaryDirectory, TOKENS } from "../testing/search-routes.ts";
import { FACET_DISTINCT_MAX, FACET_VALUE_CHARS_MAX, FACET_VALUES_MAX, facetsIndex, mergeFacets, type FacetsResult } from "./facets.ts";
import { SearchIndex } from "./search-index.ts";

const START_MS = Date.parse("2026-11-29T10:00:00Z");

/** Event n: host web-(n%3), level error every 4th else info, status 200 or 500, tags as an array, a nested http object. */
function event(n: number, extra: Record<string, unknown> = {}): Event {
  const base = lineEvent({ host: `web-${n % 3}`, line: n, time: new Date(START_MS + n * 1000).toISOString(), message: `request ${n} ${n % 4 === 0 ? "failed" : "ok"}` });
  return { ...base, fields: { level: n % 4 === 0 ? "error" : "info", status: n % 4 === 0 ? 500 : 200, tags: ["a", "a", n % 2 === 0 ? "even" : "odd"], http: { method: "GET" }, ...extra } };
}

async function indexWith(t: { after: (fn: () => Promise<void>) => void }, events: Event[]): Promise<SearchIndex> {
  const directory = mkdtempSync(join(tmpdir(), "logship-facets-"));
  const index = new SearchIndex({ directory });
  t.after(async () => {
    await index.close();
    rmSync(directory, { recursive: true, force: true });
  });
  await index.write("default", events);
  return index;
}

function facet(result: FacetsResult, field: string) {
  const found = result.facets.find((candidate) => candidate.field === field);
  assert.ok(found, `no facet ${field} in ${JSON.stringify(result.facets.map((candidate) => candidate.field))}`);
  return found;
}

test("facets count host, source, path and each fields key among the matches, most frequent first; numbers as JSON text, an array's values once per event, nested keys dotted", async (t) => {
  const index = await indexWith(t, Array.from({ length: 40 }, (_, n) => event(n)));
  const result = facetsIndex(index, { tenant: "default", query: parseQuery("") });
  assert.equal(result.events, 40);
  assert.equal(result.complete, true);
  assert.deepEqual(result.facets.slice(0, 3).map((entry) => entry.field), ["host", "source", "path"]);
  assert.deepEqual(facet(result, "host").values, [
    { value: "web-0", count: 14 },
    { value: "web-1", count: 13 },
    { value: "web-2", count: 13 },
  ]);
  assert.deepEqual(facet(result, "fields.level").values, [
    { value: "info", count: 30 },
    { value: "error", count: 10 },
  ]);
  assert.deepEqual(facet(result, "fields.status").values, [
    { value: "200", count: 30 },
    { value: "500", count: 10 },
  ]);
  assert.deepEqual(facet(result, "fields.tags").values, [
    { value: "a", count: 40 },
    { value: "even", count: 20 },
    { value: "odd", count: 20 },
  ]);
  assert.deepEqual(facet(result, "fields.http.method").values, [{ value: "GET", count: 40 }]);

  // Only the query's matches within the range.
  const errors = facetsIndex(index, { tenant: "default", query: parseQuery("failed"), sinceMs: START_MS + 10_000 });
  assert.equal(errors.events, 7);
  assert.deepEqual(facet(errors, "fields.level").values, [{ value: "error", count: 7 }]);
});

test("facets are bounded: the newest eventsMax matches only (complete false), values past the top in other, long values and nulls not counted", async (t) => {
  const longValue = "x".repeat(FACET_VALUE_CHARS_MAX + 1);
  const events = Array.from({ length: FACET_DISTINCT_MAX + 50 }, (_, n) => event(n, { request: `r${n}`, trace: longValue, gone: null }));
  const index = await indexWith(t, events);
  const sampled = facetsIndex(index, { tenant: "default", query: parseQuery(""), eventsMax: 12 });
  assert.deepEqual([sampled.events, sampled.complete], [12, false]);
  // The newest 12, each once (ties in value order): n from FACET_DISTINCT_MAX + 38 up.
  const newest = Array.from({ length: 12 }, (_, k) => `r${FACET_DISTINCT_MAX + 38 + k}`);
  assert.deepEqual(facet(sampled, "fields.request").values.map((entry) => entry.value), newest.slice(0, FACET_VALUES_MAX));
  assert.equal(facet(sampled, "fields.request").other, 12 - FACET_VALUES_MAX);

  const all = facetsIndex(index, { tenant: "default", query: parseQuery("") });
  const request = facet(all, "fields.request");
  assert.equal(request.values.length, FACET_VALUES_MAX);
  assert.equal(request.events, events.length);
  assert.equal(request.other, events.length - FACET_VALUES_MAX);
  assert.equal(all.facets.some((entry) => entry.field === "fields.trace" || entry.field === "fields.gone"), false);
});

test("mergeFacets sums the nodes' counts per field and value and cuts to the top values again", async () => {
  const node = (host: string, count: number, complete: boolean): FacetsResult => ({
    events: count,
    complete,
    facets: [
      { field: "host", events: count, values: [{ value: host, count }], other: 0 },
      { field: "source", events: count, values: [{ value: "app", count }], other: 0 },
      { field: "path", events: count, values: [{ value: "/var/log/app.log", count }], other: 1 },
      { field: "fields.level", events: count, values: [{ value: "error", count }], other: 0 },
    ],
  });
  const merged = mergeFacets([node("web-1", 5, true), node("web-2", 7, false)]);
  assert.deepEqual([merged.events, merged.complete], [12, false]);
  assert.deepEqual(facet(merged, "host").values, [
    { value: "web-2", count: 7 },
    { value: "web-1", count: 5 },
  ]);
  assert.deepEqual(facet(merged, "source").values, [{ value: "app", count: 12 }]);
  assert.equal(facet(merged, "path").other, 2);
  assert.deepEqual(facet(merged, "fields.level").values, [{ value: "error", count: 12 }]);
});

test("GET /v1/facets: the token's tenant only, a broken query is 400 LOGSHIP_QUERY with its column, unknown parameters refused", async (t) => {
  const server = await startRouteServer(temporaryDirectory(t), silentLogger);
  t.after(() => server.close());
  await server.index.write("a", [event(1), event(2)]);
  await server.index.write("b", [{ ...event(3), host: "b-host" }]);
  const get = async (path: string, token: string) => {
    const response = await fetch(`${server.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  };
  const a = await get("/v1/facets?q=&since=2026-11-29", TOKENS.a);
  assert.equal(a.status, 200);
  assert.equal(a.json["events"], 2);
  assert.equal(a.json["partial"], false);
  const b = await get("/v1/facets", TOKENS.b);
  assert.deepEqual((b.json["facets"] as FacetsResult["facets"])[0]?.values, [{ value: "b-host", count: 1 }]);
  const broken = await get("/v1/facets?q=host%3A", TOKENS.a);
  assert.deepEqual([broken.status, broken.json["code"], broken.json["column"]], [400, "LOGSHIP_QUERY", 6]);
  const unknown = await get("/v1/facets?size=3", TOKENS.a);
  assert.deepEqual([unknown.status, unknown.json["code"]], [400, "LOGSHIP_SEARCH_REQUEST"]);
  const otherTenant = await get("/v1/facets?tenant=b", TOKENS.a);
  assert.equal(otherTenant.status, 403);
});
