/**
 * Counts of a query's matches per time bucket over [sinceMs, untilMs) in one
 * tenant's embedded index (`GET /v1/histogram`, docs/SEARCH.md).
 *
 * The bucket is a round size chosen from the range (1 s … 1 d, then whole
 * days) so that the range holds at most BUCKETS_TARGET buckets; buckets
 * start at multiples of the size since the epoch (minutes on the minute,
 * days at UTC midnight), and every bucket of the range is returned, empty
 * ones with 0.
 *
 * Two ways to count, both exact where they finish:
 *   - the query's SQL is exact (translate.ts `exactTranslation`): counted in
 *     SQLite, no row leaves it. Without a full-text clause, one range count
 *     per bucket (`count(*) … time >= ? AND time < ?`): a `GROUP BY` of a
 *     computed bucket sorts every matching row first (an empty query over
 *     24 h of 5 M events: 2 s instead of 0.2 s, bench/search.bench.ts). With
 *     one, one `GROUP BY` per partition: a count per bucket would run the
 *     MATCH again for every bucket (60 times the work);
 *     A version 4 partition (block-partition.ts) has no SQL per event: it
 *     counts the empty query from its blocks' time columns without decoding
 *     them; any other query over a range with a version 4 partition is
 *     counted the next way;
 *   - otherwise (regexes, wildcards inside tokens, numbers in strings…) the
 *     rows of SQL's superset are read newest first and checked by the
 *     evaluator, at most `scanRowsMax` of them (node:sqlite runs on the
 *     collector's event loop). A count that stops there says so
 *     (`complete: false`, `countedSinceMs`: buckets older than that time are
 *     undercounted).
 */
import { compileQuery, type Query } from "../../shared/query/index.ts";
import { BlockPartition } from "./block-partition.ts";
import { DAY_MS, type SearchIndex } from "./search-index.ts";
import { candidateRows, SCAN_ROWS_MAX_DEFAULT, storedEvent, timeRangeCondition } from "./search.ts";
import { exactTranslation, type SqlCondition } from "./translate.ts";

/** The FTS5 table (partition.ts): a condition naming it runs a MATCH. */
const FULL_TEXT_TABLE = "events_text";
/** At most this many buckets span a range (one more when the range does not start on a bucket). */
export const BUCKETS_TARGET = 60;

const SECOND_MS = 1000;
const MINUTE_MS = 60 * SECOND_MS;
const HOUR_MS = 60 * MINUTE_MS;
/** The round bucket sizes, smallest first; past the last, whole days. */
const ROUND_BUCKETS_MS = [SECOND_MS, 5 * SECOND_MS, 10 * SECOND_MS, 30 * SECOND_MS, MINUTE_MS, 5 * MINUTE_MS, 10 * MINUTE_MS, 30 * MINUTE_MS, HOUR_MS, 3 * HOUR_MS, 12 * HOUR_MS, DAY_MS];

export interface HistogramRequest {
  tenant: string;
  query: Query;
  sinceMs: number;
  /** Greater than sinceMs. */
  untilMs: number;
  /** Rows the evaluator reads at most when the SQL is not exact (default SCAN_ROWS_MAX_DEFAULT). */
  scanRowsMax?: number;
}

export interface HistogramResult {
  bucketMs: number;
  /** Every bucket that holds a time of the range, oldest first. */
  buckets: { timeMs: number; count: number }[];
  /** False when the evaluator's scan stopped at scanRowsMax before the start of the range. */
  complete: boolean;
  /** When not complete: the time of the oldest row read; older buckets are undercounted. */
  countedSinceMs?: number;
}

/** The smallest round size that cuts `rangeMs` into at most BUCKETS_TARGET buckets. */
export function bucketSize(rangeMs: number): number {
  for (const sizeMs of ROUND_BUCKETS_MS) if (rangeMs <= sizeMs * BUCKETS_TARGET) return sizeMs;
  return Math.ceil(rangeMs / BUCKETS_TARGET / DAY_MS) * DAY_MS;
}

export function histogramIndex(index: SearchIndex, request: HistogramRequest): HistogramResult {
  const { tenant, query, sinceMs, untilMs } = request;
  if (!Number.isSafeInteger(sinceMs) || !Number.isSafeInteger(untilMs) || sinceMs >= untilMs) throw new RangeError(`the range must be whole milliseconds with since before until; got ${sinceMs} to ${untilMs}`);
  const bucketMs = bucketSize(untilMs - sinceMs);
  const counts = new Map<number, number>();
  const add = (bucket: number, count: number): void => {
    counts.set(bucket, (counts.get(bucket) ?? 0) + count);
  };
  const result: HistogramResult = { bucketMs, buckets: [], complete: true };
  const refs = index.partitions(tenant, sinceMs, untilMs, "asc");
  // Exactness in SQL does not depend on the format of versions 2 and 3 (translate.ts `keywordCondition`); version 4 counts only the empty query without the evaluator.
  const exactInSql = exactTranslation(query, "columns") !== undefined && refs.every((ref) => !(index.partition(ref.file, false) instanceof BlockPartition));
  if (query.kind === "all" || exactInSql) {
    for (const ref of refs) {
      const partition = index.partition(ref.file, false);
      if (partition instanceof BlockPartition) {
        partition.countAll(Math.max(sinceMs, ref.dayStartMs), Math.min(untilMs, ref.dayStartMs + DAY_MS), (timeMs) => bucketStart(timeMs, bucketMs), add);
        continue;
      }
      const exact = exactTranslation(query, partition.keywords) as SqlCondition;
      const fullText = exact.sql.includes(FULL_TEXT_TABLE);
      if (fullText) {
        const where = timeRangeCondition(exact, sinceMs, untilMs);
        const sql = `SELECT time - ((time % ?) + ?) % ? AS bucket, count(*) AS count FROM events WHERE ${where.sql} GROUP BY bucket`;
        for (const row of partition.countBuckets(sql, [bucketMs, bucketMs, bucketMs, ...where.parameters])) add(row.bucket, row.count);
        continue;
      }
      // Bucket by bucket over the part of the range in this partition's day.
      const fromMs = Math.max(sinceMs, ref.dayStartMs);
      const toMs = Math.min(untilMs, ref.dayStartMs + DAY_MS);
      for (let startMs = bucketStart(fromMs, bucketMs); startMs < toMs; startMs += bucketMs) {
        const where = timeRangeCondition(exact, Math.max(startMs, fromMs), Math.min(startMs + bucketMs, toMs));
        for (const row of partition.countBuckets(`SELECT ? AS bucket, count(*) AS count FROM events WHERE ${where.sql}`, [startMs, ...where.parameters])) add(row.bucket, row.count);
      }
    }
  } else {
    const predicate = compileQuery(query);
    const scanRowsMax = request.scanRowsMax ?? SCAN_ROWS_MAX_DEFAULT;
    let rowsRead = 0;
    let oldestMs = untilMs;
    for (const row of candidateRows(index, { tenant, query, sinceMs, untilMs, order: "desc" }, scanRowsMax)) {
      rowsRead++;
      oldestMs = row.time;
      if (predicate(storedEvent(row))) add(bucketStart(row.time, bucketMs), 1);
    }
    if (rowsRead === scanRowsMax) {
      result.complete = false;
      result.countedSinceMs = oldestMs;
    }
  }
  for (let timeMs = bucketStart(sinceMs, bucketMs); timeMs < untilMs; timeMs += bucketMs) result.buckets.push({ timeMs, count: counts.get(timeMs) ?? 0 });
  return result;
}

/** The start of the bucket holding `timeMs` (also before the epoch). */
function bucketStart(timeMs: number, bucketMs: number): number {
  return timeMs - (((timeMs % bucketMs) + bucketMs) % bucketMs);
}
