/**
 * Retention of one tenant's log: deletes whole closed segments, oldest
 * first, never the active one (docs/LOG.md).
 *
 * A closed segment is *expired* when the next segment was created at least
 * `maxAgeMs` ago (every record of a closed segment was appended before its
 * successor's creation time, which is in the successor's header). The log
 * is *over* when its segment files add up to more than `maxBytes`.
 *
 * Consumers: `lowestNeededOffset` is the lowest offset some consumer (a sink)
 * still needs. A segment holding offsets at or above it is kept, expired or
 * not, unless the log is over `maxBytes`: then it is deleted anyway, and the
 * range the consumer loses is logged (warn) and counted.
 */
import { open, stat, unlink } from "node:fs/promises";
import type { Logger } from "../../shared/logger.ts";
import { SEGMENT_HEADER_BYTES, decodeSegmentHeader } from "./format.ts";
import { indexPath } from "./segment-index.ts";
import { listSegments, syncDirectory, type SegmentFile } from "./segments.ts";

export interface RetentionLimits {
  maxAgeMs: number;
  maxBytes: number;
}

/** Offsets below this are no longer needed by any consumer of `tenant`; undefined: no consumer registered. */
export type LowestNeededOffset = (tenant: string) => number | undefined;

export interface SkippedRange {
  tenant: string;
  /** Events [fromOffset, toOffset) deleted before a consumer read them. */
  fromOffset: number;
  toOffset: number;
}

export interface RetentionResult {
  deletedSegments: number;
  deletedBytes: number;
  skipped: SkippedRange[];
}

export interface RetentionRun {
  tenantDirectory: string;
  tenant: string;
  /** Base offset of the active segment: it and everything after it are never deleted. */
  activeBaseOffset: number;
  limits: RetentionLimits;
  lowestNeededOffset: number | undefined;
  nowMs: number;
  logger: Logger;
}

interface SizedSegment extends SegmentFile {
  bytes: number;
}

export async function applyRetention(run: RetentionRun): Promise<RetentionResult> {
  const result: RetentionResult = { deletedSegments: 0, deletedBytes: 0, skipped: [] };
  const { segments } = await listSegments(run.tenantDirectory);
  const sized: SizedSegment[] = [];
  let totalBytes = 0;
  for (const segment of segments) {
    const bytes = (await stat(segment.path)).size;
    sized.push({ ...segment, bytes });
    totalBytes += bytes;
  }
  for (let index = 0; index + 1 < sized.length; index++) {
    const segment = sized[index] as SizedSegment;
    const next = sized[index + 1] as SizedSegment;
    if (segment.baseOffset >= run.activeBaseOffset) break;
    const over = totalBytes > run.limits.maxBytes;
    const expired = !over && run.nowMs - (await createdMs(next)) >= run.limits.maxAgeMs;
    if (!over && !expired) break;
    const needed = run.lowestNeededOffset !== undefined && next.baseOffset > run.lowestNeededOffset;
    if (needed && !over) break;
    if (needed) {
      const skipped = { tenant: run.tenant, fromOffset: Math.max(segment.baseOffset, run.lowestNeededOffset as number), toOffset: next.baseOffset };
      result.skipped.push(skipped);
      run.logger.warn("log retention deleted a segment a consumer has not read yet (log.retention.max_bytes forces it)", {
        tenant: run.tenant,
        segment: segment.name,
        skipped_from_offset: skipped.fromOffset,
        skipped_to_offset: skipped.toOffset,
        skipped_events: skipped.toOffset - skipped.fromOffset,
        total_bytes: totalBytes,
        max_bytes: run.limits.maxBytes,
      });
    }
    await deleteSegment(run.tenantDirectory, segment);
    totalBytes -= segment.bytes;
    result.deletedSegments++;
    result.deletedBytes += segment.bytes;
    run.logger.info("log retention deleted a segment", { tenant: run.tenant, segment: segment.name, bytes: segment.bytes, reason: over ? "max_bytes" : "max_age" });
  }
  if (result.deletedSegments > 0) await syncDirectory(run.tenantDirectory);
  return result;
}

/** The segment file first (readers never find a segment without data), then its indexes. */
async function deleteSegment(directory: string, segment: SegmentFile): Promise<void> {
  await unlink(segment.path);
  for (const kind of ["offset", "time"] as const) {
    await unlink(indexPath(directory, segment.baseOffset, kind)).catch((error: unknown) => {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    });
  }
}

/** A segment's creation time from its header; an unreadable header never lets its predecessor age out. */
async function createdMs(segment: SegmentFile): Promise<number> {
  const file = await open(segment.path, "r");
  try {
    const bytes = Buffer.alloc(SEGMENT_HEADER_BYTES);
    await file.read(bytes, 0, SEGMENT_HEADER_BYTES, 0);
    const header = decodeSegmentHeader(bytes);
    return typeof header === "string" ? Number.POSITIVE_INFINITY : header.createdMs;
  } finally {
    await file.close();
  }
}
