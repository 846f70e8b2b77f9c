/**
 * node:sqlite, loaded on first use. A static `import` of a builtin is hoisted
 * to the top of the bundled binary (esbuild keeps builtin imports there even
 * for modules it initialises lazily), so every logship process — the agent
 * too — would load it and print Node 24's ExperimentalWarning for SQLite.
 */
import type * as Sqlite from "node:sqlite";

let loaded: typeof Sqlite | undefined;

export function sqlite(): typeof Sqlite {
  return (loaded ??= process.getBuiltinModule("node:sqlite") as typeof Sqlite);
}
