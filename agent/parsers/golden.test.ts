/**
 * Golden fixtures: every `test/fixtures/parsers/<name>.log` is parsed line by
 * line and compared with `<name>.expected.ndjson`, one
 * `{ok, fields?, message?, time?, error?}` per input line (time as RFC 3339
 * UTC with ms). `<name>` is the parser type, or `<type>.<variant>`.
 *
 * Regenerate after a deliberate change with
 *   UPDATE_GOLDEN=1 npx node --test agent/parsers/golden.test.ts
 * and read the diff: expectations are hand-checked, not merely recorded.
 */
import assert from "node:assert/strict";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { test } from "node:test";
import { buildParser } from "./index.ts";
import type { ParsedLine, ParserConfig, ParserType } from "./types.ts";

const FIXTURE_DIRECTORY = new URL("../../test/fixtures/parsers/", import.meta.url);
/** Every fixture is read as if on 2024-01-02T12:00:00Z, so yearless times are stable. */
const REFERENCE_MS = Date.UTC(2024, 0, 2, 12, 0, 0);
const UPDATE = process.env.UPDATE_GOLDEN === "1";

/** Parser config per fixture name; a name not listed uses `{ type: name }`. */
const CONFIGS: Readonly<Record<string, ParserConfig>> = {
  json: { type: "json", time_field: "time" },
  logfmt: { type: "logfmt", time_field: "ts", time_format: "rfc3339" },
  regex: {
    type: "regex",
    pattern: String.raw`^(?<time>\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2},\d{3}) \[(?<thread>[^\]]+)\] (?<level>[A-Z]+) +(?<logger>\S+)(?: \((?<request_id>[0-9a-f-]+)\))? - (?<message>.*)$`,
    time_field: "time",
    time_format: "%Y-%m-%d %H:%M:%S,%f",
  },
};

interface Expected {
  ok: boolean;
  fields?: Record<string, unknown>;
  message?: string;
  time?: string;
  error?: string;
}

function toExpected(result: ParsedLine): Expected {
  if (!result.ok) return { ok: false, error: result.error };
  const expected: Expected = { ok: true, fields: result.fields };
  if (result.message !== undefined) expected.message = result.message;
  if (result.timeMs !== undefined) expected.time = new Date(result.timeMs).toISOString();
  // Through JSON, exactly as the file holds it.
  return JSON.parse(JSON.stringify(expected)) as Expected;
}

function linesOf(text: string): string[] {
  const lines = text.split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines;
}

const fixtureNames = readdirSync(FIXTURE_DIRECTORY)
  .filter((name) => name.endsWith(".log"))
  .map((name) => name.slice(0, -".log".length))
  .sort();

test("there is a fixture for every parser type but none", () => {
  const types = new Set(fixtureNames.map((name) => name.split(".")[0]));
  for (const type of ["json", "logfmt", "regex", "nginx", "apache", "syslog"]) assert.ok(types.has(type), `no ${type}.log fixture`);
});

for (const name of fixtureNames) {
  test(`golden: ${name}`, () => {
    const config = CONFIGS[name] ?? { type: name.split(".")[0] as ParserType };
    const parser = buildParser(config);
    const input = linesOf(readFileSync(new URL(`${name}.log`, FIXTURE_DIRECTORY), "utf8"));
    const actual = input.map((line) => toExpected(parser.parse(line, REFERENCE_MS)));
    const expectedUrl = new URL(`${name}.expected.ndjson`, FIXTURE_DIRECTORY);
    if (UPDATE) {
      writeFileSync(expectedUrl, actual.map((result) => JSON.stringify(result)).join("\n") + "\n");
      return;
    }
    const expected = linesOf(readFileSync(expectedUrl, "utf8")).map((line) => JSON.parse(line) as Expected);
    assert.equal(actual.length, expected.length, `${name}: ${input.length} input lines, ${expected.length} expectations`);
    for (let index = 0; index < input.length; index++) {
      assert.deepStrictEqual(actual[index], expected[index], `${name}.log line ${index + 1}: ${input[index]}`);
    }
  });
}
