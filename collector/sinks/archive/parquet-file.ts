/**
 * One archive file in the `parquet` format (docs/ARCHIVE.md, "Formats"),
 * written with hyparquet-writer (pure JS). One row per event:
 *
 *   time           INT64 TIMESTAMP(MILLIS, UTC)  the event's time
 *   observed_time  INT64 TIMESTAMP(MILLIS, UTC)  when the agent read the line
 *   host, source, path, message, id, tenant      BYTE_ARRAY UTF8
 *   offset         INT64                         the line's byte offset in its source file
 *   fields         BYTE_ARRAY JSON               the event's fields as a JSON object string
 *   truncated      BOOLEAN                       the line was cut at the agent's line limit
 *
 * Every column is REQUIRED. Pages are compressed with zstd (node:zlib,
 * level PARQUET_ZSTD_LEVEL_DEFAULT unless configured) or snappy (`compression`). Rows are gathered into a row group
 * until it holds ROW_GROUP_ROWS_MAX rows or ROW_GROUP_BYTES_MAX bytes
 * uncompressed (readers skip and parallelise by row group; these bound
 * the memory an open file takes), which is then encoded and written; the
 * footer goes at `finish`.
 */
import type { FileHandle } from "node:fs/promises";
import { open } from "node:fs/promises";
import { constants, zstdCompressSync } from "node:zlib";
import { ByteWriter, ParquetWriter, type ColumnSource, type SchemaElement, type Writer } from "hyparquet-writer";
import type { SinkEvent } from "../types.ts";
import type { ArchiveFileWriter, ArchiveFormat } from "./writer.ts";

export const PARQUET_EXTENSION = "parquet";

export type ParquetCompression = "zstd" | "snappy";

/** A row group is written once it holds this many rows… */
export const ROW_GROUP_ROWS_MAX = 100_000;
/** …or this many bytes of events (as NDJSON lines): at most this much per open file waits in memory. */
const ROW_GROUP_BYTES_MAX = 16 * 1024 * 1024;

const STRING_COLUMNS = ["host", "source", "path", "message", "id", "tenant"] as const;

/** Uncompressed bytes per data page: pages are the unit of compression, and zstd finds more to share in a larger one. */
const PAGE_BYTES = 1 << 20;

const TIMESTAMP: Omit<SchemaElement, "name"> = { type: "INT64", repetition_type: "REQUIRED", converted_type: "TIMESTAMP_MILLIS", logical_type: { type: "TIMESTAMP", isAdjustedToUTC: true, unit: "MILLIS" } };

const PARQUET_COLUMNS: SchemaElement[] = [
  { name: "time", ...TIMESTAMP },
  { name: "observed_time", ...TIMESTAMP },
  ...STRING_COLUMNS.slice(0, 3).map((name): SchemaElement => ({ name, type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "REQUIRED" })),
  { name: "offset", type: "INT64", repetition_type: "REQUIRED" },
  ...STRING_COLUMNS.slice(3).map((name): SchemaElement => ({ name, type: "BYTE_ARRAY", converted_type: "UTF8", repetition_type: "REQUIRED" })),
  { name: "fields", type: "BYTE_ARRAY", converted_type: "JSON", repetition_type: "REQUIRED" },
  { name: "truncated", type: "BOOLEAN", repetition_type: "REQUIRED" },
];

/**
 * Encodings beyond the defaults (dictionary where it pays, else PLAIN) and
 * statistics only where readers prune by them: offsets grow, so deltas are
 * small (DELTA_BINARY_PACKED); ids share their stream's 16-character
 * prefix (DELTA_BYTE_ARRAY stores each as what it shares with the one
 * before plus the rest); messages are nearly all distinct, so neither a
 * dictionary nor min/max statistics are worth computing, and
 * DELTA_LENGTH_BYTE_ARRAY puts a page's lengths first and its text in one
 * run, which zstd compresses better than PLAIN's length before each value
 * (smaller pages on bench/archive.bench.ts's lines).
 */
const COLUMN_OPTIONS: Partial<Record<keyof Columns, Partial<ColumnSource>>> = {
  offset: { encoding: "DELTA_BINARY_PACKED" },
  id: { encoding: "DELTA_BYTE_ARRAY", statistics: false },
  message: { encoding: "DELTA_LENGTH_BYTE_ARRAY", statistics: false },
  fields: { statistics: false },
};

export const PARQUET_SCHEMA: SchemaElement[] = [{ name: "root", num_children: PARQUET_COLUMNS.length }, ...PARQUET_COLUMNS];

interface Columns {
  time: bigint[];
  observed_time: bigint[];
  host: string[];
  source: string[];
  path: string[];
  offset: bigint[];
  message: (string | Uint8Array)[];
  id: (string | Uint8Array)[];
  tenant: string[];
  fields: Record<string, unknown>[];
  truncated: boolean[];
}

function emptyColumns(): Columns {
  return { time: [], observed_time: [], host: [], source: [], path: [], offset: [], message: [], id: [], tenant: [], fields: [], truncated: [] };
}

export class ParquetFile implements ArchiveFileWriter {
  private readonly handle: FileHandle;
  private readonly bytes: ByteWriter;
  private readonly parquet: ParquetWriter;
  private rows = emptyColumns();
  private rowCount = 0;
  private rowGroupBytes = 0;
  private totalBytes = 0;
  private readonly rowGroupRowsMax: number;
  private readonly times = new TimeParser();
  private readonly observedTimes = new TimeParser();

  private constructor(handle: FileHandle, compression: ParquetCompression, zstdLevel: number, rowGroupRowsMax: number) {
    this.handle = handle;
    this.rowGroupRowsMax = rowGroupRowsMax;
    this.bytes = new ByteWriter(1 << 20);
    // hyparquet-writer calls flush after each row group and finish after the footer: both write what it encoded so far.
    const writer: Writer = this.bytes;
    writer.flush = () => this.writeEncoded();
    writer.finish = () => this.writeEncoded();
    this.parquet = new ParquetWriter({
      writer,
      schema: PARQUET_SCHEMA,
      codec: compression === "zstd" ? "ZSTD" : "SNAPPY",
      compressors: { ZSTD: (input) => zstdCompressSync(input, { params: { [constants.ZSTD_c_compressionLevel]: zstdLevel } }) },
      createdBy: "logship archive",
    });
  }

  static async create(path: string, compression: ParquetCompression, zstdLevel: number, rowGroupRowsMax = ROW_GROUP_ROWS_MAX): Promise<ParquetFile> {
    return new ParquetFile(await open(path, "wx", 0o640), compression, zstdLevel, rowGroupRowsMax);
  }

  get uncompressedBytes(): number {
    return this.totalBytes;
  }

  append(event: SinkEvent): void {
    const rows = this.rows;
    rows.time.push(this.times.parse(event.time));
    rows.observed_time.push(this.observedTimes.parse(event.observed_time));
    rows.host.push(event.host);
    rows.source.push(event.source);
    rows.path.push(event.path);
    rows.offset.push(BigInt(event.offset));
    rows.message.push(event.message);
    rows.id.push(event.id);
    rows.tenant.push(event.tenant);
    rows.fields.push(isEmpty(event.fields) ? EMPTY_FIELDS : event.fields);
    rows.truncated.push(event.truncated === true);
    this.rowCount++;
    const bytes = estimatedLineBytes(event);
    this.rowGroupBytes += bytes;
    this.totalBytes += bytes;
  }

  /** Writes a row group once one is full; smaller ones wait (a row group per send would be too small for readers). */
  async flush(): Promise<void> {
    if (this.rowCount >= this.rowGroupRowsMax || this.rowGroupBytes >= ROW_GROUP_BYTES_MAX) await this.writeRowGroup();
  }

  async finish(): Promise<void> {
    if (this.rowCount > 0) await this.writeRowGroup();
    await this.parquet.finish();
    await this.handle.sync();
    await this.handle.close();
  }

  async abort(): Promise<void> {
    this.rows = emptyColumns();
    await this.handle.close();
  }

  private async writeRowGroup(): Promise<void> {
    const rows = this.rows;
    const count = this.rowCount;
    this.rows = emptyColumns();
    this.rowCount = 0;
    this.rowGroupBytes = 0;
    rows.message = utf8Views(rows.message as string[]);
    rows.id = utf8Views(rows.id as string[]);
    const columnData: ColumnSource[] = (Object.keys(rows) as (keyof Columns)[]).map((name) => ({ name, data: rows[name], ...COLUMN_OPTIONS[name] }));
    await this.parquet.write({ columnData, rowGroupSize: count, pageSize: PAGE_BYTES });
  }

  /** Writes the bytes encoded so far and empties the buffer (its `offset` keeps counting: the footer's offsets are file offsets). */
  private async writeEncoded(): Promise<void> {
    if (this.bytes.index === 0) return;
    const chunk = Buffer.from(this.bytes.getBytes());
    this.bytes.index = 0;
    await this.handle.write(chunk);
  }
}

/**
 * RFC 3339 text to ms as a bigint (0 when it does not parse), remembering
 * the last one: a batch's events share their observed time, and often
 * their time, and then share one bigint too (no allocation per event).
 */
class TimeParser {
  private lastText = "";
  private lastMs = 0n;

  parse(text: string): bigint {
    if (text !== this.lastText) {
      const ms = Date.parse(text);
      this.lastText = text;
      this.lastMs = BigInt(Number.isNaN(ms) ? 0 : ms);
    }
    return this.lastMs;
  }
}

/**
 * The events' empty fields objects as one object: hyparquet-writer
 * serialises a JSON column's values once per distinct object, so events
 * without fields (no parser, no static fields) cost one serialisation per
 * row group instead of one each.
 */
const EMPTY_FIELDS: Record<string, unknown> = Object.freeze({});

function isEmpty(fields: Record<string, unknown>): boolean {
  for (const key in fields) if (Object.hasOwn(fields, key)) return false;
  return true;
}

/**
 * The strings' UTF-8 bytes, encoded in one go: views into one buffer (a
 * TextEncoder call per value, which hyparquet-writer makes otherwise, was a
 * tenth of the writer's time). When the whole is ASCII, byte offsets are
 * string offsets; otherwise each string's byte length is counted.
 */
function utf8Views(strings: readonly string[]): Uint8Array[] {
  const joined = strings.join("");
  const bytes = Buffer.from(joined, "utf8");
  const ascii = bytes.length === joined.length;
  const { buffer, byteOffset } = bytes;
  const views: Uint8Array[] = new Array(strings.length);
  let at = byteOffset;
  for (let index = 0; index < strings.length; index++) {
    const text = strings[index] as string;
    const length = ascii ? text.length : Buffer.byteLength(text, "utf8");
    views[index] = new Uint8Array(buffer, at, length); // not Buffer#subarray: its Buffer construction per view cost more than the encoding saved
    at += length;
  }
  return views;
}

/** JSON punctuation, key names and the offset's digits of an NDJSON event line beyond its string values. */
const LINE_OVERHEAD_BYTES = 128;

/**
 * The event's NDJSON line length (ndjson-file.ts's eventLine), estimated
 * without building it: the UTF-16 lengths of its strings (equal to their
 * UTF-8 bytes for ASCII, fewer otherwise) plus LINE_OVERHEAD_BYTES; fields
 * are serialised only when there are any.
 */
function estimatedLineBytes(event: SinkEvent): number {
  let bytes = LINE_OVERHEAD_BYTES + event.tenant.length + event.id.length + event.time.length + event.observed_time.length + event.host.length + event.source.length + event.path.length + event.message.length;
  if (!isEmpty(event.fields)) bytes += JSON.stringify(event.fields).length;
  return bytes;
}

/**
 * `compression_level`'s default for zstd pages: the fastest level whose
 * files stay within issue 6's 15 % of the raw log on bench/archive.bench.ts
 * (level 5 lands above it; ndjson keeps zstd's own default, 3).
 */
export const PARQUET_ZSTD_LEVEL_DEFAULT = 6;

/** `zstdLevel` applies with zstd pages; `rowGroupRowsMax` is ROW_GROUP_ROWS_MAX but in tests. */
export function parquetFormat(compression: ParquetCompression, zstdLevel = PARQUET_ZSTD_LEVEL_DEFAULT, rowGroupRowsMax = ROW_GROUP_ROWS_MAX): ArchiveFormat {
  return { extension: PARQUET_EXTENSION, create: (path) => ParquetFile.create(path, compression, zstdLevel, rowGroupRowsMax) };
}
