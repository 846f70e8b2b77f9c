/**
 * `buildParser`: validates a source's parser config and compiles it once into
 * a `LineParser` for the hot path. Invalid config (a bad regex, an unknown
 * time_format) throws ConfigError here, never later per line.
 */
import { ConfigError } from "../../shared/errors.ts";
import { buildApacheParser } from "./apache.ts";
import { buildJsonParser } from "./json.ts";
import { buildLogfmtParser } from "./logfmt.ts";
import { buildNginxParser } from "./nginx.ts";
import { buildRegexParser } from "./regex.ts";
import { buildSyslogParser } from "./syslog.ts";
import { compileTimeField } from "./time_field.ts";
import type { LineParser, ParsedLine, ParserConfig } from "./types.ts";

export type { LineParser, ParsedLine, ParserConfig, ParserType } from "./types.ts";
export { compileTimeFormat, type TimeParser } from "./time.ts";

/** `none`: the line stays the message. The pipeline does not call it; it is here for completeness. */
const NONE_PARSER: LineParser = {
  type: "none",
  parse(): ParsedLine {
    return { ok: true, fields: {} };
  },
};

export function buildParser(config: ParserConfig): LineParser {
  if (config.type !== "regex" && config.pattern !== undefined) {
    throw new ConfigError(`parser pattern is only for type regex, not ${config.type}`);
  }
  if (config.type !== "json" && config.message_key !== undefined) {
    throw new ConfigError(`parser message_key is only for type json, not ${config.type}`);
  }
  switch (config.type) {
    case "none":
      if (compileTimeField(config) !== undefined) throw new ConfigError("parser type none cannot read time_field");
      return NONE_PARSER;
    case "json":
      return buildJsonParser(config);
    case "logfmt":
      return buildLogfmtParser(config);
    case "regex":
      return buildRegexParser(config);
    case "nginx":
      return buildNginxParser(config);
    case "apache":
      return buildApacheParser(config);
    case "syslog":
      return buildSyslogParser(config);
    default:
      throw new ConfigError(`unknown parser type "${(config as { type: unknown }).type}"`);
  }
}
