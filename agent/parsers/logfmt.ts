/**
 * `logfmt`: `key=value key2="quoted \"value\"" flag`.
 *
 * - Pairs are separated by spaces or tabs. A key runs to `=` or whitespace and
 *   contains no `"`. A bare key (no `=`) is a flag: `true`.
 * - A bare value runs to the next whitespace and may contain `=` and `"`.
 *   `key=` is the empty string.
 * - A quoted value takes JSON escapes (\" \\ \/ \b \f \n \r \t \uXXXX); an
 *   unknown escape is kept as written. It must be followed by whitespace or
 *   the end of the line.
 * - Values stay strings: no number guessing. The last of repeated keys wins.
 * - `msg`, else `message`, becomes the message when it is a string.
 * - A line without a single key=value pair is not logfmt: a parse error, as
 *   are an unterminated quote, `=value` without a key and a quote in a key.
 */
import { parsedOk, setField } from "./result.ts";
import { compileTimeField } from "./time_field.ts";
import type { LineParser, ParsedLine, ParserConfig } from "./types.ts";

const TAB = 9;
const SPACE = 32;
const QUOTE = 34;
const EQUALS = 61;
const BACKSLASH = 92;

const MESSAGE_KEYS = ["msg", "message"] as const;

export function buildLogfmtParser(config: ParserConfig): LineParser {
  const timeField = compileTimeField(config);
  return {
    type: "logfmt",
    parse(line: string, observedMs: number): ParsedLine {
      const fields: Record<string, unknown> = {};
      const error = parseLogfmtInto(line, fields);
      if (error !== undefined) return { ok: false, error };
      let message: string | undefined;
      for (const key of MESSAGE_KEYS) {
        const value = fields[key];
        if (typeof value === "string") {
          message = value;
          delete fields[key];
          break;
        }
      }
      return parsedOk(fields, message, observedMs, timeField);
    },
  };
}

function isSpace(code: number): boolean {
  return code === SPACE || code === TAB;
}

/** Fills `fields` from `line`; returns the reason when the line is not logfmt. */
export function parseLogfmtInto(line: string, fields: Record<string, unknown>): string | undefined {
  const length = line.length;
  let index = 0;
  let pairCount = 0;
  while (index < length) {
    if (isSpace(line.charCodeAt(index))) {
      index++;
      continue;
    }
    const keyStart = index;
    let code = 0;
    while (index < length) {
      code = line.charCodeAt(index);
      if (isSpace(code) || code === EQUALS || code === QUOTE) break;
      index++;
    }
    if (index < length && code === QUOTE) return `unexpected '"' in key at column ${index + 1}`;
    if (index === keyStart) return `missing key before '=' at column ${index + 1}`;
    const key = line.slice(keyStart, index);
    if (index === length || code !== EQUALS) {
      setField(fields, key, true);
      continue;
    }
    index++; // past '='
    let value: string;
    if (index < length && line.charCodeAt(index) === QUOTE) {
      const valueStart = index + 1;
      let hasEscape = false;
      index = valueStart;
      while (index < length) {
        code = line.charCodeAt(index);
        if (code === QUOTE) break;
        if (code === BACKSLASH) {
          hasEscape = true;
          index += 2;
        } else {
          index++;
        }
      }
      if (index >= length) return `unterminated quoted value of key "${key}"`;
      const raw = line.slice(valueStart, index);
      value = hasEscape ? unescapeQuoted(raw) : raw;
      index++; // past the closing quote
      if (index < length && !isSpace(line.charCodeAt(index))) {
        return `unexpected text after the quoted value of key "${key}" at column ${index + 1}`;
      }
    } else {
      const valueStart = index;
      while (index < length && !isSpace(line.charCodeAt(index))) index++;
      value = line.slice(valueStart, index);
    }
    setField(fields, key, value);
    pairCount++;
  }
  return pairCount === 0 ? "no key=value pair" : undefined;
}

const SIMPLE_ESCAPES: Readonly<Record<string, string>> = {
  '"': '"',
  "\\": "\\",
  "/": "/",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
};
const HEX4 = /^[0-9A-Fa-f]{4}$/;

/** Resolves the escapes of a quoted value's inside (quotes already removed). */
function unescapeQuoted(raw: string): string {
  let out = "";
  let runStart = 0;
  let index = raw.indexOf("\\");
  while (index !== -1 && index + 1 < raw.length) {
    out += raw.slice(runStart, index);
    const letter = raw.charAt(index + 1);
    const simple = SIMPLE_ESCAPES[letter];
    let consumed = 2;
    if (simple !== undefined) {
      out += simple;
    } else if (letter === "u" && HEX4.test(raw.slice(index + 2, index + 6))) {
      out += String.fromCharCode(Number.parseInt(raw.slice(index + 2, index + 6), 16));
      consumed = 6;
    } else {
      out += raw.slice(index, index + 2); // unknown escape: kept as written
    }
    runStart = index + consumed;
    index = raw.indexOf("\\", runStart);
  }
  return out + raw.slice(runStart);
}
