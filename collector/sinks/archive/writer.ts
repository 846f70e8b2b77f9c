/** What the archive sink needs of one open file, whatever its format (ndjson-file.ts). */
import type { SinkEvent } from "../types.ts";

export interface ArchiveFileWriter {
  /** Uncompressed bytes of the events appended so far (what `roll.max_bytes` counts). */
  readonly uncompressedBytes: number;
  /** Buffers one event; `flush` writes what was appended. */
  append(event: SinkEvent): void;
  flush(): Promise<void>;
  /** Writes the rest, fsyncs and closes: the file is complete on disk (still under its in-progress name). */
  finish(): Promise<void>;
  /** Stops writing and closes; the caller deletes the file. */
  abort(): Promise<void>;
}

/** A file format: its committed files' extension and how to start one. */
export interface ArchiveFormat {
  /** Without the leading dot: "ndjson.zst", "parquet". */
  extension: string;
  create(path: string): Promise<ArchiveFileWriter>;
}
