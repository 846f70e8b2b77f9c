/**
 * Server-Sent Events framing (the WHATWG HTML "event stream" format), both
 * ways: the collector's `GET /v1/tail` writes it, `logship search --follow`
 * reads it. Only what the tail uses:
 *
 *   id: 1764410400123          a position; a message with an id and no data
 *   data: {"id":"…",…}          dispatches nothing but moves the client's
 *                               Last-Event-ID (how the tail hands out its
 *                               start position before any event)
 *   : ping                     a comment: keeps proxies from closing an idle stream
 *   retry: 1000                reconnection delay for EventSource, in ms
 *
 * A message ends at a blank line. Lines end in LF, CRLF or CR. `data` holds
 * one line of JSON here (JSON.stringify never writes a raw newline), though
 * the parser joins several data lines with "\n" as the standard says.
 */

/** One SSE message with an optional id and one line of data. */
export function sseMessage(message: { id?: string; data?: string; comment?: string; retryMs?: number }): string {
  let text = "";
  if (message.comment !== undefined) text += `: ${message.comment}\n`;
  if (message.retryMs !== undefined) text += `retry: ${message.retryMs}\n`;
  if (message.id !== undefined) {
    if (/[\r\n\0]/.test(message.id)) throw new RangeError("an SSE id cannot hold a line break or NUL");
    text += `id: ${message.id}\n`;
  }
  if (message.data !== undefined) {
    if (/[\r\n]/.test(message.data)) throw new RangeError("sseMessage writes one data line; the data holds a line break");
    text += `data: ${message.data}\n`;
  }
  return `${text}\n`;
}

/** What a blank line dispatched: the last event id so far, and the data (null: none, only an id or a comment). */
export interface SseDispatch {
  lastEventId: string;
  data: string | null;
}

/** Cuts a stream of text into messages; bounded by `lineCharsMax` per line (a longer one is an error). */
export class SseParser {
  private lastEventId = "";
  private readonly lineCharsMax: number;
  private pending = "";
  private data: string[] = [];
  private sawId = false;
  /** The previous chunk ended in CR: a LF at the start of the next one belongs to it. */
  private skipLeadingLf = false;

  constructor(lineCharsMax: number) {
    this.lineCharsMax = lineCharsMax;
  }

  /** Feeds text (decoded as UTF-8 by the caller); returns the messages it completed. */
  push(text: string): SseDispatch[] {
    if (this.skipLeadingLf && text.startsWith("\n")) text = text.slice(1);
    this.skipLeadingLf = false;
    const dispatched: SseDispatch[] = [];
    let start = 0;
    for (;;) {
      const end = nextLineEnd(text, start);
      if (end === -1) break;
      this.line(this.pending + text.slice(start, end), dispatched);
      this.pending = "";
      start = end + 1;
      if (text[end] === "\r") {
        if (start === text.length) this.skipLeadingLf = true;
        else if (text[start] === "\n") start++;
      }
    }
    this.pending += text.slice(start);
    if (this.pending.length > this.lineCharsMax) throw new RangeError(`an event-stream line is longer than ${this.lineCharsMax} characters`);
    return dispatched;
  }

  private line(line: string, dispatched: SseDispatch[]): void {
    if (line.length > this.lineCharsMax) throw new RangeError(`an event-stream line is longer than ${this.lineCharsMax} characters`);
    if (line === "") {
      if (this.data.length > 0 || this.sawId) dispatched.push({ lastEventId: this.lastEventId, data: this.data.length > 0 ? this.data.join("\n") : null });
      this.data = [];
      this.sawId = false;
      return;
    }
    if (line.startsWith(":")) return;
    const colon = line.indexOf(":");
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") this.data.push(value);
    else if (field === "id" && !value.includes("\0")) {
      this.lastEventId = value;
      this.sawId = true;
    }
    // event and retry are not used by the tail; unknown fields are ignored, as the standard says.
  }
}

function nextLineEnd(text: string, from: number): number {
  for (let index = from; index < text.length; index++) {
    const char = text[index];
    if (char === "\n" || char === "\r") return index;
  }
  return -1;
}
