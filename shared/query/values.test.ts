import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { parseNumber, parseTime, TIME_MAX_MS, TIME_MIN_MS } from "./values.ts";

test("numbers: decimal with optional sign, fraction and exponent; finite only", () => {
  const cases: Array<[string, number | undefined]> = [
    ["500", 500],
    ["-1.5", -1.5],
    ["2e3", 2000],
    ["1E-2", 0.01],
    ["007", 7],
    ["1.", undefined],
    [".5", undefined],
    ["+5", undefined],
    ["0x10", undefined],
    ["1e999", undefined],
    ["", undefined],
    ["5 ", undefined],
  ];
  for (const [text, value] of cases) assert.equal(parseNumber(text), value, text);
});

test("times: RFC 3339 with Z or an offset, fractions to the millisecond, full dates", () => {
  const cases: Array<[string, string | undefined]> = [
    ["2026-11-29T10:00:00Z", "2026-11-29T10:00:00.000Z"],
    ["2026-11-29t10:00:00z", "2026-11-29T10:00:00.000Z"],
    ["2026-11-29T10:00:00.123456Z", "2026-11-29T10:00:00.123Z"],
    ["2026-11-29T10:00:00.5+02:00", "2026-11-29T08:00:00.500Z"],
    ["2026-11-29T10:00:00-05:30", "2026-11-29T15:30:00.000Z"],
    ["2026-11-29", "2026-11-29T00:00:00.000Z"],
    ["2024-02-29", "2024-02-29T00:00:00.000Z"],
    ["2026-02-29", undefined],
    ["2026-11-29T24:00:00Z", undefined],
    ["2026-11-29T10:00:00", undefined],
    ["2026-11-29T10:00Z", undefined],
    ["29/Nov/2026", undefined],
    ["0000-01-01T00:00:00+01:00", undefined],
  ];
  for (const [text, iso] of cases) {
    const ms = parseTime(text);
    assert.equal(ms === undefined ? undefined : new Date(ms).toISOString(), iso, text);
  }
});

test("every time toISOString writes in range reads back", () => {
  fc.assert(
    fc.property(fc.integer({ min: TIME_MIN_MS, max: TIME_MAX_MS }), (ms) => {
      assert.equal(parseTime(new Date(ms).toISOString()), ms);
    }),
  );
});
