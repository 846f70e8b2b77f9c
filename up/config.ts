/**
 * `logship up`'s config file and flags → the collector config and the agent
 * config of one machine (docs/UP.md). The file has a `collector:` and an
 * `agent:` section, each the schema of the standalone config, so what an
 * operator learns here carries over to a fleet; only the defaults differ,
 * chosen for one person on one machine:
 *
 *   data_dir            logship-data, holding collector/, agent/ and token
 *   collector.listen    127.0.0.1:7170 — loopback: a laptop's logs are not
 *                       served to the network unless the operator says so
 *   collector.tokens    none written: up makes its own (tokens.ts)
 *   agent.collectors    not allowed: the agent ships to this process's collector
 *   agent.sources       may be empty when `--path` gives the files
 *   agent.api           absent: no agent API (the collector's status covers it)
 *
 * Flags win over the file: `--data-dir`, `--listen`, and `--path GLOB`
 * (repeatable), which adds a source named `files` reading each file from
 * its beginning. Pure: validation and planning touch no file (the loader
 * reads the config, nothing else).
 */
import { dirname, isAbsolute, join, resolve } from "node:path";
import { z } from "zod";
import { buildSources } from "../agent/build.ts";
import { agentConfigSchema, sourceConfigSchema, sourcesSchema, type AgentConfig, type SourceConfig } from "../agent/config.ts";
import { collectorConfigSchema, type CollectorConfig } from "../collector/config.ts";
import type { Env } from "../shared/config/env.ts";
import { listenAddressSchema } from "../shared/config/fields.ts";
import { formatIssue, loadConfigFile } from "../shared/config/load.ts";
import { ConfigError } from "../shared/errors.ts";

export const UP_LISTEN_DEFAULT = "127.0.0.1:7170";
export const UP_DATA_DIR_DEFAULT = "logship-data";
/** The source `--path` adds. */
export const PATH_SOURCE_NAME = "files";

const upCollectorSchema = collectorConfigSchema.safeExtend({
  listen: listenAddressSchema().default(UP_LISTEN_DEFAULT).describe("Ingest, search API, UI and /metrics; loopback by default."),
  data_dir: z.exactOptional(z.string().min(1)).describe("Default: <data_dir>/collector."),
});

const upAgentSchema = agentConfigSchema.extend({
  data_dir: z.exactOptional(z.string().min(1)).describe("Default: <data_dir>/agent."),
  collectors: z
    .exactOptional(z.never({ error: "logship up's agent ships to the collector of the same process; set collector.listen instead" }))
    .describe("Not allowed: the agent ships to this process's collector."),
  token: z.exactOptional(z.string()).describe("Token the local agent presents; default: one made at each start (role ingest, tenant default)."),
  sources: sourcesSchema({ required: false }).default([]).describe("Tail rules; --path adds one named files."),
  api: z
    .exactOptional(z.strictObject({ listen: listenAddressSchema().default("127.0.0.1:7171").describe("Status API and /metrics.") }))
    .describe("The local agent's status API; absent: none."),
});

export const upConfigSchema = z.strictObject({
  data_dir: z.string().min(1).default(UP_DATA_DIR_DEFAULT).describe("Everything up keeps: collector/, agent/ and the token file. Relative: to the config file's directory."),
  collector: upCollectorSchema.prefault({}).describe("A collector config (docs/CONFIG.md) with up's defaults."),
  agent: upAgentSchema.prefault({}).describe("An agent config (docs/CONFIG.md) without collectors."),
});

export type UpConfig = z.output<typeof upConfigSchema>;

/** Loads and validates an up config; throws ConfigError listing every issue, one per line. */
export function loadUpConfig(file: string, env: Env): UpConfig {
  const result = loadConfigFile(file, upConfigSchema, env);
  if (!result.ok) throw new ConfigError(result.issues.map(formatIssue).join("\n"));
  return result.config;
}

/** The up config of no file: every default. */
export function defaultUpConfig(): UpConfig {
  return upConfigSchema.parse({});
}

export interface UpFlags {
  /** The config file the config came from; undefined: none (relative paths resolve against `cwd`). */
  configFile: string | undefined;
  /** `--path`, in order; relative globs resolve against `cwd`. */
  paths: readonly string[];
  dataDir: string | undefined;
  listen: string | undefined;
  cwd: string;
}

/** What `logship up` runs, every path absolute; the agent's collectors and token are filled in once the collector listens. */
export interface UpPlan {
  dataDir: string;
  /** Tokens as configured (empty: up makes its own, tokens.ts). */
  collector: CollectorConfig;
  /** `collectors` empty and `token` unset here: see `localAgentConfig`. */
  agent: AgentConfig;
  /** The token the agent was configured with, if any. */
  agentToken: string | undefined;
  agentApiListen: string | undefined;
  /** What the agent's relative globs resolve against and its errors name. */
  agentConfigFile: string;
}

/** Applies the flags and up's defaults; throws ConfigError (exit 2) for bad flags or nothing to tail. */
export function planUp(config: UpConfig, flags: UpFlags): UpPlan {
  const base = flags.configFile === undefined ? flags.cwd : dirname(resolve(flags.cwd, flags.configFile));
  const dataDir = flags.dataDir === undefined ? resolve(base, config.data_dir) : resolve(flags.cwd, flags.dataDir);
  if (flags.listen !== undefined) {
    const listen = listenAddressSchema().safeParse(flags.listen);
    if (!listen.success) throw new ConfigError(`--listen: ${listen.error.issues.map((issue) => issue.message).join("; ")}`);
  }
  const { data_dir: collectorDataDir, ...collector } = config.collector;
  const { data_dir: agentDataDir, collectors: _collectors, token: agentToken, api, sources, ...agent } = config.agent;
  // Globs resolve now (the file's against its directory), so the banner shows what is tailed.
  const allSources = [...sources.map((source) => ({ ...source, paths: source.paths.map((path) => resolve(base, path)) })), ...pathSource(flags)];
  if (allSources.length === 0) {
    throw new ConfigError("nothing to tail: pass --path GLOB (repeatable) or a --config whose agent.sources lists files");
  }
  if (flags.paths.length > 0 && sources.some((source) => source.name === PATH_SOURCE_NAME)) {
    throw new ConfigError(`agent.sources has a source named "${PATH_SOURCE_NAME}", the name --path gives its files; rename it`);
  }
  const agentConfigFile = flags.configFile === undefined ? join(flags.cwd, "--path") : resolve(flags.cwd, flags.configFile);
  const plan: UpPlan = {
    dataDir,
    collector: { ...collector, listen: flags.listen ?? collector.listen, data_dir: resolve(base, collectorDataDir ?? join(dataDir, "collector")) },
    // `api` is the schema's shape only: the API runs when agent.api is written (agentApiListen).
    agent: { ...agent, collectors: [], sources: allSources, data_dir: resolve(base, agentDataDir ?? join(dataDir, "agent")), api: api ?? { listen: "127.0.0.1:7171" } },
    agentToken: agentToken === "" ? undefined : agentToken,
    agentApiListen: api?.listen,
    agentConfigFile,
  };
  // Parsers and multiline rules compile now, so a bad one exits 2 before anything listens.
  buildSources(plan.agent, agentConfigFile);
  return plan;
}

/** The agent config once the collector listens at `collectorUrl`. */
export function localAgentConfig(plan: UpPlan, collectorUrl: string, token: string): AgentConfig {
  return { ...plan.agent, collectors: [collectorUrl], token };
}

/** The `files` source of `--path`, or none. */
function pathSource(flags: UpFlags): SourceConfig[] {
  if (flags.paths.length === 0) return [];
  const paths = flags.paths.map((path) => (isAbsolute(path) ? path : resolve(flags.cwd, path)));
  const parsed = sourceConfigSchema.safeParse({ name: PATH_SOURCE_NAME, paths, start_at: "beginning" });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const index = issue?.path[1];
    const given = typeof index === "number" ? flags.paths[index] : undefined;
    throw new ConfigError(`--path${given === undefined ? "" : ` ${JSON.stringify(given)}`}: ${issue?.message ?? "invalid"}`);
  }
  return [parsed.data];
}
