/**
 * The embedded search index of a collector: one directory per tenant under
 * `data_dir/index/`, one SQLite partition per UTC day of event time
 * (partition.ts). It turns events into rows (times to ms, message to
 * tokens), writes each event into its day, and hands searches the
 * partitions that intersect a time range, newest first or oldest first.
 *
 * Open partitions are kept in a bounded cache (OPEN_PARTITIONS_MAX, least
 * recently used closed first; a version 4 partition with a send in flight
 * is kept), shared by the sink that writes and the searches that read:
 * node:sqlite is synchronous, so one handle per file in this thread needs
 * no locking.
 *
 * Formats (partition-schema.ts): a day without a file gets a version 4
 * file; a day whose file is of version 2 or 3 is written as it is, until
 * retention deletes it. Version 4 partitions are written by one thread
 * (block-writer.ts): `write` prepares their blocks here, hands them over
 * in chunks of WRITE_CHUNK_EVENTS events (the thread compresses and writes
 * one while this thread prepares the next) and resolves once the thread
 * committed every file (synchronous=FULL); `take` resolves as soon as the
 * write is handed over, with a promise of its durability, so that the next
 * write is prepared while the thread commits this one (the search sink,
 * collector/sinks/search/sink.ts). Versions 2 and 3 are written here,
 * synchronously, as before.
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
 * `sequence` is the last sequence whose rows are all committed: below the
 * first sequence of every version 4 write still in flight.
 *
 * A failure of the writer thread fails the writes in flight (IndexError
 * LOGSHIP_INDEX_WRITER) and drops every version 4 partition from the cache:
 * what this thread held of them ran ahead of the files, and reopening reads
 * them as committed.
 */
import { mkdirSync, readdirSync, statSync, unlinkSync } from "node:fs";
import { join } from "node:path";
import type { Event } from "../../shared/event.ts";
import { DEFAULT_STREAM_NAME, tokenize } from "../../shared/query/index.ts";
import { parseTime } from "../../shared/query/values.ts";
import { isValidTenant } from "../log/format.ts";
import type { FileWork } from "./block-writer-protocol.ts";
import { BlockPartition } from "./block-partition.ts";
import { BlockWriter } from "./block-writer.ts";
import { IndexError } from "./errors.ts";
import { EventTimeReader } from "./event-time.ts";
import { openPartition, Partition, type AnyPartition, type IndexedRow } from "./partition.ts";

export const DAY_MS = 86_400_000;
/** Partition files open at once at most; opening another closes the least recently used. */
export const OPEN_PARTITIONS_MAX = 32;
/** Version 4 events prepared before they are handed to the writer thread (it works on a chunk while the next is prepared). */
export const WRITE_CHUNK_EVENTS = 1000;

const PARTITION_FILE = /^(\d{4}-\d{2}-\d{2})\.db$/;

/** Opens a partition file (injectable: tests count what a search opens). */
export type PartitionOpener = (file: string, create: boolean) => AnyPartition;

export interface SearchIndexOptions {
  /** `data_dir/index`. */
  directory: string;
  openPartition?: PartitionOpener;
  /** The writer thread's module (tests give one that fails; default: block-writer.ts finds it). */
  writerWorkerUrl?: URL;
  /** The clock that floors new sequences (tests). */
  nowMs?: () => number;
}

/** Told after a partition committed new rows: whose, and which file. */
export type WriteListener = (tenant: string, file: string) => void;

/** A write handed to the writer thread (`take`): what it did, and when it is durable. */
export interface TakenWrite {
  result: WriteResult;
  durable: Promise<void>;
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
  private readonly open = new Map<string, AnyPartition>();
  /** The last sequence of each tenant used so far (recovered on first use). */
  private readonly sequences = new Map<string, number>();
  /** The first sequence of each version 4 write of a tenant not committed yet. */
  private readonly inFlight = new Map<string, Set<number>>();
  private readonly writer: BlockWriter;
  /** Partitions being deleted (dropPartition): writes wait for them. */
  private readonly dropping = new Map<string, Promise<number>>();
  private readonly writeListeners = new Set<WriteListener>();
  private readonly nowMs: () => number;

  constructor(options: SearchIndexOptions) {
    this.directory = options.directory;
    this.openPartition = options.openPartition ?? openPartition;
    this.nowMs = options.nowMs ?? Date.now;
    this.writer = new BlockWriter({ onLost: () => this.dropBlockPartitions(), ...(options.writerWorkerUrl === undefined ? {} : { workerUrl: options.writerWorkerUrl }) });
  }

  /**
   * The tenant's last sequence: every row with a sequence at most this is
   * committed (module comment).
   */
  sequence(tenant: string): number {
    const waiting = this.inFlight.get(tenant);
    if (waiting !== undefined && waiting.size > 0) return Math.min(...waiting) - 1;
    return this.lastAssigned(tenant);
  }

  /**
   * The last sequence handed out. Recovered on first use from the highest
   * sequence of each of the tenant's partitions (a file of another format
   * is skipped: it can neither be read nor written).
   */
  private lastAssigned(tenant: string): number {
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

  /**
   * Stores `events` of `tenant`, each in its day's partition, one
   * transaction per partition; resolves once they are committed. Idempotent
   * by event id. Rejects with IndexError LOGSHIP_INDEX_WRITER when the
   * writer thread failed (nothing of the write is then known to be stored).
   */
  async write(tenant: string, events: readonly Event[]): Promise<WriteResult> {
    const taken = await this.take(tenant, events);
    await taken.durable;
    return taken.result;
  }

  /**
   * `write` in two steps: resolves once the events are prepared and handed
   * to the writer thread (searches see them from then on: open blocks and
   * blocks in flight are read from memory), with `durable`, which resolves
   * once every file is committed or rejects with IndexError
   * LOGSHIP_INDEX_WRITER (the thread failed: nothing of this write is then
   * known to be stored). Writes taken one after another are committed in
   * that order. Rejects itself when preparing failed (nothing handed over).
   */
  async take(tenant: string, events: readonly Event[]): Promise<TakenWrite> {
    const tenantDirectory = this.tenantDirectory(tenant);
    while (this.dropping.size > 0) await Promise.allSettled(this.dropping.values());
    await this.writer.ended();
    const result: WriteResult = { added: 0, duplicates: 0, refused: [] };
    const firstSequence = Math.max(this.lastAssigned(tenant) + 1, this.nowMs());
    let sequence = firstSequence;
    const times = new EventTimeReader();
    const observedTimes = new EventTimeReader();
    /** Version 2 and 3 rows by file; version 4 work by partition. */
    const rowsByFile = new Map<string, IndexedRow[]>();
    const blockWork = new Map<BlockPartition, FileWork>();
    const send = this.writer.begin();
    let prepared = 0;
    /** Each day's partition, opened once per write. */
    const days = new Map<number, AnyPartition>();
    let madeDirectory = false;
    try {
      for (const event of events) {
        const timeMs = times.ms(event.time);
        if (timeMs === undefined) {
          result.refused.push({ event, reason: `time ${JSON.stringify(event.time)} is not an RFC 3339 time between years 0000 and 9999` });
          continue;
        }
        const observedTimeMs = observedTimes.ms(event.observed_time);
        if (observedTimeMs === undefined) {
          result.refused.push({ event, reason: `observed_time ${JSON.stringify(event.observed_time)} is not an RFC 3339 time between years 0000 and 9999` });
          continue;
        }
        if (!madeDirectory) {
          mkdirSync(tenantDirectory, { recursive: true });
          madeDirectory = true;
        }
        const dayStartMs = Math.floor(timeMs / DAY_MS) * DAY_MS;
        let partition = days.get(dayStartMs);
        if (partition === undefined) days.set(dayStartMs, (partition = this.partition(join(tenantDirectory, partitionFileName(dayStartMs)), true)));
        if (partition instanceof Partition) {
          const rows = rowsByFile.get(partition.file) ?? [];
          rows.push(indexedRow(event, sequence++, timeMs, observedTimeMs));
          rowsByFile.set(partition.file, rows);
          continue;
        }
        let work = blockWork.get(partition);
        if (work === undefined) {
          blockWork.set(partition, (work = { file: partition.file, streams: [], blocks: [], pending: [] }));
          partition.inFlight++;
        }
        if (partition.add({ event, sequence: sequence++, timeMs, observedTimeMs }, send, work)) result.added++;
        else result.duplicates++;
        if (++prepared % WRITE_CHUNK_EVENTS === 0) this.writer.chunk(send, takeChunk(blockWork));
      }
      // Numbers taken before a failed insert are not reused: gaps are harmless, a reuse would not be.
      if (sequence > firstSequence) this.sequences.set(tenant, sequence - 1);
      for (const [file, rows] of rowsByFile) {
        // Opened again here: the cache may have closed it meanwhile (a send over more days than it holds).
        const partition = this.partition(file, true) as Partition;
        const added = partition.insert(rows);
        result.added += added;
        result.duplicates += rows.length - added;
        if (added > 0) for (const listener of this.writeListeners) listener(tenant, partition.file);
      }
    } catch (error) {
      // What was prepared for version 4 files is not sent: the thread rolls back its chunks, the partitions are read again.
      if (blockWork.size > 0) {
        this.writer.abort(send);
        for (const partition of blockWork.keys()) {
          partition.inFlight--;
          if (this.open.get(partition.file) === partition) this.closePartition(partition.file, partition);
        }
      }
      throw error;
    }
    if (blockWork.size === 0) return { result, durable: Promise.resolve() };
    return { result, durable: this.commitBlocks(tenant, send, firstSequence, blockWork) };
  }

  /** Hands a prepared write's last part to the thread; resolves once it committed every file (the write's sequences count as committed from then on). */
  private async commitBlocks(tenant: string, send: number, firstSequence: number, blockWork: Map<BlockPartition, FileWork>): Promise<void> {
    const waiting = this.inFlight.get(tenant) ?? new Set<number>();
    this.inFlight.set(tenant, waiting);
    waiting.add(firstSequence);
    try {
      const lastBlocks = [...blockWork.keys()].map((partition) => [partition, partition.nextBlockRowid() - 1] as const);
      await this.writer.commit(
        send,
        [...blockWork].map(([partition, work]) => ({ ...work, pending: partition.pendingWrites(send) })),
      );
      for (const [partition, lastBlock] of lastBlocks) partition.acknowledge(lastBlock);
    } finally {
      for (const partition of blockWork.keys()) partition.inFlight--;
      waiting.delete(firstSequence);
    }
    for (const partition of blockWork.keys()) for (const listener of this.writeListeners) listener(tenant, partition.file);
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
  partition(file: string, create: boolean): AnyPartition {
    const cached = this.open.get(file);
    if (cached !== undefined) {
      this.open.delete(file);
      this.open.set(file, cached);
      return cached;
    }
    const partition = this.openPartition(file, create);
    this.open.set(file, partition);
    if (this.open.size > OPEN_PARTITIONS_MAX) {
      // The least recently used one without a send in flight.
      for (const [oldestFile, oldest] of this.open) {
        if (oldest instanceof BlockPartition && oldest.inFlight > 0) continue;
        this.closePartition(oldestFile, oldest);
        break;
      }
    }
    return partition;
  }

  /** Closes a cached partition (and, without waiting, the writer thread's connection to it; a failure there fails the thread). */
  private closePartition(file: string, partition: AnyPartition): void {
    this.open.delete(file);
    partition.close();
    if (partition instanceof BlockPartition) this.writer.closeFile(file).catch(() => undefined);
  }

  /** The writer thread failed (module comment): version 4 partitions are read again from their files when next used. */
  private dropBlockPartitions(): void {
    for (const [file, partition] of [...this.open]) if (partition instanceof BlockPartition) this.closePartition(file, partition);
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
   * Deletes a partition (retention.ts): closes its cached handle and the
   * writer thread's connection (writes wait meanwhile: none reopens it),
   * then removes its -journal, -wal and -shm before the database, so that
   * an interrupted delete never leaves a journal to be played onto a new
   * file of the same day. Returns the bytes freed.
   */
  dropPartition(file: string): Promise<number> {
    const known = this.dropping.get(file);
    if (known !== undefined) return known;
    const dropped = this.deleteFiles(file).finally(() => this.dropping.delete(file));
    this.dropping.set(file, dropped);
    return dropped;
  }

  private async deleteFiles(file: string): Promise<number> {
    const cached = this.open.get(file);
    if (cached !== undefined) this.closePartition(file, cached);
    await this.writer.closeFile(file);
    // A search may have opened it again meanwhile (reads only).
    const reopened = this.open.get(file);
    if (reopened !== undefined) this.closePartition(file, reopened);
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

  /** Lets the writes in flight finish, ends the writer thread and closes every open partition. */
  async close(): Promise<void> {
    await this.writer.close();
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

/** A partition's files: the database, then its rollback journal (versions 2 and 3, partition.ts), then its -wal and -shm (version 4, or a file an earlier logship wrote in WAL mode). */
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

/** Each partition's version 4 work so far (new streams, sealed blocks) for a chunk; the work goes on empty. */
function takeChunk(blockWork: Map<BlockPartition, FileWork>): FileWork[] {
  const chunk: FileWork[] = [];
  for (const work of blockWork.values()) {
    if (work.streams.length === 0 && work.blocks.length === 0) continue;
    chunk.push({ file: work.file, streams: work.streams, blocks: work.blocks, pending: [] });
    work.streams = [];
    work.blocks = [];
  }
  return chunk;
}

/** The version 2 or 3 row of an event. */
function indexedRow(event: Event, sequence: number, timeMs: number, observedTimeMs: number): IndexedRow {
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
