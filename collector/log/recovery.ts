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
 * - temp files of an interrupted roll are deleted;
 * - indexes (segment-index.ts): the active segment's are compared with its
 *   records and rewritten; older segments' are checked cheaply; a missing or
 *   damaged one is rebuilt from its segment and reported (index-recovery.ts).
 *
 * Older segments' records are not read here (readers check their CRCs).
 */
import { rename, type FileHandle, open } from "node:fs/promises";
import type { Logger } from "../../shared/logger.ts";
import { SEGMENT_HEADER_BYTES } from "./format.ts";
import { scanSegment } from "./scan.ts";
import { checkClosedIndexes, recoverActiveIndexes, type RebuiltIndex } from "./index-recovery.ts";
import { IndexBuilder, writeIndexFile, type IndexedRecord } from "./segment-index.ts";
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
  /** Index files found missing or damaged, rebuilt from their segments. */
  rebuiltIndexes: RebuiltIndex[];
}

/** The active (last) segment, open for appending at `position`. */
export interface ActiveSegment {
  file: FileHandle;
  baseOffset: number;
  name: string;
  /** End of the last intact record: where the next record goes. */
  position: number;
  /** Index state after the segment's last record; the writer continues from it. */
  indexBuilder: IndexBuilder;
  createdMs: number;
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
    rebuiltIndexes: [],
  };
  for (const segment of segments.slice(0, -1)) {
    report.rebuiltIndexes.push(...(await checkClosedIndexes(directory, segment, HEADER_SCAN_WINDOW_BYTES)));
  }
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

const HEADER_SCAN_WINDOW_BYTES = 4096;

/** A new segment with empty indexes. */
export async function freshSegment(directory: string, baseOffset: number, nowMs: number): Promise<ActiveSegment> {
  await writeIndexFile(directory, baseOffset, "offset", []);
  await writeIndexFile(directory, baseOffset, "time", []);
  const { file, segment } = await createSegment(directory, baseOffset, nowMs);
  return { file, baseOffset, name: segment.name, position: SEGMENT_HEADER_BYTES, indexBuilder: new IndexBuilder(baseOffset), createdMs: nowMs };
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
    const records: IndexedRecord[] = [];
    for await (const item of scanSegment(file, { start: SEGMENT_HEADER_BYTES, end: size, mode: "verify", expectedOffset: segment.baseOffset, keepRecords: false, windowBytes: options.windowBytes })) {
      if (item.kind === "record") {
        report.lastSegmentRecords++;
        position = item.position + item.header.length;
        nextOffset = item.header.baseOffset + item.header.events;
        records.push({ position: item.position, baseOffset: item.header.baseOffset, length: item.header.length, observedMaxMs: item.header.observedMaxMs });
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
    const indexes = await recoverActiveIndexes(directory, segment, records);
    report.rebuiltIndexes.push(...indexes.rebuilt);
    const active = { file, baseOffset: segment.baseOffset, name: segment.name, position, indexBuilder: indexes.built.builder, createdMs: header.createdMs };
    return { active, nextOffset };
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
  for (const rebuilt of report.rebuiltIndexes) {
    logger.warn("log recovery rebuilt a missing or damaged index from its segment", { ...context, segment: rebuilt.segment, index: rebuilt.index, reason: rebuilt.reason });
  }
  if (report.removedLeftovers > 0) logger.info("log recovery removed temp files of an interrupted segment roll", { ...context, files: report.removedLeftovers });
}
