import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { z } from "zod";
import { ConfigError } from "../errors.ts";
import { boundedSize, durationSchema, formatDuration, formatSize, parseDuration, parseSize, sizeSchema } from "./units.ts";

test("parseSize reads binary, decimal and bare byte counts", () => {
  const cases: Array<[string | number, number]> = [
    ["512", 512],
    [512, 512],
    ["0", 0],
    ["512B", 512],
    ["64KiB", 64 * 1024],
    ["1MiB", 1024 ** 2],
    ["10GiB", 10 * 1024 ** 3],
    ["2TiB", 2 * 1024 ** 4],
    ["1KB", 1000],
    ["1.5MB", 1_500_000],
    ["3GB", 3_000_000_000],
    ["1.5KiB", 1536],
    ["64kib", 64 * 1024],
    [" 64 KiB ", 64 * 1024],
    [".5MiB", 512 * 1024],
  ];
  for (const [input, bytes] of cases) assert.equal(parseSize(input), bytes, `parseSize(${JSON.stringify(input)})`);
});

test("parseSize rejects bad sizes with an example of a good one", () => {
  assert.throws(() => parseSize("12 parsecs"), (error: unknown) => {
    assert.ok(error instanceof ConfigError);
    assert.match(error.message, /^expected a size like 64KiB, 1MiB, 10GiB; unknown unit "parsecs"/);
    assert.match(error.message, /got "12 parsecs"$/);
    return true;
  });
  for (const input of ["", "MiB", "-1", "1.5", "1e3", "1 2 KiB", -5, 1.5, Number.NaN]) {
    assert.throws(() => parseSize(input), ConfigError, `parseSize(${JSON.stringify(input)})`);
  }
});

test("parseDuration reads units, compounds and bare milliseconds", () => {
  const cases: Array<[string | number, number]> = [
    ["250ms", 250],
    ["5s", 5000],
    ["2m", 120_000],
    ["1h", 3_600_000],
    ["7d", 7 * 86_400_000],
    ["1.5s", 1500],
    ["1m30s", 90_000],
    ["500", 500],
    [0, 0],
    [1500, 1500],
  ];
  for (const [input, durationMs] of cases) assert.equal(parseDuration(input), durationMs, `parseDuration(${JSON.stringify(input)})`);
});

test("parseDuration rejects bad durations", () => {
  assert.throws(() => parseDuration("5 fortnights"), /expected a duration like 250ms, 5s, 2m, 1h, 7d; unknown unit "fortnights".*got "5 fortnights"/);
  for (const input of ["", "s", "5S", "-1s", "5s garbage", -1, Number.POSITIVE_INFINITY]) {
    assert.throws(() => parseDuration(input), ConfigError, `parseDuration(${JSON.stringify(input)})`);
  }
});

test("formatting n bytes as `${n}B` round-trips", () => {
  fc.assert(
    fc.property(fc.maxSafeNat(), (bytes) => {
      assert.equal(parseSize(`${bytes}B`), bytes);
      assert.equal(parseSize(String(bytes)), bytes);
    }),
  );
});

test("formatSize and formatDuration round-trip through the parsers", () => {
  fc.assert(
    fc.property(fc.nat({ max: 2 ** 40 }), (value) => {
      assert.equal(parseSize(formatSize(value)), value);
      assert.equal(parseDuration(formatDuration(value)), value);
    }),
  );
  assert.equal(formatSize(1024 ** 2), "1MiB");
  assert.equal(formatDuration(300_000), "5m");
});

test("sizeSchema and durationSchema accept strings or numbers and report bad units as issues", () => {
  const schema = z.object({ size: sizeSchema, duration: durationSchema });
  assert.deepEqual(schema.parse({ size: "1MiB", duration: "2s" }), { size: 1024 ** 2, duration: 2000 });
  assert.deepEqual(schema.parse({ size: 10, duration: 20 }), { size: 10, duration: 20 });
  const result = schema.safeParse({ size: "12 parsecs", duration: true });
  assert.equal(result.success, false);
  const messages = result.error?.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`) ?? [];
  assert.equal(messages.length, 2);
  assert.match(messages[0] ?? "", /^size: expected a size like 64KiB/);
  assert.match(messages[1] ?? "", /^duration: expected a duration like 250ms/);
});

test("boundedSize enforces limits with readable units", () => {
  const schema = boundedSize({ min: 16, max: 64 * 1024 });
  assert.equal(schema.parse("1KiB"), 1024);
  assert.match(schema.safeParse("1MiB").error?.issues[0]?.message ?? "", /must be at most 64KiB, got 1MiB/);
  assert.match(schema.safeParse(8).error?.issues[0]?.message ?? "", /must be at least 16B, got 8B/);
});
