/**
 * The NCSA access log shared by `nginx` and `apache`:
 *
 *   common:   client ident user [time] "request" status bytes
 *   combined: common + "referer" "user_agent"
 *   either may carry more fields after (nginx "$http_x_forwarded_for",
 *   apache %D ...): kept verbatim, trimmed, as `extra`.
 *
 * Fields: client, user (omitted when "-"), method, path, protocol, status
 * (number), bytes (number, "-" → 0), referer and user_agent (omitted when "-"
 * or absent), extra. A request that is not "METHOD target [PROTOCOL]" (a TLS
 * handshake sent to the HTTP port, say) is kept whole as `request`; "-" or an
 * empty request gives none of these. The time comes from [time], read as
 * `%d/%b/%Y:%H:%M:%S %z`.
 *
 * Both servers escape `"` and `\` with a backslash and other bytes as \xHH;
 * quoted values are unescaped, and a run of \xHH that is valid, printable
 * UTF-8 is decoded (nginx writes non-ASCII user agents that way). Other runs
 * stay escaped, so nothing is lost.
 */
import { compileTimeFormat } from "./time.ts";
import { parsedOk } from "./result.ts";
import { compileTimeField } from "./time_field.ts";
import type { LineParser, ParsedLine, ParserConfig } from "./types.ts";

/** A double-quoted string with backslash escapes, unrolled for speed; the inside is captured. */
const QUOTED = String.raw`"([^"\\]*(?:\\.[^"\\]*)*)"`;
const ACCESS_LINE = new RegExp(
  String.raw`^(\S+) \S+ (\S+) \[([^\]]+)\] ${QUOTED} (\d{3}) (\d+|-)(?: ${QUOTED} ${QUOTED})?(?:\s+(.*?))?\s*$`,
);
const REQUEST = /^([A-Za-z][A-Za-z_-]*) (\S+)(?: ([A-Za-z]+\/[\d.]+))?$/;
const TIME_LOCAL_FORMAT = "%d/%b/%Y:%H:%M:%S %z";
const NO_MATCH_REASON_SUFFIX = " access log line does not match the common or combined format";
const INVALID_TIME_REASON = "[time_local] is not a valid time";

const decoder = new TextDecoder("utf-8", { fatal: true });

export function buildAccessLogParser(type: "nginx" | "apache", config: ParserConfig): LineParser {
  const timeField = compileTimeField(config);
  const parseTimeLocal = compileTimeFormat(TIME_LOCAL_FORMAT);
  const noMatchReason = type + NO_MATCH_REASON_SUFFIX;
  return {
    type,
    parse(line: string, observedMs: number): ParsedLine {
      const match = ACCESS_LINE.exec(line);
      if (match === null) return { ok: false, error: noMatchReason };
      const [, client = "", user = "-", timeLocal, request = "", status = "", bytes = "-", referer, userAgent, extra] =
        match;
      const fields: Record<string, unknown> = { client };
      if (user !== "-") fields.user = user;
      addRequestFields(fields, request);
      fields.status = Number(status);
      fields.bytes = bytes === "-" ? 0 : Number(bytes);
      if (referer !== undefined && referer !== "-") fields.referer = unescapeAccessLog(referer);
      if (userAgent !== undefined && userAgent !== "-") fields.user_agent = unescapeAccessLog(userAgent);
      if (extra !== undefined && extra.length > 0) fields.extra = extra;
      const timeMs = parseTimeLocal(timeLocal, observedMs);
      return parsedOk(fields, undefined, observedMs, timeField, timeMs, timeMs === undefined ? INVALID_TIME_REASON : undefined);
    },
  };
}

function addRequestFields(fields: Record<string, unknown>, quotedRequest: string): void {
  if (quotedRequest.length === 0 || quotedRequest === "-") return;
  const request = unescapeAccessLog(quotedRequest);
  const parts = REQUEST.exec(request);
  if (parts === null) {
    fields.request = request;
    return;
  }
  fields.method = parts[1];
  fields.path = parts[2];
  if (parts[3] !== undefined) fields.protocol = parts[3];
}

/** One pass, left to right: a run of \xHH escapes, or \" / \\. */
const ESCAPE = /(?:\\x[0-9A-Fa-f]{2})+|\\(["\\])/g;
/** C0 controls and DEL: decoded bytes in this range stay escaped. */
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f]/;

/** Undoes the servers' escaping; text without a backslash comes back as is. */
export function unescapeAccessLog(text: string): string {
  if (!text.includes("\\")) return text;
  return text.replace(ESCAPE, unescapeOne);
}

function unescapeOne(escape: string, escapedCharacter: string | undefined): string {
  return escapedCharacter ?? decodeHexRun(escape);
}

function decodeHexRun(run: string): string {
  const bytes = new Uint8Array(run.length / 4);
  for (let index = 0; index < bytes.length; index++) bytes[index] = Number.parseInt(run.slice(index * 4 + 2, index * 4 + 4), 16);
  let decoded: string;
  try {
    decoded = decoder.decode(bytes);
  } catch {
    return run; // not UTF-8 (binary garbage): keep it escaped rather than lose bytes
  }
  return CONTROL_CHARACTER.test(decoded) ? run : decoded;
}
