/**
 * The `file://` target: archive files on a local (or mounted) file system
 * under a root directory. Everything that must survive a crash is fsynced:
 * a new directory's entry in its parent, a file's data before its rename,
 * and the directory after the rename (docs/ARCHIVE.md, "Commit protocol").
 */
import { mkdir, open, readdir, rename, unlink } from "node:fs/promises";
import { dirname, join, relative, sep } from "node:path";

export interface ListedFile {
  /** The directory relative to the root, "/"-separated ("" for the root itself). */
  directory: string;
  name: string;
}

export class FileTarget {
  readonly root: string;

  constructor(root: string) {
    this.root = root;
  }

  /** Absolute path of `name` in the partition directory `directory` (relative, "/"-separated). */
  path(directory: string, name: string): string {
    return join(this.root, ...directory.split("/"), name);
  }

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
    await rename(this.path(directory, from), this.path(directory, to));
  }

  async syncDirectory(directory: string): Promise<void> {
    await syncDirectory(join(this.root, ...directory.split("/")));
  }

  async remove(directory: string, name: string): Promise<void> {
    await unlink(this.path(directory, name));
  }

  /** Every file under the root, recursively (a missing root is empty). */
  async list(): Promise<ListedFile[]> {
    let entries;
    try {
      entries = await readdir(this.root, { recursive: true, withFileTypes: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw error;
    }
    return entries.filter((entry) => entry.isFile()).map((entry) => ({ directory: relative(this.root, entry.parentPath).split(sep).join("/"), name: entry.name }));
  }
}

async function syncDirectory(path: string): Promise<void> {
  const handle = await open(path, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
