/**
 * The SQL of a search index partition's formats (partition.ts;
 * docs/SEARCH.md, "Storage layout"). A file's format is its
 * `PRAGMA user_version`.
 *
 * Version 4 (what a new file gets): blocks of events, written on a worker
 * thread (block-partition.ts, block-writer.ts; docs/SEARCH.md).
 *
 *   streams      one row per distinct (id stream, host, source, path,
 *                stream) of the partition, numbered by `skey`: the id stream
 *                is the first characters of an event id (shared/event.ts
 *                `eventIdStream`), one file an agent reads.
 *   blocks       one row per BLOCK_EVENTS events of one stream (fewer for
 *                none: an unfilled block is in `pending`): min/max time,
 *                first/last offset and min/max sequence of its events,
 *                `times` (each event's time minus min_time, Int32 little
 *                endian) and `data`, the events' lines (BLOCK_LINE) joined
 *                by newlines, zstd level BLOCK_ZSTD_LEVEL.
 *   pending      the lines of each stream's open (unfilled) block, one row
 *                per commit that added to it; deleted when the block is
 *                sealed into `blocks`. Read back on open.
 *   blocks_text  FTS5, contentless, detail=none: one row per block (same
 *                rowid) holding the block's distinct tokens, so a term
 *                lookup answers "which blocks", and the evaluator decides
 *                each event of them.
 *   indexes      blocks by max_time and by min_time (ordered reads, ranges);
 *                (skey, last_offset) for the offset lookups (idempotence,
 *                context); max_sequence for the live tail.
 *
 * Journal: WAL (a reader connection on the main thread beside the worker's
 * writer; partition.ts explains why versions 2 and 3 keep the rollback
 * journal).
 *
 * Version 3:
 *
 *   events       one row per event id (UNIQUE): time and observed_time in
 *                ms since the epoch, host, source, path, offset, message,
 *                fields as JSON text, truncated 0/1, the collector stream
 *                the event was routed to (docs/ROUTING.md), and `key`: the
 *                row of `sources` with the same host, source, path and
 *                stream. The integer rowid ties the row to its full-text
 *                entry and is the row's sequence: the index's insertion
 *                order across the tenant's partitions, which
 *                `GET /v1/tail` resumes from (search-index.ts).
 *   sources      one row per distinct (host, source, path, stream) of the
 *                partition, numbered by `key`: a few per file an agent
 *                tails, so a keyword condition runs over this small table
 *                and reaches the events through `key`.
 *   events_text  FTS5, contentless (content=''), one column: the message's
 *                tokens from shared/query `tokenize` joined by spaces, with
 *                the tokenizer `unicode61 remove_diacritics 0 categories
 *                'L* M* N* Co'` so that FTS5 only splits at those spaces.
 *   indexes      (time, id) for ordered pages; (key, time) for the keyword
 *                columns.
 *
 * Version 2 is version 3 without `key` and `sources`, with an index
 * (host|source|path|stream, time) per keyword column instead: four text
 * B-trees to update per event where version 3 updates one of small
 * integers. A version 2 file is read and written as it is (queries say
 * their keyword conditions on the columns themselves, translate.ts).
 *
 * Version 1 (before streams) had no `stream` column. A version 1 file is
 * brought to version 2 when opened: the column is added with the default
 * stream as its value for every row (SQLite stores that default in the
 * schema, so this rewrites no row and takes constant time); such a file
 * has no stream index, which costs only `stream:` queries on old days a
 * scan of their rows in the time range.
 *
 * FTS5 merge policy (set when a version 3 file is created; older files
 * keep FTS5's defaults, which only costs their writes more CPU): every
 * commit writes one segment, and FTS5 by default merges level by level
 * four at a time (`automerge` 4), so each token is rewritten about
 * log4(commits) times. Here `automerge` is off and `crisismerge` is
 * FTS_SEGMENTS_PER_LEVEL_MAX: a level's segments are merged together when
 * there are that many, log32(commits) rewrites, and a term lookup visits
 * at most that many segments per level.
 */
import { DEFAULT_STREAM_NAME } from "../../shared/query/index.ts";

export const PARTITION_FORMAT_VERSION = 4;
/** The format with one row per event and `sources` (module comment): read and written as it is. */
export const PARTITION_FORMAT_VERSION_SOURCES = 3;
/** The format with one index per keyword column (module comment): read and written as it is. */
export const PARTITION_FORMAT_VERSION_KEYWORD_INDEXES = 2;
/** The format before streams: opened, it is brought to version 2 (module comment). */
export const PARTITION_FORMAT_VERSION_WITHOUT_STREAMS = 1;

/** The FTS5 tokenizer of docs/QUERY.md ("For the index and other backends"). */
export const FTS_TOKENIZER = "unicode61 remove_diacritics 0 categories 'L* M* N* Co'";

/**
 * Segments of one FTS5 level that trigger their merge into one (module
 * comment). Higher: fewer rewrites per token, more segments per lookup.
 */
export const FTS_SEGMENTS_PER_LEVEL_MAX = 32;

/** Version 1 → 2: the stream column (module comment). */
export const ADD_STREAM_COLUMN = `ALTER TABLE events ADD COLUMN stream TEXT NOT NULL DEFAULT '${DEFAULT_STREAM_NAME}'; PRAGMA user_version = ${PARTITION_FORMAT_VERSION_KEYWORD_INDEXES};`;

export const SCHEMA = `
CREATE TABLE sources (
  key INTEGER PRIMARY KEY,
  host TEXT NOT NULL,
  source TEXT NOT NULL,
  path TEXT NOT NULL,
  stream TEXT NOT NULL,
  UNIQUE (host, source, path, stream)
);
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
  stream TEXT NOT NULL,
  key INTEGER NOT NULL
);
CREATE INDEX events_time ON events (time, id);
CREATE INDEX events_key ON events (key, time);
CREATE VIRTUAL TABLE events_text USING fts5 (tokens, content = '', columnsize = 0, tokenize = "${FTS_TOKENIZER}");
INSERT INTO events_text (events_text, rank) VALUES ('automerge', 0);
INSERT INTO events_text (events_text, rank) VALUES ('crisismerge', ${FTS_SEGMENTS_PER_LEVEL_MAX});
PRAGMA user_version = ${PARTITION_FORMAT_VERSION_SOURCES};
`;

/** Events per sealed block of version 4. */
export const BLOCK_EVENTS = 256;
/** zstd level of a block's lines: the cheapest (the index is 8× smaller than version 3 at level 1 already). */
export const BLOCK_ZSTD_LEVEL = 1;

/**
 * A version 4 event line: JSON of [sequence, time ms, observed_time ms,
 * offset, id, message, fields, truncated 0/1]. The stream's columns are
 * in `streams`.
 */
export type BlockLine = [number, number, number, number, string, string, Record<string, unknown>, 0 | 1];

export const BLOCK_SCHEMA = `
CREATE TABLE streams (
  skey INTEGER PRIMARY KEY,
  id_stream TEXT NOT NULL,
  host TEXT NOT NULL,
  source TEXT NOT NULL,
  path TEXT NOT NULL,
  stream TEXT NOT NULL,
  UNIQUE (id_stream, host, source, path, stream)
);
CREATE TABLE blocks (
  rowid INTEGER PRIMARY KEY,
  skey INTEGER NOT NULL,
  min_time INTEGER NOT NULL,
  max_time INTEGER NOT NULL,
  first_offset INTEGER NOT NULL,
  last_offset INTEGER NOT NULL,
  min_sequence INTEGER NOT NULL,
  max_sequence INTEGER NOT NULL,
  count INTEGER NOT NULL,
  times BLOB NOT NULL,
  data BLOB NOT NULL
);
CREATE INDEX blocks_max_time ON blocks (max_time);
CREATE INDEX blocks_min_time ON blocks (min_time);
CREATE INDEX blocks_offset ON blocks (skey, last_offset);
CREATE INDEX blocks_sequence ON blocks (max_sequence);
CREATE TABLE pending (
  rowid INTEGER PRIMARY KEY,
  skey INTEGER NOT NULL,
  data TEXT NOT NULL
);
CREATE VIRTUAL TABLE blocks_text USING fts5 (tokens, content = '', columnsize = 0, detail = none, tokenize = "${FTS_TOKENIZER}");
INSERT INTO blocks_text (blocks_text, rank) VALUES ('automerge', 0);
INSERT INTO blocks_text (blocks_text, rank) VALUES ('crisismerge', ${FTS_SEGMENTS_PER_LEVEL_MAX});
PRAGMA user_version = ${PARTITION_FORMAT_VERSION};
`;

export const INSERT_BLOCK =
  "INSERT INTO blocks (rowid, skey, min_time, max_time, first_offset, last_offset, min_sequence, max_sequence, count, times, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
export const INSERT_BLOCK_TEXT = "INSERT INTO blocks_text (rowid, tokens) VALUES (?, ?)";
export const INSERT_STREAM = "INSERT INTO streams (skey, id_stream, host, source, path, stream) VALUES (?, ?, ?, ?, ?, ?)";
export const INSERT_PENDING = "INSERT INTO pending (skey, data) VALUES (?, ?)";
export const DELETE_PENDING = "DELETE FROM pending WHERE skey = ?";

/** Insert of one version 3 row; an id already stored is skipped. */
export const INSERT_EVENT =
  "INSERT INTO events (rowid, id, time, observed_time, host, source, path, offset, message, fields, truncated, stream, key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING";

/** Insert of one version 2 row (no key); an id already stored is skipped. */
export const INSERT_EVENT_KEYWORD_INDEXES =
  "INSERT INTO events (rowid, id, time, observed_time, host, source, path, offset, message, fields, truncated, stream) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING";

export const INSERT_TEXT = "INSERT INTO events_text (rowid, tokens) VALUES (?, ?)";
export const INSERT_SOURCE = "INSERT INTO sources (host, source, path, stream) VALUES (?, ?, ?, ?)";
export const SELECT_SOURCES = "SELECT key, host, source, path, stream FROM sources";
