/**
 * The agent's disk spool: every batch is written here before it is sent
 * (write-ahead), so a batch survives kill -9 and is re-sent after a restart
 * with its original sequence number — which the collector deduplicates.
 * Format (docs/SPOOL.md, version 1):
 *
 *   data_dir/spool/<first seq, 16 digits>.spool   append-only segment files
 *     record: u32 body length | u32 CRC-32 of body | body
 *     body:   u8 version (1) | f64 seq | u32 events | u32 ranges length |
 *             ranges JSON [{key, endOffset}] | zstd batch bytes (the HTTP body)
 *   data_dir/spool/state.json                     {version, agent_id, seq_reserved, floor, acked, delivered}
 *     written temp → fsync → rename (one write at a time).
 *
 * Sequence numbers are reserved in blocks (state.seq_reserved is written
 * before any seq up to it is used), so a seq is never used twice, even after
 * a crash. `floor` is the lowest seq not yet acknowledged as of the last
 * state write; the agent tells collectors that (persisted) floor so they can
 * forget older seqs. A segment is deleted once every record in it is below
 * the floor or acknowledged.
 *
 * `delivered` (stream key → end offset of the last acknowledged batch of that
 * stream) keeps where delivered lines end until the tailer's checkpoint has
 * caught up (`checkpointed`): an acknowledgement can come, and the spool can
 * forget the batch, before the checkpoint that covers it is written. After a
 * kill -9 in between, reading must resume after those lines, not at the
 * older checkpoint (that would ship them again under new seqs, which no
 * collector can recognise as duplicates). State is written before a segment
 * is deleted, so the ends of its batches are never lost. A missing
 * `delivered` (older state files) reads as empty.
 *
 * Limits: `max_bytes` of segment files. At the limit, `when_full: block`
 * makes `append` wait for acknowledgements; `drop_oldest` deletes the oldest
 * segment (its batches are counted as dropped and logged).
 */
import { randomUUID } from "node:crypto";
import { mkdir, open, readdir, readFile, rm, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { freeBuffer } from "../../shared/detach.ts";
import { LogshipError } from "../../shared/errors.ts";
import { writeFileAtomic } from "../../shared/fs-atomic.ts";
import type { Logger } from "../../shared/logger.ts";
import type { StreamRange } from "../ship/batch-builder.ts";

export const SPOOL_VERSION = 1;
const RECORD_HEADER_BYTES = 8;
const SEQ_RESERVE_BLOCK = 100_000;

export interface SpoolOptions {
  directory: string;
  bytesMax: number;
  /**
   * Batches waiting at most. Each keeps ~1 KB of bookkeeping in memory (its
   * record, queue entry and acknowledgements), so this bounds memory when
   * batches are small (a quiet host during a long outage); full like bytesMax.
   */
  batchesMax: number;
  whenFull: "block" | "drop_oldest";
  /** Segment files roll at this size. */
  segmentBytes: number;
  /** Compressed batch bodies kept in memory for sending, beyond which they are read back from disk. */
  cacheBytesMax: number;
  logger: Logger;
}

/** One spooled batch, as the shipper sees it. */
export interface SpoolRecord {
  seq: number;
  events: number;
  ranges: StreamRange[];
  segment: SpoolSegment;
  /** Position of the record header in its segment file. */
  position: number;
  bodyBytes: number;
  /** The compressed batch, while cached. */
  batch: Buffer | null;
  batchStart: number;
}

interface SpoolSegment {
  firstSeq: number;
  path: string;
  bytes: number;
  handle: FileHandle | null;
  records: number;
}

interface SpoolState {
  version: number;
  agent_id: string;
  seq_reserved: number;
  floor: number;
  acked: number[];
  delivered?: Record<string, number>;
}

export interface SpoolStats {
  bytes: number;
  bytesMax: number;
  records: number;
  segments: number;
  droppedBatches: number;
  droppedEvents: number;
}

export class Spool {
  private readonly options: SpoolOptions;
  private readonly logger: Logger;
  private readonly segments: SpoolSegment[] = [];
  /** Unacknowledged records in seq order. */
  private readonly pending = new Map<number, SpoolRecord>();
  private readonly acked = new Set<number>();
  /** Stream key → end offset of its last acknowledged batch, until a checkpoint covers it. */
  private readonly delivered = new Map<string, number>();
  /** Stream keys that were in a checkpoint written by this process. */
  private readonly checkpointedKeys = new Set<string>();
  private stateWrite: Promise<void> = Promise.resolve();
  private state: SpoolState = { version: SPOOL_VERSION, agent_id: "", seq_reserved: 0, floor: 0, acked: [] };
  private nextSeq = 0;
  /**
   * Seqs handed out by allocateSeq whose batch is not appended yet (being
   * compressed). They count as unacknowledged: a floor above one of them
   * would let a collector take that batch, when it arrives, for one it
   * already had, acknowledge it as a duplicate and store nothing (an outage
   * test lost 1,800 lines that way: seq 17 was spooled and sent while seq 16
   * was still compressing, with floor 17).
   */
  private readonly allocated = new Set<number>();
  private cachedBytes = 0;
  /**
   * Cached batches handed out by batchOf. When the cache drops a batch
   * that was never handed out, nothing else holds it and its memory is
   * freed at once (shared/detach.ts); one that was handed out may still be
   * in an HTTP client's socket queue after its send, and is left to the
   * garbage collector.
   */
  private readonly lent = new WeakSet<Buffer>();
  private spaceWaiters: (() => void)[] = [];
  private writing: Promise<void> = Promise.resolve();
  droppedBatches = 0;
  droppedEvents = 0;
  /** Called for records deleted by drop_oldest (their events will never be delivered). */
  onDropped: (record: SpoolRecord) => void = () => {};

  constructor(options: SpoolOptions) {
    this.options = options;
    this.logger = options.logger;
  }

  get agentId(): string {
    return this.state.agent_id;
  }

  /** The floor collectors may rely on: persisted, so never above a seq that could be re-sent. */
  get persistedFloor(): number {
    return this.state.floor;
  }

  get bytes(): number {
    let total = 0;
    for (const segment of this.segments) total += segment.bytes;
    return total;
  }

  stats(): SpoolStats {
    return {
      bytes: this.bytes,
      bytesMax: this.options.bytesMax,
      records: this.pending.size,
      segments: this.segments.length,
      droppedBatches: this.droppedBatches,
      droppedEvents: this.droppedEvents,
    };
  }

  /** Open (or create) the spool; returns the records still to deliver, in seq order. */
  async open(): Promise<SpoolRecord[]> {
    await mkdir(this.options.directory, { recursive: true });
    await this.loadState();
    const names = (await readdir(this.options.directory)).filter((name) => /^\d{16}\.spool$/.test(name)).sort();
    let maxSeq = -1;
    for (const name of names) {
      const segment: SpoolSegment = { firstSeq: Number(name.slice(0, 16)), path: join(this.options.directory, name), bytes: 0, handle: null, records: 0 };
      const records = await this.scanSegment(segment, name === names.at(-1));
      this.segments.push(segment);
      for (const record of records) {
        maxSeq = Math.max(maxSeq, record.seq);
        if (record.seq < this.state.floor || this.acked.has(record.seq)) continue;
        this.pending.set(record.seq, record);
      }
    }
    this.nextSeq = Math.max(this.state.seq_reserved, maxSeq + 1);
    await this.reclaim();
    return [...this.pending.values()];
  }

  private async loadState(): Promise<void> {
    const path = join(this.options.directory, "state.json");
    let text: string | null = null;
    try {
      text = await readFile(path, "utf8");
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
    if (text === null) {
      this.state = { version: SPOOL_VERSION, agent_id: randomUUID(), seq_reserved: 0, floor: 0, acked: [] };
      await this.saveState();
      return;
    }
    const state = JSON.parse(text) as SpoolState;
    if (state.version !== SPOOL_VERSION || typeof state.agent_id !== "string") {
      throw new LogshipError("LOGSHIP_SPOOL", `${path}: unsupported spool state version ${String(state.version)} (expected ${SPOOL_VERSION})`);
    }
    this.state = state;
    for (const seq of state.acked) this.acked.add(seq);
    for (const [key, end] of Object.entries(state.delivered ?? {})) this.delivered.set(key, end);
  }

  /**
   * Per stream key, where lines already delivered end, as far as the
   * checkpoint may not know yet: reading resumes at or after it.
   */
  deliveredEnds(): ReadonlyMap<string, number> {
    return this.delivered;
  }

  /**
   * The tailer's checkpoint with these entries is durable: delivered ends it
   * covers are not needed any more, nor those of streams it no longer holds
   * (finished) after an earlier checkpoint of this process held them.
   */
  checkpointed(entries: readonly { key: string; offset: number }[]): void {
    const offsets = new Map(entries.map((entry) => [entry.key, entry.offset]));
    for (const [key, end] of this.delivered) {
      const offset = offsets.get(key);
      if (offset === undefined ? this.checkpointedKeys.has(key) : offset >= end) this.delivered.delete(key);
    }
    this.checkpointedKeys.clear();
    for (const key of offsets.keys()) this.checkpointedKeys.add(key);
  }

  /** Persist agent id, reserved seqs, floor, the acknowledged seqs above it and the delivered ends. Writes one at a time (they share a temp file). */
  saveState(): Promise<void> {
    const write = this.stateWrite.then(
      () => this.writeState(),
      () => this.writeState(),
    );
    this.stateWrite = write.catch(() => undefined);
    return write;
  }

  private async writeState(): Promise<void> {
    const floor = this.lowestUnacked();
    const acked = [...this.acked].filter((seq) => seq >= floor).sort((a, b) => a - b);
    this.state = { ...this.state, floor, acked, delivered: Object.fromEntries(this.delivered) };
    await writeFileAtomic(join(this.options.directory, "state.json"), JSON.stringify(this.state) + "\n");
    for (const seq of this.acked) if (seq < floor) this.acked.delete(seq);
  }

  private lowestUnacked(): number {
    let lowest = this.nextSeq;
    for (const seq of this.pending.keys()) {
      lowest = seq; // Map keeps insertion (seq) order: the first is the lowest
      break;
    }
    for (const seq of this.allocated) if (seq < lowest) lowest = seq;
    return lowest;
  }

  /** Read a segment's records; a torn or corrupt record at the tail of the last segment is cut off. */
  private async scanSegment(segment: SpoolSegment, last: boolean): Promise<SpoolRecord[]> {
    const data = await readFile(segment.path);
    const records: SpoolRecord[] = [];
    let position = 0;
    while (position + RECORD_HEADER_BYTES <= data.length) {
      const bodyBytes = data.readUInt32LE(position);
      const bodyStart = position + RECORD_HEADER_BYTES;
      const body = data.subarray(bodyStart, bodyStart + bodyBytes);
      if (body.length < bodyBytes || crc32(body) !== data.readUInt32LE(position + 4) || body.readUInt8(0) !== SPOOL_VERSION) break;
      const seq = body.readDoubleLE(1);
      const events = body.readUInt32LE(9);
      const rangesLength = body.readUInt32LE(13);
      const ranges = JSON.parse(body.toString("utf8", 17, 17 + rangesLength)) as StreamRange[];
      records.push({ seq, events, ranges, segment, position, bodyBytes, batch: null, batchStart: 17 + rangesLength });
      position = bodyStart + bodyBytes;
    }
    if (position < data.length) {
      const message = "spool segment has a torn or corrupt record; it and what follows are dropped";
      if (!last) this.logger.error(message, { path: segment.path, position, bytes: data.length - position });
      else this.logger.warn(message, { path: segment.path, position, bytes: data.length - position });
      const handle = await open(segment.path, "r+");
      await handle.truncate(position);
      await handle.close();
    }
    segment.bytes = position;
    segment.records = records.length;
    return records;
  }

  /**
   * Next sequence number, reserved durably before use. Until `append` stores
   * its batch or `abandonSeq` gives it up, the floor stays at or below it.
   */
  async allocateSeq(): Promise<number> {
    if (this.nextSeq >= this.state.seq_reserved) {
      this.state.seq_reserved = this.nextSeq + SEQ_RESERVE_BLOCK;
      await this.saveState();
    }
    const seq = this.nextSeq++;
    this.allocated.add(seq);
    return seq;
  }

  /** A seq from allocateSeq that no batch will use (gaps in seqs are fine). */
  abandonSeq(seq: number): void {
    this.allocated.delete(seq);
  }

  /**
   * Write a batch. Waits while the spool is full (`block`), or drops the
   * oldest segment (`drop_oldest`). Appends are serialised in call order.
   * The spool takes `batch` over: the caller does not read it afterwards
   * (the spool frees it when it drops it from its cache unread: `lent`).
   */
  async append(seq: number, events: number, ranges: StreamRange[], batch: Buffer): Promise<SpoolRecord> {
    const previous = this.writing;
    let release!: () => void;
    this.writing = new Promise((resolve) => (release = resolve));
    try {
      await previous;
      return await this.write(seq, events, ranges, batch);
    } finally {
      release();
    }
  }

  private async write(seq: number, events: number, ranges: StreamRange[], batch: Buffer): Promise<SpoolRecord> {
    const rangesJson = Buffer.from(JSON.stringify(ranges), "utf8");
    const head = Buffer.allocUnsafe(RECORD_HEADER_BYTES + 17);
    const bodyBytes = 17 + rangesJson.length + batch.length;
    head.writeUInt32LE(bodyBytes, 0);
    head.writeUInt8(SPOOL_VERSION, 8);
    head.writeDoubleLE(seq, 9);
    head.writeUInt32LE(events, 17);
    head.writeUInt32LE(rangesJson.length, 21);
    const crc = crc32(batch, crc32(rangesJson, crc32(head.subarray(8))));
    head.writeUInt32LE(crc, 4);
    const recordBytes = RECORD_HEADER_BYTES + bodyBytes;
    await this.makeRoom(recordBytes);
    const segment = await this.writableSegment(seq, recordBytes);
    const position = segment.bytes;
    await (segment.handle as FileHandle).writev([head, rangesJson, batch], position);
    segment.bytes += recordBytes;
    segment.records++;
    const record: SpoolRecord = { seq, events, ranges, segment, position, bodyBytes, batch, batchStart: 17 + rangesJson.length };
    this.pending.set(seq, record);
    this.allocated.delete(seq);
    this.cachedBytes += batch.length;
    this.evictCache();
    return record;
  }

  private async makeRoom(recordBytes: number): Promise<void> {
    while ((this.bytes + recordBytes > this.options.bytesMax && this.bytes > 0) || this.pending.size >= this.options.batchesMax) {
      if (this.options.whenFull === "drop_oldest" && this.segments.length > 1) {
        await this.dropOldest();
        continue;
      }
      // block (or a single segment holds everything): wait for acknowledgements to free space.
      await new Promise<void>((resolve) => this.spaceWaiters.push(resolve));
    }
  }

  private async dropOldest(): Promise<void> {
    const segment = this.segments.shift() as SpoolSegment;
    let batches = 0;
    let events = 0;
    for (const record of [...this.pending.values()]) {
      if (record.segment !== segment) continue;
      this.pending.delete(record.seq);
      this.acked.add(record.seq);
      this.noteDelivered(record);
      this.release(record);
      batches++;
      events += record.events;
      this.onDropped(record);
    }
    this.droppedBatches += batches;
    this.droppedEvents += events;
    this.logger.warn("spool full: dropped its oldest batches (spool.when_full: drop_oldest)", { batches, events, path: segment.path });
    await this.saveState();
    await this.deleteSegment(segment);
  }

  private async writableSegment(seq: number, recordBytes: number): Promise<SpoolSegment> {
    let segment = this.segments.at(-1);
    if (segment === undefined || segment.bytes + recordBytes > this.options.segmentBytes && segment.bytes > 0) {
      if (segment?.handle) {
        await segment.handle.close();
        segment.handle = null;
      }
      const path = join(this.options.directory, `${String(seq).padStart(16, "0")}.spool`);
      segment = { firstSeq: seq, path, bytes: 0, handle: null, records: 0 };
      this.segments.push(segment);
    }
    segment.handle ??= await open(segment.path, "a+");
    return segment;
  }

  /** The compressed batch of a record (from memory, or read back from its segment). */
  async batchOf(record: SpoolRecord): Promise<Buffer> {
    if (record.batch !== null) {
      this.lent.add(record.batch);
      return record.batch;
    }
    const handle = await open(record.segment.path, "r");
    try {
      const length = record.bodyBytes - record.batchStart;
      const buffer = Buffer.allocUnsafe(length);
      const { bytesRead } = await handle.read(buffer, 0, length, record.position + RECORD_HEADER_BYTES + record.batchStart);
      if (bytesRead !== length) throw new LogshipError("LOGSHIP_SPOOL", `spool record ${record.seq} is shorter on disk than recorded`);
      return buffer;
    } finally {
      await handle.close();
    }
  }

  /** The record is delivered (or rejected for good): forget it and reclaim space. */
  async ack(seq: number): Promise<void> {
    const record = this.pending.get(seq);
    if (record === undefined) return;
    this.pending.delete(seq);
    this.acked.add(seq);
    this.noteDelivered(record);
    this.release(record);
    await this.reclaim();
  }

  /** Its lines are delivered (or dropped for good): a restart must not read them again. */
  private noteDelivered(record: SpoolRecord): void {
    for (const range of record.ranges) this.delivered.set(range.key, Math.max(this.delivered.get(range.key) ?? 0, range.endOffset));
  }

  private release(record: SpoolRecord): void {
    const batch = record.batch;
    if (batch === null) return;
    this.cachedBytes -= batch.length;
    record.batch = null;
    if (!this.lent.has(batch)) freeBuffer(batch);
  }

  /** Drop cached bodies of the newest records first: the oldest are sent next. */
  private evictCache(): void {
    if (this.cachedBytes <= this.options.cacheBytesMax) return;
    const records = [...this.pending.values()];
    for (let index = records.length - 1; index >= 0 && this.cachedBytes > this.options.cacheBytesMax; index--) {
      this.release(records[index] as SpoolRecord);
    }
  }

  /** Delete segments whose every record is acknowledged; wake appends waiting for space. */
  private async reclaim(): Promise<void> {
    const floor = this.lowestUnacked();
    const deletable = this.segments.length > 1 && (this.segments[1] as SpoolSegment).firstSeq <= floor;
    const last = this.segments.at(-1);
    const lastBytes = last?.bytes ?? 0;
    const lastDeletable = last !== undefined && this.segments.length === 1 && this.pending.size === 0 && lastBytes > this.options.segmentBytes / 2;
    // The ends of the batches about to go must be on disk first (see `delivered`): the state
    // written now covers every batch below `floor`, and nothing later is deleted here.
    if (deletable || lastDeletable) await this.saveState();
    while (this.segments.length > 1) {
      const next = this.segments[1] as SpoolSegment;
      if (next.firstSeq > floor) break;
      await this.deleteSegment(this.segments.shift() as SpoolSegment);
    }
    if (lastDeletable && this.segments.length === 1 && this.segments[0] === last && last.bytes === lastBytes && this.pending.size === 0) {
      // Everything is delivered: start the next batch in a fresh segment so this one can go.
      this.segments.shift();
      await this.deleteSegment(last);
    }
    const waiters = this.spaceWaiters;
    this.spaceWaiters = [];
    for (const wake of waiters) wake();
  }

  private async deleteSegment(segment: SpoolSegment): Promise<void> {
    if (segment.handle !== null) {
      await segment.handle.close();
      segment.handle = null;
    }
    await rm(segment.path, { force: true });
  }

  async close(): Promise<void> {
    await this.writing;
    await this.saveState();
    for (const segment of this.segments) {
      if (segment.handle !== null) {
        await segment.handle.close();
        segment.handle = null;
      }
    }
  }
}
