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

/** Where a send's events sit in the tenant's log: `offsets[i]` is `events[i]`'s offset (ascending; gaps where the log skipped events). */
export interface SendContext {
  offsets: readonly number[];
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
   * offset (the sink dropped what it held). Only runner.ts supports it.
   */
  heldFrom?(tenant: string): number | null;
  /** Releases the sink's connections; called once, after every runner feeding it stopped. */
  close?(): Promise<void>;
}
