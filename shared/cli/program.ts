/**
 * The `logship` command line. Each command lives in its own file under
 * commands/ and is a function `(context) => Command`; add one by writing the
 * file and one `addCommand` line below. Commands report failure by throwing
 * (ConfigError or QueryError → exit 2, anything else → exit 1; a QueryError
 * prints the query with a caret under its column) or by setting
 * `context.exitCode`; they never call process.exit.
 */
import { Command, CommanderError } from "commander";
import { ConfigError, QueryError } from "../errors.ts";
import { renderQueryError } from "../query/caret.ts";
import { agentCommand } from "./commands/agent.ts";
import { collectorCommand } from "./commands/collector.ts";
import { logCommand } from "./commands/log.ts";
import { replayCommand } from "./commands/replay.ts";
import { schemaCommand } from "./commands/schema.ts";
import { searchCommand } from "./commands/search.ts";
import { statusCommand } from "./commands/status.ts";
import { upCommand } from "./commands/up.ts";
import { validateCommand } from "./commands/validate.ts";
import { LOGSHIP_VERSION, versionCommand } from "./commands/version.ts";
import { EXIT_OK, EXIT_RUNTIME_FAILURE, EXIT_USAGE_OR_CONFIG, processContext } from "./context.ts";
import type { CliContext } from "./context.ts";

export function buildProgram(context: CliContext = processContext()): Command {
  const program = new Command("logship")
    .description("Log shipper: tail files on every host, ship to collectors, search and archive.")
    .version(LOGSHIP_VERSION, "-V, --version", "print the version")
    .option("--verbose", "print error details (stack traces)")
    .configureOutput({ writeOut: context.writeOut, writeErr: context.writeErr })
    .showHelpAfterError("(add --help for usage)")
    .exitOverride();
  const commands = [
    upCommand(context),
    agentCommand(context),
    collectorCommand(context),
    logCommand(context),
    statusCommand(context),
    replayCommand(context),
    searchCommand(context),
    versionCommand(context),
    validateCommand(context),
    schemaCommand(context),
  ];
  for (const command of commands) program.addCommand(inheritSettings(command, program));
  return program;
}

/** addCommand does not pass on output settings and exitOverride; copy them, to nested subcommands too (`log dump`). */
function inheritSettings(command: Command, parent: Command): Command {
  command.copyInheritedSettings(parent);
  for (const subcommand of command.commands) inheritSettings(subcommand, command);
  return command;
}

/**
 * Runs the CLI on `argv` (user arguments only, without node and script) and
 * returns the exit code: 0 ok, 1 runtime failure, 2 usage or config error.
 * `program` must have been built with the same `context`.
 */
export async function runCli(
  argv: readonly string[],
  context: CliContext = processContext(),
  program: Command = buildProgram(context),
): Promise<number> {
  try {
    await program.parseAsync([...argv], { from: "user" });
    return context.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander already printed its message (or the help / version).
      return error.exitCode === EXIT_OK ? EXIT_OK : EXIT_USAGE_OR_CONFIG;
    }
    const verbose = argv.includes("--verbose");
    // A query error also shows the query with a caret under the column.
    const message = error instanceof QueryError ? renderQueryError(error) : error instanceof Error ? error.message : String(error);
    context.writeErr(`logship: ${message}\n`);
    if (verbose && error instanceof Error && error.stack !== undefined) context.writeErr(`${error.stack}\n`);
    return error instanceof ConfigError || error instanceof QueryError ? EXIT_USAGE_OR_CONFIG : EXIT_RUNTIME_FAILURE;
  }
}
