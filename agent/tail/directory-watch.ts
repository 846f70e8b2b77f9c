/**
 * File events for discovery: one `fs.watch` (one inotify watch on Linux) per
 * directory under each glob's static prefix, never one per file.
 *
 * A directory watch reports what happens to the entries in it — a file
 * created, renamed, deleted, or written to — so it is enough both to find new
 * files and to wake the tailer when a file grows. chokidar, used before,
 * also watched every file on its own: memory that grows with the files
 * tailed (delivery `idle_files` in docs/BENCHMARKS.md) for events the
 * directory watch already gives.
 *
 * - `depth` bounds how many levels of subdirectories are watched (undefined:
 *   all, for `**`). A subdirectory that appears later is watched, and the
 *   files already in it are reported, since they may predate its watch.
 * - Symlinked directories are followed once (by real path), so a loop ends.
 * - A directory that cannot be watched (gone, permissions, the inotify limit)
 *   is logged once and left to the periodic rescan; `ensureRoots()` (called
 *   at each rescan) tries roots that did not exist yet again.
 * - Events can be lost (kernel queue overflow, an NFS mount): the rescan
 *   catches up, and the tailer polls open files on its own.
 */
import { watch, type FSWatcher } from "node:fs";
import { readdir, realpath, stat } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "../../shared/logger.ts";

export interface WatchRoot {
  root: string;
  /** Levels of subdirectories below `root` whose files matter; undefined: any. */
  depth: number | undefined;
}

export type WatchHandler = (path: string, cause: "add" | "change") => void;

interface Watched {
  watcher: FSWatcher;
  /** Levels below its root (the root is 0). */
  level: number;
  depth: number | undefined;
  real: string;
}

export class DirectoryWatcher {
  private readonly roots: WatchRoot[];
  private readonly onPath: WatchHandler;
  private readonly logger: Logger;
  /** By directory path as reported to the handler. */
  private readonly watched = new Map<string, Watched>();
  private readonly realPaths = new Set<string>();
  private failureLogged = false;
  private closed = false;

  constructor(roots: WatchRoot[], onPath: WatchHandler, logger: Logger) {
    this.roots = roots;
    this.onPath = onPath;
    this.logger = logger;
  }

  /** Watch every root that exists (and its subdirectories); roots watched already are skipped. */
  async ensureRoots(): Promise<void> {
    for (const { root, depth } of this.roots) {
      if (!this.watched.has(root)) await this.watchTree(root, 0, depth, false);
    }
  }

  /** Directories watched now. */
  get directories(): number {
    return this.watched.size;
  }

  close(): void {
    this.closed = true;
    for (const entry of this.watched.values()) entry.watcher.close();
    this.watched.clear();
    this.realPaths.clear();
  }

  /** Watch `directory` and the subdirectories below it within `depth`; with `report`, report the files found there. */
  private async watchTree(directory: string, level: number, depth: number | undefined, report: boolean): Promise<void> {
    if (this.closed || this.watched.has(directory)) return;
    let real: string;
    try {
      real = await realpath(directory);
      if (!(await stat(real)).isDirectory()) return;
    } catch {
      return; // Not there (yet): the rescan finds it, ensureRoots retries roots.
    }
    if (this.realPaths.has(real) || this.closed || this.watched.has(directory)) return;
    let watcher: FSWatcher;
    try {
      watcher = watch(directory, { persistent: true }, (event, name) => this.event(directory, event, name));
    } catch (error) {
      this.watchFailed(directory, error);
      return;
    }
    watcher.on("error", (error) => {
      this.forget(directory);
      // A watched directory that was deleted ends its watch with an error: nothing to report.
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") this.watchFailed(directory, error);
    });
    this.watched.set(directory, { watcher, level, depth, real });
    this.realPaths.add(real);
    let entries;
    try {
      entries = await readdir(directory, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      const path = join(directory, entry.name);
      if (entry.isDirectory() || entry.isSymbolicLink()) {
        if (depth === undefined || level < depth) await this.watchTree(path, level + 1, depth, report);
        if (entry.isDirectory()) continue;
      }
      if (report) this.onPath(path, "add");
    }
  }

  private event(directory: string, event: string, name: string | Buffer | null): void {
    if (this.closed || name === null) return;
    const path = join(directory, name.toString());
    if (event === "change") {
      this.onPath(path, "change");
      return;
    }
    // "rename": an entry appeared, vanished or moved. Only appearances matter here.
    const parent = this.watched.get(directory);
    if (parent === undefined) return;
    void stat(path).then(
      (stats) => {
        if (!stats.isDirectory()) return this.onPath(path, "add");
        if (parent.depth === undefined || parent.level < parent.depth) return this.watchTree(path, parent.level + 1, parent.depth, true);
      },
      () => this.forgetTree(path),
    );
  }

  /** `path` is gone: stop watching it and everything below it. */
  private forgetTree(path: string): void {
    for (const directory of [...this.watched.keys()]) {
      if (directory === path || directory.startsWith(`${path}/`)) this.forget(directory);
    }
  }

  private forget(directory: string): void {
    const entry = this.watched.get(directory);
    if (entry === undefined) return;
    entry.watcher.close();
    this.watched.delete(directory);
    this.realPaths.delete(entry.real);
  }

  private watchFailed(directory: string, error: unknown): void {
    if (this.failureLogged) return;
    this.failureLogged = true;
    const code = (error as NodeJS.ErrnoException).code;
    this.logger.warn("file watch failed; relying on rescans", {
      directory,
      error: String(error),
      ...(code === "ENOSPC" ? { hint: "the inotify watch limit is reached: raise fs.inotify.max_user_watches" } : {}),
    });
  }
}
