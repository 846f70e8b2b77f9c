/**
 * The stream column of the embedded index (partition format v2): `stream:`
 * finds a stream's events, the default stream's events carry no `stream`,
 * and a version 1 partition (written before streams) is read as the
 * default stream's.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Event } from "../../shared/event.ts";
import { parseQuery } from "../../shared/query/index.ts";
import { sqlite } from "./sqlite.ts";
import { SearchIndex } from "./search-index.ts";
import { searchIndex } from "./search.ts";

const DAY = "2026-03-01";

function event(id: string, message: string, stream?: string): Event {
  const base: Event = { id, time: `${DAY}T10:00:0${id.length % 10}.000Z`, observed_time: `${DAY}T10:00:00.000Z`, host: "web-1", source: "checkout", path: "/var/log/c.log", offset: 0, message, fields: {} };
  return stream === undefined ? base : { ...base, stream };
}

function ids(index: SearchIndex, query: string): string[] {
  return searchIndex(index, { tenant: "default", query: parseQuery(query), limit: 100 }).events.map((found) => found.id).sort();
}

test("stream: finds the events of a stream; the default stream's events have no stream field", async (t) => {
  const directory = mkdtempSync(join(tmpdir(), "logship-stream-"));
  t.after(() => rmSync(directory, { recursive: true, force: true }));
  const index = new SearchIndex({ directory });
  t.after(() => index.close());
  await index.write("default", [event("a1", "purchase", "payments"), event("a2", "error", "errors"), event("a3", "hello")]);
  assert.deepEqual(ids(index, "stream:payments"), ["a1"]);
  assert.deepEqual(ids(index, "stream:default"), ["a3"]);
  assert.deepEqual(ids(index, "NOT stream:default"), ["a1", "a2"]);
  assert.deepEqual(ids(index, "stream:pay*"), ["a1"]);
  const found = searchIndex(index, { tenant: "default", query: parseQuery("*"), limit: 10 }).events;
  assert.deepEqual(Object.fromEntries(found.map((row) => [row.id, row.stream])), { a1: "payments", a2: "errors", a3: undefined });
});

test("a version 1 partition (before streams) is brought to version 2 on open and read as the default stream", async (t) => {
  const directory = mkdtempSync(join(tmpdir(), "logship-stream-"));
  t.after(() => rmSync(directory, { recursive: true, force: true }));
  mkdirSync(join(directory, "default"));
  const file = join(directory, "default", `${DAY}.db`);
  const old = new (sqlite().DatabaseSync)(file);
  old.exec(`
    CREATE TABLE events (rowid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, time INTEGER NOT NULL, observed_time INTEGER NOT NULL, host TEXT NOT NULL, source TEXT NOT NULL, path TEXT NOT NULL, offset INTEGER NOT NULL, message TEXT NOT NULL, fields TEXT NOT NULL, truncated INTEGER NOT NULL);
    CREATE INDEX events_time ON events (time, id);
    CREATE VIRTUAL TABLE events_text USING fts5 (tokens, content = '', columnsize = 0, tokenize = "unicode61 remove_diacritics 0 categories 'L* M* N* Co'");
    INSERT INTO events VALUES (1, 'old1', ${Date.parse(`${DAY}T09:00:00.000Z`)}, ${Date.parse(`${DAY}T09:00:00.000Z`)}, 'web-1', 'checkout', '/var/log/c.log', 0, 'old purchase', '{}', 0);
    INSERT INTO events_text (rowid, tokens) VALUES (1, 'old purchase');
    PRAGMA user_version = 1;
  `);
  old.close();
  const index = new SearchIndex({ directory });
  t.after(() => index.close());
  assert.deepEqual(ids(index, "purchase"), ["old1"]);
  assert.deepEqual(ids(index, "stream:default AND purchase"), ["old1"]);
  await index.write("default", [event("new1", "new purchase", "payments")]);
  assert.deepEqual(ids(index, "purchase"), ["new1", "old1"]);
  assert.deepEqual(ids(index, "stream:payments"), ["new1"]);
});
