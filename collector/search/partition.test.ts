/**
 * A version 3 partition's `sources` (partition-schema.ts): one row per
 * distinct (host, source, path, stream), found again after a reopen, and
 * not remembered from a transaction that rolled back. And the journal: a
 * file an earlier logship left in WAL mode, with commits still in its WAL,
 * is opened with them and switched to the rollback journal.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { IndexError } from "./errors.ts";
import { Partition, type IndexedRow } from "./partition.ts";
import { keywordCondition } from "./translate.ts";
import { sqlite } from "./sqlite.ts";
import { createVersion2Partitions } from "../testing/partition-v2.ts";
import { SearchIndex } from "./search-index.ts";

function row(sequence: number, host: string, path: string): IndexedRow {
  return {
    sequence,
    id: `id-${sequence}`,
    timeMs: Date.parse("2026-03-01T10:00:00Z") + sequence,
    observedTimeMs: Date.parse("2026-03-01T10:00:00Z"),
    host,
    source: "app",
    path,
    offset: sequence,
    message: `line ${sequence}`,
    fieldsJson: "{}",
    truncated: false,
    stream: "default",
    tokens: `line ${sequence}`,
  };
}

function idsOnHost(partition: Partition, host: string): string[] {
  const condition = keywordCondition({ sql: "host = ?", parameters: [host] }, partition.keywords);
  return partition.select(`SELECT * FROM events WHERE ${condition.sql} ORDER BY rowid`, condition.parameters).map((stored) => stored.id);
}

function sourcesRows(partition: Partition): number {
  return (partition.select("SELECT count(*) AS id FROM sources", []) as unknown as { id: number }[])[0]?.id ?? -1;
}

test("sources: one row per distinct host, source, path and stream, reused after the file is reopened", async (t) => {
  const directory = mkdtempSync(join(tmpdir(), "logship-partition-"));
  t.after(() => rmSync(directory, { recursive: true, force: true }));
  const file = join(directory, "2026-03-01.db");
  const first = Partition.open(file, true);
  assert.equal(first.keywords, "sources");
  assert.equal(first.insert([row(1, "web-1", "/a"), row(2, "web-1", "/a"), row(3, "web-2", "/a"), row(4, "web-1", "/b")]), 4);
  assert.equal(sourcesRows(first), 3);
  first.close();
  const again = Partition.open(file, false);
  t.after(() => again.close());
  assert.equal(again.insert([row(5, "web-1", "/a"), row(6, "web-3", "/a")]), 2);
  assert.equal(sourcesRows(again), 4);
  assert.deepEqual(idsOnHost(again, "web-1"), ["id-1", "id-2", "id-4", "id-5"]);
  assert.deepEqual(idsOnHost(again, "web-3"), ["id-6"]);
});

test("sources: a source added in a transaction that rolled back is added again by the next insert", async (t) => {
  const directory = mkdtempSync(join(tmpdir(), "logship-partition-"));
  t.after(() => rmSync(directory, { recursive: true, force: true }));
  const partition = Partition.open(join(directory, "2026-03-01.db"), true);
  t.after(() => partition.close());
  partition.insert([row(1, "web-1", "/a")]);
  // Sequence 1 again: the insert fails after web-9's source row was written, and rolls back.
  const reused = { ...row(1, "web-9", "/a"), id: "id-other" };
  assert.throws(() => partition.insert([row(2, "web-9", "/a"), reused]), (error: unknown) => !(error instanceof IndexError));
  assert.equal(sourcesRows(partition), 1);
  assert.equal(partition.insert([row(3, "web-9", "/a")]), 1);
  assert.deepEqual(idsOnHost(partition, "web-9"), ["id-3"]);
});

test("a partition left in WAL mode with commits only in its WAL (a crash) is opened with them and switched to the rollback journal", async (t) => {
  const directory = mkdtempSync(join(tmpdir(), "logship-partition-"));
  t.after(() => rmSync(directory, { recursive: true, force: true }));
  const event = { id: "wal-1", time: "2026-03-01T10:00:00.000Z", observed_time: "2026-03-01T10:00:00.000Z", host: "web-1", source: "app", path: "/a", offset: 0, message: "left in the wal", fields: {} };
  createVersion2Partitions(join(directory, "written"), "default", [event]);
  const written = join(directory, "written", "default", "2026-03-01.db");
  const database = new (sqlite().DatabaseSync)(written);
  database.exec("PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;");
  database.exec(`INSERT INTO events (rowid, id, time, observed_time, host, source, path, offset, message, fields, truncated) VALUES (1, 'wal-1', ${Date.parse(event.time)}, ${Date.parse(event.time)}, 'web-1', 'app', '/a', 0, 'left in the wal', '{}', 0)`);
  database.exec("INSERT INTO events_text (rowid, tokens) VALUES (1, 'left in the wal')");
  // The files as a crash leaves them: the commit is in the WAL only.
  const crashed = join(directory, "crashed", "default", "2026-03-01.db");
  createVersion2Partitions(join(directory, "crashed"), "default", []);
  copyFileSync(written, crashed);
  copyFileSync(`${written}-wal`, `${crashed}-wal`);
  database.close();

  const index = new SearchIndex({ directory: join(directory, "crashed") });
  t.after(() => index.close());
  const partition = index.partition(crashed, false);
  assert.ok(partition instanceof Partition);
  assert.deepEqual(partition.select("SELECT * FROM events WHERE rowid IN (SELECT rowid FROM events_text WHERE events_text MATCH 'wal')", []).map((stored) => stored.id), ["wal-1"]);
  assert.equal(existsSync(`${crashed}-wal`), false);
  assert.equal((await index.write("default", [{ ...event, id: "after", offset: 20 }])).added, 1);
  assert.equal(existsSync(`${crashed}-journal`), true);
});
