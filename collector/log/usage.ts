/**
 * How much of a tenant's log is on disk, for `GET /v1/status`: segment
 * count, bytes, the oldest offset still stored, and the bytes from given
 * offsets to the end (a sink's lag in bytes).
 *
 * Bytes are segment file bytes (headers included, index files not), the
 * active segment counted up to its durable end. Bytes from an offset start
 * at the offset index entry at or below it (docs/LOG.md: an entry every
 * 64 KiB), so they may count up to ~64 KiB of records before the offset,
 * never fewer bytes than the records from it take. Reads directory entries
 * and index files only, never a segment's records.
 */
import { stat } from "node:fs/promises";
import { SEGMENT_HEADER_BYTES } from "./format.ts";
import { floorEntry, loadIndex } from "./segment-index.ts";
import { listSegments } from "./segments.ts";

export interface TenantLogUsage {
  segments: number;
  bytes: number;
  /** Base offset of the oldest segment: the lowest offset still stored (`endOffset` when there is none). */
  firstOffset: number;
  /** For each offset asked about: bytes of the log from that offset's record to the end; 0 at or past the end. */
  bytesFrom: number[];
}

export interface UsageOptions {
  tenantDirectory: string;
  /** The writer's durable end: offset, active segment and byte position. */
  end: { offset: number; segmentBaseOffset: number; position: number };
  fromOffsets: readonly number[];
}

interface SizedSegment {
  baseOffset: number;
  bytes: number;
}

export async function tenantLogUsage(options: UsageOptions): Promise<TenantLogUsage> {
  const { segments } = await listSegments(options.tenantDirectory);
  const sized: SizedSegment[] = [];
  for (const segment of segments) {
    const bytes = await fileBytes(segment.path);
    // Retention deleted it since the listing: it no longer counts.
    if (bytes === undefined) continue;
    const durableBytes = segment.baseOffset === options.end.segmentBaseOffset ? Math.min(bytes, options.end.position) : bytes;
    sized.push({ baseOffset: segment.baseOffset, bytes: durableBytes });
  }
  const bytesFrom: number[] = [];
  for (const offset of options.fromOffsets) bytesFrom.push(await bytesFromOffset(options.tenantDirectory, sized, offset, options.end.offset));
  return {
    segments: sized.length,
    bytes: sized.reduce((sum, segment) => sum + segment.bytes, 0),
    firstOffset: sized[0]?.baseOffset ?? options.end.offset,
    bytesFrom,
  };
}

async function bytesFromOffset(tenantDirectory: string, segments: readonly SizedSegment[], offset: number, endOffset: number): Promise<number> {
  if (offset >= endOffset || segments.length === 0) return 0;
  // The segment holding `offset`: the last one whose base offset is at or below it (or the first, for an offset retention deleted).
  let holding = 0;
  while (holding + 1 < segments.length && (segments[holding + 1] as SizedSegment).baseOffset <= offset) holding++;
  const segment = segments[holding] as SizedSegment;
  const index = await loadIndex(tenantDirectory, segment.baseOffset, "offset");
  const entry = floorEntry(index.entries, offset - segment.baseOffset, false);
  // An index entry past the durable end (a write being repaired) is not trusted: count the whole segment then.
  const position = entry !== undefined && entry.value <= segment.bytes ? entry.value : SEGMENT_HEADER_BYTES;
  let bytes = Math.max(0, segment.bytes - position);
  for (const later of segments.slice(holding + 1)) bytes += Math.max(0, later.bytes - SEGMENT_HEADER_BYTES);
  return bytes;
}

async function fileBytes(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw error;
  }
}
