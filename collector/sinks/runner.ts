/**
 * One sink runner per (sink, tenant): reads the tenant's log from the
 * sink's committed offset, decodes each record (zstd → wire v1 → events),
 * hands the events to the sink in batches of at most `eventsPerSendMax`
 * (a large record is split, small ones are gathered), and acts on the
 * outcome:
 *
 *   delivered → commit the offset after the batch (offset-store.ts)
 *   retry     → wait (full-jitter backoff, or the sink's `afterMs`), send the same events again
 *   reject    → write the events (or the ones it names) to a dead-letter file with the reason, count them, commit past them
 *
 * A send that throws counts as retry. The runner only reads the log, so a
 * slow or failing sink never holds up ingest or another runner; what it
 * does hold back is retention (fanout.ts reports its committed offset as
 * still needed).
 *
 * When caught up it sleeps `idlePollMs`, woken early by the log's append
 * notification. `close()` lets an in-flight send finish (committing it if
 * delivered); `destroy()` aborts it. Neither commits anything the sink did
 * not confirm.
 *
 * Replay (`rewind`) moves the committed offset back. The request is only
 * queued; the runner's own loop applies it between sends (an in-flight send
 * finishes and is committed first; a batch being gathered or backing off is
 * dropped uncommitted), so a rewind never races the runner's commits. Sinks
 * are idempotent by event id, so what is sent again is not stored twice.
 *
 * A sink that holds events before they are durable (`Sink.heldFrom`, the
 * archive's open files) splits the runner's position in two: `position`, the
 * next offset to read (the sink took everything below it), and `committed`,
 * which moves only as far as the sink made durable — after a send and while
 * idle (the sink may roll a file on its own timer). Its `retry` means it
 * dropped what it held: the runner reads again from `committed`. For every
 * other sink the two are equal after each delivered send.
 */
import { promisify } from "node:util";
import { zstdDecompress } from "node:zlib";
import { backoffMs } from "../../agent/ship/backoff.ts";
import { assert } from "../../shared/errors.ts";
import type { Logger } from "../../shared/logger.ts";
import { WakeableSleep } from "../../shared/wakeable-sleep.ts";
import { payloadEvents } from "../../shared/wire/batch.ts";
import type { Event } from "../../shared/event.ts";
import type { LogEntry, ReadOptions } from "../log/reader.ts";
import { DEFAULT_STREAM, streamOfLog, tenantOfLog } from "../routing/streams.ts";
import { rejectedEvents, writeDeadLetter } from "./dead-letter.ts";
import { OffsetStore } from "./offset-store.ts";
import { ReplayError } from "./replay-error.ts";
import type { SendOutcome, Sink, SinkEvent } from "./types.ts";

const decompress = promisify(zstdDecompress);

/** What a runner needs of the log (EmbeddedLog has it). */
export interface SinkLog {
  read(tenant: string, options: ReadOptions): AsyncIterable<LogEntry>;
  endOffset(tenant: string): number;
  onAppend(listener: (tenant: string) => void): () => void;
}

export interface SinkRunnerLimits {
  /** Events per `send` at most (a record with more is split). */
  eventsPerSendMax: number;
  /** Full-jitter backoff: the n-th retry waits random [0, min(cap, base · 2^n)). */
  retryBaseMs: number;
  retryCapMs: number;
  /** A sink's `afterMs` is honoured up to this. */
  retryAfterMaxMs: number;
  /** Sleep when caught up (an append wakes it earlier). */
  idlePollMs: number;
}

export const SINK_RUNNER_LIMITS_DEFAULT: SinkRunnerLimits = {
  eventsPerSendMax: 5000,
  retryBaseMs: 100,
  retryCapMs: 30_000,
  retryAfterMaxMs: 5 * 60_000,
  idlePollMs: 1000,
};

export interface SinkRunnerOptions {
  sink: Sink;
  tenant: string;
  log: SinkLog;
  /** Offsets under `<dataDirectory>/sinks/`, dead letters under `<dataDirectory>/dead-letter/`. */
  dataDirectory: string;
  logger: Logger;
  limits?: Partial<SinkRunnerLimits>;
  random?: () => number;
  nowMs?: () => number;
}

export type SinkRunnerState = "idle" | "reading" | "sending" | "backing-off" | "stopped";

export interface SinkRunnerStatus {
  sink: string;
  tenant: string;
  state: SinkRunnerState;
  /** First offset not yet confirmed by the sink. */
  committedOffset: number;
  /** The log's durable end for the tenant. */
  endOffset: number;
  /** Lag: events in the log the sink has not confirmed. */
  lagEvents: number;
  /** Lag: now − observed time of the oldest record being delivered; 0 when caught up or not yet read. */
  lagAgeMs: number;
  deliveredEvents: number;
  deliveredBatches: number;
  retries: number;
  rejectedEvents: number;
  rejectedBatches: number;
  /** Rewinds (replays) that moved the committed offset back. */
  replays: number;
  /** Records that could not be decoded (skipped, logged), and corrupt log ranges the reader skipped. */
  undecodableRecords: number;
  corruptRanges: number;
  lastError: { message: string; atMs: number } | null;
}

/** What a rewind did, once applied. */
export interface RewindResult {
  /** The committed offset just before the rewind was applied. */
  previousOffset: number;
  /** The committed offset after it: the requested one, or `previousOffset` when that was not above it. */
  committedOffset: number;
}

interface RewindRequest {
  offset: number;
  resolve: (result: RewindResult) => void;
  reject: (error: Error) => void;
}

/** Events gathered for one send: log offsets [fromOffset, toOffset) (a gap or undecodable events inside are not in `events`). */
interface PendingBatch {
  events: SinkEvent[];
  /** The log offset of each of `events`. */
  offsets: number[];
  fromOffset: number;
  toOffset: number;
}

export class SinkRunner {
  readonly sink: Sink;
  /** The log this runner reads: a tenant, or a tenant's stream (`<tenant>@<stream>`, collector/routing/streams.ts). */
  readonly tenant: string;
  /** What every event read gets: its tenant, and its stream when not the default one. */
  private readonly eventOrigin: { tenant: string; stream?: string };
  private readonly options: SinkRunnerOptions;
  private readonly limits: SinkRunnerLimits;
  private readonly store: OffsetStore;
  private readonly nowMs: () => number;
  private committed: number;
  /** Next offset to read: the sink took every event below it (above `committed` only for a sink that holds events, see the module comment). */
  private position: number;
  private state: SinkRunnerState = "idle";
  /** Observed time (min) of the record being delivered; null when caught up. */
  private pendingObservedMs: number | null = null;
  private readonly counters = { deliveredEvents: 0, deliveredBatches: 0, retries: 0, rejectedEvents: 0, rejectedBatches: 0, replays: 0, undecodableRecords: 0, corruptRanges: 0 };
  /** A rewind waiting for the loop to apply it (at most one at a time). */
  private rewindRequest: RewindRequest | null = null;
  private lastError: { message: string; atMs: number } | null = null;
  private stopping = false;
  private readonly abort = new AbortController();
  /** Woken by appends to this tenant and by stop. */
  private readonly idleSleep = new WakeableSleep();
  /** Woken by stop only: appends must not cut a backoff short. */
  private readonly backoffSleep = new WakeableSleep();
  private loop: Promise<void> | null = null;
  private unsubscribe: (() => void) | null = null;

  private constructor(options: SinkRunnerOptions, store: OffsetStore, committed: number) {
    this.options = options;
    this.sink = options.sink;
    this.tenant = options.tenant;
    const stream = streamOfLog(options.tenant);
    this.eventOrigin = stream === DEFAULT_STREAM ? { tenant: tenantOfLog(options.tenant) } : { tenant: tenantOfLog(options.tenant), stream };
    this.limits = { ...SINK_RUNNER_LIMITS_DEFAULT, ...options.limits };
    assert(this.limits.eventsPerSendMax >= 1, "eventsPerSendMax is at least 1");
    this.store = store;
    this.committed = committed;
    this.position = committed;
    this.nowMs = options.nowMs ?? Date.now;
  }

  /** Loads the committed offset (throws SinkStateError if its file is unreadable); does not start. */
  static async open(options: SinkRunnerOptions): Promise<SinkRunner> {
    const store = new OffsetStore({ dataDirectory: options.dataDirectory, sink: options.sink.name, tenant: options.tenant });
    return new SinkRunner(options, store, await store.load());
  }

  get committedOffset(): number {
    return this.committed;
  }

  /** The lowest offset this runner may still read (retention keeps it): the committed one, or a pending rewind's. */
  get neededOffset(): number {
    return Math.min(this.committed, this.rewindRequest?.offset ?? Number.POSITIVE_INFINITY);
  }

  start(): void {
    assert(this.loop === null, "a runner starts once");
    this.unsubscribe = this.options.log.onAppend((tenant) => {
      if (tenant === this.tenant) this.idleSleep.wake();
    });
    this.loop = this.run();
  }

  /** Stops after the in-flight send (committed if delivered). */
  async close(): Promise<void> {
    this.stopping = true;
    this.idleSleep.wake();
    this.backoffSleep.wake();
    await this.loop;
    this.finish();
    this.rewindRequest?.reject(new ReplayError("LOGSHIP_REPLAY_UNAVAILABLE", `sink ${this.sink.name} stopped before the replay was applied`));
    this.rewindRequest = null;
  }

  /** Stops now: aborts the in-flight send (the sink sees `signal` aborted); nothing unconfirmed is committed. */
  async destroy(): Promise<void> {
    this.abort.abort();
    await this.close();
  }

  /**
   * Moves the committed offset back to `offset`, so the sink gets every
   * event from there on again (replay); see the module comment for when it
   * applies. Resolves once the new offset is durable. An offset at or above
   * the committed one changes nothing: those events are not confirmed yet and
   * will be delivered anyway. Rejects with ReplayError when the runner is not
   * running or another rewind is pending; the caller checks that the offset
   * is inside the log.
   */
  rewind(offset: number): Promise<RewindResult> {
    assert(Number.isSafeInteger(offset) && offset >= 0, "a rewind offset is a whole number");
    if (this.loop === null || this.stopping) {
      return Promise.reject(new ReplayError("LOGSHIP_REPLAY_UNAVAILABLE", `sink ${this.sink.name} is not running for tenant ${this.tenant}`));
    }
    if (this.rewindRequest !== null) {
      return Promise.reject(new ReplayError("LOGSHIP_REPLAY_PENDING", `a replay of sink ${this.sink.name} for tenant ${this.tenant} is already waiting to be applied`));
    }
    if (offset >= this.committed) return Promise.resolve({ previousOffset: this.committed, committedOffset: this.committed });
    return new Promise<RewindResult>((resolve, reject) => {
      this.rewindRequest = { offset, resolve, reject };
      // Cut a wait short: the loop applies the rewind at its next turn.
      this.idleSleep.wake();
      this.backoffSleep.wake();
    });
  }

  status(): SinkRunnerStatus {
    const endOffset = this.options.log.endOffset(this.tenant);
    const lagEvents = Math.max(0, endOffset - this.committed);
    const lagAgeMs = lagEvents === 0 || this.pendingObservedMs === null ? 0 : Math.max(0, this.nowMs() - this.pendingObservedMs);
    return {
      sink: this.sink.name,
      tenant: this.tenant,
      state: this.state,
      committedOffset: this.committed,
      endOffset,
      lagEvents,
      lagAgeMs,
      ...this.counters,
      lastError: this.lastError === null ? null : { ...this.lastError },
    };
  }

  private finish(): void {
    this.state = "stopped";
    this.unsubscribe?.();
    this.unsubscribe = null;
  }

  private async run(): Promise<void> {
    let failedPasses = 0;
    while (!this.stopping) {
      if (this.rewindRequest !== null) {
        await this.applyRewind(this.rewindRequest);
        failedPasses = 0;
        continue;
      }
      try {
        if (this.position >= this.options.log.endOffset(this.tenant)) {
          this.state = "idle";
          if (this.sink.heldDropped?.(this.tenant) === true) {
            // The sink dropped what it held on its own (a failed age roll): read it again, or it waits for the next event.
            this.options.logger.warn("sink runner: the sink dropped events it held; reading again from the committed offset", { sink: this.sink.name, tenant: this.tenant, from: this.committed });
            this.position = this.committed;
            continue;
          }
          // A sink that holds events may have made more durable since (a file rolled on its timer).
          await this.commitDurable();
          if (this.committed >= this.position) this.pendingObservedMs = null;
          await this.idleSleep.sleep(this.limits.idlePollMs);
          continue;
        }
        this.state = "reading";
        const before = this.position;
        await this.pass();
        failedPasses = 0;
        // Nothing readable below the log's end (a corrupt range the reader skipped and reported): do not spin; the lag stays visible.
        if (this.position === before && !this.interrupted) await this.idleSleep.sleep(this.limits.idlePollMs);
      } catch (error) {
        // Reading the log or writing state failed: note it, back off, read again from the position (the sink took what is below it).
        this.noteError(error, "sink runner pass failed; reading again from the last position the sink took");
        if (this.stopping) break;
        if (this.rewindRequest !== null) continue;
        this.state = "backing-off";
        await this.backoffSleep.sleep(backoffMs(failedPasses++, this.limits.retryBaseMs, this.limits.retryCapMs, this.options.random));
      }
    }
  }

  /** True when the loop must stop what it is doing: the runner stops, or a rewind waits. */
  private get interrupted(): boolean {
    return this.stopping || this.rewindRequest !== null;
  }

  /** Runs on the loop, between sends: nothing else commits meanwhile. */
  private async applyRewind(request: RewindRequest): Promise<void> {
    this.rewindRequest = null;
    const previousOffset = this.committed;
    try {
      if (request.offset < previousOffset) {
        await this.store.commit(request.offset, this.nowMs());
        this.committed = request.offset;
        this.position = request.offset;
        this.pendingObservedMs = null;
        this.counters.replays++;
        this.options.logger.info("sink replay: committed offset moved back; delivering again from there", { sink: this.sink.name, tenant: this.tenant, fromOffset: request.offset, previousOffset });
      }
      request.resolve({ previousOffset, committedOffset: this.committed });
    } catch (error) {
      this.noteError(error, "sink replay failed: cannot write the committed offset");
      request.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /**
   * Delivers records from the position up to the log's durable end
   * as of now. A batch gathers events across records until it holds
   * `eventsPerSendMax` (so small records do not cost a send and a commit
   * each) and is sent when full and at the end of the pass. `batch.toOffset`
   * is the exact next offset: committing it never skips an unsent event.
   */
  private async pass(): Promise<void> {
    const onCorrupt = (range: { segment: string; position: number; bytes: number; reason: string }): void => {
      this.counters.corruptRanges++;
      this.options.logger.warn("sink runner skipped a corrupt log range", { sink: this.sink.name, tenant: this.tenant, ...range });
    };
    const batch: PendingBatch = { events: [], offsets: [], fromOffset: this.position, toOffset: this.position };
    for await (const entry of this.options.log.read(this.tenant, { fromOffset: this.position, onCorrupt })) {
      if (this.interrupted) return;
      if (!(await this.gatherRecord(entry, batch))) return;
    }
    if (batch.events.length > 0) await this.deliverBatch(batch);
    else if (batch.toOffset > this.position) await this.advance(batch.toOffset);
  }

  /** Adds the record's events to `batch`, sending it whenever it is full. False when stopped meanwhile. */
  private async gatherRecord(entry: LogEntry, batch: PendingBatch): Promise<boolean> {
    const { header } = entry;
    const recordEnd = header.baseOffset + header.events;
    if (recordEnd <= batch.toOffset) return true;
    if (header.baseOffset > batch.toOffset) {
      // Retention (forced by max_bytes) or corruption took [toOffset, baseOffset): nothing to deliver there.
      this.options.logger.warn("sink runner found a gap in the log", { sink: this.sink.name, tenant: this.tenant, fromOffset: batch.toOffset, toOffset: header.baseOffset });
    }
    if (batch.events.length === 0) this.pendingObservedMs = header.observedMinMs;
    let offset = header.baseOffset;
    const events = await this.decode(entry);
    for (;;) {
      const event = this.nextEvent(events, offset);
      if (event === undefined) break;
      const eventOffset = offset++;
      if (eventOffset < batch.toOffset) continue;
      batch.events.push(Object.assign(event, this.eventOrigin));
      batch.offsets.push(eventOffset);
      batch.toOffset = eventOffset + 1;
      if (batch.events.length >= this.limits.eventsPerSendMax) {
        if (!(await this.deliverBatch(batch))) return false;
        batch.events = [];
        batch.offsets = [];
        batch.fromOffset = batch.toOffset;
        this.pendingObservedMs = header.observedMinMs;
      }
    }
    // Events the record's header counts but that did not decode are skipped (reported by nextEvent).
    batch.toOffset = Math.max(batch.toOffset, recordEnd);
    return true;
  }

  /** The record's events, lazily (memory: one decompressed payload and one batch). Empty when it does not decompress. */
  private async decode(entry: LogEntry): Promise<Iterator<Event>> {
    try {
      return payloadEvents(await decompress(entry.batch));
    } catch (error) {
      this.noteUndecodable(entry.header.baseOffset, error);
      return [][Symbol.iterator]();
    }
  }

  /** The next event, or undefined at the end or at a malformed one (the rest of the record is skipped and reported). */
  private nextEvent(events: Iterator<Event>, offset: number): Event | undefined {
    try {
      const next = events.next();
      return next.done === true ? undefined : next.value;
    } catch (error) {
      // The record passed its CRC but does not decode: a bug upstream. What decoded is delivered; the rest is skipped, loudly.
      this.noteUndecodable(offset, error);
      return undefined;
    }
  }

  private noteUndecodable(offset: number, error: unknown): void {
    this.counters.undecodableRecords++;
    this.noteError(error, `sink runner skipped the undecodable rest of a record, from offset ${offset}`);
  }

  /** Sends until delivered or rejected (true), or the runner stops or a rewind waits (false: nothing committed). */
  private async deliverBatch(batch: PendingBatch): Promise<boolean> {
    const { events, offsets, fromOffset, toOffset } = batch;
    for (let attempt = 0; ; attempt++) {
      if (this.interrupted) return false;
      this.state = "sending";
      let outcome: SendOutcome;
      try {
        outcome = await this.sink.send(events, this.abort.signal, { offsets });
      } catch (error) {
        if (this.abort.signal.aborted) return false;
        this.noteError(error, "sink send threw; retrying");
        outcome = { kind: "retry" };
      }
      if (outcome.kind === "delivered") {
        await this.advance(toOffset);
        this.counters.deliveredEvents += events.length;
        this.counters.deliveredBatches++;
        return true;
      }
      if (outcome.kind === "reject") {
        const rejected = rejectedEvents(events, outcome.rejected);
        await this.deadLetter(rejected.events, fromOffset, toOffset, outcome.reason, rejected.reasons);
        this.counters.deliveredEvents += events.length - rejected.events.length;
        return true;
      }
      this.counters.retries++;
      if (outcome.reason !== undefined) this.lastError = { message: outcome.reason, atMs: this.nowMs() };
      if (this.interrupted) return false;
      const waitMs = outcome.afterMs === undefined ? backoffMs(attempt, this.limits.retryBaseMs, this.limits.retryCapMs, this.options.random) : Math.min(Math.max(0, outcome.afterMs), this.limits.retryAfterMaxMs);
      this.state = "backing-off";
      await this.backoffSleep.sleep(waitMs);
      if (this.sink.heldFrom !== undefined) {
        // A holding sink dropped what it held: read again from the committed offset (its skipping makes the overlap harmless).
        this.position = this.committed;
        return false;
      }
    }
  }

  private async deadLetter(events: readonly SinkEvent[], fromOffset: number, toOffset: number, reason: string, reasons: readonly string[] | undefined): Promise<void> {
    const path = await writeDeadLetter({ dataDirectory: this.options.dataDirectory, sink: this.sink.name, tenant: this.tenant, fromOffset, toOffset, reason, events, ...(reasons === undefined ? {} : { reasons }), nowMs: this.nowMs() });
    await this.advance(toOffset);
    this.counters.rejectedEvents += events.length;
    this.counters.rejectedBatches++;
    this.lastError = { message: `rejected: ${reason}`, atMs: this.nowMs() };
    this.options.logger.warn("sink rejected events; written to the dead-letter directory", { sink: this.sink.name, tenant: this.tenant, fromOffset, toOffset, events: events.length, reason, path });
  }

  /** The sink took (or dead-lettered) everything below `offset`: move the position there and commit what is durable. */
  private async advance(offset: number): Promise<void> {
    assert(offset >= this.position, "the position only moves forward");
    this.position = offset;
    await this.commitDurable();
  }

  /** Commits the position, or for a sink that holds events, no further than the lowest offset it holds. */
  private async commitDurable(): Promise<void> {
    const held = this.sink.heldFrom?.(this.tenant) ?? null;
    const durable = held === null ? this.position : Math.min(this.position, held);
    if (durable > this.committed) await this.commit(durable);
  }

  private async commit(offset: number): Promise<void> {
    assert(offset >= this.committed, "committed offsets only move forward");
    await this.store.commit(offset, this.nowMs());
    this.committed = offset;
  }

  private noteError(error: unknown, message: string): void {
    const text = error instanceof Error ? error.message : String(error);
    this.lastError = { message: text, atMs: this.nowMs() };
    this.options.logger.error(message, { sink: this.sink.name, tenant: this.tenant, error: text });
  }
}

