/**
 * Time formats for `time_format` and for the formats' own timestamps.
 *
 * - `rfc3339`: RFC 3339 and its ISO 8601 cousins: `T`, `t` or a space between
 *   date and time, `.` or `,` before any number of fraction digits (kept to
 *   the millisecond, truncated), `Z` or `±hh:mm` / `±hhmm` / `±hh`. No offset
 *   means UTC.
 * - `unix`: seconds since the epoch, fractional ok, as a number or a string.
 * - `unix_ms`: milliseconds since the epoch, as a number or a string.
 * - otherwise a strftime-like pattern: %Y %y %m %d %e %H %M %S %f %z %b %j
 *   %T (= %H:%M:%S) %F (= %Y-%m-%d) %% and literal text. A pattern is compiled
 *   once into an anchored RegExp plus a plan saying which capture group holds
 *   which part; a call runs one `exec` and reads the groups.
 *
 * Without a year in the pattern, the year is taken from `referenceMs` (when the
 * line was read); if that puts the time more than a day ahead of the
 * reference, the previous year is used instead (a syslog line from Dec 31
 * read on Jan 1); symmetrically, a time early in January read on Dec 31 that
 * is within a day ahead in next year is taken as next year's (clock skew). Without %z the time is UTC. Impossible dates (Feb 30,
 * hour 25, second 60) give undefined, never a rolled-over date.
 */
import { ConfigError } from "../../shared/errors.ts";

/** Returns ms since the epoch, or undefined when `value` is not a time in this format. */
export type TimeParser = (value: unknown, referenceMs: number) => number | undefined;

const MS_PER_DAY = 86_400_000;
/** A yearless time may lie this far ahead of the reference before we take it for last year. */
const FUTURE_TOLERANCE_MS = MS_PER_DAY;
/** A yearless time this far behind the reference may be next year's, if that is within the tolerance. */
const ALMOST_A_YEAR_MS = 364 * MS_PER_DAY;
/** ECMAScript's time value range, ±100,000,000 days. */
const TIME_VALUE_MAX_MS = 8.64e15;

const MONTH_BY_ABBREVIATION: ReadonlyMap<string, number> = new Map(
  ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"].map(
    (name, index) => [name, index + 1] as const,
  ),
);

/**
 * Capture group index of each part of a time (0 = the pattern lacks it).
 * Built once per format; read per call.
 */
interface ExtractionPlan {
  year: number;
  shortYear: number;
  month: number;
  monthName: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  fraction: number;
  offset: number;
}

export function compileTimeFormat(format: string): TimeParser {
  switch (format) {
    case "rfc3339":
      return parseRfc3339;
    case "unix":
      return parseUnixSeconds;
    case "unix_ms":
      return parseUnixMilliseconds;
  }
  if (!format.includes("%")) {
    throw new ConfigError(
      `unknown time_format "${format}": expected rfc3339, unix, unix_ms or a strftime pattern such as "%Y-%m-%d %H:%M:%S"`,
    );
  }
  return compileStrftime(format);
}

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:[.,](\d+))?([Zz]|[+-]\d{2}(?::?\d{2})?)?$/;
const RFC3339_PLAN: ExtractionPlan = {
  year: 1,
  shortYear: 0,
  month: 2,
  monthName: 0,
  day: 3,
  hour: 4,
  minute: 5,
  second: 6,
  fraction: 7,
  offset: 8,
};

function parseRfc3339(value: unknown, referenceMs: number): number | undefined {
  if (typeof value !== "string") return undefined;
  const match = RFC3339.exec(value);
  return match === null ? undefined : timeFromMatch(match, RFC3339_PLAN, referenceMs);
}

const DECIMAL = /^-?\d+(?:\.\d+)?$/;

function numberFrom(value: unknown): number {
  if (typeof value === "number") return value;
  if (typeof value === "string" && DECIMAL.test(value)) return Number(value);
  return Number.NaN;
}

function parseUnixSeconds(value: unknown): number | undefined {
  return checkedTimeValue(Math.round(numberFrom(value) * 1000));
}

function parseUnixMilliseconds(value: unknown): number | undefined {
  return checkedTimeValue(Math.round(numberFrom(value)));
}

function checkedTimeValue(ms: number): number | undefined {
  return Number.isFinite(ms) && Math.abs(ms) <= TIME_VALUE_MAX_MS ? ms : undefined;
}

/** Directive letter → [plan key or null for "match but ignore", regex source]. */
const DIRECTIVES: Readonly<Record<string, readonly [keyof ExtractionPlan | null, string]>> = {
  Y: ["year", "(\\d{4})"],
  y: ["shortYear", "(\\d{2})"],
  m: ["month", "(\\d{2})"],
  b: ["monthName", "([A-Za-z]{3})"],
  h: ["monthName", "([A-Za-z]{3})"],
  d: ["day", "(\\d{2})"],
  e: ["day", "([ \\d]?\\d)"],
  H: ["hour", "(\\d{2})"],
  M: ["minute", "(\\d{2})"],
  S: ["second", "(\\d{2})"],
  f: ["fraction", "(\\d{1,9})"],
  z: ["offset", "([Zz]|[+-]\\d{2}:?\\d{2})"],
  j: [null, "\\d{3}"],
};
const EXPANSIONS: Readonly<Record<string, string>> = { T: "%H:%M:%S", F: "%Y-%m-%d" };

function compileStrftime(format: string): TimeParser {
  const plan: ExtractionPlan = {
    year: 0,
    shortYear: 0,
    month: 0,
    monthName: 0,
    day: 0,
    hour: 0,
    minute: 0,
    second: 0,
    fraction: 0,
    offset: 0,
  };
  const expanded = format.replace(/%([TF])/g, (_, letter: string) => EXPANSIONS[letter] ?? "");
  let source = "^";
  let groupCount = 0;
  for (let index = 0; index < expanded.length; index++) {
    const character = expanded.charAt(index);
    if (character !== "%") {
      source += escapeRegExp(character);
      continue;
    }
    index++;
    const letter = expanded.charAt(index);
    if (letter === "%") {
      source += "%";
      continue;
    }
    const directive = DIRECTIVES[letter];
    if (directive === undefined) {
      throw new ConfigError(`time_format "${format}": unsupported directive "%${letter}"`);
    }
    const [part, partSource] = directive;
    source += partSource;
    if (part === null) continue;
    if (plan[part] !== 0) throw new ConfigError(`time_format "${format}": "%${letter}" repeats a part already given`);
    plan[part] = ++groupCount;
  }
  if (plan.month === 0 && plan.monthName === 0) throw new ConfigError(`time_format "${format}" has no month (%m or %b)`);
  if (plan.day === 0) throw new ConfigError(`time_format "${format}" has no day (%d or %e)`);
  if (plan.year !== 0 && plan.shortYear !== 0) throw new ConfigError(`time_format "${format}" has both %Y and %y`);
  const pattern = new RegExp(source + "$");
  return (value, referenceMs) => {
    if (typeof value !== "string") return undefined;
    const match = pattern.exec(value);
    return match === null ? undefined : timeFromMatch(match, plan, referenceMs);
  };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

function group(match: RegExpExecArray, index: number): string {
  return match[index] ?? "";
}

/** Reads the parts named by `plan` from `match`; undefined for an impossible date. */
function timeFromMatch(match: RegExpExecArray, plan: ExtractionPlan, referenceMs: number): number | undefined {
  const month =
    plan.month !== 0
      ? Number(group(match, plan.month))
      : (MONTH_BY_ABBREVIATION.get(group(match, plan.monthName).toLowerCase()) ?? 0);
  const day = Number(group(match, plan.day));
  const hour = plan.hour === 0 ? 0 : Number(group(match, plan.hour));
  const minute = plan.minute === 0 ? 0 : Number(group(match, plan.minute));
  const second = plan.second === 0 ? 0 : Number(group(match, plan.second));
  const millisecond = plan.fraction === 0 ? 0 : fractionToMilliseconds(match[plan.fraction]);
  const offsetMinutes = plan.offset === 0 ? 0 : offsetToMinutes(match[plan.offset]);
  if (offsetMinutes === undefined) return undefined;
  if (plan.year !== 0 || plan.shortYear !== 0) {
    const year = plan.year !== 0 ? Number(group(match, plan.year)) : shortYearToYear(Number(group(match, plan.shortYear)));
    return utcMilliseconds(year, month, day, hour, minute, second, millisecond, offsetMinutes);
  }
  const referenceYear = new Date(referenceMs).getUTCFullYear();
  const thisYear = utcMilliseconds(referenceYear, month, day, hour, minute, second, millisecond, offsetMinutes);
  if (thisYear !== undefined && thisYear - referenceMs <= FUTURE_TOLERANCE_MS) {
    if (referenceMs - thisYear < ALMOST_A_YEAR_MS) return thisYear;
    // "Jan 1 00:00:01" read at Dec 31 23:59:59: the sender's clock is already in next year.
    const nextYear = utcMilliseconds(referenceYear + 1, month, day, hour, minute, second, millisecond, offsetMinutes);
    return nextYear !== undefined && nextYear - referenceMs <= FUTURE_TOLERANCE_MS ? nextYear : thisYear;
  }
  // Ahead of the reference (or Feb 29 in a common year): the line is from last year.
  return utcMilliseconds(referenceYear - 1, month, day, hour, minute, second, millisecond, offsetMinutes);
}

/** POSIX strptime: 69–99 → 1969–1999, 00–68 → 2000–2068. */
function shortYearToYear(shortYear: number): number {
  return shortYear >= 69 ? 1900 + shortYear : 2000 + shortYear;
}

/** Fraction digits → whole milliseconds, truncated ("5" → 500, "123456" → 123). */
function fractionToMilliseconds(digits: string | undefined): number {
  if (digits === undefined || digits.length === 0) return 0;
  if (digits.length >= 3) return Number(digits.length === 3 ? digits : digits.slice(0, 3));
  return Number(digits) * (digits.length === 1 ? 100 : 10);
}

/** "Z" → 0, "+05:30" / "+0530" → 330, "-08" → -480; undefined when out of range. */
function offsetToMinutes(text: string | undefined): number | undefined {
  if (text === undefined || text.length === 0) return 0;
  const first = text.charCodeAt(0);
  if (first === 90 || first === 122) return 0; // Z z
  const hours = Number(text.slice(1, 3));
  const minutes = text.length > 3 ? Number(text.slice(text.length - 2)) : 0;
  if (hours > 23 || minutes > 59) return undefined;
  const magnitude = hours * 60 + minutes;
  return first === 45 ? -magnitude : magnitude; // "-"
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const shiftedYear = month <= 2 ? year - 1 : year;
  const era = Math.floor(shiftedYear / 400);
  const yearOfEra = shiftedYear - era * 400;
  const dayOfYear = Math.floor((153 * ((month + 9) % 12) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/**
 * Validated civil time → ms since the epoch; undefined for an impossible date
 * or time. Exported for the tests and for parsers that already split a time.
 */
export function utcMilliseconds(
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
  second: number,
  millisecond: number,
  offsetMinutes: number,
): number | undefined {
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const ms =
    daysFromCivil(year, month, day) * MS_PER_DAY +
    ((hour * 60 + minute - offsetMinutes) * 60 + second) * 1000 +
    millisecond;
  return checkedTimeValue(ms);
}
