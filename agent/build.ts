/**
 * Validated agent config → the runtime parts (pure: compiles, touches no file).
 * Relative globs are resolved against the config file's directory, so a
 * config means the same whatever directory the agent is started from.
 */
import { hostname } from "node:os";
import { dirname, isAbsolute, resolve } from "node:path";
import { ConfigError } from "../shared/errors.ts";
import type { AgentConfig, SourceConfig } from "./config.ts";
import { buildParser } from "./parsers/index.ts";
import { compileTransforms } from "./transforms/chain.ts";
import { sourceRuntime, type SourceRuntime, type TailOptions } from "./tail/source.ts";
import { STAT_INTERVAL_MS } from "./tail/stat-schedule.ts";

export function buildSources(config: AgentConfig, configFile: string): SourceRuntime[] {
  return config.sources.map((source, index) => buildSource(source, index, configFile));
}

/** One tail rule; `index` is its place in `sources` (error messages name it). */
export function buildSource(source: SourceConfig, index: number, configFile: string): SourceRuntime {
  const base = dirname(resolve(configFile));
  let parser;
  try {
    parser = source.parser.type === "none" ? null : buildParser(source.parser);
  } catch (error) {
    throw new ConfigError(`${configFile}: sources[${index}].parser: ${(error as Error).message}`, { cause: error });
  }
  const multiline = source.multiline;
  return sourceRuntime({
    name: source.name,
    paths: source.paths.map((pattern) => (isAbsolute(pattern) ? pattern : resolve(base, pattern))),
    exclude: source.exclude,
    startAt: source.start_at,
    fields: source.fields,
    parser,
    multiline:
      multiline === undefined
        ? null
        : {
            start: multiline.start,
            continue: multiline.continue,
            negate: multiline.negate,
            linesMax: multiline.max_lines,
            bytesMax: multiline.max_bytes,
            timeoutMs: multiline.timeout,
          },
    lineBytesMax: source.max_line_bytes,
    // Checked by the schema; compiled here, once per rule.
    transforms: compileTransforms(source.transforms ?? [], { streamLevelTail: true }),
  });
}

export function buildTailOptions(config: AgentConfig): TailOptions {
  const tail = config.tail;
  return {
    openFilesMax: tail.max_open_files,
    closeInactiveMs: tail.close_inactive,
    rescanIntervalMs: tail.rescan_interval,
    readBytesPerPass: tail.read_bytes_per_pass,
    rotateWaitMs: tail.rotate_wait,
    checkpointIntervalMs: tail.checkpoint_interval,
    fingerprintBytes: tail.fingerprint_bytes,
    statIntervalMs: STAT_INTERVAL_MS,
    statIntervalMaxMs: tail.max_backoff,
  };
}

export function agentHost(config: AgentConfig): string {
  return config.host ?? hostname();
}
