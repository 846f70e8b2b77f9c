/**
 * Config reload (SIGHUP; docs/RELOAD.md): re-read the config file and apply
 * what changed in `sources` while the agent runs, without losing or
 * repeating a line. A file that does not load is rejected — every issue
 * logged at error level, counted — and the old rules keep running. Other
 * settings need a restart: the reload names the keys that changed and keeps
 * their old values.
 *
 * Pure parts (`diffSources`, `keysNeedingRestart`) decide what changed;
 * `ConfigReloader` runs one reload at a time, in request order.
 */
import { LogshipError } from "../shared/errors.ts";
import type { Logger } from "../shared/logger.ts";
import type { AgentConfig, SourceConfig } from "./config.ts";

export interface SourceChanges {
  added: string[];
  removed: string[];
  /** Same name, another rule (paths, exclude, parser, multiline, fields, ...). */
  changed: string[];
  unchanged: string[];
}

export interface ReloadResult extends SourceChanges {
  /** Changed keys outside `sources` that keep their old value until a restart, dotted (`batch.linger`). */
  restartKeys: string[];
}

/** Rules by name: which were added, removed, changed or left as they were. */
export function diffSources(before: readonly SourceConfig[], after: readonly SourceConfig[]): SourceChanges {
  const previous = new Map(before.map((source) => [source.name, source]));
  const changes: SourceChanges = { added: [], removed: [], changed: [], unchanged: [] };
  for (const source of after) {
    const old = previous.get(source.name);
    if (old === undefined) changes.added.push(source.name);
    else if (JSON.stringify(old) === JSON.stringify(source)) changes.unchanged.push(source.name);
    else changes.changed.push(source.name);
  }
  const names = new Set(after.map((source) => source.name));
  for (const source of before) if (!names.has(source.name)) changes.removed.push(source.name);
  return changes;
}

/** Every setting but `sources` is read once at start (data_dir, collectors, api, spool, batch, ...): the changed ones, dotted. */
export function keysNeedingRestart(before: AgentConfig, after: AgentConfig): string[] {
  const keys: string[] = [];
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  names.delete("sources");
  for (const name of names) changedLeaves(name, (before as Record<string, unknown>)[name], (after as Record<string, unknown>)[name], keys);
  return keys.sort();
}

function changedLeaves(path: string, before: unknown, after: unknown, out: string[]): void {
  if (isPlainObject(before) && isPlainObject(after)) {
    for (const key of new Set([...Object.keys(before), ...Object.keys(after)])) changedLeaves(`${path}.${key}`, before[key], after[key], out);
    return;
  }
  // Arrays (collectors) and values compare whole.
  if (JSON.stringify(before) !== JSON.stringify(after)) out.push(path);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** What a reload needs of the agent (agent.ts implements it). */
export interface Reloadable {
  reload(next: AgentConfig): Promise<ReloadResult>;
  reloadRejected(): void;
}

export interface ConfigReloaderOptions {
  agent: Reloadable;
  /** Reads and validates the config file again; throws ConfigError listing every issue. */
  load: () => AgentConfig;
  logger: Logger;
}

/** Runs reloads one at a time, in the order they were asked for. */
export class ConfigReloader {
  private readonly options: ConfigReloaderOptions;
  private queue: Promise<void> = Promise.resolve();

  constructor(options: ConfigReloaderOptions) {
    this.options = options;
  }

  /** Queue a reload; the returned promise settles once it is done (it never rejects: the outcome is logged). */
  request(): Promise<void> {
    this.queue = this.queue.then(() => this.reloadOnce());
    return this.queue;
  }

  private async reloadOnce(): Promise<void> {
    const { agent, logger } = this.options;
    logger.info("reloading config");
    let result: ReloadResult;
    try {
      result = await agent.reload(this.options.load());
    } catch (error) {
      if (!(error instanceof LogshipError)) throw error;
      agent.reloadRejected();
      const issues = error.message.split("\n");
      logger.error("config reload rejected; the old rules keep running", { error: error.message, code: error.code, issues });
      return;
    }
    if (result.restartKeys.length > 0) {
      logger.warn("config changes that need a restart were not applied; their old values stay in effect", { keys: result.restartKeys });
    }
    logger.info("config reloaded", { added: result.added, removed: result.removed, changed: result.changed });
  }
}
