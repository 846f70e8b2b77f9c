import { Argument, Command } from "commander";
import { CONFIG_KINDS, type ConfigKind } from "../../config/kinds.ts";
import type { CliContext } from "../context.ts";

/** `logship schema agent|collector`: JSON Schema of a config file, for editors. */
export function schemaCommand(context: CliContext): Command {
  return new Command("schema")
    .description("print the JSON Schema of a config file, for editors (YAML language server)")
    .addArgument(new Argument("<kind>", "which config").choices(CONFIG_KINDS))
    .action(async (kind: ConfigKind) => {
      const { jsonSchemaFor } = await import("../../config/schema.ts");
      context.writeOut(`${JSON.stringify(jsonSchemaFor(kind), null, 2)}\n`);
    });
}
