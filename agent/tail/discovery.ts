/**
 * Discovery: which files match which rule, found two ways — file events from
 * a watch on each directory under the globs' static prefixes
 * (directory-watch.ts: a new file is seen well within a second) and a periodic
 * rescan of the globs (NFS and other filesystems that send no events). Both
 * feed the same callback; the tailer de-duplicates by device+inode.
 *
 * Globs support `*`, `?`, `[...]`, `{a,b}` and `**`. An `exclude` glob without
 * a "/" matches the file name, with one the whole path. Compressed files
 * (.gz .bz2 .xz .zst .zip .lz4) are never tailed: they are rotated copies.
 */
import { glob } from "node:fs/promises";
import { basename, dirname, isAbsolute, matchesGlob, resolve, sep } from "node:path";
import type { Logger } from "../../shared/logger.ts";
import { DirectoryWatcher, type WatchRoot } from "./directory-watch.ts";

export interface DiscoveryRule {
  source: string;
  paths: string[];
  exclude: string[];
}

export type DiscoveryHandler = (path: string, source: string, cause: "scan" | "add" | "change") => void;

const COMPRESSED = /\.(gz|bz2|xz|zst|zip|lz4)$/;
/**
 * Paths whose rule is remembered. `path.matchesGlob` compiles its pattern at
 * every call, and every rescan and file event asks for the rule of each path
 * again: remembered, a rescan of 1,000 files compiles no pattern. At the
 * limit the memory is cleared and filled again.
 */
const RULE_CACHE_PATHS_MAX = 8192;
const GLOB_CHARACTERS = /[*?[\]{}]/;

export class Discovery {
  private readonly rules: DiscoveryRule[];
  private readonly onFile: DiscoveryHandler;
  private readonly logger: Logger;
  private watcher: DirectoryWatcher | null = null;
  /** path → its rule (null: none); the rules never change (a reload makes a new Discovery). */
  private readonly ruleCache = new Map<string, string | null>();

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
    const cached = this.ruleCache.get(path);
    if (cached !== undefined) return cached;
    const rule = this.matchRule(path);
    if (this.ruleCache.size >= RULE_CACHE_PATHS_MAX) this.ruleCache.clear();
    this.ruleCache.set(path, rule);
    return rule;
  }

  private matchRule(path: string): string | null {
    if (COMPRESSED.test(path)) return null;
    for (const rule of this.rules) {
      if (rule.paths.some((pattern) => matchesGlob(path, pattern)) && !excluded(path, rule.exclude)) return rule.source;
    }
    return null;
  }

  /** Does rule `source` match (and not exclude) `path`, whatever the rules before it? */
  matches(source: string, path: string): boolean {
    if (COMPRESSED.test(path)) return false;
    const rule = this.rules.find((candidate) => candidate.source === source);
    return rule !== undefined && rule.paths.some((pattern) => matchesGlob(path, pattern)) && !excluded(path, rule.exclude);
  }

  /** Walk every glob once; reports each matching file. Watches roots that appeared since the last scan. */
  async scan(): Promise<void> {
    await this.watcher?.ensureRoots();
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

  /** Start watching the directories under the static prefix of each glob; resolves once the watches are set. */
  async watch(): Promise<void> {
    if (this.watcher !== null) return;
    const roots = new Map<string, WatchRoot>();
    for (const rule of this.rules) {
      for (const pattern of rule.paths) {
        const { root, depth } = watchRoot(pattern);
        const known = roots.get(root);
        // Two globs under one root: watch as deep as the deeper one needs.
        const merged = known === undefined ? depth : known.depth === undefined || depth === undefined ? undefined : Math.max(known.depth, depth);
        roots.set(root, { root, depth: merged });
      }
    }
    const watcher = new DirectoryWatcher([...roots.values()], (path, cause) => {
      const source = this.ruleFor(path);
      if (source !== null) this.onFile(path, source, cause);
    }, this.logger);
    this.watcher = watcher;
    await watcher.ensureRoots();
    // A file made after the first scan but before its directory was watched
    // sent no event: one more scan now finds it rather than at the next rescan.
    if (this.watcher === watcher) await this.scan();
  }

  async close(): Promise<void> {
    const watcher = this.watcher;
    this.watcher = null;
    watcher?.close();
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
