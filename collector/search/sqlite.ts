/**
 * node:sqlite, loaded on first use. A static `import` of a builtin is hoisted
 * to the top of the bundled binary (esbuild keeps builtin imports there even
 * for modules it initialises lazily), so every logship process — the agent
 * too — would load it and print Node 24's ExperimentalWarning for SQLite.
 */
import type * as Sqlite from "node:sqlite";

let loaded: typeof Sqlite | undefined;

/**
 * How long a connection waits for another's lock before SQLITE_BUSY: in WAL
 * mode readers and the one writer do not wait for each other, so this only
 * covers a writer thread that failed while its connection held a lock
 * (search-index.ts) and the next one's first write.
 */
export const SQLITE_BUSY_TIMEOUT_MS = 2000;

export function sqlite(): typeof Sqlite {
  return (loaded ??= process.getBuiltinModule("node:sqlite") as typeof Sqlite);
}
