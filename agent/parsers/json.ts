/**
 * `json`: one JSON object per line. The object itself becomes the fields (no
 * copy); the string value of the message key becomes the message and leaves
 * the fields. Anything but an object (array, number, string, null) or invalid
 * JSON is a parse error.
 */
import { compileTimeField } from "./time_field.ts";
import { parsedOk } from "./result.ts";
import type { LineParser, ParsedLine, ParserConfig } from "./types.ts";

/** Longest JSON syntax error text we pass on; V8's quotes part of the line. */
const SYNTAX_REASON_CHARS_MAX = 120;

export function buildJsonParser(config: ParserConfig): LineParser {
  const timeField = compileTimeField(config);
  // With message_key set, only that key; otherwise "message", then "msg".
  const firstMessageKey = config.message_key ?? "message";
  const secondMessageKey = config.message_key === undefined ? "msg" : undefined;
  return {
    type: "json",
    parse(line: string, observedMs: number): ParsedLine {
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (error) {
        return { ok: false, error: `invalid JSON: ${syntaxReason(error)}` };
      }
      if (typeof value !== "object" || value === null || Array.isArray(value)) {
        return { ok: false, error: `expected a JSON object, got ${describe(value)}` };
      }
      const fields = value as Record<string, unknown>;
      let messageKey = firstMessageKey;
      let message = fields[messageKey];
      if (typeof message !== "string" && secondMessageKey !== undefined) {
        messageKey = secondMessageKey;
        message = fields[messageKey];
      }
      if (typeof message !== "string") return parsedOk(fields, undefined, observedMs, timeField);
      delete fields[messageKey];
      return parsedOk(fields, message, observedMs, timeField);
    },
  };
}

function syntaxReason(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.length > SYNTAX_REASON_CHARS_MAX ? `${text.slice(0, SYNTAX_REASON_CHARS_MAX)}…` : text;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return `a ${typeof value}`;
}
