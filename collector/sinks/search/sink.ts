/**
 * The `search` sink, `sinks.search.type: embedded` (the default): writes
 * every event into the collector's embedded search index
 * (collector/search/, docs/SEARCH.md), each into its tenant's partition of
 * its UTC day. One attempt per send; the runner owns retries (types.ts).
 *
 * It holds events (`heldFrom`, types.ts), as the archive does: a send from
 * a runner (with `context`, the events' log offsets) is answered once its
 * events are taken — prepared and handed to the index's writer thread
 * (SearchIndex.take), searchable from then on — and the runner commits its
 * offset no further than the first event of the oldest send not durable
 * yet. So the next send is prepared while the thread commits this one. At
 * most SENDS_IN_FLIGHT_MAX sends are taken and not durable; a send beyond
 * waits for the oldest to become durable (or fail).
 *
 *   delivered  every event is taken (with context) or stored (without:
 *              the Kafka log's runners, direct callers), or was already:
 *              the index keeps one copy per event id, so a replayed or
 *              re-sent batch stores nothing twice.
 *   retry      SQLite could not write (disk full, I/O error, a partition
 *              file it cannot open), or the index's writer thread failed
 *              (search-index.ts); the reason names the error, and it is
 *              logged. A thread that fails after sends were answered drops
 *              them: `heldFrom` keeps answering their first offset and
 *              `heldDropped` says so, the runner reads again from its
 *              committed offset, and the next send of that offset space is
 *              answered `retry` (as the archive's failed age roll is).
 *   reject     events the index can never take: a time that is not an
 *              RFC 3339 time in years 0000–9999. The rest of the send is
 *              stored; the runner dead-letters the whole send, so those
 *              appear in both places.
 *
 * It holds events with the embedded log only (`holdsWithKafkaLog` false):
 * the Kafka log's runner ends its session at every rebalance for a sink
 * that holds, and every collector runs this sink, so two collectors would
 * end each other's sessions at every join. Over the Kafka log a send comes
 * without context and is answered once durable. Offset spaces are logs
 * (tenant, or `<tenant>@<stream>`).
 *
 * With `sinks.search.retention` the sink also deletes whole day partitions
 * past max_age or beyond max_bytes every `intervalMs` (search/retention.ts);
 * a failed run is logged and the next one tries again.
 */
import type { Logger } from "../../../shared/logger.ts";
import { applyIndexRetention, type DeletedPartition, type IndexRetentionLimits } from "../../search/retention.ts";
import type { SearchIndex } from "../../search/search-index.ts";
import { eventLogName } from "../../routing/streams.ts";
import type { SendContext, SendOutcome, Sink, SinkEvent } from "../types.ts";

export interface SearchRetentionOptions extends IndexRetentionLimits {
  /** How often retention runs. */
  intervalMs: number;
}

export interface SearchSinkOptions {
  logger: Logger;
  /** Absent, or neither limit set: the index keeps every day. */
  retention?: SearchRetentionOptions;
  /** The clock retention judges ages by (tests move it). Default: Date.now. */
  nowMs?: () => number;
}

/** Retention totals since the sink was built: runs that completed, and per tenant what they deleted. */
export interface SearchRetentionStats {
  runs: number;
  tenants: Record<string, { deletedPartitions: number; deletedBytes: number }>;
}

/** Refused events named in a reject reason at most. */
const NAMED_IN_REASON_MAX = 5;
/** Sends taken and not yet durable at most (two: one prepared while the other commits); a send beyond waits for the oldest to settle. */
export const SENDS_IN_FLIGHT_MAX = 2;

/** A send taken and not durable yet: its log and the first offset of its events. */
interface HeldSend {
  space: string;
  fromOffset: number;
}

export class SearchSink implements Sink {
  readonly name = "search";
  readonly holdsWithKafkaLog = false;
  readonly index: SearchIndex;
  private readonly options: SearchSinkOptions | undefined;
  private readonly retentionTimer: NodeJS.Timeout | undefined;
  private runs = 0;
  private retentionRunning = false;
  private retentionAgain = false;
  private readonly deletedByTenant = new Map<string, { partitions: number; bytes: number }>();
  /** Sends taken and not durable yet. */
  private readonly held = new Set<HeldSend>();
  /** Sends counted against SENDS_IN_FLIGHT_MAX: from the moment a send passes the bound until it settles. */
  private sendsInFlight = 0;
  private readonly slotWaiters: (() => void)[] = [];
  /** Per offset space, the lowest first offset of sends the writer thread failed after they were answered (module comment). */
  private readonly dropped = new Map<string, HeldSend>();

  constructor(index: SearchIndex, options?: SearchSinkOptions) {
    this.index = index;
    this.options = options;
    const retention = options?.retention;
    if (retention !== undefined && (retention.maxAgeMs !== undefined || retention.maxBytes !== undefined)) {
      this.retentionTimer = setInterval(() => void this.runRetention(), retention.intervalMs);
      this.retentionTimer.unref();
    }
  }

  /**
   * Applies retention now (also run every `retention.intervalMs`); never
   * throws. Returns what it deleted. A run asked for while one is going
   * (a deletion waits for the index's writer thread) makes that one run
   * again when it ends, with the clock of then; it returns nothing itself.
   */
  async runRetention(): Promise<DeletedPartition[]> {
    if (this.retentionRunning) {
      this.retentionAgain = true;
      return [];
    }
    this.retentionRunning = true;
    const deleted: DeletedPartition[] = [];
    try {
      do {
        this.retentionAgain = false;
        deleted.push(...(await this.retentionPass()));
      } while (this.retentionAgain);
    } finally {
      this.retentionRunning = false;
    }
    return deleted;
  }

  private async retentionPass(): Promise<DeletedPartition[]> {
    const options = this.options;
    if (options?.retention === undefined) return [];
    const { retention, logger } = options;
    try {
      const { deleted } = await applyIndexRetention(this.index, retention, (options.nowMs ?? Date.now)(), logger);
      this.runs++;
      for (const partition of deleted) {
        const totals = this.deletedByTenant.get(partition.tenant) ?? { partitions: 0, bytes: 0 };
        totals.partitions++;
        totals.bytes += partition.bytes;
        this.deletedByTenant.set(partition.tenant, totals);
      }
      return deleted;
    } catch (error) {
      logger.error("search index retention failed; it runs again later", { directory: this.index.directory, error: error instanceof Error ? error.message : String(error) });
      return [];
    }
  }

  /** Retention totals since the sink was built. */
  retentionStats(): SearchRetentionStats {
    const tenants = Object.fromEntries([...this.deletedByTenant].map(([tenant, totals]) => [tenant, { deletedPartitions: totals.partitions, deletedBytes: totals.bytes }]));
    return { runs: this.runs, tenants };
  }

  heldFrom(space: string): number | null {
    let lowest = this.dropped.get(space)?.fromOffset ?? null;
    for (const send of this.held) if (send.space === space && (lowest === null || send.fromOffset < lowest)) lowest = send.fromOffset;
    return lowest;
  }

  heldDropped(space: string): boolean {
    return this.dropped.has(space);
  }

  async send(events: SinkEvent[], signal: AbortSignal, context?: SendContext): Promise<SendOutcome> {
    signal.throwIfAborted();
    const first = events[0];
    if (first === undefined) return { kind: "delivered" };
    await this.takeSlot();
    let settled: Promise<void> = Promise.resolve();
    try {
      const space = eventLogName(first);
      const dropped = this.dropped.get(space);
      if (context !== undefined && dropped !== undefined) {
        this.dropped.delete(space);
        return { kind: "retry", reason: `search index ${this.index.directory}: its writer thread failed after events from offset ${dropped.fromOffset} were taken; reading again` };
      }
      const taken = await this.take(events);
      settled = taken.durable;
      if (context === undefined) await taken.durable;
      else settled = this.hold({ space, fromOffset: context.offsets[0] ?? 0 }, taken.durable);
      return taken.outcome ?? this.refusal(events.length, taken.refused);
    } catch (error) {
      return this.retry(error);
    } finally {
      void settled.then(
        () => this.freeSlot(),
        () => this.freeSlot(),
      );
    }
  }

  /** Waits for a place among SENDS_IN_FLIGHT_MAX and takes it. */
  private async takeSlot(): Promise<void> {
    while (this.sendsInFlight >= SENDS_IN_FLIGHT_MAX) await new Promise<void>((resolve) => this.slotWaiters.push(resolve));
    this.sendsInFlight++;
  }

  private freeSlot(): void {
    this.sendsInFlight--;
    this.slotWaiters.shift()?.();
  }

  /**
   * Hands the send's events to the index, tenant by tenant (a runner's send
   * is of one tenant). `durable` settles once every tenant's write did;
   * when a later tenant's preparation fails, the writes already handed over
   * are still awaited by it (`outcome` is then the retry).
   */
  private async take(events: SinkEvent[]): Promise<{ durable: Promise<void>; refused: { id: string; reason: string }[]; outcome?: SendOutcome }> {
    const byTenant = new Map<string, SinkEvent[]>();
    for (const event of events) {
      const list = byTenant.get(event.tenant) ?? [];
      list.push(event);
      byTenant.set(event.tenant, list);
    }
    const refused: { id: string; reason: string }[] = [];
    const durables: Promise<void>[] = [];
    try {
      for (const [tenant, list] of byTenant) {
        const taken = await this.index.take(tenant, list);
        durables.push(taken.durable);
        for (const { event, reason } of taken.result.refused) refused.push({ id: event.id, reason });
      }
    } catch (error) {
      return { durable: Promise.allSettled(durables).then(() => undefined), refused, outcome: this.retry(error) };
    }
    return { durable: Promise.all(durables).then(() => undefined), refused };
  }

  /** The index could not store a send (logged): the runner sends it again. */
  private retry(error: unknown): SendOutcome {
    const reason = `search index ${this.index.directory}: ${error instanceof Error ? error.message : String(error)}`;
    this.options?.logger.error("the search index could not store a send; the runner sends it again", { reason });
    return { kind: "retry", reason };
  }

  /** Holds a taken send until `durable` settles: forgotten once durable; on a failure, its first offset is kept as dropped (module comment). */
  private hold(send: HeldSend, durable: Promise<void>): Promise<void> {
    const settled = durable.then(
      () => void this.held.delete(send),
      (error: unknown) => {
        this.held.delete(send);
        const known = this.dropped.get(send.space);
        if (known === undefined || send.fromOffset < known.fromOffset) this.dropped.set(send.space, send);
        this.options?.logger.error("the search index lost events it had taken (its writer thread failed); the runner reads them again from its committed offset", {
          space: send.space,
          fromOffset: send.fromOffset,
          error: error instanceof Error ? error.message : String(error),
        });
      },
    );
    this.held.add(send);
    return settled;
  }

  private refusal(count: number, refused: readonly { id: string; reason: string }[]): SendOutcome {
    if (refused.length === 0) return { kind: "delivered" };
    const named = refused.slice(0, NAMED_IN_REASON_MAX).map(({ id, reason }) => `${id} (${reason})`);
    const more = refused.length > NAMED_IN_REASON_MAX ? ` and ${refused.length - NAMED_IN_REASON_MAX} more` : "";
    return { kind: "reject", reason: `the search index cannot store ${refused.length} of ${count} events: ${named.join(", ")}${more}; the other ${count - refused.length} were stored` };
  }

  /** Closes the index: its writer thread and its partition files (after the runners stopped: nothing is being written). */
  async close(): Promise<void> {
    if (this.retentionTimer !== undefined) clearInterval(this.retentionTimer);
    await this.index.close();
  }
}

/** The index the embedded search sink among `sinks` writes (the search API reads the same one), if there is one. */
export function searchIndexOf(sinks: readonly Sink[]): SearchIndex | undefined {
  return sinks.find((sink): sink is SearchSink => sink instanceof SearchSink)?.index;
}
