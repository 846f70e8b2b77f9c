import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { buildLogfmtParser } from "./logfmt.ts";

const REFERENCE_MS = Date.parse("2024-01-02T12:00:00Z");
const parser = buildLogfmtParser({ type: "logfmt" });

/** The writer side, as go-logfmt does it: quote when needed, JSON-style escapes. */
function formatLogfmt(entries: ReadonlyArray<readonly [string, string | true]>): string {
  return entries
    .map(([key, value]) => (value === true ? key : `${key}=${needsQuotes(value) ? quote(value) : value}`))
    .join(" ");
}

function needsQuotes(value: string): boolean {
  return value.length === 0 || /[\s="\\\u0000-\u001f]/.test(value);
}

function quote(value: string): string {
  const escaped = value.replace(/["\\\u0000-\u001f]/g, (character) => {
    switch (character) {
      case '"':
        return '\\"';
      case "\\":
        return "\\\\";
      case "\n":
        return "\\n";
      case "\r":
        return "\\r";
      case "\t":
        return "\\t";
      default:
        return `\\u${character.charCodeAt(0).toString(16).padStart(4, "0")}`;
    }
  });
  return `"${escaped}"`;
}

const keyArbitrary = fc
  .string({ unit: "grapheme", minLength: 1, maxLength: 12 })
  .filter((key) => !/[\s="]/.test(key) && key !== "msg" && key !== "message");
const valueArbitrary = fc.oneof(
  fc.constant(true as const),
  fc.string({ unit: "binary", maxLength: 20 }),
  fc.stringMatching(/^[a-z0-9=\/.:-]{0,12}$/),
);

test("logfmt round-trips generated key/value maps", () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.tuple(keyArbitrary, valueArbitrary), { selector: ([key]) => key, maxLength: 8 }),
      (entries) => {
        const line = formatLogfmt(entries);
        const result = parser.parse(line, REFERENCE_MS);
        if (!entries.some(([, value]) => value !== true)) {
          assert.deepEqual(result, { ok: false, error: "no key=value pair" });
          return;
        }
        assert.deepStrictEqual(result, { ok: true, fields: Object.fromEntries(entries) });
      },
    ),
    { numRuns: 2000 },
  );
});

test("msg wins over message; only the one used leaves the fields", () => {
  assert.deepStrictEqual(parser.parse('message="b" msg=a', REFERENCE_MS), {
    ok: true,
    fields: { message: "b" },
    message: "a",
  });
  assert.deepStrictEqual(parser.parse("message=b level=info", REFERENCE_MS), {
    ok: true,
    fields: { level: "info" },
    message: "b",
  });
});

test("a __proto__ key is a plain field, not a prototype", () => {
  const result = parser.parse("__proto__=x a=1", REFERENCE_MS);
  assert.ok(result.ok);
  assert.equal(Object.getPrototypeOf(result.fields), Object.prototype);
  assert.deepEqual(Object.keys(result.fields), ["__proto__", "a"]);
  assert.equal(Object.getOwnPropertyDescriptor(result.fields, "__proto__")?.value, "x");
});

test("a backslash at the end of a quoted value does not escape the line's end", () => {
  assert.deepEqual(parser.parse('a="x\\"', REFERENCE_MS), { ok: false, error: 'unterminated quoted value of key "a"' });
  assert.deepEqual(parser.parse('a="x\\\\"', REFERENCE_MS), { ok: true, fields: { a: "x\\" } });
});
