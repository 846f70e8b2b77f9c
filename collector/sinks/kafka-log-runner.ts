/**
 * A sink runner over the Kafka log (`log.backend: kafka`): the Kafka
 * counterpart of runner.ts. Every collector runs one per configured sink,
 * all of them members of the consumer group `logship-sink-<sink>`, so
 * Kafka spreads the topic's partitions over the collectors that are up and
 * moves them when one joins or dies (session timeout). The group's
 * committed offsets in Kafka are the sink's position: no offset file.
 *
 * A session = one consumer joined to the group, reading its partitions from
 * the committed offsets (a new group starts at the earliest record, as a
 * new embedded sink starts at offset 0). Each record (record.ts) is decoded
 * (zstd → wire v1 → events) and its events handed to the sink in batches of
 * at most `eventsPerSendMax`, gathered from consecutive records of one
 * partition and tenant, and sent as soon as no further record is already
 * buffered. The outcome is handled as runner.ts does:
 *
 *   delivered → commit the partition's offset past the last whole record sent
 *   retry     → wait (full-jitter backoff, or the sink's `afterMs`), send the same events again
 *   reject    → write the events to a dead-letter file, commit past them
 *
 * A record split over several sends is committed after its last one. A
 * second copy of a batch already taken in this session is skipped
 * (recent-batches.ts); a record that is not a logship log record, or does
 * not decode, is skipped, counted and logged.
 *
 * Any failure of the session (Kafka unreachable, the group rebalanced under
 * a commit, the stream failed) ends it: what was not committed is left to
 * whoever owns the partition next (this runner's next session, or another
 * collector), which sends it again; sinks are idempotent by event id. The
 * runner then backs off (full jitter, 100 ms doubling to 30 s) and starts a
 * new session, logging each failure. It never stops on its own.
 *
 * Memory: at most BUFFERED_RECORDS_MAX records wait in the stream, a fetch
 * brings at most FETCH_BYTES_MAX, and one decoded record and one batch of
 * events are held.
 *
 * A sink that holds events before they are durable (`Sink.heldFrom`: the
 * archive keeps files open until they roll) gets each event's place with
 * every send (SendContext: the partition, the record's offset, the event's
 * index in the record), and the runner commits a partition's offset no
 * further than the record of the first event the sink still holds there:
 * after each delivery and every HELD_COMMIT_CHECK_MS while idle, so a file
 * rolled by its timer is committed within a second. With such a sink a
 * `retry` ends the session (the sink dropped what it held, so the runner
 * reads again from the committed offsets, not just the last send), and so
 * does a rebalance inside a session (the partitions may have moved: what is
 * held of them must not be committed here). Before a session leaves the
 * group, the sink releases the topic (`Sink.release`): its open files are
 * dropped, for the partitions' next owner to write again. A sink that holds
 * with the embedded log only (`holdsWithKafkaLog: false`, the search sink)
 * is run as any other sink here.
 *
 * With `replay` (kafka-log-replay.ts) the same runner re-delivers a range:
 * it joins the replay's own group instead, reads each partition of the
 * range from where the replay stands, delivers only records inside the
 * range and of the replay's tenant, keeps its position in memory instead
 * of committing to Kafka, and ends (state `done`) once every partition of
 * the range is passed. Its failures are handled as above; a new session
 * goes on from the position in memory.
 */
import { promisify } from "node:util";
import { zstdDecompress } from "node:zlib";
import { Consumer, type Message, type MessagesStream } from "@platformatic/kafka";
import { backoffMs } from "../../agent/ship/backoff.ts";
import type { Event } from "../../shared/event.ts";
import type { Logger } from "../../shared/logger.ts";
import { WakeableSleep } from "../../shared/wakeable-sleep.ts";
import { payloadEvents } from "../../shared/wire/batch.ts";
import { baseClientOptions } from "../kafka/client.ts";
import { describeKafkaError } from "../kafka/errors.ts";
import { decodeRecordHeaders } from "../log/kafka/record.ts";
import { DEFAULT_STREAM } from "../routing/streams.ts";
import { rejectedEvents, writeDeadLetter } from "./dead-letter.ts";
import type { KafkaReplayRange } from "./kafka-log-replay.ts";
import { RecentBatches } from "./recent-batches.ts";
import { SINK_RUNNER_LIMITS_DEFAULT, type SinkRunnerLimits } from "./runner.ts";
import { kafkaOffsetSpace, type SendContext, type SendOutcome, type Sink, type SinkEvent } from "./types.ts";

const decompress = promisify(zstdDecompress);

/** A record never decompresses to more (ingest.max_batch_bytes is at most 1 GiB); more is a bomb, not a batch. */
const BATCH_BYTES_MAX = 1024 ** 3;
/** Records buffered in the consumer stream ahead of the sink (backpressure beyond). */
const BUFFERED_RECORDS_MAX = 16;
/** Bytes per fetch at most (a single larger record still comes whole). */
const FETCH_BYTES_MAX = 16 * 1024 * 1024;
/** A fetch with nothing new returns after this long (how fast a new record is seen when idle). */
const FETCH_WAIT_MS = 500;
/** Tries of a Kafka operation inside the client beyond the first (join, fetch, commit): a session costs a rebalance, so small troubles are retried inside it. */
const CLIENT_RETRIES = 2;
/** close() waits this long for the in-flight send and commit before it closes the Kafka client under them. */
const CLOSE_GRACE_MS = 10_000;
/** A replay with nothing fetched for this long checks whether the fetch position passed its range (a range may end in records a consumer never sees, such as transaction markers). */
const REPLAY_IDLE_CHECK_MS = 2 * FETCH_WAIT_MS;
/** A runner of a sink that holds events, with nothing fetched for this long, commits what the sink made durable meanwhile (a file rolled by its timer). */
const HELD_COMMIT_CHECK_MS = 1000;

/** A sink that holds events answered retry: it dropped what it held, so the session ends and the next one reads from the committed offsets. */
class HeldEventsDropped extends Error {
  readonly afterMs: number | undefined;
  constructor(reason: string | undefined, afterMs: number | undefined) {
    super(`the sink dropped the events it held (${reason ?? "it asked to retry"}); reading again from the committed offsets`);
    this.name = "HeldEventsDropped";
    this.afterMs = afterMs;
  }
}

/** Per partition, for a sink that holds events: what was delivered, and what is committed. */
interface HeldPartition {
  /** Past the last whole record delivered. */
  deliveredTo: bigint;
  leaderEpoch: number;
  /** The offset committed in this session; null before the first commit. */
  committed: bigint | null;
  /** Whole records delivered since the last commit that reached `deliveredTo` (status). */
  records: number;
}

export interface KafkaLogRunnerOptions {
  sink: Sink;
  brokers: readonly string[];
  topic: string;
  /** Per broker request. */
  timeoutMs: number;
  /** Consumer-group session: partitions of a member silent for this long go to the others. */
  sessionTimeoutMs: number;
  /** Dead letters go under `<dataDirectory>/dead-letter/`. */
  dataDirectory: string;
  logger: Logger;
  limits?: Partial<SinkRunnerLimits>;
  random?: () => number;
  nowMs?: () => number;
  /** Re-deliver this range under its own group, then end (module comment). */
  replay?: KafkaReplayRange;
  /** A named stream's runner (its topic is that stream's): its group is `logship-sink-<sink>.<stream>`. */
  stream?: string;
}

/** `done`: a replay runner that delivered its whole range. */
export type KafkaLogRunnerState = "joining" | "idle" | "sending" | "backing-off" | "stopped" | "done";

export interface KafkaLogRunnerStatus {
  sink: string;
  /** The consumer group (its committed offsets are the sink's position: `kafka-consumer-groups.sh --describe --group …`). */
  group: string;
  topic: string;
  state: KafkaLogRunnerState;
  /** Partitions this collector holds now. */
  partitions: number[];
  deliveredEvents: number;
  deliveredBatches: number;
  /** Whole records delivered (or dead-lettered) and committed. */
  committedRecords: number;
  retries: number;
  rejectedEvents: number;
  rejectedBatches: number;
  /** Second copies of a batch skipped. */
  duplicateRecords: number;
  /** Records that are not logship log records or do not decode (skipped, logged). */
  undecodableRecords: number;
  /** Sessions started (the first, and one after each failure or rebalance that broke a session). */
  sessions: number;
  /** Observed time (earliest, ms since the epoch) of the oldest record in the send being delivered; null when none is. */
  deliveringObservedMs: number | null;
  lastError: { message: string; atMs: number } | null;
}

/** Events gathered for one send: records of one partition and tenant. */
interface PendingSend {
  partition: number;
  tenant: string;
  events: SinkEvent[];
  /** Kafka offsets [fromOffset, toOffset) of the records these events come from (for dead letters). */
  fromOffset: bigint;
  toOffset: bigint;
  /** The last record whose events are all in this send or an earlier one: commit past it once delivered. */
  lastWholeRecord: Message<Buffer, Buffer, Buffer, Buffer> | null;
  /** Whole records since the last commit (status). */
  wholeRecords: number;
  /** Earliest observed time of the first record (lag age in status). */
  observedMinMs: number;
  /** For a sink that holds events: each event's record offset and index in that record. */
  offsets: number[];
  indexes: number[];
}

type Stream = MessagesStream<Buffer, Buffer, Buffer, Buffer>;

/** The consumer group of a sink (over the default stream's topic), or of its runner over a named stream's topic. */
export function consumerGroup(sink: string, stream?: string): string {
  return stream === undefined ? `logship-sink-${sink}` : `logship-sink-${sink}.${stream}`;
}

export class KafkaLogRunner {
  readonly sink: Sink;
  readonly group: string;
  private readonly options: KafkaLogRunnerOptions;
  private readonly limits: SinkRunnerLimits;
  private readonly nowMs: () => number;
  private state: KafkaLogRunnerState = "joining";
  private readonly counters = { deliveredEvents: 0, deliveredBatches: 0, committedRecords: 0, retries: 0, rejectedEvents: 0, rejectedBatches: 0, duplicateRecords: 0, undecodableRecords: 0, sessions: 0 };
  private lastError: { message: string; atMs: number } | null = null;
  private stopping = false;
  private readonly abort = new AbortController();
  private readonly backoffSleep = new WakeableSleep();
  /** Ends the current wait for the next record (close() calls it). */
  private stopWaiting: (() => void) | null = null;
  private consumer: Consumer<Buffer, Buffer, Buffer, Buffer> | null = null;
  private loop: Promise<void> | null = null;
  /** The send being delivered (status: lag age). */
  private delivering: PendingSend | null = null;
  /** The sink holds events before they are durable (module comment); never for a replay, which the fan-out refuses for such a sink. */
  private readonly holding: boolean;
  /** For a holding sink, per partition of the current session. */
  private held = new Map<number, HeldPartition>();

  constructor(options: KafkaLogRunnerOptions) {
    this.options = options;
    this.sink = options.sink;
    this.group = options.replay?.group ?? consumerGroup(options.sink.name, options.stream);
    this.limits = { ...SINK_RUNNER_LIMITS_DEFAULT, ...options.limits };
    this.nowMs = options.nowMs ?? Date.now;
    this.holding = options.sink.heldFrom !== undefined && options.sink.holdsWithKafkaLog !== false && options.replay === undefined;
  }

  /** Starts joining the group in the background (a Kafka that cannot be reached is logged and tried again). */
  start(): void {
    if (this.loop === null) this.loop = this.run();
  }

  /** Settles when the runner ends: a replay once its range is delivered, any runner once closed. */
  finished(): Promise<void> {
    return this.loop ?? Promise.resolve();
  }

  /**
   * Stops after the in-flight send (committed if delivered), then leaves the
   * group so the others take the partitions at once. A Kafka request still
   * running after CLOSE_GRACE_MS is cut off by closing the client.
   */
  async close(): Promise<void> {
    this.stopping = true;
    this.stopWaiting?.();
    this.backoffSleep.wake();
    // Still joining (Kafka slow or away): closing the client ends the join now instead of after its retries.
    if (this.state === "joining") await this.forceCloseConsumer();
    if (this.loop !== null && !(await settlesWithin(this.loop, CLOSE_GRACE_MS))) {
      this.options.logger.warn("sink runner: a Kafka request still runs at stop; closing its client (uncommitted records go to the partition's next owner)", { sink: this.sink.name, group: this.group, waited_ms: CLOSE_GRACE_MS });
      await this.forceCloseConsumer();
    }
    await this.loop;
    if (this.state !== "done") this.state = "stopped";
  }

  /** Stops now: aborts the in-flight send; nothing unconfirmed is committed. */
  async destroy(): Promise<void> {
    this.abort.abort();
    await this.close();
  }

  status(): KafkaLogRunnerStatus {
    const assignment = this.consumer?.assignments?.find((entry) => entry.topic === this.options.topic);
    return {
      sink: this.sink.name,
      group: this.group,
      topic: this.options.topic,
      state: this.state,
      partitions: [...(assignment?.partitions ?? [])].sort((a, b) => a - b),
      ...this.counters,
      deliveringObservedMs: this.delivering?.observedMinMs ?? null,
      lastError: this.lastError === null ? null : { ...this.lastError },
    };
  }

  private async run(): Promise<void> {
    let failedSessions = 0;
    while (!this.stopping && !this.replayDone()) {
      try {
        await this.session();
        failedSessions = 0;
      } catch (error) {
        if (this.stopping) break;
        const backoff = backoffMs(failedSessions++, this.limits.retryBaseMs, this.limits.retryCapMs, this.options.random);
        const waitMs = error instanceof HeldEventsDropped && error.afterMs !== undefined ? Math.min(Math.max(0, error.afterMs), this.limits.retryAfterMaxMs) : backoff;
        if (error instanceof HeldEventsDropped) this.options.logger.warn("sink runner: the sink dropped the events it held; a new session reads again from the committed offsets", { sink: this.sink.name, group: this.group, error: error.message, retry_in_ms: waitMs });
        else this.noteError(error, "sink runner cannot consume the Kafka log; what it did not commit goes to the partition's next owner; trying again", { retry_in_ms: waitMs, failures: failedSessions });
        this.state = "backing-off";
        await this.backoffSleep.sleep(waitMs);
      }
    }
    if (this.replayDone()) this.state = "done";
  }

  private replayDone(): boolean {
    return this.options.replay?.done === true;
  }

  /** Joins the group and delivers until stopped (returns) or something fails (throws). */
  private async session(): Promise<void> {
    this.counters.sessions++;
    this.state = "joining";
    const consumer = new Consumer<Buffer, Buffer, Buffer, Buffer>({
      ...baseClientOptions({
        clientId: this.group,
        brokers: this.options.brokers,
        timeoutMs: this.options.timeoutMs,
        // A join is answered once every live member rejoined, or a dead one's session expired.
        requestTimeoutMs: this.options.sessionTimeoutMs + this.options.timeoutMs,
        retries: CLIENT_RETRIES,
      }),
      groupId: this.group,
      sessionTimeout: this.options.sessionTimeoutMs,
      heartbeatInterval: Math.min(3000, Math.floor(this.options.sessionTimeoutMs / 3)),
      autocommit: false,
      maxBytes: FETCH_BYTES_MAX,
      maxWaitTime: FETCH_WAIT_MS,
      highWaterMark: BUFFERED_RECORDS_MAX,
    });
    this.held = new Map();
    let stream: Stream | null = null;
    // The client reports a failed rejoin (after a heartbeat said the group moved on) as an 'error' event: the membership is gone, so is the session.
    let failure: Error | null = null;
    let joins = 0;
    consumer.on("consumer:group:join", (payload: { memberId: string; generationId?: number; assignments?: { topic: string; partitions: number[] }[] }) => {
      const partitions = payload.assignments?.find((entry) => entry.topic === this.options.topic)?.partitions ?? [];
      this.options.logger.info("sink runner joined its Kafka consumer group", { sink: this.sink.name, group: this.group, generation: payload.generationId, partitions });
      // A holding sink's session ends at a rebalance: what it holds of partitions that may have moved is released, and the next session reads from the committed offsets.
      if (this.holding && ++joins > 1) {
        failure = new Error("the consumer group rebalanced; a sink that holds events reads again from the committed offsets");
        stream?.destroy(failure);
      }
    });
    this.consumer = consumer;
    consumer.on("error", (error: Error) => {
      failure = error;
      stream?.destroy(error);
    });
    try {
      const replay = this.options.replay;
      // A replay starts where it stands; partitions outside its range start at their end (records there are not its own).
      const where = replay === undefined ? ({ mode: "committed", fallbackMode: "earliest" } as const) : ({ mode: "manual", offsets: replay.fetchOffsets(this.options.topic), fallbackMode: "latest" } as const);
      stream = await consumer.consume({ topics: [this.options.topic], ...where, autocommit: false });
      if (failure !== null) throw failure;
      if (this.stopping) return;
      await this.consume(stream);
    } finally {
      await this.leave(consumer, stream);
      this.consumer = null;
    }
  }

  /** Closes the current consumer without leaving the group cleanly: its pending requests fail at once. */
  private async forceCloseConsumer(): Promise<void> {
    await this.consumer?.close(true).catch((error: unknown) => this.options.logger.debug("closing the Kafka consumer failed", { sink: this.sink.name, error: describeKafkaError(error) }));
  }

  private async leave(consumer: Consumer<Buffer, Buffer, Buffer, Buffer>, stream: Stream | null): Promise<void> {
    try {
      await stream?.close();
      // Nothing held of these partitions may be committed once another collector can own them.
      if (this.holding) await this.sink.release?.(this.options.topic);
      // A clean leave hands the partitions over at once; after a destroy (or a broken session) there is nothing to wait for.
      await consumer.close(this.abort.signal.aborted);
    } catch (error) {
      this.options.logger.warn("sink runner could not leave its Kafka consumer group cleanly; Kafka reassigns its partitions after the session timeout", {
        sink: this.sink.name,
        group: this.group,
        error: describeKafkaError(error),
      });
      await consumer.close(true).catch((forced: unknown) => this.options.logger.debug("closing the Kafka consumer failed", { sink: this.sink.name, error: describeKafkaError(forced) }));
    }
  }

  private async consume(stream: Stream): Promise<void> {
    const messages = stream[Symbol.asyncIterator]();
    const recent = new RecentBatches();
    const replay = this.options.replay;
    let pending: PendingSend | null = null;
    // The stream's next record, asked for once and awaited until it comes (a replay looks up between waits).
    let asked: Promise<IteratorResult<Message<Buffer, Buffer, Buffer, Buffer>>> | null = null;
    for (;;) {
      if (replay?.done === true) return;
      if (pending === null) this.state = "idle";
      asked ??= messages.next();
      const next = await this.nextRecord(asked, replay !== undefined ? REPLAY_IDLE_CHECK_MS : this.holding ? HELD_COMMIT_CHECK_MS : null);
      if (next === null || this.stopping) return;
      if (next === "idle") {
        if (this.holding) {
          // The sink dropped what it held on its own (a failed age roll): a new session reads it again, or it waits for the next record.
          const dropped = [...this.held.keys()].find((partition) => this.sink.heldDropped?.(kafkaOffsetSpace(this.options.topic, partition)) === true);
          if (dropped !== undefined) throw new HeldEventsDropped(`it dropped what it held of partition ${dropped}`, undefined);
          await this.commitHeld();
        }
        // Nothing gathered and nothing buffered: every record before the fetch position was delivered or skipped.
        if (replay !== undefined && pending === null && stream.readableLength === 0) this.passFetchPosition(replay, stream);
        continue;
      }
      asked = null;
      if (next.done === true) throw new Error("the Kafka consumer stream ended");
      const taken = await this.take(next.value, pending, recent);
      if (taken === "stopped") return;
      pending = taken;
      // Caught up with what was fetched: send now rather than wait for more.
      if (pending !== null && stream.readableLength === 0) {
        if (!(await this.deliver(pending))) return;
        pending = null;
      }
    }
  }

  private passFetchPosition(replay: KafkaReplayRange, stream: Stream): void {
    for (const { partition } of replay.progress()) {
      const fetchOffset = stream.offsetsToFetch.get(`${this.options.topic}:${partition}`);
      if (fetchOffset !== undefined) replay.advance(partition, fetchOffset);
    }
  }

  /**
   * The stream's next record; null when close() is called meanwhile (the
   * record then read, if any, is left uncommitted); "idle" when `idleMs`
   * passes first (`asked` is still pending then).
   */
  private nextRecord(
    asked: Promise<IteratorResult<Message<Buffer, Buffer, Buffer, Buffer>>>,
    idleMs: number | null,
  ): Promise<IteratorResult<Message<Buffer, Buffer, Buffer, Buffer>> | null | "idle"> {
    if (this.stopping) return Promise.resolve(null);
    let timer: NodeJS.Timeout | undefined;
    return new Promise<IteratorResult<Message<Buffer, Buffer, Buffer, Buffer>> | null | "idle">((resolve, reject) => {
      this.stopWaiting = () => resolve(null);
      if (idleMs !== null) timer = setTimeout(() => resolve("idle"), idleMs);
      asked.then(resolve, reject);
    }).finally(() => {
      clearTimeout(timer);
      this.stopWaiting = null;
    });
  }

  /** Adds one record to `pending` (sending it first when the record starts a new partition or tenant, and whenever it is full). */
  private async take(message: Message<Buffer, Buffer, Buffer, Buffer>, pending: PendingSend | null, recent: RecentBatches): Promise<PendingSend | null | "stopped"> {
    const replay = this.options.replay;
    if (replay !== undefined && !replay.covers(message.partition, message.offset)) return pending;
    const header = decodeRecordHeaders(message.headers);
    if (typeof header === "string") return this.skipRecord(message, pending, header);
    if (replay !== undefined && header.tenant !== replay.tenant) return this.passRecord(message, pending);
    if (pending !== null && (pending.partition !== message.partition || pending.tenant !== header.tenant)) {
      if (!(await this.deliver(pending))) return "stopped";
      pending = null;
    }
    if (recent.takeOnce(header)) {
      this.counters.duplicateRecords++;
      this.options.logger.debug("sink runner skipped a second copy of a batch", { sink: this.sink.name, partition: message.partition, offset: String(message.offset), tenant: header.tenant, agent: header.agent, seq: header.seq });
      if (pending === null) await this.commit(message, 1);
      else {
        pending.lastWholeRecord = message;
        pending.wholeRecords++;
      }
      return pending;
    }
    const events = await this.decode(message);
    if (typeof events === "string") return this.skipRecord(message, pending, events);
    pending ??= { partition: message.partition, tenant: header.tenant, events: [], fromOffset: message.offset, toOffset: message.offset, lastWholeRecord: null, wholeRecords: 0, observedMinMs: header.observedMinMs, offsets: [], indexes: [] };
    const recordOffset = Number(message.offset);
    for (let index = 0; ; index++) {
      const event = this.nextEvent(events, message);
      if (event === undefined) break;
      pending.events.push(Object.assign(event, header.stream === DEFAULT_STREAM ? { tenant: header.tenant } : { tenant: header.tenant, stream: header.stream }));
      if (this.holding) {
        pending.offsets.push(recordOffset);
        pending.indexes.push(index);
      }
      pending.toOffset = message.offset + 1n;
      if (pending.events.length >= this.limits.eventsPerSendMax) {
        if (!(await this.deliver(pending))) return "stopped";
        pending = { ...pending, events: [], fromOffset: message.offset, lastWholeRecord: null, wholeRecords: 0, offsets: [], indexes: [] };
      }
    }
    pending.lastWholeRecord = message;
    pending.wholeRecords++;
    pending.toOffset = message.offset + 1n;
    return pending;
  }

  /** A replay's record of another tenant: passed, after what is gathered before it in its partition. */
  private async passRecord(message: Message<Buffer, Buffer, Buffer, Buffer>, pending: PendingSend | null): Promise<PendingSend | null> {
    if (pending !== null && pending.partition === message.partition) {
      pending.lastWholeRecord = message;
      return pending;
    }
    await this.commit(message, 0);
    return pending;
  }

  /** A record that cannot be delivered: counted, logged, committed past (after what comes before it). */
  private async skipRecord(message: Message<Buffer, Buffer, Buffer, Buffer>, pending: PendingSend | null, reason: string): Promise<PendingSend | null | "stopped"> {
    if (pending !== null && !(await this.deliver(pending))) return "stopped";
    this.counters.undecodableRecords++;
    this.noteError(new Error(reason), `sink runner skipped a Kafka record it cannot decode (partition ${message.partition}, offset ${message.offset})`);
    await this.commit(message, 1);
    return null;
  }

  /** The record's events, lazily (memory: one decompressed payload), or why its batch does not decompress. */
  private async decode(message: Message<Buffer, Buffer, Buffer, Buffer>): Promise<Iterator<Event> | string> {
    try {
      return payloadEvents(await decompress(message.value, { maxOutputLength: BATCH_BYTES_MAX }));
    } catch (error) {
      return `the batch does not decompress: ${error instanceof Error ? error.message : String(error)}`;
    }
  }

  /** The next event, or undefined at the end or at a malformed one (the rest of the record is skipped and reported). */
  private nextEvent(events: Iterator<Event>, message: Message<Buffer, Buffer, Buffer, Buffer>): Event | undefined {
    try {
      const next = events.next();
      return next.done === true ? undefined : next.value;
    } catch (error) {
      this.counters.undecodableRecords++;
      this.noteError(error, `sink runner skipped the undecodable rest of a Kafka record (partition ${message.partition}, offset ${message.offset})`);
      return undefined;
    }
  }

  /** Sends until delivered or rejected, then commits (true); false when the runner stops first. */
  private async deliver(pending: PendingSend): Promise<boolean> {
    if (pending.events.length === 0) {
      if (pending.lastWholeRecord !== null) await this.commit(pending.lastWholeRecord, pending.wholeRecords);
      return true;
    }
    this.delivering = pending;
    try {
      return await this.deliverEvents(pending);
    } finally {
      this.delivering = null;
    }
  }

  private async deliverEvents(pending: PendingSend): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      if (this.stopping) return false;
      this.state = "sending";
      const outcome = await this.sendOnce(pending);
      if (outcome === null) return false;
      if (outcome.kind === "delivered") {
        this.counters.deliveredEvents += pending.events.length;
        this.counters.deliveredBatches++;
        break;
      }
      if (outcome.kind === "reject") {
        const rejected = rejectedEvents(pending.events, outcome.rejected);
        await this.deadLetter(pending, outcome.reason, rejected.events, rejected.reasons);
        this.counters.deliveredEvents += pending.events.length - rejected.events.length;
        break;
      }
      this.counters.retries++;
      if (outcome.reason !== undefined) this.lastError = { message: outcome.reason, atMs: this.nowMs() };
      if (this.holding) throw new HeldEventsDropped(outcome.reason, outcome.afterMs);
      if (this.stopping) return false;
      const waitMs = outcome.afterMs === undefined ? backoffMs(attempt, this.limits.retryBaseMs, this.limits.retryCapMs, this.options.random) : Math.min(Math.max(0, outcome.afterMs), this.limits.retryAfterMaxMs);
      this.state = "backing-off";
      await this.backoffSleep.sleep(waitMs);
    }
    if (pending.lastWholeRecord !== null) await this.commit(pending.lastWholeRecord, pending.wholeRecords);
    return true;
  }

  /** One attempt; a throw counts as retry; null when aborted (destroy). */
  private async sendOnce(pending: PendingSend): Promise<SendOutcome | null> {
    const context: SendContext | undefined = this.holding ? { offsets: pending.offsets, indexes: pending.indexes, kafka: { topic: this.options.topic, partition: pending.partition } } : undefined;
    try {
      return await this.sink.send(pending.events, this.abort.signal, context);
    } catch (error) {
      if (this.abort.signal.aborted) return null;
      this.noteError(error, "sink send threw; retrying");
      return { kind: "retry" };
    }
  }

  private async deadLetter(pending: PendingSend, reason: string, events: readonly SinkEvent[], reasons: readonly string[] | undefined): Promise<void> {
    const path = await writeDeadLetter({
      dataDirectory: this.options.dataDirectory,
      sink: this.sink.name,
      tenant: pending.tenant,
      fromOffset: Number(pending.fromOffset),
      toOffset: Number(pending.toOffset),
      reason,
      events,
      ...(reasons === undefined ? {} : { reasons }),
      nowMs: this.nowMs(),
      kafkaPartition: { topic: this.options.topic, partition: pending.partition },
    });
    this.counters.rejectedEvents += events.length;
    this.counters.rejectedBatches++;
    this.lastError = { message: `rejected: ${reason}`, atMs: this.nowMs() };
    this.options.logger.warn("sink rejected events; written to the dead-letter directory", {
      sink: this.sink.name,
      tenant: pending.tenant,
      partition: pending.partition,
      fromOffset: String(pending.fromOffset),
      toOffset: String(pending.toOffset),
      events: events.length,
      reason,
      path,
    });
  }

  /**
   * Commits the group's offset past `message` (its partition only). A
   * failed commit loses nothing: the records are delivered again by the
   * partition's next owner. When Kafka refuses it because the group
   * rebalanced, the client ends the stream and with it this session.
   */
  private async commit(message: Message<Buffer, Buffer, Buffer, Buffer>, records: number): Promise<void> {
    if (this.options.replay !== undefined) {
      this.options.replay.advance(message.partition, message.offset + 1n);
      this.counters.committedRecords += records;
      return;
    }
    if (this.holding) {
      const entry = this.held.get(message.partition);
      this.held.set(message.partition, { deliveredTo: message.offset + 1n, leaderEpoch: message.leaderEpoch, committed: entry?.committed ?? null, records: (entry?.records ?? 0) + records });
      await this.commitHeld();
      return;
    }
    try {
      await message.commit();
      this.counters.committedRecords += records;
    } catch (error) {
      this.options.logger.warn("sink runner could not commit its Kafka offset; the partition's next owner delivers those records again (sinks are idempotent)", {
        sink: this.sink.name,
        group: this.group,
        partition: message.partition,
        offset: String(message.offset + 1n),
        error: describeKafkaError(error),
      });
    }
  }

  /**
   * For a holding sink: commits each partition's offset up to what was
   * delivered, but no further than the record of the first event the sink
   * still holds there. A failed commit loses nothing (as `commit`).
   */
  private async commitHeld(): Promise<void> {
    const consumer = this.consumer;
    if (consumer === null) return;
    for (const [partition, entry] of this.held) {
      const heldFrom = this.sink.heldFrom?.(kafkaOffsetSpace(this.options.topic, partition)) ?? null;
      const target = heldFrom === null || BigInt(heldFrom) >= entry.deliveredTo ? entry.deliveredTo : BigInt(heldFrom);
      if (entry.committed !== null && target <= entry.committed) continue;
      try {
        await consumer.commit({ offsets: [{ topic: this.options.topic, partition, offset: target, leaderEpoch: entry.leaderEpoch }] });
        entry.committed = target;
        if (target === entry.deliveredTo) {
          this.counters.committedRecords += entry.records;
          entry.records = 0;
        }
      } catch (error) {
        this.options.logger.warn("sink runner could not commit its Kafka offset; the partition's next owner delivers those records again (sinks are idempotent)", {
          sink: this.sink.name,
          group: this.group,
          partition,
          offset: String(target),
          error: describeKafkaError(error),
        });
        return;
      }
    }
  }

  private noteError(error: unknown, message: string, context: Record<string, unknown> = {}): void {
    const text = describeKafkaError(error);
    this.lastError = { message: text, atMs: this.nowMs() };
    this.options.logger.error(message, { sink: this.sink.name, group: this.group, error: text, ...context });
  }
}

/** True when `work` settles within `ms`. */
async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([work.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}
