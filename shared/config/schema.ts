/**
 * JSON Schema of the config files for editors, e.g. the YAML language server:
 *   # yaml-language-server: $schema=./logship-agent.schema.json
 * Generated from the zod schemas on the input side, so it describes what
 * users write (`"1MiB"` or a number), with the documented defaults.
 */
import { z } from "zod";
import { agentConfigSchema } from "../../agent/config.ts";
import { collectorConfigSchema } from "../../collector/config.ts";
import { upConfigSchema } from "../../up/config.ts";

export type ConfigKind = "agent" | "collector" | "up";

export const CONFIG_KINDS: readonly ConfigKind[] = ["agent", "collector", "up"];

const TITLES: Record<ConfigKind, string> = {
  agent: "logship agent configuration",
  collector: "logship collector configuration",
  up: "logship up configuration (collector and agent on one machine)",
};

const SCHEMAS: Record<ConfigKind, z.ZodType> = { agent: agentConfigSchema, collector: collectorConfigSchema, up: upConfigSchema };

export function configSchemaFor(kind: ConfigKind): z.ZodType {
  return SCHEMAS[kind];
}

export function jsonSchemaFor(kind: ConfigKind): Record<string, unknown> {
  const schema = z.toJSONSchema(configSchemaFor(kind), { io: "input", target: "draft-07", unrepresentable: "any" });
  return { ...schema, title: TITLES[kind] };
}

/**
 * Which kind of config a parsed document is, from its top-level keys: `sources`
 * means agent; `listen`, `tokens`, `sinks`, `log` or `ingest` mean collector;
 * a `collector` or `agent` section means `logship up`.
 */
export function detectConfigKind(document: unknown): ConfigKind | undefined {
  if (document === null || typeof document !== "object" || Array.isArray(document)) return undefined;
  if ("sources" in document) return "agent";
  if ("collector" in document || "agent" in document) return "up";
  if (["listen", "tokens", "sinks", "log", "ingest"].some((key) => key in document)) return "collector";
  return undefined;
}
