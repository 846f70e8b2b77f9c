/**
 * A line parser turns one line (or one joined multiline event) into fields.
 * Parsers are built once per source from validated config and then called on
 * the hot path, so `parse` must not compile regexes or allocate needlessly.
 */
export type ParsedLine =
  | {
      ok: true;
      /** Parsed fields, merged over the source's static `fields`. */
      fields: Record<string, unknown>;
      /** Replaces the event's message when the format has one (e.g. json `message`). */
      message?: string;
      /** Event time in ms since the epoch, from `time_field` + `time_format` or the format itself. */
      timeMs?: number;
    }
  | { ok: false; error: string };

export interface LineParser {
  readonly type: ParserType;
  /** `observedMs` is when the line was read (syslog RFC 3164 has no year; it borrows this one's). */
  parse(line: string, observedMs: number): ParsedLine;
}

export type ParserType = "none" | "json" | "logfmt" | "regex" | "nginx" | "apache" | "syslog";

/** Parser configuration as it comes out of the validated agent config (`sources[].parser`). */
export interface ParserConfig {
  type: ParserType;
  /** regex only: a JavaScript regular expression with named groups. */
  pattern?: string;
  /** json only: key whose string value becomes the message (default "message", then "msg"). */
  message_key?: string;
  /** Field that holds the event time (default per format: nginx/apache/syslog their own timestamp). */
  time_field?: string;
  /** How to read `time_field`: rfc3339 | unix | unix_ms | a strftime pattern like "%d/%b/%Y:%H:%M:%S %z". */
  time_format?: string;
}
