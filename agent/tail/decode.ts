/**
 * Turns a file's split lines into an EventBlock's contents: raw lines when
 * the source has no parser, no multiline rule and no transforms (the fast
 * path: nothing per line), otherwise decoded events, joined and parsed.
 */
import { isAscii } from "node:buffer";
import type { DecodedEvents } from "../events.ts";
import type { LineParser } from "../parsers/types.ts";
import type { JoinedEvent, MultilineJoiner } from "./multiline.ts";
import type { LineRun } from "./splitter.ts";

export interface Decoded {
  lines: LineRun | null;
  decoded: DecodedEvents | null;
  truncated: number[];
  count: number;
}

/** Raw lines as they are. */
export function rawLines(run: LineRun): Decoded {
  return { lines: run, decoded: null, truncated: run.truncated, count: run.starts.length };
}

export class EventDecoder {
  private readonly parser: LineParser | null;
  private readonly joiner: MultilineJoiner | null;
  /** Transforms read events, so lines are decoded even without a parser. */
  private readonly decodeAlways: boolean;

  constructor(parser: LineParser | null, joiner: MultilineJoiner | null, decodeAlways = false) {
    this.parser = parser;
    this.joiner = joiner;
    this.decodeAlways = decodeAlways;
  }

  /** True when blocks can carry the raw lines untouched. */
  get raw(): boolean {
    return this.parser === null && this.joiner === null && !this.decodeAlways;
  }

  /** The first byte the joiner still holds (its pending event), or null. */
  get heldOffset(): number | null {
    return this.joiner === null ? null : this.joiner.pendingOffset;
  }

  decode(run: LineRun, nowMs: number): Decoded {
    if (this.raw) return rawLines(run);
    const out = emptyDecoded();
    // A joined event is several lines: only single lines can be verbatim.
    const verbatimLines: number[] = [];
    if (this.joiner === null) (out.decoded as DecodedEvents).verbatim = { buffer: run.buffer, starts: run.starts, ends: run.ends, lines: verbatimLines };
    const truncatedLines = new Set(run.truncated);
    const count = run.starts.length;
    // Lines are decoded a window at a time: one string per window of ASCII
    // lines (one call into Node, not one per line), each line a slice of it;
    // a window with other bytes, and a line longer than a window, line by line.
    let windowText: string | null = null;
    let windowBase = 0;
    let windowEndIndex = 0;
    for (let index = 0; index < count; index++) {
      const start = run.starts[index] as number;
      const end = run.ends[index] as number;
      if (index === windowEndIndex) {
        windowEndIndex = decodeWindowEnd(run, index);
        windowBase = start;
        const windowEnd = run.ends[windowEndIndex - 1] as number;
        windowText = windowEndIndex - index > 1 && isAscii(run.buffer.subarray(start, windowEnd)) ? run.buffer.toString("latin1", start, windowEnd) : null;
      }
      const text = windowText === null ? run.buffer.toString("utf8", start, end) : windowText.slice(start - windowBase, end - windowBase);
      const offset = run.bufferOffset + start;
      const endOffset = index + 1 < count ? run.bufferOffset + (run.starts[index + 1] as number) : run.consumedOffset;
      const truncated = truncatedLines.has(index);
      if (this.joiner === null) {
        const kept = this.add(out, { offset, endOffset, message: text, truncated }, nowMs);
        // An ASCII window's line is its bytes; a line decoded as UTF-8 may hold replaced bytes.
        verbatimLines.push(kept && windowText !== null ? index : -1);
      } else this.joiner.push(text, offset, endOffset, truncated, nowMs, (event) => this.add(out, event, nowMs));
    }
    return out;
  }

  /** Flush a multiline event held for longer than its timeout (or always, with `force`). */
  flush(nowMs: number, force: boolean): Decoded | null {
    if (this.joiner === null) return null;
    const out = emptyDecoded();
    this.joiner.flush(nowMs, force, (event) => this.add(out, event, nowMs));
    return out.count === 0 ? null : out;
  }

  msUntilTimeout(nowMs: number): number | null {
    return this.joiner === null ? null : this.joiner.msUntilTimeout(nowMs);
  }

  /** Adds the event; returns whether its message is still the line's text (no parser replaced it). */
  private add(out: Decoded, event: JoinedEvent, nowMs: number): boolean {
    const decoded = out.decoded as DecodedEvents;
    let message = event.message;
    let fields: Record<string, unknown> | undefined;
    let timeMs: number | undefined;
    if (this.parser !== null) {
      const parsed = this.parser.parse(message, nowMs);
      if (parsed.ok) {
        fields = parsed.fields;
        if (parsed.message !== undefined) message = parsed.message;
        timeMs = parsed.timeMs;
      } else {
        fields = { parse_error: parsed.error };
      }
    }
    if (event.truncated) out.truncated.push(out.count);
    decoded.offsets.push(event.offset);
    decoded.messages.push(message);
    decoded.fields.push(fields);
    decoded.timesMs.push(timeMs);
    out.count++;
    return message === event.message;
  }
}

/**
 * Bytes of lines decoded as one string at most: below V8's largest regular
 * object, so a window's string is young garbage like the lines it holds,
 * not a large object kept until a full collection.
 */
const DECODE_WINDOW_BYTES = 32 * 1024;

/** The index after the last line of the window starting at line `first` (at least one line). */
function decodeWindowEnd(run: LineRun, first: number): number {
  const base = run.starts[first] as number;
  let end = first + 1;
  while (end < run.starts.length && (run.ends[end] as number) - base <= DECODE_WINDOW_BYTES) end++;
  return end;
}

function emptyDecoded(): Decoded {
  return { lines: null, decoded: { offsets: [], messages: [], fields: [], timesMs: [] }, truncated: [], count: 0 };
}
