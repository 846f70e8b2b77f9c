/**
 * Recovery of one tenant's log on open. Only the last segment can hold a
 * write that was in progress at a crash, so only it is scanned record by
 * record (CRC checked):
 *
 * - a bad record followed by nothing valid (a torn write, zeros after a
 *   crash, a CRC mismatch at the end) is truncated away with everything
 *   after it; none of it was acknowledged, since a batch is acknowledged
 *   only after the fsync that covers it;
 * - a bad record followed by valid ones (bit rot in the middle) is left in
 *   place and reported; readers skip it;
 * - a last segment whose header is unreadable is renamed aside to
 *   `<name>.corrupt` and a fresh segment starts at the same base offset;
 * - temp files of an interrupted roll are deleted.
 *
 * Older segments are not read here (readers check their CRCs).
 */
import { rename, type FileHandle, open } from "node:fs/promises";
import type { Logger } from "../../shared/logger.ts";
import { SEGMENT_HEADER_BYTES } from "./format.ts";
import { scanSegment } from "./scan.ts";
import { createSegment, ensureTenantDirectory, listSegments, readSegmentHeader, removeLeftovers, type SegmentFile } from "./segments.ts";

/** A range of bytes a scan could not use. */
export interface CorruptRange {
  segment: string;
  position: number;
  bytes: number;
  reason: string;
}

export interface TenantRecovery {
  tenant: string;
  segments: number;
  /** Records found intact in the last segment. */
  lastSegmentRecords: number;
  /** Offset the next append gets. */
  nextOffset: number;
  /** What was cut off the end of the last segment, if anything. */
  truncated: CorruptRange | null;
  /** Bad records in the middle of the last segment, kept and skipped by readers. */
  corrupt: CorruptRange[];
  /** A last segment with an unreadable header, renamed aside. */
  setAside: string | null;
  /** Temp files of an interrupted roll, deleted. */
  removedLeftovers: number;
}

/** The active (last) segment, open for appending at `position`. */
export interface ActiveSegment {
  file: FileHandle;
  baseOffset: number;
  name: string;
  /** End of the last intact record: where the next record goes. */
  position: number;
}

export interface RecoveredTenant {
  report: TenantRecovery;
  active: ActiveSegment;
  nextOffset: number;
}

export interface RecoveryOptions {
  logDirectory: string;
  tenant: string;
  windowBytes: number;
  logger: Logger;
  nowMs: () => number;
}

export async function recoverTenant(options: RecoveryOptions): Promise<RecoveredTenant> {
  const directory = await ensureTenantDirectory(options.logDirectory, options.tenant);
  const { segments, leftovers } = await listSegments(directory);
  await removeLeftovers(leftovers);
  const report: TenantRecovery = {
    tenant: options.tenant,
    segments: segments.length,
    lastSegmentRecords: 0,
    nextOffset: 0,
    truncated: null,
    corrupt: [],
    setAside: null,
    removedLeftovers: leftovers.length,
  };
  const last = segments.at(-1);
  let recovered: { active: ActiveSegment; nextOffset: number };
  if (last === undefined) {
    const active = await freshSegment(directory, 0, options.nowMs());
    recovered = { active, nextOffset: 0 };
    report.segments = 1;
  } else {
    recovered = await recoverLastSegment(directory, last, report, options);
  }
  report.nextOffset = recovered.nextOffset;
  logReport(report, options.logger);
  return { report, ...recovered };
}

async function freshSegment(directory: string, baseOffset: number, nowMs: number): Promise<ActiveSegment> {
  const { file, segment } = await createSegment(directory, baseOffset, nowMs);
  return { file, baseOffset, name: segment.name, position: SEGMENT_HEADER_BYTES };
}

async function recoverLastSegment(
  directory: string,
  segment: SegmentFile,
  report: TenantRecovery,
  options: RecoveryOptions,
): Promise<{ active: ActiveSegment; nextOffset: number }> {
  const file = await open(segment.path, "r+");
  try {
    const header = await readSegmentHeader(file, segment);
    if (typeof header === "string") {
      await file.close();
      const aside = `${segment.path}.corrupt`;
      await rename(segment.path, aside);
      report.setAside = `${segment.name}: ${header}`;
      return { active: await freshSegment(directory, segment.baseOffset, options.nowMs()), nextOffset: segment.baseOffset };
    }
    const { size } = await file.stat();
    let position = SEGMENT_HEADER_BYTES;
    let nextOffset = segment.baseOffset;
    for await (const item of scanSegment(file, { start: SEGMENT_HEADER_BYTES, end: size, mode: "verify", expectedOffset: segment.baseOffset, keepRecords: false, windowBytes: options.windowBytes })) {
      if (item.kind === "record") {
        report.lastSegmentRecords++;
        position = item.position + item.header.length;
        nextOffset = item.header.baseOffset + item.header.events;
        continue;
      }
      const range = { segment: segment.name, position: item.position, bytes: item.bytes, reason: item.reason };
      if (item.tail) report.truncated = range;
      else report.corrupt.push(range);
    }
    if (report.truncated !== null) {
      await file.truncate(report.truncated.position);
      await file.sync();
      position = report.truncated.position;
    }
    return { active: { file, baseOffset: segment.baseOffset, name: segment.name, position }, nextOffset };
  } catch (error) {
    await file.close().catch(() => undefined);
    throw error;
  }
}

function logReport(report: TenantRecovery, logger: Logger): void {
  const context = { tenant: report.tenant, segments: report.segments, next_offset: report.nextOffset };
  if (report.truncated !== null) {
    logger.warn("log recovery truncated the end of the last segment", {
      ...context,
      segment: report.truncated.segment,
      at_byte: report.truncated.position,
      dropped_bytes: report.truncated.bytes,
      reason: report.truncated.reason,
    });
  }
  for (const range of report.corrupt) {
    logger.warn("log recovery found a corrupt record; readers will skip it", { ...context, segment: range.segment, at_byte: range.position, bytes: range.bytes, reason: range.reason });
  }
  if (report.setAside !== null) logger.error("log recovery set aside a segment with an unreadable header", { ...context, segment: report.setAside });
  if (report.removedLeftovers > 0) logger.info("log recovery removed temp files of an interrupted segment roll", { ...context, files: report.removedLeftovers });
}
