/**
 * The `search` sink, `sinks.search.type: embedded` (the default): writes
 * every event into the collector's embedded search index
 * (collector/search/, docs/SEARCH.md), each into its tenant's partition of
 * its UTC day. One attempt per send; the runner owns retries (types.ts).
 *
 *   delivered  every event is stored (committed with synchronous=FULL), or
 *              was already: the index keeps one copy per event id, so a
 *              replayed or re-sent batch stores nothing twice.
 *   retry      SQLite could not write (disk full, I/O error, a partition
 *              file it cannot open), or the index's writer thread failed
 *              (search-index.ts); the reason names the error, and it is
 *              logged.
 *   reject     events the index can never take: a time that is not an
 *              RFC 3339 time in years 0000–9999. The rest of the send is
 *              stored; the runner dead-letters the whole send, so those
 *              appear in both places.
 *
 * With `sinks.search.retention` the sink also deletes whole day partitions
 * past max_age or beyond max_bytes every `intervalMs` (search/retention.ts);
 * a failed run is logged and the next one tries again.
 */
import type { Logger } from "../../../shared/logger.ts";
import { applyIndexRetention, type DeletedPartition, type IndexRetentionLimits } from "../../search/retention.ts";
import type { SearchIndex } from "../../search/search-index.ts";
import type { SendOutcome, Sink, SinkEvent } from "../types.ts";

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

export class SearchSink implements Sink {
  readonly name = "search";
  readonly index: SearchIndex;
  private readonly options: SearchSinkOptions | undefined;
  private readonly retentionTimer: NodeJS.Timeout | undefined;
  private runs = 0;
  private retentionRunning = false;
  private retentionAgain = false;
  private readonly deletedByTenant = new Map<string, { partitions: number; bytes: number }>();

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

  async send(events: SinkEvent[], signal: AbortSignal): Promise<SendOutcome> {
    signal.throwIfAborted();
    const byTenant = new Map<string, SinkEvent[]>();
    for (const event of events) {
      const list = byTenant.get(event.tenant) ?? [];
      list.push(event);
      byTenant.set(event.tenant, list);
    }
    const refused: { id: string; reason: string }[] = [];
    try {
      for (const [tenant, list] of byTenant) {
        const written = await this.index.write(tenant, list);
        for (const { event, reason } of written.refused) refused.push({ id: event.id, reason });
      }
    } catch (error) {
      const reason = `search index ${this.index.directory}: ${error instanceof Error ? error.message : String(error)}`;
      this.options?.logger.error("the search index could not store a send; the runner sends it again", { reason });
      return { kind: "retry", reason };
    }
    if (refused.length === 0) return { kind: "delivered" };
    const named = refused.slice(0, NAMED_IN_REASON_MAX).map(({ id, reason }) => `${id} (${reason})`);
    const more = refused.length > NAMED_IN_REASON_MAX ? ` and ${refused.length - NAMED_IN_REASON_MAX} more` : "";
    return { kind: "reject", reason: `the search index cannot store ${refused.length} of ${events.length} events: ${named.join(", ")}${more}; the other ${events.length - refused.length} were stored` };
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
