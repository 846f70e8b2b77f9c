/**
 * When each followed file is stat'ed next: a file that shows no change is
 * stat'ed less and less often — the interval doubles from `baseMs` up to
 * `maxMs` (`tail.max_backoff`) — and one that changes (bytes read, a file
 * event from the directory watch) is back at `baseMs` at once. This is the
 * backoff Filebeat operators know (`backoff` / `max_backoff`): 1,000 quiet
 * files cost 1,000 fstat calls every `maxMs`, not every `baseMs`, while a
 * write to any of them still wakes the tailer at once through the directory
 * watch (docs/TAILING.md, "Polling"). `maxMs` bounds how late a change is
 * seen when no file event comes (NFS, a dropped inotify event).
 *
 * Due times are kept in slots of `baseMs` (a timing wheel keyed by slot
 * number): scheduling, rescheduling and forgetting an item are O(1), and
 * taking the due items touches only the due slots — never every file.
 * Limit: at most `maxMs / baseMs + 1` slots hold items at any time.
 */
/** How often a changing open file is stat'ed for growth, truncation and deletion: the schedule's base interval. */
export const STAT_INTERVAL_MS = 250;

interface Entry {
  /** null: taken as due, not scheduled again yet. */
  slot: number | null;
  intervalMs: number;
}

export class StatSchedule<T> {
  private readonly baseMs: number;
  private readonly maxMs: number;
  private readonly entries = new Map<T, Entry>();
  private readonly slots = new Map<number, Set<T>>();

  constructor(baseMs: number, maxMs: number) {
    if (!(baseMs > 0 && maxMs >= baseMs)) throw new Error(`assertion failed: 0 < baseMs ${baseMs} <= maxMs ${maxMs}`);
    this.baseMs = baseMs;
    this.maxMs = maxMs;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The item changed (or is new): due after `baseMs`. An item already at `baseMs` and not yet due keeps its turn. */
  reset(item: T, nowMs: number): void {
    const entry = this.entries.get(item);
    if (entry !== undefined && entry.intervalMs === this.baseMs && entry.slot !== null && entry.slot > this.slotOf(nowMs)) return;
    this.place(item, this.baseMs, nowMs);
  }

  /** The item showed no change: due after twice its last interval, at most `maxMs`. */
  backOff(item: T, nowMs: number): void {
    const intervalMs = Math.min(this.maxMs, 2 * (this.entries.get(item)?.intervalMs ?? this.baseMs / 2));
    this.place(item, intervalMs, nowMs);
  }

  /** The interval the item was last scheduled with (undefined: unknown item). */
  intervalMs(item: T): number | undefined {
    return this.entries.get(item)?.intervalMs;
  }

  delete(item: T): void {
    const entry = this.entries.get(item);
    if (entry === undefined) return;
    this.entries.delete(item);
    if (entry.slot !== null) this.unslot(item, entry.slot);
  }

  /** Every item due by `nowMs`, taken off the schedule; the caller schedules again (`reset`, `backOff`) or `delete`s each. */
  takeDue(nowMs: number): T[] {
    const nowSlot = this.slotOf(nowMs);
    const due: T[] = [];
    for (const [slot, items] of this.slots) {
      if (slot > nowSlot) continue;
      this.slots.delete(slot);
      for (const item of items) {
        (this.entries.get(item) as Entry).slot = null;
        due.push(item);
      }
    }
    return due;
  }

  /** Milliseconds until the next item is due (0: some is due now); null when nothing is scheduled. */
  msUntilNextDue(nowMs: number): number | null {
    let first: number | null = null;
    for (const slot of this.slots.keys()) if (first === null || slot < first) first = slot;
    return first === null ? null : Math.max(0, first * this.baseMs - nowMs);
  }

  private place(item: T, intervalMs: number, nowMs: number): void {
    const previous = this.entries.get(item);
    if (previous !== undefined && previous.slot !== null) this.unslot(item, previous.slot);
    // Rounded up: an item is never due before its interval has passed.
    const slot = Math.ceil((nowMs + intervalMs) / this.baseMs);
    this.entries.set(item, { slot, intervalMs });
    let items = this.slots.get(slot);
    if (items === undefined) {
      items = new Set();
      this.slots.set(slot, items);
    }
    items.add(item);
  }

  private unslot(item: T, slot: number): void {
    const items = this.slots.get(slot);
    if (items === undefined) return;
    items.delete(item);
    if (items.size === 0) this.slots.delete(slot);
  }

  private slotOf(nowMs: number): number {
    return Math.floor(nowMs / this.baseMs);
  }
}
