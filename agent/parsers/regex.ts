/**
 * `regex`: a JavaScript regular expression (no flags) with named groups. Each
 * group that took part in the match becomes a field; a group named `message`
 * becomes the message instead. The pattern is not anchored unless it says so.
 */
import { ConfigError } from "../../shared/errors.ts";
import { parsedOk, setField } from "./result.ts";
import { compileTimeField } from "./time_field.ts";
import type { LineParser, ParsedLine, ParserConfig } from "./types.ts";

const MESSAGE_GROUP = "message";
const NO_MATCH_REASON = "line does not match pattern";

/** Compiles `config.pattern`; a ConfigError when it is missing, invalid or has no named group. */
export function compilePattern(pattern: string | undefined): RegExp {
  if (pattern === undefined || pattern.length === 0) throw new ConfigError("regex parser needs a pattern");
  let compiled: RegExp;
  try {
    compiled = new RegExp(pattern);
  } catch (error) {
    const hint = pattern.includes("(?P<") ? ' (named groups are written (?<name>...), not (?P<name>...))' : "";
    throw new ConfigError(`regex parser pattern is invalid: ${(error as Error).message}${hint}`, { cause: error });
  }
  if (!/\(\?<[A-Za-z_$]/.test(pattern)) {
    throw new ConfigError(`regex parser pattern has no named group such as (?<level>\\w+): it would yield no fields`);
  }
  return compiled;
}

export function buildRegexParser(config: ParserConfig): LineParser {
  const pattern = compilePattern(config.pattern);
  const timeField = compileTimeField(config);
  return {
    type: "regex",
    parse(line: string, observedMs: number): ParsedLine {
      const groups = pattern.exec(line)?.groups;
      if (groups === undefined) return { ok: false, error: NO_MATCH_REASON };
      const fields: Record<string, unknown> = {};
      let message: string | undefined;
      for (const name in groups) {
        const value = groups[name];
        if (value === undefined) continue;
        if (name === MESSAGE_GROUP) message = value;
        else setField(fields, name, value);
      }
      return parsedOk(fields, message, observedMs, timeField);
    },
  };
}
