/**
 * Reading a tenant's log from an offset: records in offset order, one at a
 * time, each segment read in windows of `windowBytes` (a record larger than
 * the window is read in one piece of its own size). Memory: one window plus
 * the record being handed out.
 *
 * Works on the files alone (no recovery, never writes), so `log dump` can
 * read a running collector's log. Corrupt records are skipped and reported
 * through `onCorrupt`; a reader never throws because of bad bytes.
 */
import { open } from "node:fs/promises";
import { join } from "node:path";
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
  /** Records whose events end at or before this offset are skipped; the record holding it is the first one. */
  fromOffset: number;
  windowBytes?: number;
  /** Called for each range of bytes skipped (corrupt record, unreadable segment header). `tail`: nothing valid follows in that segment. */
  onCorrupt?: (range: CorruptRange & { tail: boolean }) => void;
  /** Stop here: the writer's durable end (an in-process reader must not see records still being written). */
  end?: { segmentBaseOffset: number; position: number };
}

export const READ_WINDOW_BYTES_DEFAULT = 4 * 1024 * 1024;

/** Records of `logDirectory/<tenant>/` from `options.fromOffset` on. */
export async function* readTenantLog(logDirectory: string, tenant: string, options: ReadOptions): AsyncGenerator<LogEntry> {
  const { segments } = await listSegments(join(logDirectory, tenant));
  for (const segment of segmentsFrom(segments, options)) {
    yield* readSegment(segment, options);
  }
}

/** Segments that can hold `fromOffset` or later records, up to the writer's end. */
function segmentsFrom(segments: SegmentFile[], options: ReadOptions): SegmentFile[] {
  let first = 0;
  for (let index = 0; index < segments.length; index++) {
    if ((segments[index] as SegmentFile).baseOffset <= options.fromOffset) first = index;
  }
  const end = options.end;
  return segments.slice(first).filter((segment) => end === undefined || segment.baseOffset <= end.segmentBaseOffset);
}

async function* readSegment(segment: SegmentFile, options: ReadOptions): AsyncGenerator<LogEntry> {
  const report = options.onCorrupt ?? (() => undefined);
  const file = await open(segment.path, "r");
  try {
    const header = await readSegmentHeader(file, segment);
    const { size } = await file.stat();
    if (typeof header === "string") {
      report({ segment: segment.name, position: 0, bytes: size, reason: header, tail: true });
      return;
    }
    const end = options.end !== undefined && options.end.segmentBaseOffset === segment.baseOffset ? Math.min(size, options.end.position) : size;
    const scan = scanSegment(file, {
      start: SEGMENT_HEADER_BYTES,
      end,
      mode: "verify",
      expectedOffset: segment.baseOffset,
      keepRecords: true,
      windowBytes: options.windowBytes ?? READ_WINDOW_BYTES_DEFAULT,
    });
    for await (const item of scan) {
      if (item.kind === "corrupt") {
        report({ segment: segment.name, position: item.position, bytes: item.bytes, reason: item.reason, tail: item.tail });
        continue;
      }
      if (item.header.baseOffset + item.header.events <= options.fromOffset && item.header.events > 0) continue;
      if (item.header.events === 0 && item.header.baseOffset < options.fromOffset) continue;
      yield { header: item.header, batch: recordBatch(item.record as Buffer) };
    }
  } finally {
    await file.close();
  }
}
