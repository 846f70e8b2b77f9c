import { test } from "node:test";
import assert from "node:assert/strict";
import { compileQuery, parseQuery } from "../../../shared/query/index.ts";
import type { Event } from "../../../shared/event.ts";
import { addClause, filterClause } from "./query-text.ts";

const EVENT: Event = {
  id: "x",
  time: "2026-11-29T10:00:00.000Z",
  observed_time: "2026-11-29T10:00:00.000Z",
  host: "web-1",
  source: "app",
  path: '/var/log/a "b"\\c.log',
  offset: 7,
  message: "GET /index.html",
  fields: { status: 500, ok: false, "my key": "v w", user: 'o"neil' },
};

test("filter clauses find exactly the value they were made from (and the filter-out ones everything else)", () => {
  const cases: [string, string][] = [
    ["host", "web-1"],
    ["path", EVENT.path],
    ["offset", "7"],
    ["time", EVENT.time],
    ["message", EVENT.message],
    ["fields.status", "500"],
    ["fields.ok", "false"],
    ["fields.my key", "v w"],
    ["fields.user", 'o"neil'],
  ];
  for (const [field, value] of cases) {
    assert.equal(compileQuery(parseQuery(filterClause(field, value, false)))(EVENT), true, filterClause(field, value, false));
    assert.equal(compileQuery(parseQuery(filterClause(field, value, true)))(EVENT), false, filterClause(field, value, true));
  }
  assert.equal(filterClause("fields.my key", "v", true), '-fields.my\\ key:"v"');
});

test("addClause ANDs a clause onto the query, grouping a top-level OR, never twice", () => {
  assert.equal(addClause("", 'host:"a"'), 'host:"a"');
  assert.equal(addClause(" * ", 'host:"a"'), 'host:"a"');
  assert.equal(addClause("error", 'host:"a"'), 'error host:"a"');
  assert.equal(addClause("error OR warn", 'host:"a"'), '(error OR warn) host:"a"');
  assert.equal(addClause('error host:"a"', 'host:"a"'), 'error host:"a"');
});
