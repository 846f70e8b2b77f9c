/**
 * How each role of logship runs as shipped (packaging/node-options.json):
 * Node options and environment, for benchmarks and tests that start the
 * bundled logship: they measure what users run, not Node's defaults.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { roleNodeOptions } from "../packaging/role-options.ts";

interface RoleStart {
  node_options: string[];
  v8_flags_under_load?: string[];
  env: Record<string, string>;
}

const roles = JSON.parse(readFileSync(join(import.meta.dirname, "..", "packaging", "node-options.json"), "utf8")) as { agent: RoleStart; collector: RoleStart };

export const AGENT_NODE_OPTIONS: readonly string[] = roles.agent.node_options;
export const AGENT_ENV: Readonly<Record<string, string>> = roles.agent.env;
const underLoad = new Set((roles.agent.v8_flags_under_load ?? []).map((flag) => flag.split("=")[0]));
/** The agent's options without the V8 flags it lifts under load (its optimizing compilers on from the start): what holding them back saves, side by side (bench/delivery.bench.ts, idle_files). */
export const AGENT_COMPILERS_ON_NODE_OPTIONS: readonly string[] = AGENT_NODE_OPTIONS.filter((option) => !underLoad.has(option.split("=")[0] as string));
/** The agent's options when its config decodes lines (a parser, multiline or transforms), as the single executable chooses them (packaging/role-start.ts). */
export const AGENT_DECODING_NODE_OPTIONS: readonly string[] = roleNodeOptions("agent", true);
export const COLLECTOR_NODE_OPTIONS: readonly string[] = roles.collector.node_options;
export const COLLECTOR_ENV: Readonly<Record<string, string>> = roles.collector.env;
