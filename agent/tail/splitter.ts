/**
 * Line splitter: cuts a file's bytes into lines, whatever the read boundaries.
 *
 * Lines end at "\n"; a "\r" before it is not part of the line (CRLF files).
 * A line longer than `lineBytesMax` is cut at that many bytes (backed off to
 * a UTF-8 character boundary), marked truncated, and the rest of it up to the
 * next "\n" is skipped, so the file keeps flowing; the "\r\n" or "\n" that ends
 * a line does not count towards the limit. The partial line at the end of a
 * read is carried (copied, at most `lineBytesMax` + 1 bytes: a last "\r" may
 * be half of "\r\n") into the next one.
 *
 * Output is columnar (`LineRun`): one buffer plus line start/end indexes, so
 * the hot path makes no object and no string per line.
 */

export interface LineRun {
  /** Bytes holding the lines; `starts`/`ends` index into it. */
  buffer: Buffer;
  /** File offset of `buffer[0]`. */
  bufferOffset: number;
  /** Index in `buffer` of each line's first byte. */
  starts: number[];
  /** Index in `buffer` just past each line's content (before "\r\n"). */
  ends: number[];
  /** Indexes (into starts/ends) of lines cut at `lineBytesMax`; empty when none. */
  truncated: number[];
  /** File offset up to which every byte is accounted for (lines emitted or skipped). */
  consumedOffset: number;
}

const NEWLINE = 0x0a;
const EMPTY = Buffer.alloc(0);
const CARRIAGE_RETURN = 0x0d;

export class LineSplitter {
  readonly lineBytesMax: number;
  /** Partial line carried from the previous read (a copy), or null. */
  private carry: Buffer | null = null;
  /** File offset of `carry[0]`, or of the next byte to read when there is no carry. */
  private nextOffset: number;
  /** True while skipping the rest of a line that was already emitted truncated. */
  private skipping = false;

  constructor(options: { lineBytesMax: number; startOffset: number }) {
    if (!(options.lineBytesMax >= 4)) throw new Error("assertion failed: lineBytesMax >= 4");
    this.lineBytesMax = options.lineBytesMax;
    this.nextOffset = options.startOffset;
  }

  /** File offset of the first byte not yet emitted as (part of) a line. */
  get pendingOffset(): number {
    return this.nextOffset;
  }

  /** Bytes of the partial line being carried. */
  get pendingBytes(): number {
    return this.carry === null ? 0 : this.carry.length;
  }

  /**
   * The same position — carried partial line, a long line's rest being
   * skipped — under another line limit (a config reload changed the rule):
   * no byte is split twice or lost.
   */
  withLineBytesMax(lineBytesMax: number): LineSplitter {
    const next = new LineSplitter({ lineBytesMax, startOffset: this.nextOffset });
    next.carry = this.carry;
    next.skipping = this.skipping;
    return next;
  }

  /**
   * Split `chunk`, read from file offset `chunkOffset` (which must follow the
   * previous chunk exactly).
   */
  push(chunk: Buffer, chunkOffset: number): LineRun {
    const expected = this.nextOffset + this.pendingBytes;
    if (chunkOffset !== expected) {
      throw new Error(`assertion failed: chunk at ${chunkOffset}, expected ${expected}`);
    }
    if (this.carry === null) return this.split(chunk, 0, chunkOffset);
    return this.split(Buffer.concat([this.carry, chunk]), 0, this.nextOffset);
  }

  /**
   * Split `buffer[start, end)`, which begins with the carried partial line
   * (the caller put it there, e.g. re-read from the file with the new bytes:
   * no copy of the read) and goes on with new bytes. `buffer[start]` is at
   * file offset `pendingOffset`.
   */
  pushWithCarry(buffer: Buffer, start: number, end: number): LineRun {
    const carried = this.pendingBytes;
    if (end - start < carried) throw new Error(`assertion failed: ${end - start} bytes hold the ${carried} carried ones`);
    return this.split(buffer.subarray(0, end), start, this.nextOffset - start);
  }

  /** The carried partial line (for `pushWithCarry` callers); empty when none. */
  get carried(): Buffer {
    return this.carry ?? EMPTY;
  }

  private split(buffer: Buffer, start: number, bufferOffset: number): LineRun {
    this.carry = null;
    const run: LineRun = { buffer, bufferOffset, starts: [], ends: [], truncated: [], consumedOffset: bufferOffset + start };
    const max = this.lineBytesMax;
    let position = start;
    if (this.skipping) {
      const newline = buffer.indexOf(NEWLINE, position);
      if (newline === -1) {
        this.nextOffset = bufferOffset + buffer.length;
        run.consumedOffset = this.nextOffset;
        return run;
      }
      this.skipping = false;
      position = newline + 1;
    }
    const length = buffer.length;
    const starts = run.starts;
    const ends = run.ends;
    while (position < length) {
      const newline = buffer.indexOf(NEWLINE, position);
      // The line's content ends before its "\n" or "\r\n"; without a line end in
      // reach, a last "\r" may be the start of "\r\n" and is not counted yet.
      let end = newline === -1 ? length : newline;
      if (end > position && buffer[end - 1] === CARRIAGE_RETURN) end--;
      if (end - position > max) {
        // Over the limit: cut, and skip the rest up to the line end.
        starts.push(position);
        ends.push(utf8Boundary(buffer, position, position + max));
        run.truncated.push(starts.length - 1);
        if (newline === -1) {
          this.skipping = true;
          position = length;
          break;
        }
        position = newline + 1;
        continue;
      }
      if (newline === -1) break;
      starts.push(position);
      ends.push(end);
      position = newline + 1;
    }
    if (position < length) this.carry = Buffer.from(buffer.subarray(position));
    this.nextOffset = bufferOffset + position;
    run.consumedOffset = this.nextOffset;
    return run;
  }

  /**
   * Emit the carried partial line as a line of its own (end of a quiet file
   * in `--once` mode, or a file being let go). Returns null when nothing is
   * carried.
   */
  flush(): LineRun | null {
    if (this.carry === null) return null;
    const buffer = this.carry;
    this.carry = null;
    let end = buffer.length;
    if (end > 0 && buffer[end - 1] === CARRIAGE_RETURN) end--;
    const run: LineRun = {
      buffer,
      bufferOffset: this.nextOffset,
      starts: [0],
      ends: [end],
      truncated: [],
      consumedOffset: this.nextOffset + buffer.length,
    };
    this.nextOffset += buffer.length;
    return run;
  }
}

/**
 * Largest index in (start, end] that does not split a UTF-8 sequence: a cut
 * line must not end in half a character.
 */
function utf8Boundary(buffer: Buffer, start: number, end: number): number {
  let cut = end;
  // Step back over continuation bytes (10xxxxxx), at most 3.
  for (let steps = 0; steps < 3 && cut > start && ((buffer[cut] ?? 0) & 0xc0) === 0x80; steps++) cut--;
  return cut > start ? cut : end;
}
