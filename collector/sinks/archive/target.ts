/**
 * Where archive files go: what the archive sink (sink.ts) needs of a file
 * system, whatever its protocol. file-target.ts writes straight into a local
 * directory; webhdfs-target.ts writes into a local staging file and uploads
 * it to HDFS at the roll. Both keep the same commit protocol
 * (docs/ARCHIVE.md): a hidden in-progress name, then an atomic rename to the
 * committed name, which carries the file's log range.
 *
 * Directories are partition paths relative to the target's root,
 * "/"-separated ("" for the root itself).
 */

export interface ListedFile {
  /** The directory relative to the root, "/"-separated ("" for the root itself). */
  directory: string;
  name: string;
}

export interface ArchiveTarget {
  /** The root as the operator configured it (a path or URL), for logs. */
  readonly root: string;
  /** Every file under the root, recursively (a missing root is empty); with `directory`, the files directly in it (missing: empty). */
  list(directory?: string): Promise<ListedFile[]>;
  /** Readies `directory` for a new in-progress file (a local directory durably created, or a staging directory). */
  ensureDirectory(directory: string): Promise<void>;
  /** The local path a format writes the in-progress file `name` of `directory` to. */
  writePath(directory: string, name: string): string;
  /** Makes a finished in-progress file (complete at `writePath`) present on the target under its in-progress name. */
  publish(directory: string, name: string): Promise<void>;
  /** Renames `from` to `to` within `directory`; once it returns the new name is what readers list. */
  rename(directory: string, from: string, to: string): Promise<void>;
  /** Makes the renames in `directory` durable (a no-op where a rename is durable when it returns). */
  syncDirectory(directory: string): Promise<void>;
  /** Deletes `name` of `directory` (the local copy and the target's; a missing one is no error). */
  remove(directory: string, name: string): Promise<void>;
  /** Releases connections; called once, after the last use. */
  close(): Promise<void>;
}
