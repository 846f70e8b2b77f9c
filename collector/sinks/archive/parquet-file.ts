/**
 * One archive file in the `parquet` format (docs/ARCHIVE.md, "Formats";
 * the columns: parquet-schema.ts), written with hyparquet-writer (pure JS)
 * on the encoder thread (parquet-encoder.ts).
 *
 * Rows are gathered here (parquet-rows.ts) into a row group until it holds
 * ROW_GROUP_ROWS_MAX rows or ROW_GROUP_BYTES_MAX bytes uncompressed
 * (readers skip and parallelise by row group; these bound the memory an
 * open file takes). A full row group goes to the encoder thread and the
 * sink goes on reading while it is encoded and compressed; its bytes are
 * written to the file when they come back, in order. At most one row group
 * per file is in flight: the next full one waits for it. Pages are
 * compressed with zstd (node:zlib, PARQUET_ZSTD_LEVEL_DEFAULT unless
 * configured) or snappy (`compression`); the footer goes at `finish`.
 */
import type { FileHandle } from "node:fs/promises";
import { open } from "node:fs/promises";
import type { SinkEvent } from "../types.ts";
import { ParquetEncoder, ParquetEncoderError, type EncoderRequest, type ParquetCompression } from "./parquet-encoder.ts";
import { RowGroupBuilder } from "./parquet-rows.ts";
import type { ArchiveFileWriter, ArchiveFormat } from "./writer.ts";

export const PARQUET_EXTENSION = "parquet";

/** A row group is written once it holds this many rows… */
export const ROW_GROUP_ROWS_MAX = 100_000;
/** …or this many bytes of events (as NDJSON lines): at most this much per open file waits in memory, and as much again is in flight. */
const ROW_GROUP_BYTES_MAX = 16 * 1024 * 1024;

/**
 * `compression_level`'s default for zstd pages: the fastest level whose
 * files stay within issue 6's 15 % of the raw log on bench/archive.bench.ts
 * (level 5 was measured above it: issue 6's note; ndjson keeps zstd's own
 * default, 3).
 */
export const PARQUET_ZSTD_LEVEL_DEFAULT = 6;

interface ParquetFileOptions {
  encoder: ParquetEncoder;
  compression: ParquetCompression;
  zstdLevel: number;
  rowGroupRowsMax: number;
}

export class ParquetFile implements ArchiveFileWriter {
  private readonly handle: FileHandle;
  private readonly encoder: ParquetEncoder;
  private readonly file: number;
  private readonly rowGroupRowsMax: number;
  private rows = new RowGroupBuilder();
  private rowGroupBytes = 0;
  private totalBytes = 0;
  /** The row group being encoded and written; never rejects (a failure goes to `failure`). */
  private inFlight: Promise<void> = Promise.resolve();
  private failure: Error | null = null;
  private closed = false;

  private constructor(handle: FileHandle, encoder: ParquetEncoder, file: number, rowGroupRowsMax: number) {
    this.handle = handle;
    this.encoder = encoder;
    this.file = file;
    this.rowGroupRowsMax = rowGroupRowsMax;
  }

  /** Creates the file (`wx`) and writes its header. */
  static async create(path: string, options: ParquetFileOptions): Promise<ParquetFile> {
    const handle = await open(path, "wx", 0o640);
    const file = options.encoder.newFile();
    try {
      await handle.write(await options.encoder.request({ kind: "open", file, compression: options.compression, zstdLevel: options.zstdLevel }));
    } catch (error) {
      await handle.close();
      throw error;
    }
    return new ParquetFile(handle, options.encoder, file, options.rowGroupRowsMax);
  }

  get uncompressedBytes(): number {
    return this.totalBytes;
  }

  append(event: SinkEvent): void {
    const fieldsJson = isEmpty(event.fields) ? null : JSON.stringify(event.fields);
    this.rows.append(event, fieldsJson);
    const bytes = estimatedLineBytes(event, fieldsJson);
    this.rowGroupBytes += bytes;
    this.totalBytes += bytes;
  }

  /** Sends a row group to the encoder once one is full; smaller ones wait (a row group per send would be too small for readers). Throws the failure of the one before. */
  async flush(): Promise<void> {
    if (this.rows.rows >= this.rowGroupRowsMax || this.rowGroupBytes >= ROW_GROUP_BYTES_MAX) await this.sendRowGroup();
  }

  async finish(): Promise<void> {
    if (this.rows.rows > 0) await this.sendRowGroup();
    await this.settled();
    await this.handle.write(await this.encoder.request({ kind: "finish", file: this.file }));
    await this.handle.sync();
    this.closed = true;
    await this.handle.close();
  }

  async abort(): Promise<void> {
    this.rows = new RowGroupBuilder();
    await this.inFlight;
    try {
      await this.encoder.request({ kind: "drop", file: this.file });
    } catch (error) {
      // A dead encoder thread took the file's state with it: nothing is left to drop.
      if (!(error instanceof ParquetEncoderError)) throw error;
    }
    if (this.closed) return;
    this.closed = true;
    await this.handle.close();
  }

  /** Waits for the row group in flight, then hands this one over without waiting for its encoding. */
  private async sendRowGroup(): Promise<void> {
    await this.settled();
    const { packed, transfer } = this.rows.take();
    this.rowGroupBytes = 0;
    this.inFlight = this.encodeAndWrite({ kind: "rowGroup", file: this.file, rows: packed }, transfer);
  }

  private async encodeAndWrite(request: Omit<Extract<EncoderRequest, { kind: "rowGroup" }>, "id">, transfer: ArrayBuffer[]): Promise<void> {
    try {
      await this.handle.write(await this.encoder.request(request, transfer));
    } catch (error) {
      this.failure = error instanceof Error ? error : new Error(String(error));
    }
  }

  /** The row group in flight is written; throws if it failed (the file is incomplete: the sink drops it). */
  private async settled(): Promise<void> {
    await this.inFlight;
    if (this.failure !== null) throw this.failure;
  }
}

function isEmpty(fields: Record<string, unknown>): boolean {
  for (const key in fields) if (Object.hasOwn(fields, key)) return false;
  return true;
}

/** JSON punctuation, key names and the offset's digits of an NDJSON event line beyond its string values. */
const LINE_OVERHEAD_BYTES = 128;

/**
 * The event's NDJSON line length (ndjson-file.ts's eventLine), estimated
 * without building it: the UTF-16 lengths of its strings (equal to their
 * UTF-8 bytes for ASCII, fewer otherwise) plus LINE_OVERHEAD_BYTES.
 */
function estimatedLineBytes(event: SinkEvent, fieldsJson: string | null): number {
  const bytes = LINE_OVERHEAD_BYTES + event.tenant.length + event.id.length + event.time.length + event.observed_time.length + event.host.length + event.source.length + event.path.length + event.message.length;
  return fieldsJson === null ? bytes : bytes + fieldsJson.length;
}

/** `zstdLevel` applies with zstd pages; `rowGroupRowsMax` is ROW_GROUP_ROWS_MAX but in tests. The format's files share one encoder thread. */
export function parquetFormat(compression: ParquetCompression, zstdLevel = PARQUET_ZSTD_LEVEL_DEFAULT, rowGroupRowsMax = ROW_GROUP_ROWS_MAX, encoder = new ParquetEncoder()): ArchiveFormat {
  return { extension: PARQUET_EXTENSION, create: (path) => ParquetFile.create(path, { encoder, compression, zstdLevel, rowGroupRowsMax }) };
}
