/**
 * Numbers and times as a query reads them, on both sides of a comparison:
 * in the query (`status:>=500`, `time:>=2026-11-29T10:00:00Z`) and in an
 * event's values (a logfmt `status=500` arrives as the string "500" and
 * still compares as a number).
 *
 * Number: optional `-`, digits, optional fraction, optional exponent
 * (`500`, `-1.5`, `2e3`); finite only. Time: RFC 3339 date-time with `Z` or
 * an offset and optional fraction (read to the millisecond), or a full date
 * (`2026-11-29`, midnight UTC); years 0000–9999.
 */

const NUMBER = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const TIME = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2})))?$/;

/** 0000-01-01T00:00:00.000Z and 9999-12-31T23:59:59.999Z: the times toISOString writes in this form. */
export const TIME_MIN_MS = -62_167_219_200_000;
export const TIME_MAX_MS = 253_402_300_799_999;

export function parseNumber(text: string): number | undefined {
  if (!NUMBER.test(text)) return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/** Milliseconds since the epoch, or undefined when `text` is not a time. */
export function parseTime(text: string): number | undefined {
  const match = TIME.exec(text);
  if (match === null) return undefined;
  const [, year, month, day, hour = "0", minute = "0", second = "0", fraction = "", , sign, offsetHours = "0", offsetMinutes = "0"] = match;
  const fields = [Number(year), Number(month) - 1, Number(day), Number(hour), Number(minute), Number(second)] as const;
  const date = new Date(0);
  date.setUTCFullYear(fields[0], fields[1], fields[2]);
  date.setUTCHours(fields[3], fields[4], fields[5], Number(fraction.padEnd(3, "0").slice(0, 3)));
  const valid =
    date.getUTCFullYear() === fields[0] &&
    date.getUTCMonth() === fields[1] &&
    date.getUTCDate() === fields[2] &&
    date.getUTCHours() === fields[3] &&
    date.getUTCMinutes() === fields[4] &&
    date.getUTCSeconds() === fields[5] &&
    Number(offsetHours) < 24 &&
    Number(offsetMinutes) < 60;
  if (!valid) return undefined;
  const offsetMs = (Number(offsetHours) * 60 + Number(offsetMinutes)) * 60_000;
  const ms = date.getTime() - (sign === "-" ? -offsetMs : sign === "+" ? offsetMs : 0);
  return ms >= TIME_MIN_MS && ms <= TIME_MAX_MS ? ms : undefined;
}
