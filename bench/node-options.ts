/**
 * The Node options logship runs with as shipped (packaging/node-options.json),
 * for benchmarks that start the bundled logship: they measure the binary
 * users get, not Node's defaults.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";

export const LOGSHIP_NODE_OPTIONS: string[] = (JSON.parse(readFileSync(join(import.meta.dirname, "..", "packaging", "node-options.json"), "utf8")) as { execArgv: string[] }).execArgv;
