/**
 * The kinds of config file and how to tell them apart, without the zod
 * schemas (schema.ts): every command module imports this when the CLI
 * starts, and only the command that runs loads the schema it needs — the
 * agent's process never builds the collector's schemas.
 */
export type ConfigKind = "agent" | "collector" | "up";

export const CONFIG_KINDS: readonly ConfigKind[] = ["agent", "collector", "up"];

/**
 * Which kind of config a parsed document is, from its top-level keys: `sources`
 * means agent; `listen`, `tokens`, `sinks`, `log` or `ingest` mean collector;
 * a `collector` or `agent` section means `logship up`.
 */
export function detectConfigKind(document: unknown): ConfigKind | undefined {
  if (document === null || typeof document !== "object" || Array.isArray(document)) return undefined;
  if ("sources" in document) return "agent";
  if ("collector" in document || "agent" in document) return "up";
  if (["listen", "tokens", "sinks", "log", "ingest", "routes"].some((key) => key in document)) return "collector";
  return undefined;
}
