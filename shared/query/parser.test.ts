import { test } from "node:test";
import assert from "node:assert/strict";
import type { Query } from "./ast.ts";
import { parseQuery } from "./parser.ts";
import { printQuery } from "./print.ts";

const term = (value: string, field = "message"): Query => ({ kind: "term", field, value });

test("precedence: NOT binds tighter than AND, AND (explicit or implicit) tighter than OR", () => {
  assert.deepEqual(parseQuery("a OR b c"), { kind: "or", clauses: [term("a"), { kind: "and", clauses: [term("b"), term("c")] }] });
  assert.deepEqual(parseQuery("a b OR c"), { kind: "or", clauses: [{ kind: "and", clauses: [term("a"), term("b")] }, term("c")] });
  assert.deepEqual(parseQuery("NOT a AND b"), { kind: "and", clauses: [{ kind: "not", clause: term("a") }, term("b")] });
  assert.deepEqual(parseQuery("a AND b c AND d"), { kind: "and", clauses: [term("a"), term("b"), term("c"), term("d")] });
  assert.deepEqual(parseQuery("-(a OR b)"), { kind: "not", clause: { kind: "or", clauses: [term("a"), term("b")] } });
  assert.deepEqual(parseQuery("a (b OR c)"), { kind: "and", clauses: [term("a"), { kind: "or", clauses: [term("b"), term("c")] }] });
  assert.deepEqual(parseQuery("and or not"), { kind: "and", clauses: [term("and"), term("or"), term("not")] });
});

test("field names: top-level names stay, fields.x stays, any other bare name means fields.x", () => {
  assert.deepEqual(parseQuery("host:web-1"), term("web-1", "host"));
  assert.deepEqual(parseQuery("observed_time:*"), { kind: "exists", field: "observed_time" });
  assert.deepEqual(parseQuery("level:error"), term("error", "fields.level"));
  assert.deepEqual(parseQuery("fields.level:error"), term("error", "fields.level"));
  assert.deepEqual(parseQuery("fields.host:x"), term("x", "fields.host"));
  assert.deepEqual(parseQuery("http.status:200"), term("200", "fields.http.status"));
  assert.deepEqual(parseQuery("@timestamp:x"), term("x", "fields.@timestamp"));
  assert.deepEqual(parseQuery("my\\ key:x"), term("x", "fields.my key"));
});

test("values: terms, phrases, prefixes, wildcards, regexes, escapes", () => {
  assert.deepEqual(parseQuery('host:"web 1"'), { kind: "phrase", field: "host", value: "web 1" });
  assert.deepEqual(parseQuery('"say \\"hi\\" \\\\ now"'), { kind: "phrase", field: "message", value: 'say "hi" \\ now' });
  assert.deepEqual(parseQuery("host:web-*"), { kind: "prefix", field: "host", value: "web-" });
  assert.deepEqual(parseQuery("host:*-1"), { kind: "wildcard", field: "host", pattern: "*-1" });
  assert.deepEqual(parseQuery("a\\*b*"), { kind: "prefix", field: "message", value: "a*b" });
  assert.deepEqual(parseQuery("a\\*b?"), { kind: "wildcard", field: "message", pattern: "a\\*b?" });
  assert.deepEqual(parseQuery("a\\ b"), term("a b"));
  assert.deepEqual(parseQuery("\\-x"), term("-x"));
  assert.deepEqual(parseQuery("host:-x"), term("-x", "host"));
  assert.deepEqual(parseQuery("host:AND"), term("AND", "host"));
  assert.deepEqual(parseQuery("url:http://x/y?z=1"), { kind: "wildcard", field: "fields.url", pattern: "http://x/y?z=1" });
  assert.deepEqual(parseQuery("time:10:00"), term("10:00", "time"));
  assert.deepEqual(parseQuery("/a\\/b [/] c/"), { kind: "regex", field: "message", pattern: "a\\/b [/] c" });
  assert.deepEqual(parseQuery("host:/^web-\\d+$/"), { kind: "regex", field: "host", pattern: "^web-\\d+$" });
  assert.deepEqual(parseQuery("*"), { kind: "all" });
  assert.deepEqual(parseQuery("  \t"), { kind: "all" });
  assert.deepEqual(parseQuery("level:*"), { kind: "exists", field: "fields.level" });
  assert.deepEqual(parseQuery("level:\\*"), term("*", "fields.level"));
});

test("ranges: comparisons, brackets, open bounds, times as epoch milliseconds", () => {
  assert.deepEqual(parseQuery("status:>=500"), {
    kind: "range", field: "fields.status", valueType: "number", lower: { value: 500, inclusive: true }, upper: null,
  });
  assert.deepEqual(parseQuery("status:<-1.5"), {
    kind: "range", field: "fields.status", valueType: "number", lower: null, upper: { value: -1.5, inclusive: false },
  });
  assert.deepEqual(parseQuery("status:{400 TO 499]"), {
    kind: "range", field: "fields.status", valueType: "number", lower: { value: 400, inclusive: false }, upper: { value: 499, inclusive: true },
  });
  assert.deepEqual(parseQuery("bytes:[1e3 TO *}"), {
    kind: "range", field: "fields.bytes", valueType: "number", lower: { value: 1000, inclusive: true }, upper: null,
  });
  assert.deepEqual(parseQuery("time:[2026-11-29T10:00:00.5+01:00 TO 2026-11-30]"), {
    kind: "range", field: "time", valueType: "time",
    lower: { value: Date.parse("2026-11-29T09:00:00.500Z"), inclusive: true },
    upper: { value: Date.parse("2026-11-30T00:00:00Z"), inclusive: true },
  });
  assert.deepEqual(parseQuery("level:[* TO *]"), { kind: "exists", field: "fields.level" });
  assert.deepEqual(parseQuery("status:(>=500 OR 404)"), {
    kind: "or",
    clauses: [
      { kind: "range", field: "fields.status", valueType: "number", lower: { value: 500, inclusive: true }, upper: null },
      term("404", "fields.status"),
    ],
  });
});

test("printQuery writes canonical text", () => {
  const cases: Array<[string, string]> = [
    ["a b OR c", "a AND b OR c"],
    ["a (b OR c)", "a AND (b OR c)"],
    ["-a", "NOT a"],
    ["NOT (a b)", "NOT (a AND b)"],
    ["level:(error OR fatal)", "fields.level:error OR fields.level:fatal"],
    ["status:[500 TO *]", "fields.status:>=500"],
    ["status:{400 TO 500}", "fields.status:{400 TO 500}"],
    ["time:<2026-11-29", "time:<2026-11-29T00:00:00.000Z"],
    ["\\AND \\-x a\\ b a\\:b", "\\AND AND \\-x AND a\\ b AND a\\:b"],
    ['host:"a \\"b\\""', 'host:"a \\"b\\""'],
    ["message:*", "message:*"],
    ["", "*"],
  ];
  for (const [query, printed] of cases) assert.equal(printQuery(parseQuery(query)), printed, `printQuery(parseQuery(${JSON.stringify(query)}))`);
});
