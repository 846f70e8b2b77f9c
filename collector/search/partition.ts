/**
 * One partition of the embedded search index: the events of one tenant whose
 * event time falls on one UTC day, in one SQLite database
 * (`data_dir/index/<tenant>/<YYYY-MM-DD>.db`, docs/SEARCH.md). Whole files
 * are the unit of retention, and a time-bounded search opens only the days
 * it needs.
 *
 * Formats (partition-schema.ts): version 4, blocks of events
 * (block-partition.ts), what `openPartition` creates; versions 3 and 2, a
 * row per event, read and written as they are by `Partition` (this class);
 * version 1 brought to version 2 on open.
 *
 * Versions 2 and 3 below. synchronous=FULL: `insert` commits one transaction per call and the sink
 * reports `delivered` only after it, so a commit must survive a power loss
 * (the runner will not send those events again).
 *
 * Rollback journal, kept between transactions (journal_mode=PERSIST), not
 * WAL: the index is appended to, and SQLite journals only the pages a
 * transaction changes that existed before it (the last leaves, interior
 * pages, FTS5's structure), writing its new pages once, into the database.
 * WAL writes every page twice (into the WAL, then into the database at each
 * checkpoint). WAL's gain, readers beside a writer, is none here: one
 * connection per file in one thread reads and writes (search-index.ts). A
 * file left in WAL mode by an earlier logship is switched on open (SQLite
 * checkpoints and removes its WAL).
 */
import type { DatabaseSync, SQLInputValue, StatementSync } from "node:sqlite";
import { sqlite, SQLITE_BUSY_TIMEOUT_MS } from "./sqlite.ts";
import { IndexError } from "./errors.ts";
import { BlockPartition } from "./block-partition.ts";
import {
  ADD_STREAM_COLUMN,
  INSERT_EVENT,
  INSERT_EVENT_KEYWORD_INDEXES,
  INSERT_SOURCE,
  INSERT_TEXT,
  PARTITION_FORMAT_VERSION,
  PARTITION_FORMAT_VERSION_KEYWORD_INDEXES,
  PARTITION_FORMAT_VERSION_SOURCES,
  PARTITION_FORMAT_VERSION_WITHOUT_STREAMS,
  SCHEMA,
  SELECT_SOURCES,
} from "./partition-schema.ts";

/**
 * Where a partition's keyword columns (host, source, path, stream) are
 * looked up: `sources` (version 3: the small table of distinct values,
 * reached through `key`) or `columns` (version 2: an index per column).
 */
export type KeywordLookup = "sources" | "columns";

/** An event as a partition stores it. */
export interface IndexedRow {
  /** The rowid: the tenant's insertion sequence (search-index.ts), unique across its partitions. */
  sequence: number;
  id: string;
  timeMs: number;
  observedTimeMs: number;
  host: string;
  source: string;
  path: string;
  offset: number;
  message: string;
  /** JSON text of the event's `fields`. */
  fieldsJson: string;
  truncated: boolean;
  stream: string;
  /** `tokenize(message).join(" ")`. */
  tokens: string;
}

/** A row as a query reads it back (column names of `events`). */
export interface StoredRow {
  id: string;
  time: number;
  observed_time: number;
  host: string;
  source: string;
  path: string;
  offset: number;
  message: string;
  /** JSON text (versions 2 and 3), or the object itself (version 4). */
  fields: string | Record<string, unknown>;
  truncated: number;
  stream: string;
}

/** A partition of any format this logship reads. */
export type AnyPartition = Partition | BlockPartition;

/**
 * Opens a partition file of any format; with `create`, a file that does
 * not exist yet is created in the current format (version 4). Throws
 * IndexError LOGSHIP_INDEX_FORMAT on a file of another format.
 */
export function openPartition(file: string, create: boolean): AnyPartition {
  const database = openDatabase(file);
  try {
    const version = userVersion(database);
    if (version === PARTITION_FORMAT_VERSION || (version === 0 && create)) return BlockPartition.fromDatabase(file, database, version === 0);
    return Partition.fromDatabase(file, database, false);
  } catch (error) {
    database.close();
    throw error;
  }
}

function openDatabase(file: string): DatabaseSync {
  return new (sqlite().DatabaseSync)(file, { open: true, readOnly: false, enableDoubleQuotedStringLiterals: false, timeout: SQLITE_BUSY_TIMEOUT_MS });
}

function userVersion(database: DatabaseSync): number {
  return (database.prepare("PRAGMA user_version").get() as { user_version: number }).user_version;
}

export class Partition {
  readonly file: string;
  readonly keywords: KeywordLookup;
  private readonly database: DatabaseSync;
  private insertEvent: StatementSync | undefined;
  private insertText: StatementSync | undefined;
  private insertSource: StatementSync | undefined;
  /** Version 3: `key` of each stored (host, source, path, stream); read on first insert. */
  private sourceKeys: SourceKeys | undefined;

  private constructor(file: string, database: DatabaseSync, keywords: KeywordLookup) {
    this.file = file;
    this.database = database;
    this.keywords = keywords;
  }

  /** Opens (with `create`, creates in version 3) a version 1 to 3 partition file; throws IndexError on a file of another format. */
  static open(file: string, create: boolean): Partition {
    const database = openDatabase(file);
    try {
      return Partition.fromDatabase(file, database, create);
    } catch (error) {
      database.close();
      throw error;
    }
  }

  /** A version 1 to 3 partition on an open connection (the caller closes it on a throw). */
  static fromDatabase(file: string, database: DatabaseSync, create: boolean): Partition {
    let version = userVersion(database);
    if (version === PARTITION_FORMAT_VERSION) throw new IndexError("LOGSHIP_INDEX_FORMAT", `search index partition ${file} has format version ${version}: open it with openPartition`);
    database.exec("PRAGMA journal_mode = PERSIST; PRAGMA synchronous = FULL;");
    if (version === 0 && create) {
      database.exec(`BEGIN IMMEDIATE; ${SCHEMA} COMMIT;`);
      version = PARTITION_FORMAT_VERSION_SOURCES;
    } else if (version === PARTITION_FORMAT_VERSION_WITHOUT_STREAMS) {
      database.exec(`BEGIN IMMEDIATE; ${ADD_STREAM_COLUMN} COMMIT;`);
      version = PARTITION_FORMAT_VERSION_KEYWORD_INDEXES;
    }
    if (version === PARTITION_FORMAT_VERSION_SOURCES) return new Partition(file, database, "sources");
    if (version === PARTITION_FORMAT_VERSION_KEYWORD_INDEXES) return new Partition(file, database, "columns");
    throw new IndexError(
      "LOGSHIP_INDEX_FORMAT",
      `search index partition ${file} has format version ${version}; this logship reads versions ${PARTITION_FORMAT_VERSION_WITHOUT_STREAMS} to ${PARTITION_FORMAT_VERSION}`,
    );
  }

  /**
   * Inserts rows in one transaction; an id already stored is skipped
   * (idempotence). Returns how many were new. A sequence already used is an
   * error, not a skip: only the id conflict is ignored.
   */
  insert(rows: readonly IndexedRow[]): number {
    this.insertText ??= this.database.prepare(INSERT_TEXT);
    const withKeys = this.keywords === "sources";
    const insertEvent = (this.insertEvent ??= this.database.prepare(withKeys ? INSERT_EVENT : INSERT_EVENT_KEYWORD_INDEXES));
    /** Sources added in this transaction: forgotten again if it rolls back. */
    const newSources: IndexedRow[] = [];
    let added = 0;
    this.database.exec("BEGIN IMMEDIATE");
    try {
      for (const row of rows) {
        const result = withKeys
          ? insertEvent.run(row.sequence, row.id, row.timeMs, row.observedTimeMs, row.host, row.source, row.path, row.offset, row.message, row.fieldsJson, row.truncated ? 1 : 0, row.stream, this.sourceKey(row, newSources))
          : insertEvent.run(row.sequence, row.id, row.timeMs, row.observedTimeMs, row.host, row.source, row.path, row.offset, row.message, row.fieldsJson, row.truncated ? 1 : 0, row.stream);
        if (result.changes === 0) continue;
        this.insertText.run(result.lastInsertRowid, row.tokens);
        added++;
      }
      this.database.exec("COMMIT");
    } catch (error) {
      this.database.exec("ROLLBACK");
      for (const source of newSources) this.sourceKeys?.get(source.host)?.get(source.source)?.get(source.path)?.delete(source.stream);
      throw error;
    }
    return added;
  }

  /** Version 3: the `key` of the row's (host, source, path, stream), added to `sources` (and to `newSources`) if new. */
  private sourceKey(row: IndexedRow, newSources: IndexedRow[]): number {
    const keys = (this.sourceKeys ??= this.readSourceKeys());
    const known = keys.get(row.host)?.get(row.source)?.get(row.path)?.get(row.stream);
    if (known !== undefined) return known;
    this.insertSource ??= this.database.prepare(INSERT_SOURCE);
    const key = Number(this.insertSource.run(row.host, row.source, row.path, row.stream).lastInsertRowid);
    setSourceKey(keys, row, key);
    newSources.push(row);
    return key;
  }

  private readSourceKeys(): SourceKeys {
    const keys: SourceKeys = new Map();
    for (const source of this.database.prepare(SELECT_SOURCES).all() as unknown as ({ key: number } & SourceValues)[]) setSourceKey(keys, source, source.key);
    return keys;
  }

  /** The highest sequence (rowid) stored; 0 when empty. */
  lastSequence(): number {
    return (this.database.prepare("SELECT coalesce(max(rowid), 0) AS sequence FROM events").get() as { sequence: number }).sequence;
  }

  /** Runs a SELECT over `events` (see search.ts) and returns its rows. */
  select(sql: string, parameters: readonly SQLInputValue[]): StoredRow[] {
    return this.database.prepare(sql).all(...parameters) as unknown as StoredRow[];
  }

  /** Runs a grouped count over `events` (histogram.ts): one row per bucket start in ms. */
  countBuckets(sql: string, parameters: readonly SQLInputValue[]): { bucket: number; count: number }[] {
    return this.database.prepare(sql).all(...parameters) as unknown as { bucket: number; count: number }[];
  }

  close(): void {
    this.database.close();
  }
}

/** The values a `sources` row stands for. */
interface SourceValues {
  host: string;
  source: string;
  path: string;
  stream: string;
}

/** Keys by host, source, path, then stream (nested: no string is built to look one up). */
type SourceKeys = Map<string, Map<string, Map<string, Map<string, number>>>>;

function setSourceKey(keys: SourceKeys, values: SourceValues, key: number): void {
  let bySource = keys.get(values.host);
  if (bySource === undefined) keys.set(values.host, (bySource = new Map()));
  let byPath = bySource.get(values.source);
  if (byPath === undefined) bySource.set(values.source, (byPath = new Map()));
  let byStream = byPath.get(values.path);
  if (byStream === undefined) byPath.set(values.path, (byStream = new Map()));
  byStream.set(values.stream, key);
}
