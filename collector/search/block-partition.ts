/**
 * A version 4 partition on the main thread (partition-schema.ts has the
 * format): the state that indexing needs, the events not in a sealed block
 * yet, and every read. The thread that writes the file
 * (block-writer-worker.ts) gets what `add` prepares; this side keeps one
 * connection to the file for reading (WAL: it reads the last commit while
 * the thread writes the next).
 *
 * Events are grouped by stream (id stream, host, source, path, stream):
 * each stream has one open block in memory; at BLOCK_EVENTS events it is
 * sealed and sent to the thread as a `blocks` row, and until the thread
 * answers the send (`acknowledge`) it stays in memory too, so a read never
 * misses it (a read that finds it in the file as well skips the file's
 * copy, by rowid). The open block is durable as `pending` rows, read back
 * on open.
 *
 * Idempotence by event id (an id is its id stream and offset,
 * shared/event.ts `eventId`): the highest offset stored per id stream is
 * the watermark; an event above it is new (fast path). One at or below it
 * (a replay, or offsets out of order) is looked up (slow path): the open
 * blocks and blocks in flight in memory, then the file's blocks of its id
 * stream whose offset range holds it, decoded once per send.
 */
import type { DatabaseSync, StatementSync } from "node:sqlite";
import { zstdDecompressSync } from "node:zlib";
import { eventIdStream, type Event } from "../../shared/event.ts";
import { DEFAULT_STREAM_NAME, tokenize } from "../../shared/query/index.ts";
import type { FileWork, PendingWrite, SealedBlock, StreamRow } from "./block-writer-protocol.ts";
import type { BlockFilter } from "./block-filter.ts";
import { BLOCK_EVENTS, BLOCK_SCHEMA, type BlockLine } from "./partition-schema.ts";
import type { StoredRow } from "./partition.ts";
import { storedEvent } from "./search.ts";

/** An event of a version 4 partition as reads return it: a stored row and its sequence. */
export interface BlockRow extends StoredRow {
  sequence: number;
}

/** An event to index, with what the index computed for it. */
export interface BlockEvent {
  event: Event;
  sequence: number;
  timeMs: number;
  observedTimeMs: number;
}

/** An event held in memory: in an open block, or in a sealed one the thread has not committed yet. */
interface MemoryRow {
  sequence: number;
  timeMs: number;
  offset: number;
  id: string;
  line: string;
}

interface StreamState extends StreamRow {
  open: MemoryRow[];
  tokens: Set<string>;
  /** The send that last added to the open block; where its rows start in `open`; whether it sealed a block. */
  send: number;
  sendStart: number;
  sealedInSend: boolean;
}

interface MemoryBlock {
  rowid: number;
  stream: StreamState;
  rows: MemoryRow[];
  tokens: ReadonlySet<string>;
}

/** A block row's columns without its lines. */
interface BlockMeta {
  rowid: number;
  skey: number;
  min_time: number;
  max_time: number;
}

/** Where a read starts: strictly after this (time, id) in its order. */
export interface BlockPosition {
  timeMs: number;
  id: string;
}

export class BlockPartition {
  readonly file: string;
  private readonly database: DatabaseSync;
  private readonly statements = new Map<string, StatementSync>();
  private readonly bySkey = new Map<number, StreamState>();
  /** The streams of each id stream (almost always one). */
  private readonly idStreams = new Map<string, StreamState[]>();
  /** Highest offset stored per id stream. */
  private readonly watermarks = new Map<string, number>();
  /** Sealed blocks sent to the thread and not answered yet, by rowid. */
  private readonly unacknowledged = new Map<number, MemoryBlock>();
  /** Offsets of file blocks decoded by the slow path, for the current send. */
  private decodedOffsets = new Map<number, Set<number>>();
  private decodedForSend = -1;
  private nextSkey = 1;
  private nextBlock = 1;
  private highestSequence = 0;
  /** Sends that wrote here and are not answered: the index keeps the partition open meanwhile. */
  inFlight = 0;

  private constructor(file: string, database: DatabaseSync) {
    this.file = file;
    this.database = database;
  }

  /** A partition on an open connection to a version 4 file, or (`create`) to an empty one it turns into one. */
  static fromDatabase(file: string, database: DatabaseSync, create: boolean): BlockPartition {
    if (create) database.exec(`PRAGMA journal_mode = WAL; BEGIN IMMEDIATE; ${BLOCK_SCHEMA} COMMIT;`);
    const partition = new BlockPartition(file, database);
    partition.load();
    return partition;
  }

  /** The streams, watermarks, open blocks and counters as the file has them (what is committed). */
  private load(): void {
    for (const row of this.all("SELECT skey, id_stream, host, source, path, stream FROM streams", []) as { skey: number; id_stream: string; host: string; source: string; path: string; stream: string }[]) {
      this.addStream({ skey: row.skey, idStream: row.id_stream, host: row.host, source: row.source, path: row.path, stream: row.stream });
    }
    const totals = this.all("SELECT coalesce(max(rowid), 0) AS block, coalesce(max(max_sequence), 0) AS sequence FROM blocks", [])[0] as { block: number; sequence: number };
    this.nextBlock = totals.block + 1;
    this.highestSequence = totals.sequence;
    for (const row of this.all("SELECT skey, max(last_offset) AS offset FROM blocks GROUP BY skey", []) as { skey: number; offset: number }[]) {
      const stream = this.bySkey.get(row.skey);
      if (stream !== undefined) this.raiseWatermark(stream.idStream, row.offset);
    }
    for (const row of this.all("SELECT skey, data FROM pending ORDER BY rowid", []) as { skey: number; data: string }[]) {
      const stream = this.bySkey.get(row.skey);
      if (stream === undefined) continue;
      for (const line of row.data.split("\n")) {
        const [sequence, timeMs, , offset, id, message] = JSON.parse(line) as BlockLine;
        stream.open.push({ sequence, timeMs, offset, id, line });
        for (const token of tokenize(message)) stream.tokens.add(token);
        this.raiseWatermark(stream.idStream, offset);
        this.highestSequence = Math.max(this.highestSequence, sequence);
      }
    }
  }

  private addStream(row: StreamRow): StreamState {
    const state: StreamState = { ...row, open: [], tokens: new Set(), send: -1, sendStart: 0, sealedInSend: false };
    this.bySkey.set(row.skey, state);
    const streams = this.idStreams.get(row.idStream) ?? [];
    streams.push(state);
    this.idStreams.set(row.idStream, streams);
    this.nextSkey = Math.max(this.nextSkey, row.skey + 1);
    return state;
  }

  private raiseWatermark(idStream: string, offset: number): void {
    if (offset > (this.watermarks.get(idStream) ?? -1)) this.watermarks.set(idStream, offset);
  }

  // ——— writing ———

  /**
   * Adds one event for send `send`: false when its id is stored already.
   * New streams and sealed blocks go into `work` (sent to the thread as
   * they come); `pendingWrites` gives the send's open-block rows at its end.
   */
  add(item: BlockEvent, send: number, work: FileWork): boolean {
    const { event } = item;
    const idStream = eventIdStream(event.id);
    const streamValue = event.stream ?? DEFAULT_STREAM_NAME;
    let stream = this.idStreams.get(idStream)?.find((known) => known.host === event.host && known.source === event.source && known.path === event.path && known.stream === streamValue);
    if (stream === undefined) {
      const row: StreamRow = { skey: this.nextSkey, idStream, host: event.host, source: event.source, path: event.path, stream: streamValue };
      stream = this.addStream(row);
      work.streams.push(row);
    }
    const watermark = this.watermarks.get(idStream) ?? -1;
    if (event.offset <= watermark && this.stored(idStream, event.offset, event.id, send)) return false;
    this.raiseWatermark(idStream, event.offset);
    if (stream.send !== send) {
      stream.send = send;
      stream.sendStart = stream.open.length;
      stream.sealedInSend = false;
    }
    const line: BlockLine = [item.sequence, item.timeMs, item.observedTimeMs, event.offset, event.id, event.message, event.fields, event.truncated === true ? 1 : 0];
    stream.open.push({ sequence: item.sequence, timeMs: item.timeMs, offset: event.offset, id: event.id, line: JSON.stringify(line) });
    for (const token of tokenize(event.message)) stream.tokens.add(token);
    this.highestSequence = Math.max(this.highestSequence, item.sequence);
    if (stream.open.length >= BLOCK_EVENTS) work.blocks.push(this.seal(stream));
    return true;
  }

  private seal(stream: StreamState): SealedBlock {
    const rows = stream.open;
    let minTimeMs = Infinity;
    let maxTimeMs = -Infinity;
    let firstOffset = Infinity;
    let lastOffset = -Infinity;
    let minSequence = Infinity;
    let maxSequence = -Infinity;
    for (const row of rows) {
      minTimeMs = Math.min(minTimeMs, row.timeMs);
      maxTimeMs = Math.max(maxTimeMs, row.timeMs);
      firstOffset = Math.min(firstOffset, row.offset);
      lastOffset = Math.max(lastOffset, row.offset);
      minSequence = Math.min(minSequence, row.sequence);
      maxSequence = Math.max(maxSequence, row.sequence);
    }
    const times = new Int32Array(rows.length);
    for (let index = 0; index < rows.length; index++) times[index] = (rows[index] as MemoryRow).timeMs - minTimeMs;
    const rowid = this.nextBlock++;
    this.unacknowledged.set(rowid, { rowid, stream, rows, tokens: stream.tokens });
    const block: SealedBlock = {
      rowid,
      skey: stream.skey,
      minTimeMs,
      maxTimeMs,
      firstOffset,
      lastOffset,
      minSequence,
      maxSequence,
      count: rows.length,
      times,
      text: rows.map((row) => row.line).join("\n"),
      tokens: [...stream.tokens].join(" "),
    };
    stream.open = [];
    stream.tokens = new Set();
    stream.sendStart = 0;
    stream.sealedInSend = true;
    return block;
  }

  /** The `pending` rows of send `send`: per stream it added to, its new rows, or all of the open block if it sealed one. */
  pendingWrites(send: number): PendingWrite[] {
    const writes: PendingWrite[] = [];
    for (const stream of this.bySkey.values()) {
      if (stream.send !== send) continue;
      const rows = stream.sealedInSend ? stream.open : stream.open.slice(stream.sendStart);
      writes.push({ skey: stream.skey, replace: stream.sealedInSend, text: rows.map((row) => row.line).join("\n") });
    }
    return writes;
  }

  /** The thread committed blocks up to `lastBlock` (rowids are sent in order): they are read from the file from now on. */
  acknowledge(lastBlock: number): void {
    for (const rowid of this.unacknowledged.keys()) {
      if (rowid > lastBlock) break;
      this.unacknowledged.delete(rowid);
    }
  }

  /** The rowid the next sealed block gets (a send's last block is one below it once the send is prepared). */
  nextBlockRowid(): number {
    return this.nextBlock;
  }

  /** Slow path (module comment): is the event of `idStream` at `offset` stored? */
  private stored(idStream: string, offset: number, id: string, send: number): boolean {
    const streams = this.idStreams.get(idStream) ?? [];
    for (const stream of streams) if (stream.open.some((row) => row.offset === offset && row.id === id)) return true;
    for (const block of this.unacknowledged.values()) if (block.stream.idStream === idStream && block.rows.some((row) => row.offset === offset && row.id === id)) return true;
    if (this.decodedForSend !== send) {
      this.decodedOffsets = new Map();
      this.decodedForSend = send;
    }
    for (const stream of streams) {
      for (const block of this.all("SELECT rowid, data FROM blocks WHERE skey = ? AND last_offset >= ? AND first_offset <= ?", [stream.skey, offset, offset]) as { rowid: number; data: Uint8Array }[]) {
        let offsets = this.decodedOffsets.get(block.rowid);
        if (offsets === undefined) {
          offsets = new Set(decodeLines(block.data).map((line) => (JSON.parse(line) as BlockLine)[3]));
          this.decodedOffsets.set(block.rowid, offsets);
        }
        if (offsets.has(offset)) return true;
      }
    }
    return false;
  }

  // ——— reading ———

  /** The highest sequence held (committed, or in memory). */
  lastSequence(): number {
    return this.highestSequence;
  }

  /**
   * The events of the blocks `filter` keeps (and its `event` test accepts),
   * with time in [sinceMs, untilMs) and strictly after `after`, in (time, id) order (desc or asc), at most
   * `rowsMax`. Blocks are read in order of their newest (desc) or oldest
   * (asc) time; an event is returned once no block still unread can hold one
   * before it.
   */
  *rows(filter: BlockFilter, sinceMs: number | undefined, untilMs: number | undefined, order: "desc" | "asc", after: BlockPosition | undefined, rowsMax: number): Generator<BlockRow> {
    if (rowsMax <= 0) return;
    const lowMs = Math.max(sinceMs ?? -Infinity, order === "asc" && after !== undefined ? after.timeMs : -Infinity);
    const highMs = Math.min(untilMs === undefined ? Infinity : untilMs - 1, order === "desc" && after !== undefined ? after.timeMs : Infinity);
    if (lowMs > highMs) return;
    const sources = this.blockSources(filter, lowMs, highMs, order);
    const desc = order === "desc";
    const before = (a: BlockRow, b: BlockRow): number => (desc ? b.time - a.time || (b.id < a.id ? -1 : b.id > a.id ? 1 : 0) : a.time - b.time || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    let buffer: BlockRow[] = [];
    let emitted = 0;
    const inRange = (row: BlockRow): boolean => {
      if (row.time < lowMs || row.time > highMs) return false;
      if (after === undefined) return true;
      return desc ? row.time < after.timeMs || (row.time === after.timeMs && row.id < after.id) : row.time > after.timeMs || (row.time === after.timeMs && row.id > after.id);
    };
    for (let index = 0; index <= sources.length; index++) {
      const next = sources[index];
      // Everything strictly before the next block's bound in this order is final.
      const boundMs = next === undefined ? undefined : desc ? next.maxTimeMs : next.minTimeMs;
      if (buffer.length > 0) {
        buffer.sort(before);
        let ready = buffer.length;
        if (boundMs !== undefined) {
          ready = 0;
          while (ready < buffer.length && (desc ? (buffer[ready] as BlockRow).time > boundMs : (buffer[ready] as BlockRow).time < boundMs)) ready++;
        }
        for (let r = 0; r < ready; r++) {
          yield buffer[r] as BlockRow;
          if (++emitted >= rowsMax) return;
        }
        buffer = buffer.slice(ready);
      }
      if (next === undefined) break;
      for (const row of next.read()) if (inRange(row) && (filter.event === undefined || filter.event(storedEvent(row)))) buffer.push(row);
    }
  }

  /** The blocks to read, file and memory, sorted by max time (desc) or min time (asc). */
  private blockSources(filter: BlockFilter, lowMs: number, highMs: number, order: "desc" | "asc"): BlockSource[] {
    const sources: BlockSource[] = [];
    const streamKept = new Map<number, boolean>();
    const kept = (stream: StreamState): boolean => {
      let known = streamKept.get(stream.skey);
      if (known === undefined) streamKept.set(stream.skey, (known = filter.stream(stream)));
      return known;
    };
    const parameters: (number | string)[] = [Number.isFinite(lowMs) ? lowMs : Number.MIN_SAFE_INTEGER, Number.isFinite(highMs) ? highMs : Number.MAX_SAFE_INTEGER];
    let sql = "SELECT rowid, skey, min_time, max_time FROM blocks WHERE max_time >= ? AND min_time <= ?";
    if (filter.match !== undefined) {
      sql += " AND rowid IN (SELECT rowid FROM blocks_text WHERE blocks_text MATCH ?)";
      parameters.push(filter.match);
    }
    for (const meta of this.all(sql, parameters) as unknown as BlockMeta[]) {
      if (this.unacknowledged.has(meta.rowid)) continue;
      const stream = this.bySkey.get(meta.skey);
      if (stream === undefined || !kept(stream)) continue;
      sources.push({ minTimeMs: meta.min_time, maxTimeMs: meta.max_time, read: () => this.readBlock(meta.rowid, stream) });
    }
    const memory = (stream: StreamState, rows: MemoryRow[], tokens: ReadonlySet<string>): void => {
      if (rows.length === 0 || !kept(stream) || (filter.tokens !== undefined && !filter.tokens(tokens))) return;
      let minTimeMs = Infinity;
      let maxTimeMs = -Infinity;
      for (const row of rows) {
        minTimeMs = Math.min(minTimeMs, row.timeMs);
        maxTimeMs = Math.max(maxTimeMs, row.timeMs);
      }
      if (maxTimeMs < lowMs || minTimeMs > highMs) return;
      sources.push({ minTimeMs, maxTimeMs, read: () => rows.map((row) => blockRow(row.line, stream)) });
    };
    for (const block of this.unacknowledged.values()) memory(block.stream, block.rows, block.tokens);
    for (const stream of this.bySkey.values()) memory(stream, stream.open, stream.tokens);
    sources.sort(order === "desc" ? (a, b) => b.maxTimeMs - a.maxTimeMs : (a, b) => a.minTimeMs - b.minTimeMs);
    return sources;
  }

  private readBlock(rowid: number, stream: StreamState): BlockRow[] {
    const block = this.all("SELECT data FROM blocks WHERE rowid = ?", [rowid])[0] as { data: Uint8Array } | undefined;
    return block === undefined ? [] : decodeLines(block.data).map((line) => blockRow(line, stream));
  }

  /**
   * Events per bucket of every event with time in [sinceMs, untilMs), from
   * the blocks' columns: a block wholly inside the range and inside one
   * bucket adds its count; only others read their time column. No line is
   * decoded. `bucketOf` maps a time to its bucket's start.
   */
  countAll(sinceMs: number, untilMs: number, bucketOf: (timeMs: number) => number, add: (bucket: number, count: number) => void): void {
    for (const block of this.all("SELECT rowid, min_time, max_time, count FROM blocks WHERE max_time >= ? AND min_time < ?", [sinceMs, untilMs]) as { rowid: number; min_time: number; max_time: number; count: number }[]) {
      if (this.unacknowledged.has(block.rowid)) continue;
      const bucket = bucketOf(block.min_time);
      if (block.min_time >= sinceMs && block.max_time < untilMs && bucketOf(block.max_time) === bucket) {
        add(bucket, block.count);
        continue;
      }
      const column = this.all("SELECT times FROM blocks WHERE rowid = ?", [block.rowid])[0] as { times: Uint8Array };
      const times = new Int32Array(column.times.buffer, column.times.byteOffset, column.times.byteLength / 4);
      for (const delta of times) {
        const timeMs = block.min_time + delta;
        if (timeMs >= sinceMs && timeMs < untilMs) add(bucketOf(timeMs), 1);
      }
    }
    const memory = (rows: MemoryRow[]): void => {
      for (const row of rows) if (row.timeMs >= sinceMs && row.timeMs < untilMs) add(bucketOf(row.timeMs), 1);
    };
    for (const block of this.unacknowledged.values()) memory(block.rows);
    for (const stream of this.bySkey.values()) memory(stream.open);
  }

  /** The event with this id, if stored here. */
  eventById(id: string): BlockRow | undefined {
    const idStream = eventIdStream(id);
    const offset = eventOffset(id);
    const found = offset === undefined ? undefined : this.streamRows(idStream, (stream) => [{ sql: "last_offset >= ? AND first_offset <= ?", parameters: [offset, offset] }, stream]).find((row) => row.id === id);
    // An id not made by eventId (or an event whose offset field differs from its id's): every block of its id stream.
    return found ?? this.streamRows(idStream, (stream) => [{ sql: "1", parameters: [] }, stream]).find((row) => row.id === id);
  }

  /**
   * Up to `count` events of the id stream with the same host and path as
   * `match`, with offsets below (`before`) or above (`after`) its offset,
   * nearest first.
   */
  neighbours(match: StoredRow, count: number, side: "before" | "after"): BlockRow[] {
    const idStream = eventIdStream(match.id);
    const condition = side === "before" ? { sql: "first_offset < ?", parameters: [match.offset] } : { sql: "last_offset > ?", parameters: [match.offset] };
    const rows = this.streamRows(idStream, (stream) => (stream.host === match.host && stream.path === match.path ? [condition, stream] : undefined)).filter((row) =>
      side === "before" ? row.offset < match.offset : row.offset > match.offset,
    );
    rows.sort((a, b) => (side === "before" ? b.offset - a.offset : a.offset - b.offset));
    return rows.slice(0, count);
  }

  /** Every event of `idStream`'s streams that `select` keeps, from the file's blocks its condition picks and from memory. */
  private streamRows(idStream: string, select: (stream: StreamState) => [{ sql: string; parameters: number[] }, StreamState] | undefined): BlockRow[] {
    const rows: BlockRow[] = [];
    for (const known of this.idStreams.get(idStream) ?? []) {
      const picked = select(known);
      if (picked === undefined) continue;
      const [condition, stream] = picked;
      for (const block of this.all(`SELECT rowid, data FROM blocks WHERE skey = ? AND ${condition.sql}`, [stream.skey, ...condition.parameters]) as { rowid: number; data: Uint8Array }[]) {
        if (this.unacknowledged.has(block.rowid)) continue;
        for (const line of decodeLines(block.data)) rows.push(blockRow(line, stream));
      }
      for (const block of this.unacknowledged.values()) if (block.stream === stream) for (const row of block.rows) rows.push(blockRow(row.line, stream));
      for (const row of stream.open) rows.push(blockRow(row.line, stream));
    }
    return rows;
  }

  /**
   * Events with a sequence in (afterSequence, upToSequence], in sequence
   * order, at most `rowsMax` (the first ones). Blocks are decoded in order
   * of their lowest sequence until no further one can hold one of the
   * first `rowsMax`.
   */
  rowsBySequence(afterSequence: number, upToSequence: number, rowsMax: number): BlockRow[] {
    let rows: BlockRow[] = [];
    const keep = (row: BlockRow): void => {
      if (row.sequence > afterSequence && row.sequence <= upToSequence) rows.push(row);
    };
    for (const block of this.unacknowledged.values()) for (const row of block.rows) if (row.sequence > afterSequence) keep(blockRow(row.line, block.stream));
    for (const stream of this.bySkey.values()) for (const row of stream.open) if (row.sequence > afterSequence) keep(blockRow(row.line, stream));
    const metas = this.all("SELECT rowid, skey, min_sequence FROM blocks WHERE max_sequence > ? AND min_sequence <= ? ORDER BY min_sequence", [afterSequence, upToSequence]) as { rowid: number; skey: number; min_sequence: number }[];
    for (const meta of metas) {
      if (rows.length >= rowsMax) {
        rows.sort((a, b) => a.sequence - b.sequence);
        rows = rows.slice(0, rowsMax);
        if ((rows[rowsMax - 1] as BlockRow).sequence < meta.min_sequence) break;
      }
      const stream = this.bySkey.get(meta.skey);
      if (stream === undefined || this.unacknowledged.has(meta.rowid)) continue;
      for (const row of this.readBlock(meta.rowid, stream)) keep(row);
    }
    rows.sort((a, b) => a.sequence - b.sequence);
    return rows.slice(0, rowsMax);
  }

  close(): void {
    this.database.close();
  }

  private all(sql: string, parameters: (number | string)[]): Record<string, unknown>[] {
    let statement = this.statements.get(sql);
    if (statement === undefined) {
      statement = this.database.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement.all(...parameters) as Record<string, unknown>[];
  }
}

/** A block to read: its time bounds and how to get its events. */
interface BlockSource {
  minTimeMs: number;
  maxTimeMs: number;
  read: () => BlockRow[];
}

function decodeLines(data: Uint8Array): string[] {
  return zstdDecompressSync(data).toString("utf8").split("\n");
}

/** A line (BlockLine) and its stream's values as the row queries read. */
function blockRow(line: string, stream: StreamState): BlockRow {
  const [sequence, time, observedTime, offset, id, message, fields, truncated] = JSON.parse(line) as BlockLine;
  return { sequence, id, time, observed_time: observedTime, host: stream.host, source: stream.source, path: stream.path, offset, message, fields, truncated, stream: stream.stream };
}

/** The offset an event id carries (shared/event.ts `eventId`: base 36 after the id stream); undefined for an id of another shape. */
function eventOffset(id: string): number | undefined {
  const digits = id.slice(eventIdStream(id).length);
  if (!/^[0-9a-z]+$/.test(digits)) return undefined;
  const offset = Number.parseInt(digits, 36);
  return Number.isSafeInteger(offset) ? offset : undefined;
}
