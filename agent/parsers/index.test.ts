import assert from "node:assert/strict";
import { test } from "node:test";
import { ConfigError } from "../../shared/errors.ts";
import { buildParser } from "./index.ts";
import type { ParserConfig } from "./types.ts";

const REFERENCE_MS = Date.parse("2024-01-02T12:00:00Z");
const NGINX_LINE = '10.0.0.1 - - [02/Jan/2024:11:00:00 +0000] "GET / HTTP/1.1" 200 5 "-" "curl/8"';

test("invalid configs are ConfigErrors at build time", () => {
  const invalid: ParserConfig[] = [
    { type: "regex" },
    { type: "regex", pattern: "" },
    { type: "regex", pattern: "(?<open" },
    { type: "regex", pattern: "(?P<level>\\w+)" },
    { type: "regex", pattern: "^\\w+ (\\d+)$" },
    { type: "json", time_field: "ts", time_format: "yyyy-MM-dd" },
    { type: "json", time_field: "ts", time_format: "%Y-%m-%d %Q" },
    { type: "json", time_format: "unix" },
    { type: "json", time_field: "" },
    { type: "nginx", pattern: "^(?<x>.*)$" },
    { type: "logfmt", message_key: "text" },
    { type: "none", time_field: "ts" },
    { type: "xml" as never },
  ];
  for (const config of invalid) assert.throws(() => buildParser(config), ConfigError, JSON.stringify(config));
});

test("the Python named-group spelling gets a hint", () => {
  assert.throws(() => buildParser({ type: "regex", pattern: "(?P<level>\\w+)" }), /\(\?<name>/);
});

test("none returns empty fields and a fresh object per call", () => {
  const parser = buildParser({ type: "none" });
  const first = parser.parse("anything", REFERENCE_MS);
  assert.deepStrictEqual(first, { ok: true, fields: {} });
  assert.notEqual(parser.parse("anything", REFERENCE_MS), first);
});

test("json message_key replaces the message/msg default", () => {
  const parser = buildParser({ type: "json", message_key: "text" });
  assert.deepStrictEqual(parser.parse('{"text":"hi","message":"not me"}', REFERENCE_MS), {
    ok: true,
    fields: { message: "not me" },
    message: "hi",
  });
  assert.deepStrictEqual(parser.parse('{"msg":"not me either"}', REFERENCE_MS), {
    ok: true,
    fields: { msg: "not me either" },
  });
});

test("time_field reads nested JSON and unix times", () => {
  const parser = buildParser({ type: "json", time_field: "meta.ts", time_format: "unix_ms" });
  assert.deepStrictEqual(parser.parse('{"meta":{"ts":1704189600123}}', REFERENCE_MS), {
    ok: true,
    fields: { meta: { ts: 1704189600123 } },
    timeMs: 1704189600123,
  });
  const missing = parser.parse('{"meta":"flat"}', REFERENCE_MS);
  assert.ok(missing.ok);
  assert.equal(missing.fields.time_parse_error, 'field "meta.ts" is missing');
});

test("time_field is an own property, never from the prototype chain", () => {
  const parser = buildParser({ type: "json", time_field: "constructor", time_format: "unix" });
  const result = parser.parse("{}", REFERENCE_MS);
  assert.deepStrictEqual(result, { ok: true, fields: { time_parse_error: 'field "constructor" is missing' } });
});

test("time_field overrides an access log's own time; failing, it keeps the own time", () => {
  const regexTime = buildParser({ type: "nginx", time_field: "status", time_format: "unix" });
  const overridden = regexTime.parse(NGINX_LINE, REFERENCE_MS);
  assert.ok(overridden.ok);
  assert.equal(overridden.timeMs, 200_000);
  const failing = buildParser({ type: "nginx", time_field: "upstream_time" }).parse(NGINX_LINE, REFERENCE_MS);
  assert.ok(failing.ok);
  assert.equal(failing.timeMs, Date.parse("2024-01-02T11:00:00Z"));
  assert.equal(failing.fields.time_parse_error, 'field "upstream_time" is missing');
});

test("regex omits groups that did not take part and keeps empty ones", () => {
  const parser = buildParser({ type: "regex", pattern: "^(?<level>\\w+)(?: \\[(?<tag>\\w*)\\])?(?: (?<message>.*))?$" });
  assert.deepStrictEqual(parser.parse("INFO", REFERENCE_MS), { ok: true, fields: { level: "INFO" } });
  assert.deepStrictEqual(parser.parse("INFO [] hi", REFERENCE_MS), {
    ok: true,
    fields: { level: "INFO", tag: "" },
    message: "hi",
  });
  assert.deepStrictEqual(parser.parse("", REFERENCE_MS), { ok: false, error: "line does not match pattern" });
});

test("parsers report their type", () => {
  for (const type of ["none", "json", "logfmt", "nginx", "apache", "syslog"] as const) {
    assert.equal(buildParser({ type }).type, type);
  }
  assert.equal(buildParser({ type: "regex", pattern: "(?<a>.)" }).type, "regex");
});
