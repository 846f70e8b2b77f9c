/**
 * How each role of logship runs as shipped (packaging/node-options.json):
 * Node options and environment, for benchmarks and tests that start the
 * bundled logship: they measure what users run, not Node's defaults.
 */
import { roleDeferredOptions, roleNodeOptions, roleStart } from "../packaging/role-options.ts";

const agent = roleStart("agent");
const collector = roleStart("collector");

export const AGENT_NODE_OPTIONS: readonly string[] = agent.node_options;
export const AGENT_ENV: Readonly<Record<string, string>> = agent.env;
const deferred = new Set(roleDeferredOptions(agent));
/** The agent's options without the V8 flags it lifts under load (its optimizing compilers on from the start): what holding them back saves, side by side (bench/delivery.bench.ts, idle_files). */
export const AGENT_COMPILERS_ON_NODE_OPTIONS: readonly string[] = AGENT_NODE_OPTIONS.filter((option) => !deferred.has(option));
/** The agent's options when its config decodes lines (a parser, multiline or transforms), as the single executable chooses them (packaging/role-start.ts). */
export const AGENT_DECODING_NODE_OPTIONS: readonly string[] = roleNodeOptions("agent", true);
export const COLLECTOR_NODE_OPTIONS: readonly string[] = collector.node_options;
export const COLLECTOR_ENV: Readonly<Record<string, string>> = collector.env;
