import { readFileSync } from "node:fs";
import { Command, Option } from "commander";
import { ConfigError } from "../../errors.ts";
import type { ConfigIssue } from "../../config/load.ts";
import { CONFIG_KINDS, detectConfigKind, type ConfigKind } from "../../config/kinds.ts";
import { EXIT_USAGE_OR_CONFIG } from "../context.ts";
import type { CliContext } from "../context.ts";

interface ValidateOptions {
  config: string;
  kind?: ConfigKind;
}

/** `logship validate --config F [--kind agent|collector]`: exit 0, or every issue on stderr and exit 2. */
export function validateCommand(context: CliContext): Command {
  return new Command("validate")
    .description("validate an agent or collector config; print every error")
    .requiredOption("-c, --config <file>", "config file (YAML)")
    .addOption(new Option("--kind <kind>", "config kind (default: detected from the top-level keys)").choices(CONFIG_KINDS))
    .action(async (options: ValidateOptions) => {
      // The config modules (zod schemas, yaml) load with the command that uses them.
      const load = await import("../../config/load.ts");
      const { configSchemaFor } = await import("../../config/schema.ts");
      const outcome = validateFile(options.config, options.kind, context.env, load, configSchemaFor);
      if (outcome.ok) {
        context.writeOut(`${options.config}: ok (${outcome.kind} config)\n`);
        return;
      }
      context.writeErr(outcome.issues.map((issue) => `${load.formatIssue(issue)}\n`).join(""));
      context.exitCode = EXIT_USAGE_OR_CONFIG;
    });
}

type ValidateOutcome = { ok: true; kind: ConfigKind } | { ok: false; issues: ConfigIssue[] };

function validateFile(
  file: string,
  requestedKind: ConfigKind | undefined,
  env: CliContext["env"],
  { loadConfigText, parseConfigYaml }: typeof import("../../config/load.ts"),
  configSchemaFor: typeof import("../../config/schema.ts").configSchemaFor,
): ValidateOutcome {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new ConfigError(`cannot read config file ${file}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  let kind = requestedKind;
  if (kind === undefined) {
    const parsed = parseConfigYaml(text, file, env);
    if (!parsed.ok) return parsed;
    kind = detectConfigKind(parsed.document.toJS());
    if (kind === undefined) {
      const message = "cannot tell an agent config (has `sources`) from a collector config (has `listen`, `tokens`, `sinks` or `log`) or an up config (has `collector` or `agent`); pass --kind";
      return { ok: false, issues: [{ file, line: 1, column: 1, path: "", message }] };
    }
  }
  const result = loadConfigText(text, file, configSchemaFor(kind), env);
  return result.ok ? { ok: true, kind } : result;
}
