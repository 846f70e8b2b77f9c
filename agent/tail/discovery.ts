/**
 * Discovery: which files match which rule, found two ways — file events from
 * chokidar (a new file is seen well within a second) and a periodic rescan of
 * the globs (NFS and other filesystems that send no events). Both feed the
 * same callback; the tailer de-duplicates by device+inode.
 *
 * Globs support `*`, `?`, `[...]`, `{a,b}` and `**`. An `exclude` glob without
 * a "/" matches the file name, with one the whole path. Compressed files
 * (.gz .bz2 .xz .zst .zip .lz4) are never tailed: they are rotated copies.
 */
import { glob } from "node:fs/promises";
import { basename, dirname, isAbsolute, matchesGlob, resolve, sep } from "node:path";
import { watch, type FSWatcher } from "chokidar";
import type { Logger } from "../../shared/logger.ts";

export interface DiscoveryRule {
  source: string;
  paths: string[];
  exclude: string[];
}

export type DiscoveryHandler = (path: string, source: string, cause: "scan" | "add" | "change") => void;

const COMPRESSED = /\.(gz|bz2|xz|zst|zip|lz4)$/;
const GLOB_CHARACTERS = /[*?[\]{}]/;

export class Discovery {
  private readonly rules: DiscoveryRule[];
  private readonly onFile: DiscoveryHandler;
  private readonly logger: Logger;
  private watcher: FSWatcher | null = null;

  /** `rules[].paths` must be absolute (the config loader resolves them). */
  constructor(rules: DiscoveryRule[], onFile: DiscoveryHandler, logger: Logger) {
    this.logger = logger;
    for (const rule of rules) {
      for (const pattern of rule.paths) {
        if (!isAbsolute(pattern)) throw new Error(`assertion failed: path glob ${pattern} is absolute`);
      }
    }
    this.rules = rules;
    this.onFile = onFile;
  }

  /** The rule a path belongs to: the first rule (in config order) that matches and does not exclude it. */
  ruleFor(path: string): string | null {
    if (COMPRESSED.test(path)) return null;
    for (const rule of this.rules) {
      if (rule.paths.some((pattern) => matchesGlob(path, pattern)) && !excluded(path, rule.exclude)) return rule.source;
    }
    return null;
  }

  /** Walk every glob once; reports each matching file. */
  async scan(): Promise<void> {
    const seen = new Set<string>();
    for (const rule of this.rules) {
      for (const pattern of rule.paths) {
        for await (const path of glob(pattern)) {
          if (seen.has(path)) continue;
          seen.add(path);
          const source = this.ruleFor(path);
          if (source !== null) this.onFile(path, source, "scan");
        }
      }
    }
  }

  /** Start watching the static directory prefix of each glob. */
  watch(): void {
    if (this.watcher !== null) return;
    const roots = new Set<string>();
    const depths: (number | undefined)[] = [];
    for (const rule of this.rules) {
      for (const pattern of rule.paths) {
        const { root, depth } = watchRoot(pattern);
        roots.add(root);
        depths.push(depth);
      }
    }
    const depthMax = depths.includes(undefined) ? undefined : Math.max(0, ...(depths as number[]));
    const watcher = watch([...roots.keys()], {
      ignoreInitial: true,
      persistent: true,
      followSymlinks: true,
      ...(depthMax === undefined ? {} : { depth: depthMax }),
    });
    const report = (cause: "add" | "change") => (path: string) => {
      const source = this.ruleFor(path);
      if (source !== null) this.onFile(path, source, cause);
    };
    watcher.on("add", report("add"));
    watcher.on("change", report("change"));
    // A file made after the first scan but before the watcher is ready is in the
    // watcher's initial listing, which sends no event (ignoreInitial): one more
    // scan once it is ready finds it now rather than at the next rescan.
    watcher.once("ready", () => {
      if (this.watcher !== watcher) return;
      this.scan().catch((error: unknown) => this.logger.warn("scan after starting the file watch failed", { error: String(error) }));
    });
    // A watch that fails (directory gone, inotify limit) leaves the rescan to find files.
    watcher.on("error", (error) => this.logger.warn("file watch failed; relying on rescans", { error: String(error) }));
    this.watcher = watcher;
  }

  async close(): Promise<void> {
    const watcher = this.watcher;
    this.watcher = null;
    if (watcher !== null) await watcher.close();
  }
}

function excluded(path: string, patterns: string[]): boolean {
  for (const pattern of patterns) {
    if (matchesGlob(pattern.includes("/") ? path : basename(path), pattern)) return true;
  }
  return false;
}

/** The deepest directory of a glob without glob characters, and how deep below it files can be. */
export function watchRoot(pattern: string): { root: string; depth: number | undefined } {
  const parts = resolve(pattern).split(sep);
  let index = 0;
  while (index < parts.length && !GLOB_CHARACTERS.test(parts[index] as string)) index++;
  if (index === parts.length) return { root: dirname(pattern), depth: 0 };
  const root = parts.slice(0, index).join(sep) || sep;
  const rest = parts.slice(index);
  const depth = rest.includes("**") ? undefined : rest.length - 1;
  return { root, depth };
}
