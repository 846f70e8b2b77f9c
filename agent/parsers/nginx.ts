/** `nginx`: nginx's `combined` access log format (extra trailing fields allowed); see access_log.ts. */
import { buildAccessLogParser } from "./access_log.ts";
import type { LineParser, ParserConfig } from "./types.ts";

export function buildNginxParser(config: ParserConfig): LineParser {
  return buildAccessLogParser("nginx", config);
}
