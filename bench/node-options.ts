/**
 * The Node options each role of logship runs with as shipped
 * (packaging/node-options.json), for benchmarks and tests that start the
 * bundled logship: they measure what users run, not Node's defaults.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

const options = JSON.parse(readFileSync(join(import.meta.dirname, "..", "packaging", "node-options.json"), "utf8")) as { agent: string[]; collector: string[] };

export const AGENT_NODE_OPTIONS: readonly string[] = options.agent;
export const COLLECTOR_NODE_OPTIONS: readonly string[] = options.collector;
