/**
 * The thread that writes version 4 search index partitions
 * (block-writer-protocol.ts; block-writer.ts starts it): zstd of sealed
 * blocks and every SQLite write and commit, so that the main thread's part
 * of indexing (times, tokens, lines, blocks: block-partition.ts) and this
 * part use two cores.
 *
 * One connection per file, opened at its first write (the main thread
 * created the file and its schema), synchronous=FULL in WAL mode. After a
 * failure the thread answers every later commit with the same failure
 * without writing: the main thread's state ran ahead of the files, and it
 * replaces this thread with a new one that starts from what is committed.
 */
import { parentPort } from "node:worker_threads";
import { constants, zstdCompressSync } from "node:zlib";
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { sqlite, SQLITE_BUSY_TIMEOUT_MS } from "./sqlite.ts";
import { BLOCK_ZSTD_LEVEL, DELETE_PENDING, INSERT_BLOCK, INSERT_BLOCK_TEXT, INSERT_PENDING, INSERT_STREAM } from "./partition-schema.ts";
import type { FileWork, WriterAnswer, WriterRequest } from "./block-writer-protocol.ts";

const port = parentPort;
if (port === null) throw new Error("block-writer-worker.ts runs as a worker thread (block-writer.ts starts it)");

interface Connection {
  database: DatabaseSync;
  insertBlock: StatementSync;
  insertText: StatementSync;
  insertStream: StatementSync;
  insertPending: StatementSync;
  deletePending: StatementSync;
}

const connections = new Map<string, Connection>();
/** Files with a transaction open for the current send. */
const inTransaction = new Set<Connection>();
/** Set by a failure: every later commit answers it (module comment). */
let broken: string | undefined;

port.on("message", (request: WriterRequest) => {
  if (request.kind === "close-file") {
    connections.get(request.file)?.database.close();
    connections.delete(request.file);
    port.postMessage({ send: request.send } satisfies WriterAnswer);
    return;
  }
  if (request.kind === "abort") {
    if (broken === undefined) rollBack();
    return;
  }
  if (request.kind === "close") {
    for (const connection of connections.values()) connection.database.close();
    connections.clear();
    port.postMessage({ send: request.send } satisfies WriterAnswer);
    port.close();
    return;
  }
  if (broken === undefined) {
    try {
      for (const work of request.files) apply(work);
      if (request.kind === "commit") {
        for (const connection of inTransaction) connection.database.exec("COMMIT");
        inTransaction.clear();
      }
    } catch (error) {
      broken = error instanceof Error ? error.message : String(error);
      rollBack();
    }
  }
  if (request.kind === "commit") port.postMessage((broken === undefined ? { send: request.send } : { send: request.send, failure: broken }) satisfies WriterAnswer);
});

function apply(work: FileWork): void {
  const connection = open(work.file);
  if (!inTransaction.has(connection)) {
    connection.database.exec("BEGIN IMMEDIATE");
    inTransaction.add(connection);
  }
  for (const stream of work.streams) connection.insertStream.run(stream.skey, stream.idStream, stream.host, stream.source, stream.path, stream.stream);
  for (const block of work.blocks) {
    const data = zstdCompressSync(block.text, { params: { [constants.ZSTD_c_compressionLevel]: BLOCK_ZSTD_LEVEL } });
    const times = new Uint8Array(block.times.buffer, block.times.byteOffset, block.times.byteLength);
    connection.insertBlock.run(block.rowid, block.skey, block.minTimeMs, block.maxTimeMs, block.firstOffset, block.lastOffset, block.minSequence, block.maxSequence, block.count, times, data);
    connection.insertText.run(block.rowid, block.tokens);
  }
  for (const pending of work.pending) {
    if (pending.replace) connection.deletePending.run(pending.skey);
    if (pending.text.length > 0) connection.insertPending.run(pending.skey, pending.text);
  }
}

function open(file: string): Connection {
  const known = connections.get(file);
  if (known !== undefined) return known;
  const database = new (sqlite().DatabaseSync)(file, { enableDoubleQuotedStringLiterals: false, timeout: SQLITE_BUSY_TIMEOUT_MS });
  database.exec("PRAGMA synchronous = FULL;");
  const connection: Connection = {
    database,
    insertBlock: database.prepare(INSERT_BLOCK),
    insertText: database.prepare(INSERT_BLOCK_TEXT),
    insertStream: database.prepare(INSERT_STREAM),
    insertPending: database.prepare(INSERT_PENDING),
    deletePending: database.prepare(DELETE_PENDING),
  };
  connections.set(file, connection);
  return connection;
}

function rollBack(): void {
  for (const connection of inTransaction) {
    if (!connection.database.isTransaction) continue;
    try {
      connection.database.exec("ROLLBACK");
    } catch (error) {
      // SQLite rolled back already (an I/O error ends the transaction); the file holds its last commit either way.
      broken += `; rollback: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
  inTransaction.clear();
}
