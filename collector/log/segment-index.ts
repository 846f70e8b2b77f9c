/**
 * The two sparse indexes beside each segment (format v1, docs/LOG.md):
 *
 *   <base>.index       offset index: (relative offset, byte position of the record)
 *   <base>.timeindex   time index:   (max observed time so far in ms, relative offset)
 *
 * Both files: header (24 bytes) + entries (24 bytes each). Little-endian.
 *
 *   header  0  4  magic "LIDX" (offset index) or "LTIX" (time index)
 *           4  4  u32 format version (1)
 *           8  8  f64 base offset of the segment
 *          16  4  u32 reserved (0)
 *          20  4  u32 CRC-32 (zlib) of bytes 0..20
 *   entry   0  8  f64 key   (relative offset | max observed ms so far)
 *           8  8  f64 value (byte position    | relative offset)
 *          16  4  u32 reserved (0)
 *          20  4  u32 CRC-32 (zlib) of bytes 0..20
 *
 * An entry is added when a record starts at least INDEX_INTERVAL_BYTES
 * after the previous entry of that index (and for the first record of a
 * segment). Offset index keys strictly increase (each entry points at the
 * first record with that base offset); time index keys never decrease (a
 * running maximum, Kafka style), so "the last entry below T" is a safe place
 * to start looking for the first record whose observed max is at least T.
 *
 * Indexes are derived data: they are written with the records but not
 * fsynced on their own, may lag behind the segment, and are checked and
 * rebuilt from the segment on open. Readers use the valid prefix of an
 * index and check the record an entry points at before trusting it.
 */
import { crc32 } from "node:zlib";
import { open, rename, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { assert } from "../../shared/errors.ts";
import { RECORD_FIXED_BYTES, SEGMENT_HEADER_BYTES, checkFixedHeader, decodeRecordHeader, segmentFileName } from "./format.ts";

export const INDEX_FORMAT_VERSION = 1;
export const INDEX_HEADER_BYTES = 24;
export const INDEX_ENTRY_BYTES = 24;
/** Bytes of segment between two entries of one index (at least). */
export const INDEX_INTERVAL_BYTES = 64 * 1024;
/** An index file larger than this is damage (a 4 GiB segment at the interval needs 1.5 MiB). */
const INDEX_FILE_BYTES_MAX = 64 * 1024 * 1024;

export type IndexKind = "offset" | "time";

const MAGIC: Record<IndexKind, Buffer> = { offset: Buffer.from("LIDX", "latin1"), time: Buffer.from("LTIX", "latin1") };
const SUFFIX: Record<IndexKind, string> = { offset: ".index", time: ".timeindex" };

export interface IndexEntry {
  key: number;
  value: number;
}

export function indexFileName(baseOffset: number, kind: IndexKind): string {
  return segmentFileName(baseOffset).replace(/\.seg$/, SUFFIX[kind]);
}

export function indexPath(tenantDirectory: string, baseOffset: number, kind: IndexKind): string {
  return join(tenantDirectory, indexFileName(baseOffset, kind));
}

/** The base offset an index file name stands for, or undefined. */
export function parseIndexFileName(name: string): { baseOffset: number; kind: IndexKind } | undefined {
  const match = /^(\d{20})\.(index|timeindex)$/.exec(name);
  if (match === null) return undefined;
  const baseOffset = Number(match[1]);
  return Number.isSafeInteger(baseOffset) ? { baseOffset, kind: match[2] === "index" ? "offset" : "time" } : undefined;
}

export function encodeIndexHeader(kind: IndexKind, baseOffset: number): Buffer {
  const header = Buffer.alloc(INDEX_HEADER_BYTES);
  MAGIC[kind].copy(header, 0);
  header.writeUInt32LE(INDEX_FORMAT_VERSION, 4);
  header.writeDoubleLE(baseOffset, 8);
  header.writeUInt32LE(crc32(header.subarray(0, 20)), 20);
  return header;
}

export function encodeIndexEntries(entries: readonly IndexEntry[]): Buffer {
  const bytes = Buffer.alloc(entries.length * INDEX_ENTRY_BYTES);
  entries.forEach((entry, index) => {
    const at = index * INDEX_ENTRY_BYTES;
    bytes.writeDoubleLE(entry.key, at);
    bytes.writeDoubleLE(entry.value, at + 8);
    bytes.writeUInt32LE(crc32(bytes.subarray(at, at + 20)), at + 20);
  });
  return bytes;
}

export interface DecodedIndex {
  /** The longest valid prefix of entries. */
  entries: IndexEntry[];
  /** Why the rest (or the whole file) is unusable; null when every byte checked out. */
  problem: string | null;
}

/** Checks an index file's bytes: header, entry CRCs, key order. Position bounds are the caller's (`checkIndexBounds`). */
export function decodeIndex(bytes: Buffer, kind: IndexKind, baseOffset: number): DecodedIndex {
  if (bytes.length < INDEX_HEADER_BYTES) return { entries: [], problem: "index header is incomplete" };
  if (!bytes.subarray(0, 4).equals(MAGIC[kind])) return { entries: [], problem: "bad index magic" };
  if (crc32(bytes.subarray(0, 20)) !== bytes.readUInt32LE(20)) return { entries: [], problem: "index header CRC mismatch" };
  const version = bytes.readUInt32LE(4);
  if (version !== INDEX_FORMAT_VERSION) return { entries: [], problem: `unsupported index format version ${version}` };
  if (bytes.readDoubleLE(8) !== baseOffset) return { entries: [], problem: `index header says base offset ${bytes.readDoubleLE(8)}` };
  const entries: IndexEntry[] = [];
  let at = INDEX_HEADER_BYTES;
  for (; at + INDEX_ENTRY_BYTES <= bytes.length; at += INDEX_ENTRY_BYTES) {
    if (crc32(bytes.subarray(at, at + 20)) !== bytes.readUInt32LE(at + 20)) return { entries, problem: `index entry ${entries.length} CRC mismatch` };
    const entry = { key: bytes.readDoubleLE(at), value: bytes.readDoubleLE(at + 8) };
    const previous = entries.at(-1);
    const ordered = previous === undefined || (kind === "offset" ? entry.key > previous.key && entry.value > previous.value : entry.key >= previous.key && entry.value > previous.value);
    if (!ordered) return { entries, problem: `index entry ${entries.length} out of order` };
    entries.push(entry);
  }
  if (at !== bytes.length) return { entries, problem: "index ends in an incomplete entry" };
  return { entries, problem: null };
}

/** Reads and decodes an index file; a missing file is reported as such. */
export async function loadIndex(tenantDirectory: string, baseOffset: number, kind: IndexKind): Promise<DecodedIndex> {
  let file: FileHandle;
  try {
    file = await open(indexPath(tenantDirectory, baseOffset, kind), "r");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { entries: [], problem: "index is missing" };
    throw error;
  }
  try {
    const { size } = await file.stat();
    if (size > INDEX_FILE_BYTES_MAX) return { entries: [], problem: `index of ${size} bytes is too large` };
    const bytes = Buffer.alloc(size);
    await file.read(bytes, 0, size, 0);
    return decodeIndex(bytes, kind, baseOffset);
  } finally {
    await file.close();
  }
}

/** Record fields the index builder needs. */
export interface IndexedRecord {
  position: number;
  baseOffset: number;
  length: number;
  observedMaxMs: number;
}

export interface IndexBuilderState {
  offsetEntries: number;
  timeEntries: number;
  lastOffsetKey: number;
  lastOffsetPosition: number;
  lastTimePosition: number;
  maxObservedMs: number;
  /** Relative offset of the last time index entry. */
  lastTimeValue: number;
  /** Relative offset of the last record seen: only the first record with a base offset may get an offset entry. */
  lastRecordRelative: number;
}

/**
 * Decides which records get index entries; the same rules for the writer,
 * recovery and rebuilds, so a rebuilt index equals the one written.
 */
export class IndexBuilder {
  readonly baseOffset: number;
  private state: IndexBuilderState = {
    offsetEntries: 0,
    timeEntries: 0,
    lastOffsetKey: -1,
    lastOffsetPosition: Number.NEGATIVE_INFINITY,
    lastTimePosition: Number.NEGATIVE_INFINITY,
    maxObservedMs: Number.NEGATIVE_INFINITY,
    lastTimeValue: -1,
    lastRecordRelative: -1,
  };

  constructor(baseOffset: number) {
    this.baseOffset = baseOffset;
  }

  get offsetEntries(): number {
    return this.state.offsetEntries;
  }

  get timeEntries(): number {
    return this.state.timeEntries;
  }

  snapshot(): IndexBuilderState {
    return { ...this.state };
  }

  restore(state: IndexBuilderState): void {
    this.state = { ...state };
  }

  /** Entries the record at `record.position` adds to each index (records come in position order). */
  add(record: IndexedRecord): { offset: IndexEntry | null; time: IndexEntry | null } {
    const state = this.state;
    const relative = record.baseOffset - this.baseOffset;
    assert(relative >= 0, "records of a segment are at or after its base offset");
    let offset: IndexEntry | null = null;
    // After a 0-event record, the next record has the same base offset: an entry there would skip the 0-event one.
    const firstWithOffset = relative > state.lastRecordRelative;
    state.lastRecordRelative = relative;
    if (firstWithOffset && relative > state.lastOffsetKey && record.position - state.lastOffsetPosition >= INDEX_INTERVAL_BYTES) {
      offset = { key: relative, value: record.position };
      state.lastOffsetKey = relative;
      state.lastOffsetPosition = record.position;
      state.offsetEntries++;
    }
    let time: IndexEntry | null = null;
    const maxObservedMs = Math.max(state.maxObservedMs, record.observedMaxMs);
    const grew = maxObservedMs > state.maxObservedMs;
    state.maxObservedMs = maxObservedMs;
    if (grew && relative > state.lastTimeValue && record.position - state.lastTimePosition >= INDEX_INTERVAL_BYTES) {
      time = { key: maxObservedMs, value: relative };
      state.lastTimePosition = record.position;
      state.lastTimeValue = relative;
      state.timeEntries++;
    }
    return { offset, time };
  }
}

/** Writes both index files for `entries` (temp file, then rename; derived data, so no fsync). */
export async function writeIndexFile(tenantDirectory: string, baseOffset: number, kind: IndexKind, entries: readonly IndexEntry[]): Promise<void> {
  const path = indexPath(tenantDirectory, baseOffset, kind);
  const temp = join(tenantDirectory, `.${indexFileName(baseOffset, kind)}.tmp`);
  const file = await open(temp, "w", 0o640);
  try {
    const bytes = Buffer.concat([encodeIndexHeader(kind, baseOffset), encodeIndexEntries(entries)]);
    await file.write(bytes, 0, bytes.length, 0);
  } finally {
    await file.close();
  }
  await rename(temp, path);
}

/**
 * True when the record at `position` starts with a valid fixed header whose
 * base offset is `baseOffset` (an index entry worth trusting; the CRC is
 * checked by the scan that follows).
 */
export async function recordStartsAt(file: FileHandle, position: number, baseOffset: number, end: number): Promise<boolean> {
  if (position < SEGMENT_HEADER_BYTES || position + RECORD_FIXED_BYTES > end) return false;
  const probe = Buffer.alloc(RECORD_FIXED_BYTES + 256);
  const { bytesRead } = await file.read(probe, 0, Math.min(probe.length, end - position), position);
  if (bytesRead < RECORD_FIXED_BYTES) return false;
  const fixed = checkFixedHeader(probe.subarray(0, bytesRead));
  if (typeof fixed === "string" || fixed.headerBytes > bytesRead) return false;
  return decodeRecordHeader(probe).baseOffset === baseOffset;
}

/** The position to start reading a segment at for `relativeOffset`: the last entry at or below it. */
export function floorEntry(entries: readonly IndexEntry[], key: number, strictlyBelow: boolean): IndexEntry | undefined {
  let low = 0;
  let high = entries.length - 1;
  let found: IndexEntry | undefined;
  while (low <= high) {
    const middle = (low + high) >> 1;
    const entry = entries[middle] as IndexEntry;
    if (strictlyBelow ? entry.key < key : entry.key <= key) {
      found = entry;
      low = middle + 1;
    } else {
      high = middle - 1;
    }
  }
  return found;
}
