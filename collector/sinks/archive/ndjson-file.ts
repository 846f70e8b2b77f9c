/**
 * One archive file in the `ndjson` format (docs/ARCHIVE.md, "Formats"): one
 * event per line, the event as JSON exactly as `logship log dump` prints it
 * ({"tenant", "id", "time", "observed_time", "host", "source", "path",
 * "offset", "message", "fields"[, "truncated"]}), the whole file one zstd
 * frame (node:zlib), readable by `zstd -d` and DuckDB's `read_json`.
 *
 * Lines are gathered per send (`append`) and handed to the compressor in one
 * write (`flush`): a write per line would cost a thread-pool round trip each.
 * The compressor streams into the file, so memory is one send's lines plus
 * zstd's window, whatever the file's size.
 */
import type { FileHandle } from "node:fs/promises";
import { open } from "node:fs/promises";
import { constants, createZstdCompress, type ZstdCompress } from "node:zlib";
import type { SinkEvent } from "../types.ts";
import type { ArchiveFileWriter, ArchiveFormat } from "./writer.ts";

/** zstd's own default level, and `sinks.archive.compression_level`'s, for both formats. */
export const ZSTD_LEVEL_DEFAULT = 3;

export const NDJSON_EXTENSION = "ndjson.zst";

export function eventLine(event: SinkEvent): Buffer {
  const { tenant, ...rest } = event;
  return Buffer.from(`${JSON.stringify({ tenant, ...rest })}\n`, "utf8");
}

export class NdjsonZstdFile implements ArchiveFileWriter {
  private readonly handle: FileHandle;
  private readonly compressor: ZstdCompress;
  private readonly written: Promise<void>;
  private pending: Buffer[] = [];
  private bytes = 0;

  private constructor(handle: FileHandle, zstdLevel: number) {
    this.handle = handle;
    this.compressor = createZstdCompress({ params: { [constants.ZSTD_c_compressionLevel]: zstdLevel } });
    this.written = writeAll(this.compressor, handle);
    // A failure surfaces in flush/finish; this keeps it from being an unhandled rejection meanwhile.
    this.written.catch(() => undefined);
  }

  /** Creates the file (`wx`: never over an existing one). */
  static async create(path: string, zstdLevel: number): Promise<NdjsonZstdFile> {
    return new NdjsonZstdFile(await open(path, "wx", 0o640), zstdLevel);
  }

  get uncompressedBytes(): number {
    return this.bytes;
  }

  append(event: SinkEvent): void {
    const line = eventLine(event);
    this.pending.push(line);
    this.bytes += line.length;
  }

  async flush(): Promise<void> {
    if (this.pending.length === 0) return;
    const chunk = Buffer.concat(this.pending);
    this.pending = [];
    await new Promise<void>((resolve, reject) => {
      this.compressor.write(chunk, (error) => (error === null || error === undefined ? resolve() : reject(error)));
    });
  }

  async finish(): Promise<void> {
    await this.flush();
    this.compressor.end();
    await this.written;
    await this.handle.sync();
    await this.handle.close();
  }

  async abort(): Promise<void> {
    this.compressor.destroy();
    await this.written.then(
      () => undefined,
      () => undefined, // destroyed on purpose: the file is being thrown away
    );
    await this.handle.close();
  }
}

/** Writes the compressor's output to the file as it comes (the handle stays open for the fsync). */
async function writeAll(compressor: ZstdCompress, handle: FileHandle): Promise<void> {
  for await (const chunk of compressor) await handle.write(chunk as Buffer);
}

export function ndjsonFormat(zstdLevel = ZSTD_LEVEL_DEFAULT): ArchiveFormat {
  return { extension: NDJSON_EXTENSION, create: (path) => NdjsonZstdFile.create(path, zstdLevel) };
}

export const NDJSON_FORMAT: ArchiveFormat = ndjsonFormat();
