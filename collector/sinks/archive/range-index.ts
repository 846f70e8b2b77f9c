/**
 * Which log positions the committed archive files already hold, per
 * (owner, partition directory): every committed file's [first, last]
 * range (naming.ts: the owner is the log, or the log in one Kafka
 * partition), from the target's listing and from each file this process
 * commits. An event is already archived when a file of its directory
 * covers its position (a file holds every event of its owner and directory
 * in its range). Adding a range that is already there (a listing again)
 * changes nothing.
 *
 * Memory: one entry per committed file (about 100 bytes); a partition per
 * hour rolled every 5 minutes is about 105,000 files a year per owner.
 */
import { comparePositions, type LogPosition } from "./naming.ts";

interface Ranges {
  /** Sorted by first position; disjoint within a directory. */
  firsts: LogPosition[];
  lasts: LogPosition[];
}

export class RangeIndex {
  private readonly byDirectory = new Map<string, Ranges>();
  /** The highest last position per owner: a position above it is in no file (the common case, answered without a search). */
  private readonly lastByOwner = new Map<string, LogPosition>();

  add(owner: string, directory: string, first: LogPosition, last: LogPosition): void {
    const key = `${owner}\0${directory}`;
    let ranges = this.byDirectory.get(key);
    if (ranges === undefined) {
      ranges = { firsts: [], lasts: [] };
      this.byDirectory.set(key, ranges);
    }
    const at = upperBound(ranges.firsts, first);
    const before = ranges.firsts[at - 1];
    if (before !== undefined && comparePositions(before, first) === 0 && comparePositions(ranges.lasts[at - 1] as LogPosition, last) === 0) return;
    ranges.firsts.splice(at, 0, first);
    ranges.lasts.splice(at, 0, last);
    const highest = this.lastByOwner.get(owner);
    if (highest === undefined || comparePositions(last, highest) > 0) this.lastByOwner.set(owner, last);
  }

  covers(owner: string, directory: string, position: LogPosition): boolean {
    const highest = this.lastByOwner.get(owner);
    if (highest === undefined || comparePositions(position, highest) > 0) return false;
    const ranges = this.byDirectory.get(`${owner}\0${directory}`);
    if (ranges === undefined) return false;
    const at = upperBound(ranges.firsts, position) - 1;
    const last = ranges.lasts[at];
    return at >= 0 && last !== undefined && comparePositions(last, position) >= 0;
  }
}

/** The index of the first element greater than `value` in the ascending `sorted`. */
function upperBound(sorted: readonly LogPosition[], value: LogPosition): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (comparePositions(sorted[middle] as LogPosition, value) <= 0) low = middle + 1;
    else high = middle;
  }
  return low;
}
