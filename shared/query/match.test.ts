import { test } from "node:test";
import assert from "node:assert/strict";
import { FIXTURE_EVENTS } from "./fixture-events.ts";
import { QUERY_TABLE } from "./fixture-queries.ts";
import { compileQuery, matches, parseQuery } from "./index.ts";

function matchingIds(query: string): string[] {
  const predicate = compileQuery(parseQuery(query));
  return FIXTURE_EVENTS.filter((event) => predicate(event)).map((event) => event.id);
}

test("the query table: each query matches exactly the listed fixture events", () => {
  for (const [query, expected] of QUERY_TABLE) assert.deepEqual(matchingIds(query), expected, `query ${JSON.stringify(query)}`);
});

test("matches() agrees with the compiled predicate and compiles an AST once", () => {
  const query = parseQuery("level:error OR /Timeout/");
  for (const event of FIXTURE_EVENTS) assert.equal(matches(query, event), compileQuery(query)(event), event.id);
});

test("events without fields or message (an agent's partial event) simply do not match field clauses", () => {
  const predicate = compileQuery(parseQuery("level:error OR timeout OR host:web-1"));
  assert.equal(predicate({}), false);
  assert.equal(predicate({ host: "web-1" }), true);
  assert.equal(compileQuery(parseQuery("-level:* -timeout"))({}), true);
});

test("field values that are objects or null only answer existence", () => {
  const event = { fields: { http: { status: 200 }, gone: null, empty: [], zero: 0, no: false } };
  const check = (query: string): boolean => compileQuery(parseQuery(query))(event);
  assert.equal(check("http:*"), true);
  assert.equal(check("http:\\[object\\ Object\\]"), false);
  assert.equal(check("gone:*"), false);
  assert.equal(check("gone:null"), false);
  assert.equal(check("empty:*"), false);
  assert.equal(check("zero:0 AND zero:[0 TO 0] AND no:false"), true);
});
