/**
 * The messages between the main thread (block-writer.ts) and the thread that
 * writes version 4 partitions (block-writer-worker.ts). A send of the search
 * sink is a sequence of `chunk` requests ended by one `commit`: the thread
 * starts a transaction on a file at its first chunk of the send, applies each
 * chunk as it arrives (the main thread prepares the next one meanwhile), and
 * at `commit` writes the pending rows and commits every file the send
 * touched (synchronous=FULL). `commit`, `close-file` and `close` are
 * answered.
 */

/** A new row of `streams`. */
export interface StreamRow {
  skey: number;
  idStream: string;
  host: string;
  source: string;
  path: string;
  stream: string;
}

/** A block sealed on the main thread: its columns, its lines (to compress) and its distinct tokens (for FTS5). */
export interface SealedBlock {
  rowid: number;
  skey: number;
  minTimeMs: number;
  maxTimeMs: number;
  firstOffset: number;
  lastOffset: number;
  minSequence: number;
  maxSequence: number;
  count: number;
  /** Each event's time minus minTimeMs. */
  times: Int32Array;
  /** The lines joined by newlines. */
  text: string;
  /** Distinct tokens joined by spaces. */
  tokens: string;
}

/** A stream's open block as `pending` rows: replace (the block sealed in this send: delete its rows first) or append. */
export interface PendingWrite {
  skey: number;
  replace: boolean;
  /** Lines joined by newlines; empty: nothing to insert. */
  text: string;
}

/** What one request writes into one partition file. */
export interface FileWork {
  file: string;
  streams: StreamRow[];
  blocks: SealedBlock[];
  pending: PendingWrite[];
}

export type WriterRequest =
  | { kind: "chunk"; send: number; files: FileWork[] }
  | { kind: "commit"; send: number; files: FileWork[] }
  /** The send's preparation failed: roll back what its chunks wrote. */
  | { kind: "abort"; send: number }
  /** Closes the thread's connection to a file (retention deletes it, or the cache let it go); answered. */
  | { kind: "close-file"; send: number; file: string }
  /** Closes every connection; answered, then the thread exits. */
  | { kind: "close"; send: number };

/** The send is durable, or why it is not (the thread rolled back every file of it). */
export type WriterAnswer = { send: number } | { send: number; failure: string };
