/**
 * Test sink: remembers delivered event ids (idempotent by id, counting
 * duplicates) and can be told to fail (retry), reject, or hang.
 */
import type { SendOutcome, Sink, SinkEvent } from "../sinks/types.ts";

export class MemorySink implements Sink {
  readonly name: string;
  readonly ids = new Set<string>();
  duplicates = 0;
  sends = 0;
  /** While true, every send answers retry (with `retryAfterMs` and `retryReason` if set). */
  failing = false;
  retryAfterMs: number | undefined = undefined;
  retryReason: string | undefined = undefined;
  /** A reason to reject a batch, or undefined to accept it. */
  rejectReason: (events: SinkEvent[]) => string | undefined = () => undefined;
  /** A reason to reject one event (named in the outcome, the others stored), or undefined to accept it. */
  rejectEvent: (event: SinkEvent) => string | undefined = () => undefined;
  /** Called before answering; a test can make a send hang here until `signal` aborts. */
  beforeAnswer: (events: SinkEvent[], signal: AbortSignal) => Promise<void> = async () => {};

  constructor(name: string) {
    this.name = name;
  }

  async send(events: SinkEvent[], signal: AbortSignal): Promise<SendOutcome> {
    this.sends++;
    if (this.failing) {
      return { kind: "retry", ...(this.retryAfterMs === undefined ? {} : { afterMs: this.retryAfterMs }), ...(this.retryReason === undefined ? {} : { reason: this.retryReason }) };
    }
    const reason = this.rejectReason(events);
    if (reason !== undefined) return { kind: "reject", reason };
    const rejected: { index: number; reason: string }[] = [];
    events.forEach((event, index) => {
      const refused = this.rejectEvent(event);
      if (refused !== undefined) rejected.push({ index, reason: refused });
      else if (this.ids.has(event.id)) this.duplicates++;
      else this.ids.add(event.id);
    });
    await this.beforeAnswer(events, signal);
    return rejected.length === 0 ? { kind: "delivered" } : { kind: "reject", reason: `${rejected.length} events refused`, rejected };
  }
}

/** Resolves when `condition()` holds; rejects after `timeoutMs`. */
export async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
