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
import type { ConfigKind } from "./kinds.ts";

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
