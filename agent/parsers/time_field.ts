/**
 * `time_field` + `time_format`: the event time read from a parsed field.
 * Missing or unreadable times are reported as a reason, never thrown: see
 * `parsedOk` in result.ts for what happens to the line then.
 */
import { ConfigError } from "../../shared/errors.ts";
import type { ParserConfig } from "./types.ts";
import { compileTimeFormat, type TimeParser } from "./time.ts";

/** Default `time_format` when only `time_field` is given. */
const DEFAULT_TIME_FORMAT = "rfc3339";

export interface TimeFieldReader {
  readonly field: string;
  /** ms since the epoch, or the reason (a string) the field gave no time. */
  read(fields: Record<string, unknown>, referenceMs: number): number | string;
}

/** Validates and compiles `time_field`/`time_format`; undefined when the config sets neither. */
export function compileTimeField(config: ParserConfig): TimeFieldReader | undefined {
  if (config.time_field === undefined) {
    if (config.time_format !== undefined) {
      throw new ConfigError(`parser time_format "${config.time_format}" needs time_field: the field that holds the time`);
    }
    return undefined;
  }
  const field = config.time_field;
  if (field.length === 0) throw new ConfigError("parser time_field must not be empty");
  const format = config.time_format ?? DEFAULT_TIME_FORMAT;
  const parseTime: TimeParser = compileTimeFormat(format);
  const path = field.includes(".") ? field.split(".") : undefined;
  // Reasons are built once: they are the same for every line.
  const missingReason = `field "${field}" is missing`;
  const invalidReason = `field "${field}" does not match time_format ${JSON.stringify(format)}`;
  return {
    field,
    read(fields, referenceMs) {
      const value = lookup(fields, field, path);
      if (value === undefined || value === null) return missingReason;
      return parseTime(value, referenceMs) ?? invalidReason;
    },
  };
}

/** An own property `field`, else (for "a.b") the nested path; never the prototype chain. */
function lookup(fields: Record<string, unknown>, field: string, path: readonly string[] | undefined): unknown {
  if (Object.hasOwn(fields, field)) return fields[field];
  if (path === undefined) return undefined;
  let current: unknown = fields;
  for (const segment of path) {
    if (typeof current !== "object" || current === null || !Object.hasOwn(current, segment)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}
