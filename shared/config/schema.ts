/**
 * JSON Schema of the config files for editors, e.g. the YAML language server:
 *   # yaml-language-server: $schema=./logship-agent.schema.json
 * Generated from the zod schemas on the input side, so it describes what
 * users write (`"1MiB"` or a number), with the documented defaults.
 */
import { z } from "zod";
import { agentConfigSchema } from "../../agent/config.ts";
import { collectorConfigSchema } from "../../collector/config.ts";

export type ConfigKind = "agent" | "collector";

export const CONFIG_KINDS: readonly ConfigKind[] = ["agent", "collector"];

const TITLES: Record<ConfigKind, string> = {
  agent: "logship agent configuration",
  collector: "logship collector configuration",
};

export function configSchemaFor(kind: ConfigKind): z.ZodType {
  return kind === "agent" ? agentConfigSchema : collectorConfigSchema;
}

export function jsonSchemaFor(kind: ConfigKind): Record<string, unknown> {
  const schema = z.toJSONSchema(configSchemaFor(kind), { io: "input", target: "draft-07", unrepresentable: "any" });
  return { ...schema, title: TITLES[kind] };
}

/**
 * Which kind of config a parsed document is, from its top-level keys: `sources`
 * means agent; `listen`, `tokens`, `sinks`, `log` or `ingest` mean collector.
 */
export function detectConfigKind(document: unknown): ConfigKind | undefined {
  if (document === null || typeof document !== "object" || Array.isArray(document)) return undefined;
  if ("sources" in document) return "agent";
  if (["listen", "tokens", "sinks", "log", "ingest"].some((key) => key in document)) return "collector";
  return undefined;
}
