/**
 * The agent's config file: schema, types and loader. docs/CONFIG.md lists
 * every key; keep the two in step. Keys are snake_case as users write them;
 * sizes come out as bytes and durations as milliseconds (plain numbers).
 * Every object is strict (unknown keys are errors) and defaulted, so the
 * output type has no `undefined` where a default exists.
 */
import { dirname, resolve } from "node:path";
import { z } from "zod";
import { ZSTD_STRATEGIES, type ZstdStrategy } from "./ship/compressor.ts";
import { ConfigError } from "../shared/errors.ts";
import type { Env } from "../shared/config/env.ts";
import { formatIssue, loadConfigFile } from "../shared/config/load.ts";
import { httpUrlSchema, identifierSchema, listenAddressSchema, regexSchema } from "../shared/config/fields.ts";
import { boundedDuration, boundedSize, durationSchema, sizeSchema } from "../shared/config/units.ts";
import { STAT_INTERVAL_MS } from "./tail/stat-schedule.ts";
import type { ParserConfig } from "./parsers/types.ts";
import { parserConfigSchema } from "./parsers/schema.ts";
import { transformsSchema } from "./transforms/schema.ts";

/** Upper bound of tail.max_backoff: a file nothing wakes is still looked at once a minute. */
const MAX_BACKOFF_MS_MAX = 60_000;

/** A glob that asks for compressed files by name (see docs/TAILING.md, Discovery). */
const COMPRESSED_GLOB = /\.(gz|bz2|xz|zst|zip|lz4)\}?$/;

export const multilineConfigSchema = z
  .strictObject({
    start: z.exactOptional(regexSchema({ namedGroupRequired: false })).describe("Regex that matches the first line of an event."),
    continue: z.exactOptional(regexSchema({ namedGroupRequired: false })).describe("Regex that matches the continuation lines of an event."),
    negate: z.boolean().default(false).describe("Invert the match of start/continue."),
    max_lines: z.int().min(1).default(500).describe("Lines per event; at the limit the event is emitted and a new one starts."),
    max_bytes: sizeSchema.prefault("1MiB").describe("Bytes per event; at the limit the event is emitted and a new one starts."),
    timeout: durationSchema.prefault("2s").describe("Emit a pending event when no line arrives for this long."),
  })
  .superRefine((multiline, ctx) => {
    if (multiline.start === undefined && multiline.continue === undefined) {
      ctx.addIssue({ code: "custom", message: "set exactly one of start or continue", input: multiline });
    }
    if (multiline.start !== undefined && multiline.continue !== undefined) {
      ctx.addIssue({ code: "custom", path: ["continue"], message: "set exactly one of start or continue, not both", input: multiline });
    }
  });

export const sourceConfigSchema = z.strictObject({
  name: identifierSchema("a source name").describe("Unique rule name; becomes the event's `source`."),
  paths: z
    .array(
      z
        .string()
        .min(1)
        .refine((pattern) => !COMPRESSED_GLOB.test(pattern), {
          error: "compressed files are not tailed: they are rotated copies whose lines were read before compression; match the uncompressed files instead",
        }),
    )
    .min(1)
    .describe("Glob patterns of files to tail."),
  exclude: z.array(z.string().min(1)).default([]).describe("Glob patterns of files to skip."),
  start_at: z.enum(["beginning", "end"]).default("end").describe("Where to start reading a file seen for the first time."),
  fields: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).default({}).describe("Static fields added to every event."),
  parser: parserConfigSchema.prefault({ type: "none" }),
  multiline: z.exactOptional(multilineConfigSchema),
  max_line_bytes: boundedSize({ min: 64 }).prefault("1MiB").describe("Longer lines are cut and marked truncated."),
  transforms: z.exactOptional(transformsSchema),
});

export const tailConfigSchema = z.strictObject({
  max_open_files: z.int().min(1).default(1024).describe("Open file handles at most; beyond it the least recently active files wait."),
  close_inactive: durationSchema.prefault("5m").describe("Close a file after no new data for this long."),
  rescan_interval: durationSchema.prefault("10s").describe("How often globs are re-evaluated (file events can miss files on NFS)."),
  read_bytes_per_pass: boundedSize({ min: 1 }).prefault("256KiB").describe("Bytes read from one file before moving to the next."),
  rotate_wait: durationSchema.prefault("5s").describe("Keep reading a rotated file this long after rotation."),
  checkpoint_interval: durationSchema.prefault("1s").describe("How often acknowledged offsets are written to disk."),
  fingerprint_bytes: boundedSize({ min: 16, max: 64 * 1024 }).prefault(1024).describe("Leading bytes hashed to recognise a file across renames."),
  max_backoff: boundedDuration({ min: STAT_INTERVAL_MS, max: MAX_BACKOFF_MS_MAX })
    .prefault("10s")
    .describe("An open file with no change is stat'ed less and less often, down to once per this; a file event wakes it at once."),
});

/** Tail rules with unique names; an agent config needs at least one (`logship up` takes none in its file when `--path` gives them). */
export function sourcesSchema(options: { required: boolean }) {
  const list = z.array(sourceConfigSchema);
  return (options.required ? list.min(1, { error: "at least one source is needed" }) : list).superRefine(reportDuplicateNames, { when: () => true });
}

/** Duplicate names: an issue at every later use, naming the first. Runs even when items have other issues. */
function reportDuplicateNames(sources: unknown, ctx: z.core.$RefinementCtx<unknown>): void {
  if (!Array.isArray(sources)) return;
  const firstIndexByName = new Map<string, number>();
  for (const [index, source] of sources.entries()) {
    const name: unknown = source !== null && typeof source === "object" ? (source as { name?: unknown }).name : undefined;
    if (typeof name !== "string") continue;
    const firstIndex = firstIndexByName.get(name);
    if (firstIndex === undefined) firstIndexByName.set(name, index);
    else ctx.addIssue({ code: "custom", path: [index, "name"], message: `duplicate source name "${name}" (first used by sources[${firstIndex}])`, input: name });
  }
}

export const agentConfigSchema = z.strictObject({
  data_dir: z.string().min(1).default("/var/lib/logship/agent").describe("Checkpoints and spool live here."),
  host: z.exactOptional(z.string().min(1)).describe("Host name on every event; default: the machine's host name."),
  collectors: z.array(httpUrlSchema("http://10.0.0.5:7170")).default([]).describe("Collector base URLs."),
  token: z.exactOptional(z.string()).describe("Ingest token sent to collectors; empty means none."),
  sources: sourcesSchema({ required: true }).describe("Tail rules."),
  tail: tailConfigSchema.prefault({}),
  batch: z
    .strictObject({
      max_bytes: boundedSize({ min: 1 }).prefault("1MiB").describe("Uncompressed bytes per batch."),
      max_events: z.int().min(1).default(20000).describe("Events per batch."),
      linger: durationSchema.prefault("250ms").describe("Send a partial batch after this long."),
    })
    .prefault({}),
  compression: z
    .strictObject({
      level: z.int().min(1).max(19).default(1).describe("zstd level: sets the window and table sizes (and the strategy, with strategy: auto)."),
      strategy: z
        .enum(Object.keys(ZSTD_STRATEGIES) as [ZstdStrategy, ...ZstdStrategy[]])
        .default("greedy")
        .describe("zstd match finder over the level's own (auto keeps the level's). greedy at level 1: 7.25× instead of 6.93× on mixed logs, for about twice the compression CPU; see bench/compression.bench.ts and delivery.bench.ts."),
    })
    .prefault({}),
  spool: z
    .strictObject({
      max_bytes: sizeSchema.prefault("1GiB").describe("Disk used for batches not yet acknowledged."),
      max_batches: z.int().min(16).default(50_000).describe("Batches not yet acknowledged, at most (bounds the memory their bookkeeping takes); at the limit when_full applies."),
      when_full: z.enum(["block", "drop_oldest"]).default("block").describe("block: stop reading files; drop_oldest: discard the oldest batches."),
    })
    .prefault({}),
  api: z.strictObject({ listen: listenAddressSchema().default("127.0.0.1:7171").describe("Status API and /metrics.") }).prefault({}),
  delivery: z
    .strictObject({
      max_in_flight: z.int().min(1).max(64).default(4).describe("Requests in flight per collector (and connections in its pool)."),
      connect_timeout: durationSchema.prefault("5s").describe("Time to open a connection to a collector."),
      request_timeout: durationSchema.prefault("30s").describe("Time for a collector to answer a batch."),
      retry_initial: durationSchema.prefault("100ms").describe("First retry delay; doubles each attempt, with full jitter."),
      retry_max: durationSchema.prefault("30s").describe("Longest retry delay."),
      failures_to_eject: z.int().min(1).default(3).describe("Failures in a row that take a collector out until a probe succeeds."),
      shutdown_timeout: durationSchema.prefault("10s").describe("On SIGTERM, time given to in-flight batches; the rest stays in the spool."),
    })
    .prefault({}),
  tls: z
    .exactOptional(
      z.strictObject({
        ca: z.exactOptional(z.string().min(1)).describe("PEM file of the CA that signed the collectors' certificates."),
        cert: z.exactOptional(z.string().min(1)).describe("PEM client certificate (mutual TLS)."),
        key: z.exactOptional(z.string().min(1)).describe("PEM private key of the client certificate."),
      }),
    )
    .describe("TLS towards https:// collectors."),
});

export type AgentConfig = z.output<typeof agentConfigSchema>;
export type SourceConfig = z.output<typeof sourceConfigSchema>;
export type SourceParserConfig = z.output<typeof parserConfigSchema>;
export type MultilineConfig = z.output<typeof multilineConfigSchema>;
export type TailConfig = z.output<typeof tailConfigSchema>;
export type BatchConfig = AgentConfig["batch"];
export type SpoolConfig = AgentConfig["spool"];

// Compile-time check: the parsers consume this config as `ParserConfig`.
const parserConfigIsAssignable = (config: SourceParserConfig): ParserConfig => config;
void parserConfigIsAssignable;

/** Loads and validates an agent config; throws ConfigError listing every issue, one per line. */
export function loadAgentConfig(file: string, env: Env): AgentConfig {
  const result = loadConfigFile(file, agentConfigSchema, env);
  if (!result.ok) throw new ConfigError(result.issues.map(formatIssue).join("\n"));
  // Relative paths in a config mean the same wherever logship is started: they resolve against the file's directory.
  return { ...result.config, data_dir: resolve(dirname(resolve(file)), result.config.data_dir) };
}
