/**
 * Sizes and durations as operators write them in YAML.
 *
 * Sizes: a number with an optional unit. Binary units KiB/MiB/GiB/TiB are
 * powers of 1024, decimal units KB/MB/GB/TB powers of 1000, `B` or no unit
 * means bytes. Units are case-insensitive (`64kib` = `64KiB`); there are no
 * bit units, so `Mb` is read as megabytes. A YAML number is bytes.
 *
 * Durations: one or more `<number><unit>` parts (`250ms`, `5s`, `1m30s`)
 * with units ms, s, m, h, d; a bare number (string or YAML number) is
 * milliseconds. Results are rounded to whole bytes / milliseconds.
 */
import { z } from "zod";
import { ConfigError } from "../errors.ts";

const SIZE_UNIT_BYTES: Readonly<Record<string, number>> = {
  b: 1,
  kb: 1000,
  mb: 1000 ** 2,
  gb: 1000 ** 3,
  tb: 1000 ** 4,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
};

const DURATION_UNIT_MS: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1000,
  m: 60 * 1000,
  h: 60 * 60 * 1000,
  d: 24 * 60 * 60 * 1000,
};

const SIZE_EXAMPLE = "expected a size like 64KiB, 1MiB, 10GiB";
const DURATION_EXAMPLE = "expected a duration like 250ms, 5s, 2m, 1h, 7d";

const SIZE_PATTERN = /^(\d+(?:\.\d+)?|\.\d+)\s*([A-Za-z]*)$/;
const DURATION_PART_PATTERN = /(\d+(?:\.\d+)?|\.\d+)\s*([A-Za-z]+)/y;

/** Parses a size into bytes. Throws ConfigError with an example of the expected form. */
export function parseSize(input: string | number): number {
  const bytes = trySize(input);
  if (typeof bytes === "string") throw new ConfigError(bytes);
  return bytes;
}

/** Parses a duration into milliseconds. Throws ConfigError with an example of the expected form. */
export function parseDuration(input: string | number): number {
  const durationMs = tryDuration(input);
  if (typeof durationMs === "string") throw new ConfigError(durationMs);
  return durationMs;
}

/** Bytes, or an error message. */
function trySize(input: string | number): number | string {
  if (typeof input === "number") {
    if (!Number.isSafeInteger(input) || input < 0) {
      return `${SIZE_EXAMPLE}; a plain number is bytes and must be a whole number ≥ 0, got ${input}`;
    }
    return input;
  }
  const got = `got ${JSON.stringify(input)}`;
  const match = SIZE_PATTERN.exec(input.trim());
  if (match === null) return `${SIZE_EXAMPLE}; ${got}`;
  const [, digits = "", unit = ""] = match;
  const unitBytes = unit === "" ? 1 : SIZE_UNIT_BYTES[unit.toLowerCase()];
  if (unitBytes === undefined) {
    return `${SIZE_EXAMPLE}; unknown unit ${JSON.stringify(unit)} (use B, KB, MB, GB, TB, KiB, MiB, GiB or TiB); ${got}`;
  }
  const value = Number(digits);
  if (unitBytes === 1 && !Number.isInteger(value)) return `${SIZE_EXAMPLE}; bytes must be a whole number; ${got}`;
  const bytes = Math.round(value * unitBytes);
  if (!Number.isSafeInteger(bytes)) return `${SIZE_EXAMPLE}; too large; ${got}`;
  return bytes;
}

/** Milliseconds, or an error message. */
function tryDuration(input: string | number): number | string {
  if (typeof input === "number") {
    if (!Number.isFinite(input) || input < 0) {
      return `${DURATION_EXAMPLE}; a plain number is milliseconds and must be ≥ 0, got ${input}`;
    }
    return Math.round(input);
  }
  const got = `got ${JSON.stringify(input)}`;
  const text = input.trim();
  if (/^\d+(?:\.\d+)?$/.test(text)) return Math.round(Number(text));
  if (text === "") return `${DURATION_EXAMPLE}; ${got}`;
  let totalMs = 0;
  DURATION_PART_PATTERN.lastIndex = 0;
  while (DURATION_PART_PATTERN.lastIndex < text.length) {
    const match = DURATION_PART_PATTERN.exec(text);
    if (match === null) return `${DURATION_EXAMPLE}; ${got}`;
    const [, digits = "", unit = ""] = match;
    const unitMs = DURATION_UNIT_MS[unit];
    if (unitMs === undefined) {
      return `${DURATION_EXAMPLE}; unknown unit ${JSON.stringify(unit)} (use ms, s, m, h or d); ${got}`;
    }
    totalMs += Number(digits) * unitMs;
  }
  const durationMs = Math.round(totalMs);
  if (!Number.isSafeInteger(durationMs)) return `${DURATION_EXAMPLE}; too large; ${got}`;
  return durationMs;
}

/** Limits for `sizeSchema`/`durationSchema` range variants. */
export interface RangeLimits {
  min?: number;
  max?: number;
}

function checkRange(value: number, limits: RangeLimits, describe: (n: number) => string): string | undefined {
  if (limits.min !== undefined && value < limits.min) return `must be at least ${describe(limits.min)}, got ${describe(value)}`;
  if (limits.max !== undefined && value > limits.max) return `must be at most ${describe(limits.max)}, got ${describe(value)}`;
  return undefined;
}

/** Renders bytes with the largest binary unit that divides them exactly (1048576 → "1MiB"). */
export function formatSize(bytes: number): string {
  for (const unit of ["TiB", "GiB", "MiB", "KiB"] as const) {
    const unitBytes = SIZE_UNIT_BYTES[unit.toLowerCase()] ?? 1;
    if (bytes >= unitBytes && bytes % unitBytes === 0) return `${bytes / unitBytes}${unit}`;
  }
  return `${bytes}B`;
}

/** Renders milliseconds with the largest unit that divides them exactly (300000 → "5m"). */
export function formatDuration(durationMs: number): string {
  for (const unit of ["d", "h", "m", "s"] as const) {
    const unitMs = DURATION_UNIT_MS[unit] ?? 1;
    if (durationMs >= unitMs && durationMs % unitMs === 0) return `${durationMs / unitMs}${unit}`;
  }
  return `${durationMs}ms`;
}

/** A size (string with unit, or a number of bytes) → bytes. Optional inclusive byte limits. */
export function boundedSize(limits: RangeLimits) {
  return z
    .union([z.string(), z.number()], { error: `${SIZE_EXAMPLE} or a number of bytes` })
    .transform((input, ctx) => {
      const bytes = trySize(input);
      const problem = typeof bytes === "string" ? bytes : checkRange(bytes, limits, formatSize);
      if (problem !== undefined) {
        ctx.addIssue({ code: "custom", message: problem, input });
        return z.NEVER;
      }
      return bytes as number;
    });
}

/** A duration (string with unit, or a number of milliseconds) → milliseconds. Optional inclusive ms limits. */
export function boundedDuration(limits: RangeLimits) {
  return z
    .union([z.string(), z.number()], { error: `${DURATION_EXAMPLE} or a number of milliseconds` })
    .transform((input, ctx) => {
      const durationMs = tryDuration(input);
      const problem = typeof durationMs === "string" ? durationMs : checkRange(durationMs, limits, formatDuration);
      if (problem !== undefined) {
        ctx.addIssue({ code: "custom", message: problem, input });
        return z.NEVER;
      }
      return durationMs as number;
    });
}

/** A size → bytes, any value ≥ 0. */
export const sizeSchema = boundedSize({});

/** A duration → milliseconds, any value ≥ 0. */
export const durationSchema = boundedDuration({});
