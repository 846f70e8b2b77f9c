/**
 * Which log offsets the committed archive files already hold, per
 * (tenant, partition): every committed file's [first, last] range, from the
 * target's listing at start and from each file this process commits. An
 * event is already archived when a file of its partition covers its offset
 * (a file holds every event of its partition in its range, naming.ts).
 *
 * Memory: one entry per committed file (about 100 bytes); a partition per
 * hour rolled every 5 minutes is about 105,000 files a year per tenant.
 */

interface Ranges {
  /** Sorted by first offset; disjoint within a partition. */
  firsts: number[];
  lasts: number[];
}

export class RangeIndex {
  private readonly byPartition = new Map<string, Ranges>();
  /** The highest last offset per tenant: an offset above it is in no file (the common case, answered without a search). */
  private readonly lastByTenant = new Map<string, number>();

  add(tenant: string, partition: string, firstOffset: number, lastOffset: number): void {
    const key = `${tenant}\0${partition}`;
    let ranges = this.byPartition.get(key);
    if (ranges === undefined) {
      ranges = { firsts: [], lasts: [] };
      this.byPartition.set(key, ranges);
    }
    const at = upperBound(ranges.firsts, firstOffset);
    ranges.firsts.splice(at, 0, firstOffset);
    ranges.lasts.splice(at, 0, lastOffset);
    this.lastByTenant.set(tenant, Math.max(this.lastByTenant.get(tenant) ?? -1, lastOffset));
  }

  covers(tenant: string, partition: string, offset: number): boolean {
    if (offset > (this.lastByTenant.get(tenant) ?? -1)) return false;
    const ranges = this.byPartition.get(`${tenant}\0${partition}`);
    if (ranges === undefined) return false;
    const at = upperBound(ranges.firsts, offset) - 1;
    return at >= 0 && (ranges.lasts[at] ?? -1) >= offset;
  }
}

/** The index of the first element greater than `value` in the ascending `sorted`. */
function upperBound(sorted: readonly number[], value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((sorted[middle] ?? 0) <= value) low = middle + 1;
    else high = middle;
  }
  return low;
}
