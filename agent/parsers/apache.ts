/** `apache`: Apache httpd's common and combined log formats; see access_log.ts. */
import { buildAccessLogParser } from "./access_log.ts";
import type { LineParser, ParserConfig } from "./types.ts";

export function buildApacheParser(config: ParserConfig): LineParser {
  return buildAccessLogParser("apache", config);
}
