/**
 * The archive's Parquet schema and how each column is encoded
 * (docs/ARCHIVE.md, "Formats"). One row per event:
 *
 *   time           INT64 TIMESTAMP(MILLIS, UTC)  the event's time
 *   observed_time  INT64 TIMESTAMP(MILLIS, UTC)  when the agent read the line
 *   host, source, path, message, id, tenant      BYTE_ARRAY UTF8
 *   offset         INT64                         the line's byte offset in its source file
 *   fields         BYTE_ARRAY JSON               the event's fields as a JSON object string
 *   truncated      BOOLEAN                       the line was cut at the agent's line limit
 *
 * Every column is REQUIRED. Only standard encodings, which DuckDB, Spark,
 * Trino and hyparquet read.
 */
import type { ColumnSource, SchemaElement } from "hyparquet-writer";

const TIMESTAMP: Omit<SchemaElement, "name"> = { type: "INT64", repetition_type: "REQUIRED", converted_type: "TIMESTAMP_MILLIS", logical_type: { type: "TIMESTAMP", isAdjustedToUTC: true, unit: "MILLIS" } };

function utf8(name: string): SchemaElement {
  return { name, type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "REQUIRED" };
}

const PARQUET_COLUMNS: SchemaElement[] = [
  { name: "time", ...TIMESTAMP },
  { name: "observed_time", ...TIMESTAMP },
  utf8("host"),
  utf8("source"),
  utf8("path"),
  { name: "offset", type: "INT64", repetition_type: "REQUIRED" },
  utf8("message"),
  utf8("id"),
  utf8("tenant"),
  { name: "fields", type: "BYTE_ARRAY", converted_type: "JSON", repetition_type: "REQUIRED" },
  { name: "truncated", type: "BOOLEAN", repetition_type: "REQUIRED" },
];

export const PARQUET_SCHEMA: SchemaElement[] = [{ name: "root", num_children: PARQUET_COLUMNS.length }, ...PARQUET_COLUMNS];

/**
 * Encodings beyond hyparquet-writer's defaults (dictionary where it pays,
 * else PLAIN) and statistics only where readers prune by them: offsets
 * grow, so deltas are small (DELTA_BINARY_PACKED); ids share their
 * stream's 16-character prefix (DELTA_BYTE_ARRAY stores each as what it
 * shares with the one before plus the rest); messages are nearly all
 * distinct, so neither a dictionary nor min/max statistics are worth
 * computing, and DELTA_LENGTH_BYTE_ARRAY puts a page's lengths first and
 * its text in one run, which zstd compresses better than PLAIN's length
 * before each value (smaller pages on bench/archive.bench.ts's lines).
 */
export const COLUMN_OPTIONS: Partial<Record<string, Partial<ColumnSource>>> = {
  offset: { encoding: "DELTA_BINARY_PACKED" },
  id: { encoding: "DELTA_BYTE_ARRAY", statistics: false },
  message: { encoding: "DELTA_LENGTH_BYTE_ARRAY", statistics: false },
  fields: { statistics: false },
};

/** Uncompressed bytes per data page: pages are the unit of compression, and zstd finds more to share in a larger one. */
export const PAGE_BYTES = 1 << 20;
