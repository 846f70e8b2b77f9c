/**
 * What the live tail (tail.ts) reads from the embedded index: the rows
 * indexed after a position that match a query, in the order they were
 * indexed (docs/SEARCH.md, "Live tail").
 *
 * Positions are the index's sequences (search-index.ts): every event's
 * tenant insertion sequence, across all of the tenant's day partitions,
 * stored with it (the rowid in versions 2 and 3, in its line and its
 * block's range in version 4) and so kept across restarts. A position is
 * a whole number; "now" is the tenant's last sequence.
 *
 * New rows: the index calls back after each commit (`onWrite`) with the
 * partition it wrote; the source remembers those files and, when woken,
 * reads rows in (position, last sequence] from them. A source resumed from
 * a position behind the last sequence first reads every partition of the
 * tenant whose highest sequence is after it (once). Rows of several
 * partitions are merged by sequence, CHUNK_ROWS per partition at a time, so
 * a reconnect at any id neither repeats nor skips: reads go up to the
 * index's `sequence`, below which every row is committed. Matching is the evaluator on every new row.
 */
import { compileQuery } from "../../shared/query/index.ts";
import { WakeableSleep } from "../../shared/wakeable-sleep.ts";
import { SearchRequestError } from "./errors.ts";
import { BlockPartition } from "./block-partition.ts";
import type { StoredRow } from "./partition.ts";
import { storedEvent } from "./search.ts";
import type { SearchIndex } from "./search-index.ts";
import type { TailBatch, TailPosition, TailRequest, TailSource } from "./tail.ts";

/** Rows read from one partition per statement. */
const CHUNK_ROWS = 200;
/** A sleeping source looks at the sequence this often even without a wake-up (a safety net; writes wake it). */
const IDLE_CHECK_MS = 15_000;

interface SequencedRow extends StoredRow {
  sequence: number;
}

export class EmbeddedTailSource implements TailSource {
  readonly start: string;
  private readonly index: SearchIndex;
  private readonly tenant: string;
  private readonly predicate: ReturnType<typeof compileQuery>;
  private readonly wake = new WakeableSleep();
  private readonly unsubscribe: () => void;
  /** Partitions written since the last read. */
  private readonly written = new Set<string>();
  /** The partitions the current catch-up reads (up to `last`). */
  private files: string[] = [];
  /** Every matching row up to here was returned. */
  private position: number;
  /** The last sequence when the current catch-up started. */
  private last: number;
  /** Read every partition of the tenant on the next catch-up (a resume from before this process wrote). */
  private readAll: boolean;

  constructor(index: SearchIndex, request: TailRequest) {
    this.index = index;
    this.tenant = request.tenant;
    this.predicate = compileQuery(request.query);
    const last = index.sequence(request.tenant);
    this.position = request.after === undefined ? last : parseSequence(request.after);
    this.last = this.position;
    this.start = String(this.position);
    this.readAll = this.position < last;
    this.unsubscribe = index.onWrite((tenant, file) => {
      if (tenant !== this.tenant) return;
      this.written.add(file);
      this.wake.wake();
    });
  }

  async next(signal: AbortSignal): Promise<TailBatch | undefined> {
    const onAbort = (): void => this.wake.wake();
    signal.addEventListener("abort", onAbort);
    try {
      while (!signal.aborted) {
        if (this.position < this.last) return this.readChunk();
        if (this.index.sequence(this.tenant) > this.position) this.beginCatchUp();
        else await this.wake.sleep(IDLE_CHECK_MS);
      }
      return undefined;
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }

  close(): void {
    this.unsubscribe();
  }

  /** Fixes the rows to read next: (position, last sequence] from the partitions that may hold them. */
  private beginCatchUp(): void {
    this.last = this.index.sequence(this.tenant);
    let files = [...this.written];
    this.written.clear();
    if (this.readAll) {
      files = this.index.partitions(this.tenant, undefined, undefined, "asc").map((ref) => ref.file);
      this.readAll = false;
    }
    this.files = files.filter((file) => this.index.partition(file, false).lastSequence() > this.position);
  }

  /** One chunk per partition, merged by sequence; the matches up to the bound every partition was read to. */
  private readChunk(): TailBatch {
    // Every row up to `bound` in every file has been fetched: a file that returned a full chunk may hold more after its last row.
    let bound = this.last;
    const rows: SequencedRow[] = [];
    for (const file of this.files) {
      const partition = this.index.partition(file, false);
      const chunk =
        partition instanceof BlockPartition
          ? partition.rowsBySequence(this.position, this.last, CHUNK_ROWS)
          : (partition.select("SELECT rowid AS sequence, * FROM events WHERE rowid > ? AND rowid <= ? ORDER BY rowid LIMIT ?", [this.position, this.last, CHUNK_ROWS]) as SequencedRow[]);
      const lastRow = chunk.at(-1);
      if (chunk.length === CHUNK_ROWS && lastRow !== undefined) bound = Math.min(bound, lastRow.sequence);
      rows.push(...chunk);
    }
    rows.sort((a, b) => a.sequence - b.sequence);
    const events: TailBatch["events"] = [];
    for (const row of rows) {
      if (row.sequence > bound) break;
      const event = storedEvent(row);
      if (this.predicate(event)) events.push({ position: String(row.sequence), event });
    }
    this.position = bound;
    return { events, reached: String(bound) };
  }
}

/** A position the embedded tail sent: a whole number (docs/SEARCH.md, "Positions"). */
export function parseSequence(position: TailPosition): number {
  const sequence = /^\d{1,16}$/.test(position.text) ? Number(position.text) : Number.NaN;
  if (!Number.isSafeInteger(sequence)) throw new SearchRequestError("LOGSHIP_SEARCH_REQUEST", `${position.name}: expected a position the tail sent (a whole number); got ${JSON.stringify(position.text.slice(0, 100))}`);
  return sequence;
}
