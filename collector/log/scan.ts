/**
 * Walks the records of one segment file: the single place that decides
 * what a valid record is. Used by recovery (the last segment), by the
 * header scan that rebuilds ingest's idempotence table, and by readers.
 *
 * A bad record (wrong magic, impossible length, CRC mismatch, base offset
 * out of sequence) is reported as a `corrupt` item covering the bytes up to
 * the next valid record, found by searching for the record magic and
 * checking each candidate's CRC. When no valid record follows, the item is
 * marked `tail`: everything from there to the end is unusable (a torn
 * write, or zeros after a crash).
 */
import type { FileHandle } from "node:fs/promises";
import { assert } from "../../shared/errors.ts";
import {
  AGENT_ID_BYTES_MAX,
  RECORD_FIXED_BYTES,
  RECORD_MAGIC,
  checkFixedHeader,
  decodeRecordHeader,
  recordCrcMatches,
  type RecordHeader,
} from "./format.ts";

export type ScanItem =
  | { kind: "record"; position: number; header: RecordHeader; record: Buffer | null }
  | { kind: "corrupt"; position: number; bytes: number; reason: string; tail: boolean };

export interface ScanOptions {
  /** First byte of the first record (after the segment header). */
  start: number;
  /** Bytes past this position are not read (file size, or what has been synced). */
  end: number;
  /**
   * "verify": read every record whole and check its CRC (recovery, readers).
   * "headers": read only record headers and follow the length fields (fast
   * start-up scan); a header that does not fit is still resynchronised with
   * CRC checks.
   */
  mode: "verify" | "headers";
  /** Base offset the first record must have (the segment's base offset). */
  expectedOffset: number;
  /** With mode "verify": yield a copy of each record's bytes. */
  keepRecords: boolean;
  /** Bytes read at once; a larger record is read in one piece of its own size. */
  windowBytes: number;
}

const HEADER_PROBE_BYTES = RECORD_FIXED_BYTES + AGENT_ID_BYTES_MAX;
const RESYNC_WINDOW_BYTES = 1 << 20;

/** Positional reads through one reusable window. Returned views are valid until the next call. */
export class WindowReader {
  readonly end: number;
  private readonly file: FileHandle;
  private readonly windowBytes: number;
  private storage: Buffer | null = null;
  private window: Buffer = Buffer.alloc(0);
  private windowStart = 0;

  constructor(file: FileHandle, end: number, windowBytes: number) {
    assert(windowBytes >= HEADER_PROBE_BYTES, "window holds at least one record header");
    this.file = file;
    this.end = end;
    this.windowBytes = windowBytes;
  }

  /** Bytes [position, position + length), or null when they run past the end. */
  async read(position: number, length: number): Promise<Buffer | null> {
    if (position + length > this.end) return null;
    const offset = position - this.windowStart;
    if (offset >= 0 && offset + length <= this.window.length) return this.window.subarray(offset, offset + length);
    const size = Math.min(Math.max(this.windowBytes, length), this.end - position);
    // A record larger than the window gets a buffer of its own, dropped after use.
    let target: Buffer;
    if (size > this.windowBytes) target = Buffer.allocUnsafe(size);
    else target = this.storage ??= Buffer.allocUnsafe(this.windowBytes);
    let filled = 0;
    while (filled < size) {
      const { bytesRead } = await this.file.read(target, filled, size - filled, position + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    this.window = target.subarray(0, filled);
    this.windowStart = position;
    // A file shorter than `end` said (truncated under us) ends here.
    return filled < length ? null : this.window.subarray(0, length);
  }
}

type RecordCheck = { ok: true; header: RecordHeader; record: Buffer | null } | { ok: false; reason: string };

export async function* scanSegment(file: FileHandle, options: ScanOptions): AsyncGenerator<ScanItem> {
  const reader = new WindowReader(file, options.end, options.windowBytes);
  let expectedOffset = options.expectedOffset;
  let position = options.start;
  let afterGap = false;
  while (position < options.end) {
    const check = await checkRecord(reader, position, expectedOffset, afterGap, options.mode, options.keepRecords);
    if (check.ok) {
      yield { kind: "record", position, header: check.header, record: check.record };
      position += check.header.length;
      expectedOffset = check.header.baseOffset + check.header.events;
      afterGap = false;
      continue;
    }
    const next = await resync(file, position + 1, options.end, expectedOffset);
    yield { kind: "corrupt", position, bytes: (next ?? options.end) - position, reason: check.reason, tail: next === undefined };
    if (next === undefined) return;
    position = next;
    afterGap = true;
  }
}

/** Reads and checks the record at `position`. After a skipped range its base offset may jump ahead. */
async function checkRecord(
  reader: WindowReader,
  position: number,
  expectedOffset: number,
  afterGap: boolean,
  mode: ScanOptions["mode"],
  keepRecords: boolean,
): Promise<RecordCheck> {
  const probe = await reader.read(position, RECORD_FIXED_BYTES);
  if (probe === null) return { ok: false, reason: "incomplete record header (torn write)" };
  const fixed = checkFixedHeader(probe);
  if (typeof fixed === "string") return { ok: false, reason: fixed };
  const bytes = await reader.read(position, mode === "verify" ? fixed.length : fixed.headerBytes);
  if (bytes === null) return { ok: false, reason: "incomplete record (torn write)" };
  if (mode === "verify" && !recordCrcMatches(bytes)) return { ok: false, reason: "record CRC mismatch" };
  const header = decodeRecordHeader(bytes);
  if (mode === "headers" && position + header.length > reader.end) return { ok: false, reason: "incomplete record (torn write)" };
  const inSequence = afterGap ? header.baseOffset >= expectedOffset : header.baseOffset === expectedOffset;
  if (!inSequence) return { ok: false, reason: `base offset ${header.baseOffset} out of sequence (expected ${expectedOffset})` };
  return { ok: true, header, record: mode === "verify" && keepRecords ? Buffer.from(bytes) : null };
}

/** Position of the next record after `from` that passes every check (CRC included), or undefined. */
async function resync(file: FileHandle, from: number, end: number, expectedOffset: number): Promise<number | undefined> {
  const search = new WindowReader(file, end, RESYNC_WINDOW_BYTES);
  const candidates = new WindowReader(file, end, RESYNC_WINDOW_BYTES);
  let position = from;
  while (position + RECORD_MAGIC.length <= end) {
    const length = Math.min(RESYNC_WINDOW_BYTES, end - position);
    const chunk = await search.read(position, length);
    if (chunk === null) return undefined;
    let index = chunk.indexOf(RECORD_MAGIC);
    while (index !== -1) {
      const candidate = position + index;
      const check = await checkRecord(candidates, candidate, expectedOffset, true, "verify", false);
      if (check.ok) return candidate;
      index = chunk.indexOf(RECORD_MAGIC, index + 1);
    }
    if (position + length >= end) return undefined;
    // Overlap by the magic's length minus one so a magic split across windows is found.
    position += length - (RECORD_MAGIC.length - 1);
  }
  return undefined;
}
