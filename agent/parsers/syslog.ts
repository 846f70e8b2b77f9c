/**
 * `syslog`: RFC 5424 and RFC 3164 (BSD) lines, told apart by the version
 * digit after `<PRI>`.
 *
 *   RFC 5424: <PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD [MSG]
 *   RFC 3164: [<PRI>]Mmm dd hh:mm:ss [HOSTNAME] [TAG[PID]:] MSG
 *             (rsyslog's RFC 3339 timestamp is accepted in place of Mmm dd ...)
 *
 * Fields: facility and severity as names ("auth", "local0"; "err", "info"),
 * hostname, appname, procid, msgid, and for RFC 5424 `sd` as
 * {sd-id: {param: value}} (repeated ids merge, a repeated param's last value
 * wins). NILVALUE "-" fields are omitted. The message is MSG (a leading BOM
 * removed); a line without MSG keeps the raw line as its message.
 * RFC 3164 has no year: it is borrowed from the time the line was read.
 * In RFC 3164 a first word that looks like a tag ("sshd[42]:") means the
 * sender left the hostname out (local /dev/log messages do).
 */
import { compileTimeFormat } from "./time.ts";
import { parsedOk, setField } from "./result.ts";
import { compileTimeField } from "./time_field.ts";
import type { LineParser, ParsedLine, ParserConfig } from "./types.ts";

const FACILITIES = [
  "kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
  "uucp", "cron", "authpriv", "ftp", "ntp", "security", "console", "solaris-cron",
  "local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
] as const;
const SEVERITIES = ["emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"] as const;
const PRI_MAX = 191;
const NILVALUE = "-";
const BOM = "\uFEFF";

const RFC5424_HEADER = /^<(\d{1,3})>([1-9]\d?) (\S+) (\S+) (\S+) (\S+) (\S+) /;
const RFC3164_HEADER = /^(?:<(\d{1,3})>)?(?:([A-Za-z]{3} {1,2}\d{1,2} \d{2}:\d{2}:\d{2})|(\d{4}-\d{2}-\d{2}T\S+))(?: |$)/;
/** A first word that is a tag, not a hostname: "sshd:", "CRON[42]:". */
const TAG_WORD = /^[^\s[\]:]+(?:\[[^\]\s]*\])?:$/;
const TAG_PREFIX = /^([^\s[\]:]+)(?:\[([^\]\s]*)\])?:(?: |$)/;

const NOT_SYSLOG_REASON = "line is not RFC 5424 or RFC 3164 syslog";
const INVALID_TIME_REASON = "syslog timestamp is not a valid time";

type StructuredData = Record<string, Record<string, string>>;

export function buildSyslogParser(config: ParserConfig): LineParser {
  const timeField = compileTimeField(config);
  const parseRfc3339 = compileTimeFormat("rfc3339");
  const parseBsdTime = compileTimeFormat("%b %e %H:%M:%S");

  function parseRfc5424(line: string, header: RegExpExecArray, observedMs: number): ParsedLine {
    const [, priText = "", , timestamp = NILVALUE, hostname, appname, procid, msgid] = header;
    const fields: Record<string, unknown> = {};
    const priError = addPriority(fields, priText);
    if (priError !== undefined) return { ok: false, error: priError };
    addUnlessNil(fields, "hostname", hostname);
    addUnlessNil(fields, "appname", appname);
    addUnlessNil(fields, "procid", procid);
    addUnlessNil(fields, "msgid", msgid);
    let index = header[0].length;
    if (line.charCodeAt(index) === 45 /* - */) {
      index++;
    } else {
      const sd: StructuredData = {};
      const end = parseStructuredData(line, index, sd);
      if (end < 0) return { ok: false, error: "malformed RFC 5424 structured data" };
      fields.sd = sd;
      index = end;
    }
    let message: string | undefined;
    if (index < line.length) {
      if (line.charCodeAt(index) !== 32) return { ok: false, error: "RFC 5424 structured data must be followed by a space" };
      message = line.startsWith(BOM, index + 1) ? line.slice(index + 1 + BOM.length) : line.slice(index + 1);
    }
    if (timestamp === NILVALUE) return parsedOk(fields, message, observedMs, timeField);
    const timeMs = parseRfc3339(timestamp, observedMs);
    return parsedOk(fields, message, observedMs, timeField, timeMs, timeMs === undefined ? INVALID_TIME_REASON : undefined);
  }

  function parseRfc3164(line: string, header: RegExpExecArray, observedMs: number): ParsedLine {
    const [, priText, bsdTimestamp, isoTimestamp] = header;
    const fields: Record<string, unknown> = {};
    if (priText !== undefined) {
      const priError = addPriority(fields, priText);
      if (priError !== undefined) return { ok: false, error: priError };
    }
    let rest = line.slice(header[0].length);
    const firstSpace = rest.indexOf(" ");
    const firstWord = firstSpace < 0 ? rest : rest.slice(0, firstSpace);
    if (firstWord.length > 0 && !TAG_WORD.test(firstWord)) {
      fields.hostname = firstWord;
      rest = firstSpace < 0 ? "" : rest.slice(firstSpace + 1);
    }
    const tag = TAG_PREFIX.exec(rest);
    if (tag !== null) {
      fields.appname = tag[1];
      if (tag[2] !== undefined && tag[2].length > 0) fields.procid = tag[2];
      rest = rest.slice(tag[0].length);
    }
    const timeMs = isoTimestamp !== undefined ? parseRfc3339(isoTimestamp, observedMs) : parseBsdTime(bsdTimestamp, observedMs);
    return parsedOk(fields, rest, observedMs, timeField, timeMs, timeMs === undefined ? INVALID_TIME_REASON : undefined);
  }

  return {
    type: "syslog",
    parse(line: string, observedMs: number): ParsedLine {
      const rfc5424 = RFC5424_HEADER.exec(line);
      if (rfc5424 !== null) return parseRfc5424(line, rfc5424, observedMs);
      const rfc3164 = RFC3164_HEADER.exec(line);
      if (rfc3164 !== null) return parseRfc3164(line, rfc3164, observedMs);
      return { ok: false, error: NOT_SYSLOG_REASON };
    },
  };
}

/** Adds facility and severity; returns the reason when PRI is out of range. */
function addPriority(fields: Record<string, unknown>, priText: string): string | undefined {
  const pri = Number(priText);
  if (pri > PRI_MAX) return `syslog PRI ${priText} is out of range 0-${PRI_MAX}`;
  fields.facility = FACILITIES[pri >> 3];
  fields.severity = SEVERITIES[pri & 7];
  return undefined;
}

function addUnlessNil(fields: Record<string, unknown>, key: string, value: string | undefined): void {
  if (value !== undefined && value !== NILVALUE) fields[key] = value;
}

const SD_ELEMENT_START = /\[([^\s=\]"]+)/y;
const SD_PARAM = / ([^\s=\]"]+)="((?:[^"\\]|\\.)*)"/y;
const SD_ESCAPE = /\\(["\\\]])/g;

/**
 * Parses one or more `[id name="value" ...]` at `start` into `sd`; returns the
 * index after the last `]`, or -1 when malformed. Values unescape \" \\ \]
 * (RFC 5424 §6.3.3: any other backslash is kept).
 */
function parseStructuredData(line: string, start: number, sd: StructuredData): number {
  let index = start;
  do {
    SD_ELEMENT_START.lastIndex = index;
    const element = SD_ELEMENT_START.exec(line);
    if (element === null) return -1;
    const id = element[1] ?? "";
    const params = Object.hasOwn(sd, id) ? (sd[id] ?? {}) : {};
    index = SD_ELEMENT_START.lastIndex;
    for (;;) {
      SD_PARAM.lastIndex = index;
      const param = SD_PARAM.exec(line);
      if (param === null) break;
      const [, name = "", rawValue = ""] = param;
      const value = rawValue.includes("\\") ? rawValue.replace(SD_ESCAPE, "$1") : rawValue;
      setField(params, name, value);
      index = SD_PARAM.lastIndex;
    }
    if (line.charCodeAt(index) !== 93 /* ] */) return -1;
    index++;
    setField(sd, id, params);
  } while (line.charCodeAt(index) === 91 /* [ */);
  return index;
}
