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
 */
import { mkdirSync, readdirSync, statSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import type { Event } from "../../shared/event.ts";
import { tokenize } from "../../shared/query/index.ts";
import { parseTime } from "../../shared/query/values.ts";
import { isValidTenant } from "../log/format.ts";
import { IndexError } from "./errors.ts";
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
}

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

  constructor(options: SearchIndexOptions) {
    this.directory = options.directory;
    this.openPartition = options.openPartition ?? Partition.open;
  }

  /** Stores `events` of `tenant`, each in its day's partition, one transaction per partition. Idempotent by event id. */
  write(tenant: string, events: readonly Event[]): WriteResult {
    const tenantDirectory = this.tenantDirectory(tenant);
    const days = new Map<number, IndexedRow[]>();
    const result: WriteResult = { added: 0, duplicates: 0, refused: [] };
    for (const event of events) {
      const row = indexedRow(event);
      if (typeof row === "string") {
        result.refused.push({ event, reason: row });
        continue;
      }
      const dayStartMs = Math.floor(row.timeMs / DAY_MS) * DAY_MS;
      const rows = days.get(dayStartMs) ?? [];
      rows.push(row);
      days.set(dayStartMs, rows);
    }
    if (days.size > 0) mkdirSync(tenantDirectory, { recursive: true });
    for (const [dayStartMs, rows] of days) {
      const added = this.partition(join(tenantDirectory, partitionFileName(dayStartMs)), true).insert(rows);
      result.added += added;
      result.duplicates += rows.length - added;
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

  /** Bytes a partition takes on disk: its database and, while open or after a crash, its -wal and -shm files. */
  partitionBytes(file: string): number {
    let bytes = 0;
    for (const path of partitionFiles(file)) bytes += sizeOrZero(path);
    return bytes;
  }

  /**
   * Deletes a partition (retention.ts): closes its cached handle (which
   * checkpoints its WAL), then removes -wal and -shm before the database,
   * so that an interrupted delete never leaves a WAL to be replayed onto a
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

/** A partition's files: the database, then its -wal and -shm. */
function partitionFiles(file: string): string[] {
  return [file, `${file}-wal`, `${file}-shm`];
}

function sizeOrZero(path: string): number {
  try {
    return statSync(path).size;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return 0;
    throw error;
  }
}

/** The row of an event, or why it cannot be indexed. */
function indexedRow(event: Event): IndexedRow | string {
  const timeMs = parseTime(event.time);
  if (timeMs === undefined) return `time ${JSON.stringify(event.time)} is not an RFC 3339 time between years 0000 and 9999`;
  const observedTimeMs = parseTime(event.observed_time);
  if (observedTimeMs === undefined) return `observed_time ${JSON.stringify(event.observed_time)} is not an RFC 3339 time between years 0000 and 9999`;
  return {
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
    tokens: tokenize(event.message).join(" "),
  };
}
