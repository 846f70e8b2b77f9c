/**
 * Test helper: empty search index partitions of format version 2 (one
 * index per keyword column, no `sources`), as logship created them before
 * version 3 (collector/search/partition-schema.ts). A partition opened on
 * such a file keeps it at version 2, so indexing into it and searching it
 * exercise the version 2 paths.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Event } from "../../shared/event.ts";
import { sqlite } from "../search/sqlite.ts";
import { DAY_MS, partitionFileName } from "../search/search-index.ts";

const VERSION_2_SCHEMA = `
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
  stream TEXT NOT NULL DEFAULT 'default'
);
CREATE INDEX events_time ON events (time, id);
CREATE INDEX events_host ON events (host, time);
CREATE INDEX events_source ON events (source, time);
CREATE INDEX events_path ON events (path, time);
CREATE INDEX events_stream ON events (stream, time);
CREATE VIRTUAL TABLE events_text USING fts5 (tokens, content = '', columnsize = 0, tokenize = "unicode61 remove_diacritics 0 categories 'L* M* N* Co'");
PRAGMA user_version = 2;
`;

/** Creates an empty version 2 partition in `indexDirectory/tenant` for the day of each event's time. */
export function createVersion2Partitions(indexDirectory: string, tenant: string, events: readonly Event[]): void {
  const tenantDirectory = join(indexDirectory, tenant);
  mkdirSync(tenantDirectory, { recursive: true });
  const days = new Set(events.map((event) => Math.floor(Date.parse(event.time) / DAY_MS) * DAY_MS));
  for (const dayStartMs of days) {
    const database = new (sqlite().DatabaseSync)(join(tenantDirectory, partitionFileName(dayStartMs)));
    database.exec(VERSION_2_SCHEMA);
    database.close();
  }
}
