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
 */
export type SendOutcome = { kind: "delivered" } | { kind: "retry"; afterMs?: number; reason?: string } | { kind: "reject"; reason: string };

export interface Sink {
  /** Unique among configured sinks; a directory name (offsets and dead letters live under it). */
  readonly name: string;
  /**
   * One attempt to deliver `events` (at most the runner's `eventsPerSendMax`,
   * in log order). No retries inside. Must be idempotent by `event.id`: after
   * a crash the last uncommitted batch is sent again. `signal` aborts the
   * attempt (runner destroyed); a thrown error counts as `retry`.
   */
  send(events: SinkEvent[], signal: AbortSignal): Promise<SendOutcome>;
  /** Releases the sink's connections; called once, after every runner feeding it stopped. */
  close?(): Promise<void>;
}
