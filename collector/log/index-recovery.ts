/**
 * Checking and rebuilding segment indexes on open (segment-index.ts).
 *
 * Closed segments: each index's header, entry CRCs and order are checked,
 * and its last offset entry must point at a record with that offset inside
 * the file. The active segment: recovery has just scanned every record, so
 * its indexes are compared entry by entry with what the records give, and
 * rewritten from them in any case (the writer continues from that state).
 * A missing or damaged index is rebuilt from the segment and reported; an
 * index that merely lags behind the segment (a crash before its entries
 * were written) is completed silently.
 */
import { open } from "node:fs/promises";
import { SEGMENT_HEADER_BYTES } from "./format.ts";
import { scanSegment } from "./scan.ts";
import { readSegmentHeader, type SegmentFile } from "./segments.ts";
import {
  IndexBuilder,
  loadIndex,
  recordStartsAt,
  writeIndexFile,
  type DecodedIndex,
  type IndexEntry,
  type IndexKind,
  type IndexedRecord,
} from "./segment-index.ts";

export interface RebuiltIndex {
  segment: string;
  index: IndexKind;
  reason: string;
}

export interface BuiltIndexes {
  builder: IndexBuilder;
  offset: IndexEntry[];
  time: IndexEntry[];
}

export function buildIndexes(baseOffset: number, records: Iterable<IndexedRecord>): BuiltIndexes {
  const builder = new IndexBuilder(baseOffset);
  const offset: IndexEntry[] = [];
  const time: IndexEntry[] = [];
  for (const record of records) {
    const added = builder.add(record);
    if (added.offset !== null) offset.push(added.offset);
    if (added.time !== null) time.push(added.time);
  }
  return { builder, offset, time };
}

/** Why `existing` cannot be trusted next to the entries the records give, or null (equal, or a prefix: lagging). */
function compareWithRecords(existing: DecodedIndex, built: readonly IndexEntry[]): string | null {
  if (existing.problem !== null) return existing.problem;
  for (let index = 0; index < existing.entries.length; index++) {
    const entry = existing.entries[index] as IndexEntry;
    const expected = built[index];
    if (expected === undefined) return `index entry ${index} points past the last valid record`;
    if (expected.key !== entry.key || expected.value !== entry.value) return `index entry ${index} does not match the segment`;
  }
  return null;
}

/** The active segment: compare with the records recovery found, then rewrite both indexes. */
export async function recoverActiveIndexes(directory: string, segment: SegmentFile, records: readonly IndexedRecord[]): Promise<{ built: BuiltIndexes; rebuilt: RebuiltIndex[] }> {
  const built = buildIndexes(segment.baseOffset, records);
  const rebuilt: RebuiltIndex[] = [];
  for (const kind of ["offset", "time"] as const) {
    const reason = compareWithRecords(await loadIndex(directory, segment.baseOffset, kind), built[kind]);
    if (reason !== null) rebuilt.push({ segment: segment.name, index: kind, reason });
    await writeIndexFile(directory, segment.baseOffset, kind, built[kind]);
  }
  return { built, rebuilt };
}

/** A closed segment: check both indexes cheaply; rebuild both from a header scan if either is damaged. */
export async function checkClosedIndexes(directory: string, segment: SegmentFile, windowBytes: number): Promise<RebuiltIndex[]> {
  const file = await open(segment.path, "r");
  try {
    const { size } = await file.stat();
    const problems: RebuiltIndex[] = [];
    const offsetIndex = await loadIndex(directory, segment.baseOffset, "offset");
    let offsetProblem = offsetIndex.problem;
    const lastOffset = offsetIndex.entries.at(-1);
    if (offsetProblem === null && lastOffset !== undefined && !(await recordStartsAt(file, lastOffset.value, segment.baseOffset + lastOffset.key, size))) {
      offsetProblem = "last index entry does not point at a record with its offset";
    }
    if (offsetProblem !== null) problems.push({ segment: segment.name, index: "offset", reason: offsetProblem });
    const timeIndex = await loadIndex(directory, segment.baseOffset, "time");
    if (timeIndex.problem !== null) problems.push({ segment: segment.name, index: "time", reason: timeIndex.problem });
    if (problems.length === 0) return [];
    if (typeof (await readSegmentHeader(file, segment)) === "string") return problems; // readers report the segment itself
    const records: IndexedRecord[] = [];
    const scan = scanSegment(file, { start: SEGMENT_HEADER_BYTES, end: size, mode: "headers", expectedOffset: segment.baseOffset, keepRecords: false, windowBytes });
    for await (const item of scan) {
      if (item.kind === "record") records.push({ position: item.position, baseOffset: item.header.baseOffset, length: item.header.length, observedMaxMs: item.header.observedMaxMs });
    }
    const built = buildIndexes(segment.baseOffset, records);
    for (const problem of problems) await writeIndexFile(directory, segment.baseOffset, problem.index, built[problem.index]);
    return problems;
  } finally {
    await file.close();
  }
}
