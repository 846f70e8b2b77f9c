import { Command } from "commander";
import packageJson from "../../../package.json" with { type: "json" };
import type { CliContext } from "../context.ts";

export const LOGSHIP_VERSION: string = packageJson.version;

/** `logship version`: prints `logship <version>`. */
export function versionCommand(context: CliContext): Command {
  return new Command("version").description("print the version").action(() => {
    context.writeOut(`logship ${LOGSHIP_VERSION}\n`);
  });
}
