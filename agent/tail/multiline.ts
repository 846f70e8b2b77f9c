/**
 * Multiline joiner: folds consecutive lines into one event.
 *
 * Two forms, as operators know them from Filebeat and Fluent Bit:
 * - `start`: a line matching the pattern begins a new event; other lines are
 *   appended to the event before them (timestamped logs with stack traces).
 * - `continue`: a line matching the pattern is appended to the event before
 *   it; other lines begin a new event (e.g. `^\s+at |^Caused by:`).
 * `negate` inverts the match. An event is flushed when the next one begins,
 * when the file has been quiet for `timeoutMs`, or when it reaches
 * `linesMax` / `bytesMax` — then it is marked truncated and the following
 * lines go on as a new event (nothing is dropped).
 *
 * The joiner holds at most one pending event per file; the file's checkpoint
 * never passes that event's first byte until it is flushed and acknowledged.
 */

export interface MultilineOptions {
  start?: string | undefined;
  continue?: string | undefined;
  negate: boolean;
  linesMax: number;
  bytesMax: number;
  timeoutMs: number;
}

export interface JoinedEvent {
  /** File offset of the first line. */
  offset: number;
  /** File offset just past the last line's newline. */
  endOffset: number;
  message: string;
  truncated: boolean;
}

interface Pending {
  offset: number;
  endOffset: number;
  lines: string[];
  bytes: number;
  truncated: boolean;
  lastLineAtMs: number;
}

export class MultilineJoiner {
  private readonly pattern: RegExp;
  private readonly matchBegins: boolean;
  private readonly negate: boolean;
  private readonly linesMax: number;
  private readonly bytesMax: number;
  readonly timeoutMs: number;
  private pending: Pending | null = null;

  constructor(options: MultilineOptions) {
    const source = options.start ?? options.continue;
    if (source === undefined || (options.start !== undefined && options.continue !== undefined)) {
      throw new Error("assertion failed: exactly one of multiline.start / multiline.continue");
    }
    this.pattern = new RegExp(source);
    this.matchBegins = options.start !== undefined;
    this.negate = options.negate;
    this.linesMax = options.linesMax;
    this.bytesMax = options.bytesMax;
    this.timeoutMs = options.timeoutMs;
  }

  /** File offset of the pending event's first byte, or null when none is pending. */
  get pendingOffset(): number | null {
    return this.pending === null ? null : this.pending.offset;
  }

  /**
   * Feed one line. Completed events are passed to `emit` in file order.
   * `truncated` marks a line that was cut at max_line_bytes.
   */
  push(
    line: string,
    offset: number,
    endOffset: number,
    truncated: boolean,
    nowMs: number,
    emit: (event: JoinedEvent) => void,
  ): void {
    const matched = this.pattern.test(line) !== this.negate;
    const begins = this.matchBegins ? matched : !matched;
    const pending = this.pending;
    if (pending !== null && !begins) {
      const lineBytes = Buffer.byteLength(line) + 1;
      if (pending.lines.length < this.linesMax && pending.bytes + lineBytes <= this.bytesMax) {
        pending.lines.push(line);
        pending.bytes += lineBytes;
        pending.endOffset = endOffset;
        pending.truncated ||= truncated;
        pending.lastLineAtMs = nowMs;
        return;
      }
      pending.truncated = true;
    }
    if (pending !== null) emit(this.take(pending));
    this.pending = {
      offset,
      endOffset,
      lines: [line],
      bytes: Buffer.byteLength(line),
      truncated,
      lastLineAtMs: nowMs,
    };
  }

  /** Flush the pending event if the file was quiet for the timeout (or `force`). */
  flush(nowMs: number, force: boolean, emit: (event: JoinedEvent) => void): void {
    const pending = this.pending;
    if (pending === null) return;
    if (force || nowMs - pending.lastLineAtMs >= this.timeoutMs) emit(this.take(pending));
  }

  /** Milliseconds until the pending event times out, or null when none is pending. */
  msUntilTimeout(nowMs: number): number | null {
    if (this.pending === null) return null;
    return Math.max(0, this.pending.lastLineAtMs + this.timeoutMs - nowMs);
  }

  private take(pending: Pending): JoinedEvent {
    this.pending = null;
    return {
      offset: pending.offset,
      endOffset: pending.endOffset,
      message: pending.lines.length === 1 ? (pending.lines[0] as string) : pending.lines.join("\n"),
      truncated: pending.truncated,
    };
  }
}
