/**
 * Reading a tenant's log from an offset: records in offset order, one at a
 * time, each segment read in windows of `windowBytes` (a record larger than
 * the window is read in one piece of its own size). Memory: one window plus
 * the record being handed out.
 *
 * A read starts where the segment's offset index (or time index) says,
 * not at the segment start: the last index entry at or before the wanted
 * offset, checked to point at a record with that offset (otherwise the
 * segment is read from its start). From a time, each segment is entered at
 * the last time index entry whose running maximum is below the time, and
 * records are skipped until the first whose observed max reaches it; from
 * there on everything is yielded, in offset order.
 *
 * Works on the files alone (no recovery, never writes), so `log dump` can
 * read a running collector's log. Corrupt records are skipped and reported
 * through `onCorrupt`; a reader never throws because of bad bytes.
 */
import { open, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { floorEntry, loadIndex, recordStartsAt } from "./segment-index.ts";
import { SEGMENT_HEADER_BYTES, recordBatch, type RecordHeader } from "./format.ts";
import type { CorruptRange } from "./recovery.ts";
import { scanSegment } from "./scan.ts";
import { listSegments, readSegmentHeader, type SegmentFile } from "./segments.ts";

export interface LogEntry {
  header: RecordHeader;
  /** The batch as it was received: a wire v1 payload compressed with zstd. */
  batch: Buffer;
}

export interface ReadOptions {
  /** Records whose events end at or before this offset are skipped; the record holding it is the first one. Default 0. */
  fromOffset?: number;
  /**
   * Start at the first record (at or after `fromOffset`) whose observed max
   * time is at least this (ms since the epoch); every record after it
   * follows, whatever its times (agents' clocks and batches interleave).
   */
  fromTimeMs?: number;
  windowBytes?: number;
  /** Called for each range of bytes skipped (corrupt record, unreadable segment header). `tail`: nothing valid follows in that segment. */
  onCorrupt?: (range: CorruptRange & { tail: boolean }) => void;
  /** Stop here: the writer's durable end (an in-process reader must not see records still being written). */
  end?: { segmentBaseOffset: number; position: number };
}

export const READ_WINDOW_BYTES_DEFAULT = 4 * 1024 * 1024;

/** Records of `logDirectory/<tenant>/` from `options.fromOffset` on. */
export async function* readTenantLog(logDirectory: string, tenant: string, options: ReadOptions): AsyncGenerator<LogEntry> {
  const directory = join(logDirectory, tenant);
  const { segments } = await listSegments(directory);
  const state: ReadState = { timeReached: options.fromTimeMs === undefined };
  for (const segment of segmentsFrom(segments, options)) {
    yield* readSegment(directory, segment, options, state);
  }
}

interface ReadState {
  /** A record at or after `fromTimeMs` has been yielded: the rest follow unfiltered. */
  timeReached: boolean;
}

/** Segments that can hold `fromOffset` or later records (0-event ones included), up to the writer's end. */
function segmentsFrom(segments: SegmentFile[], options: ReadOptions): SegmentFile[] {
  let first = 0;
  for (let index = 0; index < segments.length; index++) {
    // Strictly below: a 0-event record with base offset `fromOffset` can end the segment before the one named `fromOffset`.
    if ((segments[index] as SegmentFile).baseOffset < (options.fromOffset ?? 0)) first = index;
  }
  const end = options.end;
  return segments.slice(first).filter((segment) => end === undefined || segment.baseOffset <= end.segmentBaseOffset);
}

/** Where to start reading `segment`: from the indexes, or the first record when they do not help. */
async function startPosition(directory: string, segment: SegmentFile, file: FileHandle, end: number, options: ReadOptions, state: ReadState): Promise<{ position: number; baseOffset: number }> {
  const start = { position: SEGMENT_HEADER_BYTES, baseOffset: segment.baseOffset };
  let relativeOffset = Math.max(0, (options.fromOffset ?? 0) - segment.baseOffset);
  if (!state.timeReached && options.fromTimeMs !== undefined) {
    const time = floorEntry((await loadIndex(directory, segment.baseOffset, "time")).entries, options.fromTimeMs, true);
    if (time !== undefined) relativeOffset = Math.max(relativeOffset, time.value);
  }
  if (relativeOffset === 0) return start;
  const entry = floorEntry((await loadIndex(directory, segment.baseOffset, "offset")).entries, relativeOffset, false);
  if (entry === undefined) return start;
  const baseOffset = segment.baseOffset + entry.key;
  if (!(await recordStartsAt(file, entry.value, baseOffset, end))) return start;
  return { position: entry.value, baseOffset };
}

async function* readSegment(directory: string, segment: SegmentFile, options: ReadOptions, state: ReadState): AsyncGenerator<LogEntry> {
  const report = options.onCorrupt ?? (() => undefined);
  let file: FileHandle;
  try {
    file = await open(segment.path, "r");
  } catch (error) {
    // Deleted by retention since the directory was listed: its records are gone for every reader.
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
    throw error;
  }
  try {
    const header = await readSegmentHeader(file, segment);
    const { size } = await file.stat();
    if (typeof header === "string") {
      report({ segment: segment.name, position: 0, bytes: size, reason: header, tail: true });
      return;
    }
    const end = options.end !== undefined && options.end.segmentBaseOffset === segment.baseOffset ? Math.min(size, options.end.position) : size;
    const from = await startPosition(directory, segment, file, end, options, state);
    const fromOffset = options.fromOffset ?? 0;
    const scan = scanSegment(file, {
      start: from.position,
      end,
      mode: "verify",
      expectedOffset: from.baseOffset,
      keepRecords: true,
      windowBytes: options.windowBytes ?? READ_WINDOW_BYTES_DEFAULT,
    });
    for await (const item of scan) {
      if (item.kind === "corrupt") {
        report({ segment: segment.name, position: item.position, bytes: item.bytes, reason: item.reason, tail: item.tail });
        continue;
      }
      if (item.header.baseOffset + item.header.events <= fromOffset && item.header.events > 0) continue;
      if (item.header.events === 0 && item.header.baseOffset < fromOffset) continue;
      if (!state.timeReached) {
        if (item.header.observedMaxMs < (options.fromTimeMs as number)) continue;
        state.timeReached = true;
      }
      yield { header: item.header, batch: recordBatch(item.record as Buffer) };
    }
  } finally {
    await file.close();
  }
}
