/**
 * Streams by the leading bytes of their head, to answer "is this new file a
 * copy of one being read?" (copytruncate's copy starts with the head of the
 * file it copies) without comparing the new file's head with the head of
 * every stream: at start-up over 1,000 files that was half a million
 * comparisons, enough to make V8 run its optimizing compiler, whose code
 * pages then stay resident (docs/TAILING.md, "Polling").
 *
 * Two heads "agree" when they are equal over the shorter one's length. Each
 * stream is kept under its key — the first HEAD_KEY_BYTES bytes of its head
 * (fewer when the head is shorter), as latin1 text (one character per byte)
 * — in an array sorted by key. The streams whose head may agree with a head
 * H are those whose key starts with H's key (a binary search, then the run
 * of keys with that prefix) and those whose shorter key is a prefix of H's
 * (one binary search per such key length in use).
 *
 * Candidates are a superset when heads agree on their first HEAD_KEY_BYTES
 * bytes and differ later: the caller compares whole heads and checks the
 * stream's state. `add` again after a stream's head changed.
 */

/** Leading bytes of a head that key it: enough to tell apart files that begin alike (a timestamp, a host name). */
export const HEAD_KEY_BYTES = 64;

interface Keyed<T> {
  key: string;
  item: T;
}

export class HeadIndex<T extends { head: Buffer }> {
  /** Sorted by key. */
  private readonly sorted: Keyed<T>[] = [];
  private readonly keyOf = new Map<T, string>();
  /** How many keys are shorter than HEAD_KEY_BYTES, by length. */
  private readonly shortLengths = new Map<number, number>();

  /** Keep `item` under its head's key now (in place of the key it had); an empty head is not kept. */
  add(item: T): void {
    const key = item.head.length === 0 ? null : headKey(item.head);
    if (this.keyOf.get(item) === key) return;
    this.delete(item);
    if (key === null) return;
    this.keyOf.set(item, key);
    this.sorted.splice(this.lowerBound(key), 0, { key, item });
    if (key.length < HEAD_KEY_BYTES) this.shortLengths.set(key.length, (this.shortLengths.get(key.length) ?? 0) + 1);
  }

  delete(item: T): void {
    const key = this.keyOf.get(item);
    if (key === undefined) return;
    this.keyOf.delete(item);
    for (let index = this.lowerBound(key); index < this.sorted.length && (this.sorted[index] as Keyed<T>).key === key; index++) {
      if ((this.sorted[index] as Keyed<T>).item !== item) continue;
      this.sorted.splice(index, 1);
      break;
    }
    if (key.length < HEAD_KEY_BYTES) {
      const count = (this.shortLengths.get(key.length) ?? 0) - 1;
      if (count > 0) this.shortLengths.set(key.length, count);
      else this.shortLengths.delete(key.length);
    }
  }

  /** Items whose head may agree with `head`. */
  candidates(head: Buffer): T[] {
    if (head.length === 0) return [];
    const key = headKey(head);
    const found: T[] = [];
    for (let index = this.lowerBound(key); index < this.sorted.length; index++) {
      const entry = this.sorted[index] as Keyed<T>;
      if (!entry.key.startsWith(key)) break;
      found.push(entry.item);
    }
    for (const length of this.shortLengths.keys()) {
      if (length >= key.length) continue;
      const prefix = key.slice(0, length);
      for (let index = this.lowerBound(prefix); index < this.sorted.length && (this.sorted[index] as Keyed<T>).key === prefix; index++) {
        found.push((this.sorted[index] as Keyed<T>).item);
      }
    }
    return found;
  }

  /** Index of the first entry whose key is not below `key`. */
  private lowerBound(key: string): number {
    let low = 0;
    let high = this.sorted.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if ((this.sorted[middle] as Keyed<T>).key < key) low = middle + 1;
      else high = middle;
    }
    return low;
  }
}

function headKey(head: Buffer): string {
  return head.toString("latin1", 0, Math.min(head.length, HEAD_KEY_BYTES));
}
