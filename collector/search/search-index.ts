/**
 * The embedded search index of a collector: one directory per tenant under
 * `data_dir/index/`, one SQLite partition per UTC day of event time
 * (partition.ts). It turns events into rows (times to ms, message to
 * tokens), writes each event into its day, and hands searches the
 * partitions that intersect a time range, newest first or oldest first.
 *
 * Open partitions are kept in a bounded cache (OPEN_PARTITIONS_MAX, least
 * recently used closed first), shared by the sink that writes and the
 * searches that read: node:sqlite is synchronous, so one handle per file in
 * one thread needs no locking.
 *
 * Sequences: every row's rowid is its tenant's insertion sequence, so that
 * the live tail (tail.ts) can say "every row after N" across all of a
 * tenant's partitions with one number, which survives restarts because it
 * is stored in the rows. A write numbers its new rows from
 * max(last + 1, now in ms): `last` is recovered on first use as the highest
 * rowid of the tenant's partitions, and the clock floor keeps sequences
 * rising even when the partition that held the highest one was deleted
 * (retention) before a restart. Row ids written before sequences existed
 * are small counters per file, all below the first clock-floored sequence.
 * A write is synchronous, so a reader on the same thread never sees a
 * sequence whose rows are not all committed.
 */
import { mkdirSync, readdirSync, statSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import type { Event } from "../../shared/event.ts";
import { DEFAULT_STREAM_NAME, tokenize } from "../../shared/query/index.ts";
import { parseTime } from "../../shared/query/values.ts";
import { isValidTenant } from "../log/format.ts";
import { IndexError } from "./errors.ts";
import { EventTimeReader } from "./event-time.ts";
import { Partition, type IndexedRow } from "./partition.ts";

export const DAY_MS = 86_400_000;
/** Partition files open at once at most; opening another closes the least recently used. */
export const OPEN_PARTITIONS_MAX = 32;

const PARTITION_FILE = /^(\d{4}-\d{2}-\d{2})\.db$/;

/** Opens a partition file (injectable: tests count what a search opens). */
export type PartitionOpener = (file: string, create: boolean) => Partition;

export interface SearchIndexOptions {
  /** `data_dir/index`. */
  directory: string;
  openPartition?: PartitionOpener;
  /** The clock that floors new sequences (tests). */
  nowMs?: () => number;
}

/** Told after a partition committed new rows: whose, and which file. */
export type WriteListener = (tenant: string, file: string) => void;

/** One day of one tenant: its first ms and its file. */
export interface PartitionRef {
  dayStartMs: number;
  file: string;
}

/** What `write` did: events newly stored, events already there, and events it cannot index (with why). */
export interface WriteResult {
  added: number;
  duplicates: number;
  refused: { event: Event; reason: string }[];
}

export class SearchIndex {
  readonly directory: string;
  private readonly openPartition: PartitionOpener;
  /** Insertion order is recency: the first key is the least recently used. */
  private readonly open = new Map<string, Partition>();
  /** The last sequence of each tenant used so far (recovered on first use). */
  private readonly sequences = new Map<string, number>();
  private readonly writeListeners = new Set<WriteListener>();
  private readonly nowMs: () => number;

  constructor(options: SearchIndexOptions) {
    this.directory = options.directory;
    this.openPartition = options.openPartition ?? Partition.open;
    this.nowMs = options.nowMs ?? Date.now;
  }

  /**
   * The tenant's last sequence: every row with a sequence at most this is
   * committed. Recovered on first use from the highest rowid of each of the
   * tenant's partitions (a file of another format is skipped: it can
   * neither be read nor written).
   */
  sequence(tenant: string): number {
    const known = this.sequences.get(tenant);
    if (known !== undefined) return known;
    let last = 0;
    for (const ref of this.partitions(tenant, undefined, undefined, "asc")) {
      try {
        last = Math.max(last, this.partition(ref.file, false).lastSequence());
      } catch (error) {
        if (!(error instanceof IndexError && error.code === "LOGSHIP_INDEX_FORMAT")) throw error;
      }
    }
    this.sequences.set(tenant, last);
    return last;
  }

  /** Calls `listener` after every commit that added rows (synchronously, inside `write`: it must not use the index); returns the unsubscribe function. */
  onWrite(listener: WriteListener): () => void {
    this.writeListeners.add(listener);
    return () => this.writeListeners.delete(listener);
  }

  /** Stores `events` of `tenant`, each in its day's partition, one transaction per partition. Idempotent by event id. */
  write(tenant: string, events: readonly Event[]): WriteResult {
    const tenantDirectory = this.tenantDirectory(tenant);
    const days = new Map<number, IndexedRow[]>();
    const result: WriteResult = { added: 0, duplicates: 0, refused: [] };
    let sequence = Math.max(this.sequence(tenant) + 1, this.nowMs());
    const times = new EventTimeReader();
    const observedTimes = new EventTimeReader();
    for (const event of events) {
      const row = indexedRow(event, sequence, times, observedTimes);
      if (typeof row === "string") {
        result.refused.push({ event, reason: row });
        continue;
      }
      sequence++;
      const dayStartMs = Math.floor(row.timeMs / DAY_MS) * DAY_MS;
      const rows = days.get(dayStartMs) ?? [];
      rows.push(row);
      days.set(dayStartMs, rows);
    }
    if (days.size === 0) return result;
    // Numbers taken before a failed insert are not reused: gaps are harmless, a reuse would not be.
    this.sequences.set(tenant, sequence - 1);
    mkdirSync(tenantDirectory, { recursive: true });
    for (const [dayStartMs, rows] of days) {
      const file = join(tenantDirectory, partitionFileName(dayStartMs));
      const added = this.partition(file, true).insert(rows);
      result.added += added;
      result.duplicates += rows.length - added;
      if (added > 0) for (const listener of this.writeListeners) listener(tenant, file);
    }
    return result;
  }

  /**
   * The tenant's partitions that hold any time in [sinceMs, untilMs)
   * (undefined: unbounded), oldest first or newest first. Reads the
   * directory only; opens nothing.
   */
  partitions(tenant: string, sinceMs: number | undefined, untilMs: number | undefined, order: "asc" | "desc"): PartitionRef[] {
    const tenantDirectory = this.tenantDirectory(tenant);
    let names: string[];
    try {
      names = readdirSync(tenantDirectory);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw error;
    }
    const refs: PartitionRef[] = [];
    for (const name of names) {
      const day = PARTITION_FILE.exec(name)?.[1];
      if (day === undefined) continue;
      const dayStartMs = parseTime(day);
      if (dayStartMs === undefined) continue;
      if (sinceMs !== undefined && dayStartMs + DAY_MS <= sinceMs) continue;
      if (untilMs !== undefined && dayStartMs >= untilMs) continue;
      refs.push({ dayStartMs, file: join(tenantDirectory, name) });
    }
    refs.sort((a, b) => (order === "asc" ? a.dayStartMs - b.dayStartMs : b.dayStartMs - a.dayStartMs));
    return refs;
  }

  /** An open partition: from the cache, else opened (with `create`, created). */
  partition(file: string, create: boolean): Partition {
    const cached = this.open.get(file);
    if (cached !== undefined) {
      this.open.delete(file);
      this.open.set(file, cached);
      return cached;
    }
    const partition = this.openPartition(file, create);
    this.open.set(file, partition);
    if (this.open.size > OPEN_PARTITIONS_MAX) {
      const [oldestFile, oldest] = this.open.entries().next().value as [string, Partition];
      this.open.delete(oldestFile);
      oldest.close();
    }
    return partition;
  }

  /** Tenants with a directory in the index (names that cannot be tenants are skipped). */
  tenants(): string[] {
    let entries;
    try {
      entries = readdirSync(this.directory, { withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw error;
    }
    return entries.filter((entry) => entry.isDirectory() && isValidTenant(entry.name)).map((entry) => entry.name).sort();
  }

  /** Bytes a partition takes on disk: its database, its -journal and any -wal and -shm an earlier logship left. */
  partitionBytes(file: string): number {
    let bytes = 0;
    for (const path of partitionFiles(file)) bytes += sizeOrZero(path);
    return bytes;
  }

  /**
   * Deletes a partition (retention.ts): closes its cached handle, then
   * removes its -journal (and any -wal and -shm) before the database, so
   * that an interrupted delete never leaves a journal to be played onto a
   * new file of the same day. Returns the bytes freed. Synchronous, like
   * every use of the index, so no search or write sees it half done.
   */
  dropPartition(file: string): number {
    const cached = this.open.get(file);
    if (cached !== undefined) {
      this.open.delete(file);
      cached.close();
    }
    const bytes = this.partitionBytes(file);
    for (const path of partitionFiles(file).reverse()) {
      try {
        unlinkSync(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      }
    }
    return bytes;
  }

  /** Closes every open partition. */
  close(): void {
    for (const partition of this.open.values()) partition.close();
    this.open.clear();
  }

  private tenantDirectory(tenant: string): string {
    if (!isValidTenant(tenant)) throw new IndexError("LOGSHIP_INDEX_TENANT", `tenant ${JSON.stringify(tenant)} cannot be used as a directory name`);
    return join(this.directory, tenant);
  }
}

/** `YYYY-MM-DD.db` of the UTC day starting at `dayStartMs`. */
export function partitionFileName(dayStartMs: number): string {
  return `${new Date(dayStartMs).toISOString().slice(0, 10)}.db`;
}

/** A partition's files: the database, then its rollback journal (partition.ts), then the -wal and -shm of a file an earlier logship wrote in WAL mode. */
function partitionFiles(file: string): string[] {
  return [file, `${file}-journal`, `${file}-wal`, `${file}-shm`];
}

function sizeOrZero(path: string): number {
  try {
    return statSync(path).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return 0;
    throw error;
  }
}

/** The row of an event with its sequence, or why it cannot be indexed. */
function indexedRow(event: Event, sequence: number, times: EventTimeReader, observedTimes: EventTimeReader): IndexedRow | string {
  const timeMs = times.ms(event.time);
  if (timeMs === undefined) return `time ${JSON.stringify(event.time)} is not an RFC 3339 time between years 0000 and 9999`;
  const observedTimeMs = observedTimes.ms(event.observed_time);
  if (observedTimeMs === undefined) return `observed_time ${JSON.stringify(event.observed_time)} is not an RFC 3339 time between years 0000 and 9999`;
  return {
    sequence,
    id: event.id,
    timeMs,
    observedTimeMs,
    host: event.host,
    source: event.source,
    path: event.path,
    offset: event.offset,
    message: event.message,
    fieldsJson: JSON.stringify(event.fields),
    truncated: event.truncated === true,
    stream: event.stream ?? DEFAULT_STREAM_NAME,
    tokens: tokenize(event.message).join(" "),
  };
}
