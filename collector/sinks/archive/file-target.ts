/**
 * The `file://` target (target.ts): archive files on a local (or mounted)
 * file system under a root directory. A format writes the in-progress file
 * in place, so publishing it is nothing more. Everything that must survive a
 * crash is fsynced: a new directory's entry in its parent, a file's data
 * before its rename, and the directory after the rename (docs/ARCHIVE.md,
 * "Commit protocol").
 */
import { mkdir, open, readdir, rename, unlink } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";
import type { ArchiveTarget, ListedFile } from "./target.ts";

export class FileTarget implements ArchiveTarget {
  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  /** Absolute path of `name` in the partition directory `directory` (relative, "/"-separated). */
  writePath(directory: string, name: string): string {
    return join(this.root, ...directory.split("/"), name);
  }

  /** The format wrote and fsynced the file where it belongs. */
  async publish(): Promise<void> {}

  /** Creates the partition directory (and its parents) durably: each new entry's parent is fsynced. */
  async ensureDirectory(directory: string): Promise<void> {
    const full = join(this.root, ...directory.split("/"));
    const created = await mkdir(full, { recursive: true });
    if (created === undefined) return;
    // `created` is the first directory made; fsync its parent and every new directory down to `full`.
    let current = full;
    const toSync = [current];
    while (current !== created && current !== dirname(current)) {
      current = dirname(current);
      toSync.push(current);
    }
    toSync.push(dirname(created));
    for (const path of toSync) await syncDirectory(path);
  }

  /** Renames `from` to `to` (both in `directory`); `syncDirectory` makes it durable. */
  async rename(directory: string, from: string, to: string): Promise<void> {
    await rename(this.writePath(directory, from), this.writePath(directory, to));
  }

  async syncDirectory(directory: string): Promise<void> {
    await syncDirectory(join(this.root, ...directory.split("/")));
  }

  async remove(directory: string, name: string): Promise<void> {
    try {
      await unlink(this.writePath(directory, name));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
  }

  /** Every file under the root, recursively, or directly in `directory` (a missing directory is empty). */
  async list(directory?: string): Promise<ListedFile[]> {
    const start = directory === undefined ? this.root : join(this.root, ...directory.split("/"));
    let entries;
    try {
      entries = await readdir(start, { recursive: directory === undefined, withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw error;
    }
    return entries.filter((entry) => entry.isFile()).map((entry) => ({ directory: relative(this.root, entry.parentPath).split(sep).join("/"), name: entry.name }));
  }

  /** Holds no connection. */
  async close(): Promise<void> {}
}

async function syncDirectory(path: string): Promise<void> {
  const handle = await open(path, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
