/**
 * The contract between the sink framework (runner.ts, fanout.ts) and a sink.
 * A sink owns its protocol only: it gets a bounded batch of decoded events,
 * tries once, and says what happened. Retries, backoff, committed offsets,
 * dead letters, limits and telemetry belong to the framework.
 */
import type { Event } from "../../shared/event.ts";

/** An event as a sink receives it: the event model plus the tenant whose log it came from. */
export interface SinkEvent extends Event {
  tenant: string;
}

/**
 * delivered: the sink holds the events durably (the runner commits past them).
 * retry: a passing failure; the runner sends the same events again after a
 *   backoff (at least `afterMs` when the far side said so). `reason` (one
 *   line: "broker 10.0.0.5:9092 refused the connection") is shown as the
 *   runner's last error in `logship status`.
 * reject: these events will never be accepted (bad data, mapping conflict);
 *   the runner writes them to the dead-letter directory and moves on.
 *   Without `rejected`, every event of the send is dead-lettered (a sink
 *   that stored some says so in `reason`); with it, only those (by index
 *   into the send, each with its own reason) are, and the rest of the send
 *   counts as delivered: a sink that judges events one by one (the
 *   opensearch sink's bulk items) says exactly which.
 */
export type SendOutcome =
  | { kind: "delivered" }
  | { kind: "retry"; afterMs?: number; reason?: string }
  | { kind: "reject"; reason: string; rejected?: readonly RejectedEvent[] };

/** One event of a send the sink refused: its index in the send and why. */
export interface RejectedEvent {
  index: number;
  reason: string;
}

/**
 * Where a send's events sit in their log. Embedded log (runner.ts):
 * `offsets[i]` is `events[i]`'s offset in the tenant's log (ascending; gaps
 * where the log skipped events). Kafka log (kafka-log-runner.ts, for a sink
 * with `heldFrom` only): `kafka` names the topic partition, `offsets[i]` is
 * the Kafka offset of `events[i]`'s record and `indexes[i]` its index in
 * that record (ascending together).
 */
export interface SendContext {
  offsets: readonly number[];
  indexes?: readonly number[];
  kafka?: { topic: string; partition: number };
}

/** The name a Kafka topic partition goes by in `heldFrom` and `release` (tenants never contain ":", so it is no log name). */
export function kafkaOffsetSpace(topic: string, partition: number): string {
  return `${topic}:${partition}`;
}

export interface Sink {
  /** Unique among configured sinks; a directory name (offsets and dead letters live under it). */
  readonly name: string;
  /**
   * One attempt to deliver `events` (at most the runner's `eventsPerSendMax`,
   * in log order). No retries inside. Must be idempotent by `event.id`: after
   * a crash the last uncommitted batch is sent again. `signal` aborts the
   * attempt (runner destroyed); a thrown error counts as `retry`. The
   * embedded log's runner (runner.ts) passes `context`.
   */
  send(events: SinkEvent[], signal: AbortSignal, context?: SendContext): Promise<SendOutcome>;
  /**
   * Only for a sink that holds events before they are durable (the archive
   * keeps files open until they roll): the lowest offset of `tenant`'s log it
   * holds but has not made durable, or null when it holds nothing. For such a
   * sink `delivered` means "taken"; the runner commits no further than this,
   * checks again while idle, and on `retry` reads again from its committed
   * offset (the sink dropped what it held). `space` is the tenant's log for
   * runner.ts, kafkaOffsetSpace() for kafka-log-runner.ts (the answer is
   * then a Kafka record offset: the runner commits no further than it).
   */
  heldFrom?(space: string): number | null;
  /**
   * Only for a sink with `heldFrom`: true when it dropped events it held
   * on its own (an age roll failed) and has not been sent them again. The
   * runner, even with nothing new to send, then reads again from its
   * committed offset (a Kafka runner ends its session); the sink answers
   * the first send after the drop with `retry`.
   */
  heldDropped?(space: string): boolean;
  /**
   * Only for a sink with `heldFrom`: false when it holds events with the
   * embedded log only (the search sink). kafka-log-runner.ts then runs it
   * as a sink that does not hold — no context, no session ended at a
   * rebalance, no `release` — and the sink answers such a send once its
   * events are durable. Absent: it holds with either log.
   */
  readonly holdsWithKafkaLog?: boolean;
  /**
   * Kafka log, a sink with `heldFrom`: the runner over `topic` is about to
   * lose its partitions (its session ends: stop, failure, rebalance). The
   * sink drops, uncommitted, what it holds of that topic's partitions (the
   * partitions' next owner reads it again from the committed offsets) and
   * looks at its target again before its next write (another collector may
   * have committed files meanwhile).
   */
  release?(topic: string): Promise<void>;
  /** Releases the sink's connections; called once, after every runner feeding it stopped. */
  close?(): Promise<void>;
}
