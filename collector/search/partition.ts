/**
 * One partition of the embedded search index: the events of one tenant whose
 * event time falls on one UTC day, in one SQLite database
 * (`data_dir/index/<tenant>/<YYYY-MM-DD>.db`, docs/SEARCH.md). Whole files
 * are the unit of retention, and a time-bounded search opens only the days
 * it needs.
 *
 * Format, version 2 (`PRAGMA user_version = 2`):
 *
 *   events       one row per event id (UNIQUE): time and observed_time in
 *                ms since the epoch, host, source, path, offset, message,
 *                fields as JSON text, truncated 0/1, and the collector
 *                stream the event was routed to (docs/ROUTING.md). The integer rowid ties
 *                the row to its full-text entry and is the row's sequence:
 *                the index's insertion order across the tenant's partitions,
 *                which `GET /v1/tail` resumes from (search-index.ts).
 *   events_text  FTS5, contentless (content=''), one column: the message's
 *                tokens from shared/query `tokenize` joined by spaces, with
 *                the tokenizer `unicode61 remove_diacritics 0 categories
 *                'L* M* N* Co'` so that FTS5 only splits at those spaces.
 *   indexes      (time, id) for ordered pages; (host|source|path|stream,
 *                time) for the keyword columns.
 *
 * FTS5 merge policy (set when a file is created; a file made before keeps
 * FTS5's defaults, which only costs its writes more CPU): every commit
 * writes one segment, and FTS5 by default merges level by level four at a
 * time (`automerge` 4), so each token is rewritten about log4(commits)
 * times. Here `automerge` is off and `crisismerge` is
 * FTS_SEGMENTS_PER_LEVEL_MAX: a level's segments are merged together when
 * there are that many, log32(commits) rewrites, and a term lookup visits at
 * most that many segments per level.
 *
 * Version 1 (before streams) had no `stream` column. A version 1 file is
 * brought to version 2 when opened: the column is added with the default
 * stream as its value for every row (SQLite stores that default in the
 * schema, so this rewrites no row and takes constant time); such a file
 * has no stream index, which costs only `stream:` queries on old days a
 * scan of their rows in the time range.
 *
 * WAL mode, synchronous=FULL: `insert` commits one transaction per call and
 * the sink reports `delivered` only after it, so a commit must survive a
 * power loss (the runner will not send those events again).
 */
import type { DatabaseSync, SQLInputValue, StatementSync } from "node:sqlite";
import { DEFAULT_STREAM_NAME } from "../../shared/query/index.ts";
import { sqlite } from "./sqlite.ts";
import { IndexError } from "./errors.ts";

export const PARTITION_FORMAT_VERSION = 2;
/** The format before streams: opened, it is brought to the current one (module comment). */
const PARTITION_FORMAT_VERSION_WITHOUT_STREAMS = 1;

/** The FTS5 tokenizer of docs/QUERY.md ("For the index and other backends"). */
export const FTS_TOKENIZER = "unicode61 remove_diacritics 0 categories 'L* M* N* Co'";

/**
 * Segments of one FTS5 level that trigger their merge into one (module
 * comment). Higher: fewer rewrites per token, more segments per lookup.
 */
export const FTS_SEGMENTS_PER_LEVEL_MAX = 32;

/** Version 1 → 2: the stream column (module comment). */
const ADD_STREAM_COLUMN = `ALTER TABLE events ADD COLUMN stream TEXT NOT NULL DEFAULT '${DEFAULT_STREAM_NAME}'; PRAGMA user_version = ${PARTITION_FORMAT_VERSION};`;

const SCHEMA = `
CREATE TABLE events (
  rowid INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  time INTEGER NOT NULL,
  observed_time INTEGER NOT NULL,
  host TEXT NOT NULL,
  source TEXT NOT NULL,
  path TEXT NOT NULL,
  offset INTEGER NOT NULL,
  message TEXT NOT NULL,
  fields TEXT NOT NULL,
  truncated INTEGER NOT NULL,
  stream TEXT NOT NULL DEFAULT '${DEFAULT_STREAM_NAME}'
);
CREATE INDEX events_time ON events (time, id);
CREATE INDEX events_host ON events (host, time);
CREATE INDEX events_source ON events (source, time);
CREATE INDEX events_path ON events (path, time);
CREATE INDEX events_stream ON events (stream, time);
CREATE VIRTUAL TABLE events_text USING fts5 (tokens, content = '', columnsize = 0, tokenize = "${FTS_TOKENIZER}");
INSERT INTO events_text (events_text, rank) VALUES ('automerge', 0);
INSERT INTO events_text (events_text, rank) VALUES ('crisismerge', ${FTS_SEGMENTS_PER_LEVEL_MAX});
PRAGMA user_version = ${PARTITION_FORMAT_VERSION};
`;

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
  fields: string;
  truncated: number;
  stream: string;
}

export class Partition {
  readonly file: string;
  private readonly database: DatabaseSync;
  private insertEvent: StatementSync | undefined;
  private insertText: StatementSync | undefined;

  private constructor(file: string, database: DatabaseSync) {
    this.file = file;
    this.database = database;
  }

  /** Opens (with `create`, creates) the partition file; throws IndexError on a file of another format. */
  static open(file: string, create: boolean): Partition {
    const database = new (sqlite().DatabaseSync)(file, { open: true, readOnly: false, enableDoubleQuotedStringLiterals: false });
    try {
      database.exec("PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL;");
      const version = (database.prepare("PRAGMA user_version").get() as { user_version: number }).user_version;
      if (version === 0 && create) database.exec(`BEGIN IMMEDIATE; ${SCHEMA} COMMIT;`);
      else if (version === PARTITION_FORMAT_VERSION_WITHOUT_STREAMS) database.exec(`BEGIN IMMEDIATE; ${ADD_STREAM_COLUMN} COMMIT;`);
      else if (version !== PARTITION_FORMAT_VERSION) {
        throw new IndexError("LOGSHIP_INDEX_FORMAT", `search index partition ${file} has format version ${version}; this logship reads version ${PARTITION_FORMAT_VERSION}`);
      }
    } catch (error) {
      database.close();
      throw error;
    }
    return new Partition(file, database);
  }

  /**
   * Inserts rows in one transaction; an id already stored is skipped
   * (idempotence). Returns how many were new. A sequence already used is an
   * error, not a skip: only the id conflict is ignored.
   */
  insert(rows: readonly IndexedRow[]): number {
    this.insertEvent ??= this.database.prepare(
      "INSERT INTO events (rowid, id, time, observed_time, host, source, path, offset, message, fields, truncated, stream) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
    );
    this.insertText ??= this.database.prepare("INSERT INTO events_text (rowid, tokens) VALUES (?, ?)");
    let added = 0;
    this.database.exec("BEGIN IMMEDIATE");
    try {
      for (const row of rows) {
        const result = this.insertEvent.run(row.sequence, row.id, row.timeMs, row.observedTimeMs, row.host, row.source, row.path, row.offset, row.message, row.fieldsJson, row.truncated ? 1 : 0, row.stream);
        if (result.changes === 0) continue;
        this.insertText.run(result.lastInsertRowid, row.tokens);
        added++;
      }
      this.database.exec("COMMIT");
    } catch (error) {
      this.database.exec("ROLLBACK");
      throw error;
    }
    return added;
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
