/**
 * Segment files of one tenant's directory: listing them in offset order and
 * creating a new one atomically (header written to a temp file, fsynced,
 * renamed, directory fsynced), so a segment file always has a whole header.
 */
import { mkdir, open, readdir, rename, unlink, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { SEGMENT_HEADER_BYTES, decodeSegmentHeader, encodeSegmentHeader, parseSegmentFileName, segmentFileName, type SegmentHeader } from "./format.ts";

export interface SegmentFile {
  baseOffset: number;
  name: string;
  path: string;
}

export interface SegmentListing {
  segments: SegmentFile[];
  /** Temp files left by a crash during a roll (never visible as segments). */
  leftovers: string[];
}

/** Segments in base offset order; a missing directory has none. */
export async function listSegments(tenantDirectory: string): Promise<SegmentListing> {
  let names: string[];
  try {
    names = await readdir(tenantDirectory);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { segments: [], leftovers: [] };
    throw error;
  }
  const segments: SegmentFile[] = [];
  const leftovers: string[] = [];
  for (const name of names) {
    const baseOffset = parseSegmentFileName(name);
    if (baseOffset !== undefined) segments.push({ baseOffset, name, path: join(tenantDirectory, name) });
    else if (name.startsWith(".") && /\.(seg|index|timeindex)\.tmp$/.test(name)) leftovers.push(join(tenantDirectory, name));
  }
  segments.sort((a, b) => a.baseOffset - b.baseOffset);
  return { segments, leftovers };
}

export async function removeLeftovers(leftovers: readonly string[]): Promise<void> {
  for (const path of leftovers) await unlink(path);
}

/** Creates `<base>.seg` with its header, durably; returns it open for writing. */
export async function createSegment(tenantDirectory: string, baseOffset: number, createdMs: number): Promise<{ file: FileHandle; segment: SegmentFile }> {
  const name = segmentFileName(baseOffset);
  const path = join(tenantDirectory, name);
  const temp = join(tenantDirectory, `.${name}.tmp`);
  const file = await open(temp, "w+", 0o640);
  try {
    await file.write(encodeSegmentHeader(baseOffset, createdMs), 0, SEGMENT_HEADER_BYTES, 0);
    await file.sync();
    await rename(temp, path);
    await syncDirectory(tenantDirectory);
  } catch (error) {
    await file.close();
    throw error;
  }
  return { file, segment: { baseOffset, name, path } };
}

/** Creates a tenant's directory durably (the parent's entry is fsynced too). */
export async function ensureTenantDirectory(logDirectory: string, tenant: string): Promise<string> {
  const directory = join(logDirectory, tenant);
  await mkdir(logDirectory, { recursive: true });
  const created = await mkdir(directory, { recursive: true });
  if (created !== undefined) await syncDirectory(logDirectory);
  return directory;
}

export async function syncDirectory(path: string): Promise<void> {
  const directory = await open(path, "r");
  try {
    await directory.sync();
  } finally {
    await directory.close();
  }
}

/** The segment's header, or why it is unusable (also when the name and header disagree). */
export async function readSegmentHeader(file: FileHandle, segment: SegmentFile): Promise<SegmentHeader | string> {
  const bytes = Buffer.alloc(SEGMENT_HEADER_BYTES);
  const { bytesRead } = await file.read(bytes, 0, SEGMENT_HEADER_BYTES, 0);
  const header = decodeSegmentHeader(bytes.subarray(0, bytesRead));
  if (typeof header === "string") return header;
  if (header.baseOffset !== segment.baseOffset) return `segment header says base offset ${header.baseOffset}, its name ${segment.baseOffset}`;
  return header;
}
