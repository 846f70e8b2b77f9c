/**
 * Assembly of a successful parse result.
 *
 * A line whose time cannot be read still parses: its fields get
 * `time_parse_error` with the reason, and the event keeps the format's own
 * time (nginx, apache, syslog) or none (then the pipeline uses the read time).
 */
import type { TimeFieldReader } from "./time_field.ts";
import type { ParsedLine } from "./types.ts";

export type ParsedOk = Extract<ParsedLine, { ok: true }>;

/** The field that carries the reason a line's time could not be read. */
export const TIME_PARSE_ERROR_FIELD = "time_parse_error";

/**
 * The successful result: `timeField` (when configured) overrides `ownTimeMs`;
 * `ownTimeError` is the reason the format's own timestamp was unreadable.
 */
export function parsedOk(
  fields: Record<string, unknown>,
  message: string | undefined,
  referenceMs: number,
  timeField: TimeFieldReader | undefined,
  ownTimeMs?: number,
  ownTimeError?: string,
): ParsedOk {
  let timeMs = ownTimeMs;
  if (timeField !== undefined) {
    const time = timeField.read(fields, referenceMs);
    if (typeof time === "number") timeMs = time;
    else fields[TIME_PARSE_ERROR_FIELD] = time;
  } else if (ownTimeError !== undefined) {
    fields[TIME_PARSE_ERROR_FIELD] = ownTimeError;
  }
  const result: ParsedOk = { ok: true, fields };
  if (message !== undefined) result.message = message;
  if (timeMs !== undefined) result.timeMs = timeMs;
  return result;
}

/** Sets `fields[key]` as an own data property, even for "__proto__". */
export function setField(fields: Record<string, unknown>, key: string, value: unknown): void {
  if (key === "__proto__") Object.defineProperty(fields, key, { value, writable: true, enumerable: true, configurable: true });
  else fields[key] = value;
}
