/**
 * The append path of one tenant's log, with group commit.
 *
 * `append` assigns the record its base offset at once (so offsets follow
 * call order) and queues it. One commit loop drains the queue: it takes
 * every queued record (up to GROUP_BYTES_MAX), writes them with one
 * positional writev, fdatasyncs once, and only then resolves their
 * promises. Appends that arrive while a sync runs wait for the next round,
 * whose single sync covers all of them. With `fsyncIntervalMs` > 0 the loop
 * also waits until that long after the previous sync started, so syncs
 * happen at most that often (more records share each one).
 *
 * A segment is rolled when the next record would take it past
 * `segmentBytes` (a record larger than that gets a segment of its own), or
 * when it is `segmentAgeMs` old and the next record comes: the
 * records already written are synced and resolved, then the new segment is
 * created durably.
 *
 * If a write, sync or roll fails, every record not yet durable is rejected
 * (LOGSHIP_LOG_UNAVAILABLE) and offsets go back to the last durable record.
 * Before the next append is written the segment is truncated back to the
 * last durable byte and synced ("repair"); until that works, appends are
 * rejected. So nothing that was not acknowledged stays in the log, and no
 * acknowledged record is touched.
 */
import type { FileHandle } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import { assert } from "../../shared/errors.ts";
import type { Logger } from "../../shared/logger.ts";
import { LogError } from "./errors.ts";
import { SEGMENT_HEADER_BYTES, encodeRecordHeader } from "./format.ts";
import { IndexWriter } from "./index-writer.ts";
import { freshSegment, type ActiveSegment } from "./recovery.ts";
import type { IndexedRecord } from "./segment-index.ts";

/** Makes a file's written bytes durable; the default is `file.datasync()`. Tests inject slow or counting ones. */
export type SyncFunction = (file: FileHandle) => Promise<void>;

/** One batch to store: the bytes as received and what the wire header said. */
export interface AppendInput {
  batch: Buffer;
  events: number;
  agent: string;
  seq: number;
  floor: number;
  observedMinMs: number;
  observedMaxMs: number;
}

export interface Appended {
  baseOffset: number;
  events: number;
}

export interface TenantLogOptions {
  tenant: string;
  directory: string;
  segmentBytes: number;
  /** A segment at least this old (since its creation) is rolled before the next record. */
  segmentAgeMs: number;
  fsyncIntervalMs: number;
  sync: SyncFunction;
  /** Called after each roll (the log runs retention then). Must not throw. */
  onRoll?: () => void;
  nowMs: () => number;
  logger: Logger;
}

/** The most bytes one commit round writes before it syncs (the rest waits for the next round). */
const GROUP_BYTES_MAX = 64 * 1024 * 1024;

interface PendingAppend {
  head: Buffer;
  batch: Buffer;
  bytes: number;
  baseOffset: number;
  events: number;
  observedMaxMs: number;
  settled: boolean;
  resolve: (appended: Appended) => void;
  reject: (error: Error) => void;
}

export interface TenantLogStats {
  appends: number;
  syncs: number;
  bytes: number;
}

export class TenantLog {
  readonly tenant: string;
  readonly stats: TenantLogStats = { appends: 0, syncs: 0, bytes: 0 };
  private readonly options: TenantLogOptions;
  private segment: ActiveSegment;
  private index: IndexWriter;
  private queue: PendingAppend[] = [];
  private pumping = false;
  private drained: Promise<void> = Promise.resolve();
  /** Offset the next append gets (queued records included). */
  private nextOffset: number;
  /** After the last durable record: offset, and its byte position in the active segment. */
  private durableOffset: number;
  private durablePosition: number;
  private failure: Error | null = null;
  private closed = false;
  private lastSyncStartMs = Number.NEGATIVE_INFINITY;

  constructor(options: TenantLogOptions, active: ActiveSegment, nextOffset: number) {
    this.options = options;
    this.tenant = options.tenant;
    this.segment = active;
    this.index = new IndexWriter(options.directory, active.indexBuilder, options.logger);
    this.nextOffset = nextOffset;
    this.durableOffset = nextOffset;
    this.durablePosition = active.position;
  }

  /** False after a failed write until a repair succeeds. */
  get healthy(): boolean {
    return this.failure === null && !this.closed;
  }

  /** Offset the next record gets; everything below it was durable when its append resolved. */
  get durableEnd(): { offset: number; segmentBaseOffset: number; position: number } {
    return { offset: this.durableOffset, segmentBaseOffset: this.segment.baseOffset, position: this.durablePosition };
  }

  /** Base offset of the segment being appended to (retention never deletes it). */
  get activeBaseOffset(): number {
    return this.segment.baseOffset;
  }

  /** Resolves once the record is written and fdatasynced; rejects with LogError. */
  append(input: AppendInput): Promise<Appended> {
    if (this.closed) return Promise.reject(new LogError("LOGSHIP_LOG_CLOSED", "the log is closed"));
    const baseOffset = this.nextOffset;
    const head = encodeRecordHeader({ ...input, baseOffset, appendedMs: this.options.nowMs() }, input.batch);
    this.nextOffset += input.events;
    return new Promise<Appended>((resolve, reject) => {
      const bytes = head.length + input.batch.length;
      this.queue.push({ head, batch: input.batch, bytes, baseOffset, events: input.events, observedMaxMs: input.observedMaxMs, settled: false, resolve, reject });
      this.stats.appends++;
      if (!this.pumping) {
        this.pumping = true;
        this.drained = this.pump();
      }
    });
  }

  /** Finishes every queued append (they resolve or reject), then closes the segment file. */
  async close(): Promise<void> {
    this.closed = true;
    await this.drained;
    await this.index.close(true);
    await this.segment.file.close();
  }

  /**
   * Closes the files at once, without waiting for queued appends or syncing
   * the indexes: what a crash leaves behind (tests use it to simulate one).
   * Queued appends reject or resolve as their I/O fails or finishes.
   */
  async destroy(): Promise<void> {
    this.closed = true;
    await this.index.close(false);
    // A crash reports nothing either: a failed close changes nothing on disk.
    await this.segment.file.close().catch(() => undefined);
  }

  /** The commit loop. Never throws; `pumping` turns false in the same tick the queue is seen empty. */
  private async pump(): Promise<void> {
    while (this.queue.length > 0) {
      if (this.failure !== null && !(await this.repair())) {
        this.rejectQueued(new LogError("LOGSHIP_LOG_UNAVAILABLE", `tenant ${this.tenant}: the log cannot be written: ${this.failure.message}`, { cause: this.failure }));
        continue;
      }
      const waitMs = this.lastSyncStartMs + this.options.fsyncIntervalMs - this.options.nowMs();
      if (this.options.fsyncIntervalMs > 0 && waitMs > 0) await sleep(waitMs);
      const group = this.takeGroup();
      try {
        await this.commit(group);
      } catch (error) {
        this.fail(error instanceof Error ? error : new Error(String(error)), group);
      }
    }
    this.pumping = false;
  }

  private takeGroup(): PendingAppend[] {
    let count = 0;
    let bytes = 0;
    while (count < this.queue.length && (count === 0 || bytes + (this.queue[count] as PendingAppend).bytes <= GROUP_BYTES_MAX)) {
      bytes += (this.queue[count] as PendingAppend).bytes;
      count++;
    }
    return this.queue.splice(0, count);
  }

  private async commit(group: PendingAppend[]): Promise<void> {
    let start = 0;
    let bytes = 0;
    for (let index = 0; index < group.length; index++) {
      const record = group[index] as PendingAppend;
      const position = this.segment.position + bytes;
      // Segments are named by base offset: while only 0-event records were stored, a new segment would take the same name.
      const canRoll = position > SEGMENT_HEADER_BYTES && record.baseOffset > this.segment.baseOffset;
      if (canRoll && (position + record.bytes > this.options.segmentBytes || this.segmentIsOld())) {
        await this.writeAndSync(group.slice(start, index));
        start = index;
        bytes = 0;
        await this.roll(record.baseOffset);
      }
      bytes += record.bytes;
    }
    await this.writeAndSync(group.slice(start));
  }

  private segmentIsOld(): boolean {
    return this.options.nowMs() - this.segment.createdMs >= this.options.segmentAgeMs;
  }

  private async writeAndSync(records: PendingAppend[]): Promise<void> {
    if (records.length === 0) return;
    const buffers: Buffer[] = [];
    const indexed: IndexedRecord[] = [];
    let total = 0;
    for (const record of records) {
      buffers.push(record.head, record.batch);
      indexed.push({ position: this.segment.position + total, baseOffset: record.baseOffset, length: record.bytes, observedMaxMs: record.observedMaxMs });
      total += record.bytes;
    }
    await writeAll(this.segment.file, buffers, total, this.segment.position);
    this.segment.position += total;
    await this.index.append(indexed);
    this.lastSyncStartMs = this.options.nowMs();
    await this.options.sync(this.segment.file);
    this.stats.syncs++;
    this.stats.bytes += total;
    const last = records.at(-1) as PendingAppend;
    this.durableOffset = last.baseOffset + last.events;
    this.durablePosition = this.segment.position;
    this.index.markDurable();
    for (const record of records) {
      record.settled = true;
      record.resolve({ baseOffset: record.baseOffset, events: record.events });
    }
  }

  private async roll(baseOffset: number): Promise<void> {
    assert(baseOffset === this.durableOffset, "a segment is rolled only when everything before it is durable");
    await this.index.close(true);
    const next = await freshSegment(this.options.directory, baseOffset, this.options.nowMs());
    const previous = this.segment.file;
    this.segment = next;
    this.index = new IndexWriter(this.options.directory, next.indexBuilder, this.options.logger);
    this.durablePosition = SEGMENT_HEADER_BYTES;
    await previous.close();
    this.options.logger.debug("log segment rolled", { tenant: this.tenant, segment: next.name });
    this.options.onRoll?.();
  }

  private fail(error: Error, group: PendingAppend[]): void {
    this.failure = error;
    this.options.logger.error("log write failed; unacknowledged batches are rejected and the segment will be repaired", {
      tenant: this.tenant,
      segment: this.segment.name,
      error: error.message,
    });
    const rejection = new LogError("LOGSHIP_LOG_UNAVAILABLE", `tenant ${this.tenant}: log write failed: ${error.message}`, { cause: error });
    for (const record of group) {
      if (!record.settled) record.reject(rejection);
      record.settled = true;
    }
    this.rejectQueued(rejection);
  }

  /** Rejects everything queued; their offsets are handed out again. */
  private rejectQueued(error: LogError): void {
    for (const record of this.queue.splice(0)) record.reject(error);
    this.nextOffset = this.durableOffset;
  }

  /** Cuts the active segment back to its last durable byte. True when the log can be written again. */
  private async repair(): Promise<boolean> {
    try {
      await this.segment.file.truncate(this.durablePosition);
      await this.options.sync(this.segment.file);
      this.segment.position = this.durablePosition;
      await this.index.revert();
      this.options.logger.warn("log repaired after a failed write", { tenant: this.tenant, segment: this.segment.name, position: this.durablePosition });
      this.failure = null;
      return true;
    } catch (error) {
      this.options.logger.error("log repair failed; appends are rejected until it works", {
        tenant: this.tenant,
        error: error instanceof Error ? error.message : String(error),
      });
      return false;
    }
  }
}

/** writev until every byte is written (a short write continues where it stopped). */
async function writeAll(file: FileHandle, buffers: Buffer[], total: number, position: number): Promise<void> {
  let written = 0;
  let pending = buffers;
  while (written < total) {
    const { bytesWritten } = await file.writev(pending, position + written);
    if (bytesWritten === 0) throw new Error("write made no progress");
    written += bytesWritten;
    pending = skipBytes(pending, bytesWritten);
  }
}

function skipBytes(buffers: Buffer[], count: number): Buffer[] {
  let remaining = count;
  let index = 0;
  while (index < buffers.length && remaining >= (buffers[index] as Buffer).length) {
    remaining -= (buffers[index] as Buffer).length;
    index++;
  }
  const rest = buffers.slice(index);
  if (remaining > 0 && rest.length > 0) rest[0] = (rest[0] as Buffer).subarray(remaining);
  return rest;
}
