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
 * level 3) or snappy (`compression`). Rows are gathered into a row group
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
import { eventLine } from "./ndjson-file.ts";
import type { ArchiveFileWriter, ArchiveFormat } from "./writer.ts";

export const PARQUET_EXTENSION = "parquet";

export type ParquetCompression = "zstd" | "snappy";

/** A row group is written once it holds this many rows… */
export const ROW_GROUP_ROWS_MAX = 100_000;
/** …or this many bytes of events (as NDJSON lines): at most this much per open file waits in memory. */
const ROW_GROUP_BYTES_MAX = 16 * 1024 * 1024;
const ZSTD_LEVEL = 3;

const STRING_COLUMNS = ["host", "source", "path", "message", "id", "tenant"] as const;

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

export const PARQUET_SCHEMA: SchemaElement[] = [{ name: "root", num_children: PARQUET_COLUMNS.length }, ...PARQUET_COLUMNS];

interface Columns {
  time: bigint[];
  observed_time: bigint[];
  host: string[];
  source: string[];
  path: string[];
  offset: bigint[];
  message: string[];
  id: string[];
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

  private constructor(handle: FileHandle, compression: ParquetCompression, rowGroupRowsMax: number) {
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
      compressors: { ZSTD: (input) => zstdCompressSync(input, { params: { [constants.ZSTD_c_compressionLevel]: ZSTD_LEVEL } }) },
      createdBy: "logship archive",
    });
  }

  static async create(path: string, compression: ParquetCompression, rowGroupRowsMax = ROW_GROUP_ROWS_MAX): Promise<ParquetFile> {
    return new ParquetFile(await open(path, "wx", 0o640), compression, rowGroupRowsMax);
  }

  get uncompressedBytes(): number {
    return this.totalBytes;
  }

  append(event: SinkEvent): void {
    const rows = this.rows;
    rows.time.push(BigInt(timeMs(event.time)));
    rows.observed_time.push(BigInt(timeMs(event.observed_time)));
    rows.host.push(event.host);
    rows.source.push(event.source);
    rows.path.push(event.path);
    rows.offset.push(BigInt(event.offset));
    rows.message.push(event.message);
    rows.id.push(event.id);
    rows.tenant.push(event.tenant);
    rows.fields.push(event.fields);
    rows.truncated.push(event.truncated === true);
    this.rowCount++;
    const bytes = eventLine(event).length;
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
    const columnData: ColumnSource[] = (Object.keys(rows) as (keyof Columns)[]).map((name) => ({ name, data: rows[name] }));
    await this.parquet.write({ columnData, rowGroupSize: count });
  }

  /** Writes the bytes encoded so far and empties the buffer (its `offset` keeps counting: the footer's offsets are file offsets). */
  private async writeEncoded(): Promise<void> {
    if (this.bytes.index === 0) return;
    const chunk = Buffer.from(this.bytes.getBytes());
    this.bytes.index = 0;
    await this.handle.write(chunk);
  }
}

function timeMs(time: string): number {
  const ms = Date.parse(time);
  return Number.isNaN(ms) ? 0 : ms;
}

/** `rowGroupRowsMax` is ROW_GROUP_ROWS_MAX but in tests. */
export function parquetFormat(compression: ParquetCompression, rowGroupRowsMax = ROW_GROUP_ROWS_MAX): ArchiveFormat {
  return { extension: PARQUET_EXTENSION, create: (path) => ParquetFile.create(path, compression, rowGroupRowsMax) };
}
