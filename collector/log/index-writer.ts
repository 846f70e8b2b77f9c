/**
 * Appends index entries for the active segment as its records are written
 * (segment-index.ts). The entries are written right after the records, in
 * the same commit round, and are not fsynced on their own: they reach the
 * disk with the next segment sync at the latest by the kernel's writeback,
 * and are fsynced when the segment is rolled or the log closed. Lost or torn
 * entries are found and rebuilt on open.
 *
 * An index write failure never fails an append (the index is derived
 * data): it is logged, indexing of this segment stops, and the next open
 * rebuilds the index.
 */
import { open, type FileHandle } from "node:fs/promises";
import type { Logger } from "../../shared/logger.ts";
import { INDEX_ENTRY_BYTES, INDEX_HEADER_BYTES, encodeIndexEntries, indexPath, type IndexBuilder, type IndexBuilderState, type IndexEntry, type IndexedRecord } from "./segment-index.ts";

export class IndexWriter {
  private readonly directory: string;
  private readonly builder: IndexBuilder;
  private readonly logger: Logger;
  private files: { offset: FileHandle; time: FileHandle } | null = null;
  private broken = false;
  private durable: IndexBuilderState;

  constructor(directory: string, builder: IndexBuilder, logger: Logger) {
    this.directory = directory;
    this.builder = builder;
    this.logger = logger;
    this.durable = builder.snapshot();
  }

  /** Adds entries for records just written to the segment (in position order). */
  async append(records: readonly IndexedRecord[]): Promise<void> {
    if (this.broken) return;
    const offset: IndexEntry[] = [];
    const time: IndexEntry[] = [];
    const offsetEntriesBefore = this.builder.offsetEntries;
    const timeEntriesBefore = this.builder.timeEntries;
    for (const record of records) {
      const added = this.builder.add(record);
      if (added.offset !== null) offset.push(added.offset);
      if (added.time !== null) time.push(added.time);
    }
    if (offset.length === 0 && time.length === 0) return;
    try {
      const files = await this.open();
      if (offset.length > 0) await writeFully(files.offset, encodeIndexEntries(offset), INDEX_HEADER_BYTES + offsetEntriesBefore * INDEX_ENTRY_BYTES);
      if (time.length > 0) await writeFully(files.time, encodeIndexEntries(time), INDEX_HEADER_BYTES + timeEntriesBefore * INDEX_ENTRY_BYTES);
    } catch (error) {
      this.stop(error);
    }
  }

  /** The records given so far are durable in the segment. */
  markDurable(): void {
    this.durable = this.builder.snapshot();
  }

  /** Records since the last `markDurable` were cut from the segment: cut their entries too. */
  async revert(): Promise<void> {
    this.builder.restore(this.durable);
    if (this.broken) return;
    try {
      const files = await this.open();
      await files.offset.truncate(INDEX_HEADER_BYTES + this.durable.offsetEntries * INDEX_ENTRY_BYTES);
      await files.time.truncate(INDEX_HEADER_BYTES + this.durable.timeEntries * INDEX_ENTRY_BYTES);
    } catch (error) {
      this.stop(error);
    }
  }

  /** Fsyncs (when asked) and closes both files. */
  async close(sync: boolean): Promise<void> {
    const files = this.files;
    this.files = null;
    if (files === null) return;
    try {
      if (sync && !this.broken) {
        await files.offset.datasync();
        await files.time.datasync();
      }
    } catch (error) {
      this.stop(error);
    } finally {
      await files.offset.close().catch((error: unknown) => this.stop(error));
      await files.time.close().catch((error: unknown) => this.stop(error));
    }
  }

  private async open(): Promise<{ offset: FileHandle; time: FileHandle }> {
    if (this.files !== null) return this.files;
    const offset = await open(indexPath(this.directory, this.builder.baseOffset, "offset"), "r+");
    try {
      const time = await open(indexPath(this.directory, this.builder.baseOffset, "time"), "r+");
      this.files = { offset, time };
      return this.files;
    } catch (error) {
      await offset.close();
      throw error;
    }
  }

  private stop(error: unknown): void {
    if (this.broken) return;
    this.broken = true;
    this.logger.warn("log index write failed; this segment's index will be rebuilt on the next open", {
      segment_base_offset: this.builder.baseOffset,
      error: error instanceof Error ? error.message : String(error),
    });
  }
}

async function writeFully(file: FileHandle, bytes: Buffer, position: number): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    const { bytesWritten } = await file.write(bytes, written, bytes.length - written, position + written);
    if (bytesWritten === 0) throw new Error("index write made no progress");
    written += bytesWritten;
  }
}
