import { Argument, Command } from "commander";
import { CONFIG_KINDS, jsonSchemaFor } from "../../config/schema.ts";
import type { ConfigKind } from "../../config/schema.ts";
import type { CliContext } from "../context.ts";

/** `logship schema agent|collector`: JSON Schema of a config file, for editors. */
export function schemaCommand(context: CliContext): Command {
  return new Command("schema")
    .description("print the JSON Schema of a config file, for editors (YAML language server)")
    .addArgument(new Argument("<kind>", "which config").choices(CONFIG_KINDS))
    .action((kind: ConfigKind) => {
      context.writeOut(`${JSON.stringify(jsonSchemaFor(kind), null, 2)}\n`);
    });
}
