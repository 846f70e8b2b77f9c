/**
 * Retention of the embedded search index (`sinks.search.retention`,
 * docs/SEARCH.md "Retention"). The index is partitioned by tenant and UTC
 * day of event time so that retention never deletes rows: it deletes whole
 * day databases, which frees their disk at once (a DELETE would leave pages
 * for VACUUM) and costs nothing per event.
 *
 *   max_age    a day is deleted once all of it is older than max_age: the
 *              partition of day D goes when now − (D + 24 h) ≥ max_age.
 *   max_bytes  while the partitions of every tenant together take more than
 *              max_bytes (database + -journal, or + -wal and -shm for
 *              version 4 files), the oldest day goes first
 *              (ties: tenants in name order). Today's and later days are
 *              never deleted for size: they are being written.
 *
 * A deletion waits for the index's writer thread to close the file
 * (search-index.ts `dropPartition`; writes wait for it meanwhile), so no
 * write sees a partition half deleted; a search over a deleted range finds
 * nothing, as over a day with no events.
 * Each deletion is logged with tenant, day, bytes and reason, and counted.
 */
import type { Logger } from "../../shared/logger.ts";
import { DAY_MS, type SearchIndex } from "./search-index.ts";

export interface IndexRetentionLimits {
  /** Delete days whose end is at least this long ago; undefined: no age limit. */
  maxAgeMs: number | undefined;
  /** Keep the whole index at most this large, oldest days deleted first; undefined: no size limit. */
  maxBytes: number | undefined;
}

export interface DeletedPartition {
  tenant: string;
  /** `YYYY-MM-DD`, UTC. */
  day: string;
  bytes: number;
  reason: "max_age" | "max_bytes";
}

export interface IndexRetentionResult {
  deleted: DeletedPartition[];
  /** Bytes of the index after the run. */
  totalBytes: number;
}

interface SizedPartition {
  tenant: string;
  dayStartMs: number;
  file: string;
  bytes: number;
}

/** Applies `limits` to every tenant of `index` as of `nowMs`. Throws what the file system throws; what was deleted before stays deleted. */
export async function applyIndexRetention(index: SearchIndex, limits: IndexRetentionLimits, nowMs: number, logger: Logger): Promise<IndexRetentionResult> {
  const partitions: SizedPartition[] = [];
  let totalBytes = 0;
  for (const tenant of index.tenants()) {
    for (const ref of index.partitions(tenant, undefined, undefined, "asc")) {
      const bytes = index.partitionBytes(ref.file);
      partitions.push({ tenant, dayStartMs: ref.dayStartMs, file: ref.file, bytes });
      totalBytes += bytes;
    }
  }
  partitions.sort((a, b) => a.dayStartMs - b.dayStartMs || (a.tenant < b.tenant ? -1 : a.tenant > b.tenant ? 1 : 0));
  const todayStartMs = Math.floor(nowMs / DAY_MS) * DAY_MS;
  const deleted: DeletedPartition[] = [];
  for (const partition of partitions) {
    const expired = limits.maxAgeMs !== undefined && nowMs - (partition.dayStartMs + DAY_MS) >= limits.maxAgeMs;
    const over = limits.maxBytes !== undefined && totalBytes > limits.maxBytes && partition.dayStartMs < todayStartMs;
    // Oldest first: once a day is neither expired nor needed for size, no later day is.
    if (!expired && !over) break;
    const bytes = await index.dropPartition(partition.file);
    totalBytes -= partition.bytes;
    const entry: DeletedPartition = { tenant: partition.tenant, day: dayName(partition.dayStartMs), bytes, reason: expired ? "max_age" : "max_bytes" };
    deleted.push(entry);
    logger.info("search index retention deleted a partition", { tenant: entry.tenant, day: entry.day, bytes: entry.bytes, reason: entry.reason });
  }
  if (limits.maxBytes !== undefined && totalBytes > limits.maxBytes) {
    logger.warn("search index is over sinks.search.retention.max_bytes with only today's (or later) partitions left; they are kept", {
      total_bytes: totalBytes,
      max_bytes: limits.maxBytes,
    });
  }
  return { deleted, totalBytes };
}

function dayName(dayStartMs: number): string {
  return new Date(dayStartMs).toISOString().slice(0, 10);
}
