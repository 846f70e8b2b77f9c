import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ConfigError } from "../../shared/errors.ts";
import { compileTimeFormat } from "./time.ts";

const REFERENCE_MS = Date.parse("2024-01-02T12:00:00.000Z");

/** [format, value, expected RFC 3339 string or undefined, referenceMs?] */
type Row = readonly [string, unknown, string | undefined, number?];

const ROWS: readonly Row[] = [
  // rfc3339 and ISO 8601 cousins
  ["rfc3339", "2024-01-02T03:04:05Z", "2024-01-02T03:04:05.000Z"],
  ["rfc3339", "2024-01-02t03:04:05z", "2024-01-02T03:04:05.000Z"],
  ["rfc3339", "2024-01-02 03:04:05.5+02:00", "2024-01-02T01:04:05.500Z"],
  ["rfc3339", "2024-01-02T03:04:05.123456789-0730", "2024-01-02T10:34:05.123Z"],
  ["rfc3339", "2024-01-02T03:04:05,12+01", "2024-01-02T02:04:05.120Z"],
  ["rfc3339", "2024-01-02T03:04:05", "2024-01-02T03:04:05.000Z"],
  ["rfc3339", "2024-02-29T00:00:00Z", "2024-02-29T00:00:00.000Z"],
  ["rfc3339", "2023-02-29T00:00:00Z", undefined],
  ["rfc3339", "2024-02-30T00:00:00Z", undefined],
  ["rfc3339", "2024-04-31T00:00:00Z", undefined],
  ["rfc3339", "2024-01-02T25:00:00Z", undefined],
  ["rfc3339", "2024-01-02T23:60:00Z", undefined],
  ["rfc3339", "2024-01-02T23:59:60Z", undefined],
  ["rfc3339", "2024-00-10T00:00:00Z", undefined],
  ["rfc3339", "2024-01-02T03:04:05+24:00", undefined],
  ["rfc3339", "2024-01-02", undefined],
  ["rfc3339", " 2024-01-02T03:04:05Z", undefined],
  ["rfc3339", 1704189600, undefined],
  ["rfc3339", null, undefined],
  ["rfc3339", "1900-01-01T00:00:00Z", "1900-01-01T00:00:00.000Z"],
  ["rfc3339", "2100-03-01T00:00:00Z", "2100-03-01T00:00:00.000Z"],
  // unix
  ["unix", 1704189600, "2024-01-02T10:00:00.000Z"],
  ["unix", "1704189600", "2024-01-02T10:00:00.000Z"],
  ["unix", 1704189600.123, "2024-01-02T10:00:00.123Z"],
  ["unix", "1704189600.5", "2024-01-02T10:00:00.500Z"],
  ["unix", "-1", "1969-12-31T23:59:59.000Z"],
  ["unix", "1e9", undefined],
  ["unix", "", undefined],
  ["unix", "12abc", undefined],
  ["unix", Number.NaN, undefined],
  ["unix", 1e20, undefined],
  ["unix", true, undefined],
  // unix_ms
  ["unix_ms", 1704189600123, "2024-01-02T10:00:00.123Z"],
  ["unix_ms", "1704189600123", "2024-01-02T10:00:00.123Z"],
  ["unix_ms", "soon", undefined],
  // strftime
  ["%Y-%m-%d %H:%M:%S", "2024-01-02 03:04:05", "2024-01-02T03:04:05.000Z"],
  ["%Y-%m-%dT%H:%M:%S.%f%z", "2024-01-02T03:04:05.987654+0100", "2024-01-02T02:04:05.987Z"],
  ["%Y-%m-%dT%H:%M:%S.%f%z", "2024-01-02T03:04:05.9-01:30", "2024-01-02T04:34:05.900Z"],
  ["%Y-%m-%dT%H:%M:%S%z", "2024-01-02T03:04:05Z", "2024-01-02T03:04:05.000Z"],
  ["%d/%b/%Y:%H:%M:%S %z", "10/Oct/2000:13:55:36 -0700", "2000-10-10T20:55:36.000Z"],
  ["%d/%b/%Y:%H:%M:%S %z", "10/oct/2000:13:55:36 -0700", "2000-10-10T20:55:36.000Z"],
  ["%d/%b/%Y:%H:%M:%S %z", "10/Okt/2000:13:55:36 -0700", undefined],
  ["%d/%b/%Y:%H:%M:%S %z", "10/Oct/2000:13:55:36", undefined],
  ["%F %T", "2024-01-02 03:04:05", "2024-01-02T03:04:05.000Z"],
  ["%y%m%d %T", "690101 00:00:00", "1969-01-01T00:00:00.000Z"],
  ["%y%m%d %T", "680101 00:00:00", "2068-01-01T00:00:00.000Z"],
  ["%Y.%j.%m.%d", "2024.002.01.02", "2024-01-02T00:00:00.000Z"],
  ["[%Y] %m|%d (%H)", "[2024] 01|02 (07)", "2024-01-02T07:00:00.000Z"],
  ["%Y-%m-%d 100%%", "2024-01-02 100%", "2024-01-02T00:00:00.000Z"],
  ["%Y-%m-%d %H:%M:%S", "2024-02-30 00:00:00", undefined],
  ["%Y-%m-%d %H:%M:%S", "2024-01-02 25:00:00", undefined],
  ["%Y-%m-%d %H:%M:%S", "2024-01-02 03:04:05 trailing", undefined],
  ["%Y-%m-%d %H:%M:%S", "2024-1-2 03:04:05", undefined],
  // No year: the reference's year, or the previous one when that would be > 1 day ahead.
  ["%b %e %H:%M:%S", "Jan  2 11:00:00", "2024-01-02T11:00:00.000Z"],
  ["%b %e %H:%M:%S", "Jan 2 11:00:00", "2024-01-02T11:00:00.000Z"],
  ["%b %e %H:%M:%S", "Jan 12 11:00:00", "2023-01-12T11:00:00.000Z"],
  ["%b %e %H:%M:%S", "Jan  3 11:59:59", "2024-01-03T11:59:59.000Z"],
  ["%b %e %H:%M:%S", "Jan  3 12:00:01", "2023-01-03T12:00:01.000Z"],
  ["%b %e %H:%M:%S", "Dec 31 23:59:59", "2023-12-31T23:59:59.000Z"],
  ["%b %e %H:%M:%S", "Dec 31 23:59:59", "2024-12-31T23:59:59.000Z", Date.parse("2024-12-31T23:59:59.500Z")],
  ["%b %e %H:%M:%S", "Jan  1 00:00:01", "2025-01-01T00:00:01.000Z", Date.parse("2024-12-31T23:59:59.500Z")],
  ["%b %e %H:%M:%S", "Feb 29 10:00:00", "2024-02-29T10:00:00.000Z", Date.parse("2024-03-01T00:00:00Z")],
  ["%b %e %H:%M:%S", "Feb 29 10:00:00", "2024-02-29T10:00:00.000Z", Date.parse("2025-01-15T00:00:00Z")],
  ["%b %e %H:%M:%S", "Feb 29 10:00:00", undefined, Date.parse("2023-06-01T00:00:00Z")],
  ["%b %e %H:%M:%S", "Feb 30 10:00:00", undefined],
  ["%b %e %H:%M:%S", "Jan 32 10:00:00", undefined],
  ["%b %e %H:%M:%S %z", "Jan  2 13:00:00 +02:00", "2024-01-02T11:00:00.000Z"],
];

describe("compileTimeFormat", () => {
  for (const [format, value, expected, referenceMs = REFERENCE_MS] of ROWS) {
    test(`${format} ${JSON.stringify(value)} → ${expected ?? "undefined"}`, () => {
      const timeMs = compileTimeFormat(format)(value, referenceMs);
      assert.equal(timeMs === undefined ? undefined : new Date(timeMs).toISOString(), expected);
    });
  }

  test("bad formats are ConfigErrors when compiled, not per line", () => {
    for (const format of ["iso", "%Y-%m-%d %Q", "%H:%M:%S", "%Y-%m", "%Y-%m-%d %Y", "%Y %y %m %d", "%Y-%m-%d %"]) {
      assert.throws(() => compileTimeFormat(format), ConfigError, format);
    }
  });

  test("regex metacharacters in literal text are literal", () => {
    const parse = compileTimeFormat("%Y.%m.%d");
    assert.equal(parse("2024x01x02", REFERENCE_MS), undefined);
    assert.equal(parse("2024.01.02", REFERENCE_MS), Date.parse("2024-01-02T00:00:00Z"));
  });

  test("agrees with Date.parse on random RFC 3339 times", () => {
    const parse = compileTimeFormat("rfc3339");
    for (let index = 0; index < 2000; index++) {
      const ms = Math.floor((Math.random() * 2 - 0.5) * 4e12);
      const text = new Date(ms).toISOString();
      assert.equal(parse(text, REFERENCE_MS), ms, text);
    }
  });
});
