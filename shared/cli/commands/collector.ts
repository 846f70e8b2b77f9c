import { Command, Option } from "commander";
import { createLogger, type LogLevel } from "../../logger.ts";
import { createReadStream } from "node:fs";
import type { CollectorConfig } from "../../../collector/config.ts";
import { ConfigError } from "../../errors.ts";
import { EXIT_RUNTIME_FAILURE, type CliContext } from "../context.ts";

interface CollectorOptions {
  config: string;
  dryRun?: boolean;
  input?: string;
  logFormat?: "json" | "text";
  logLevel: LogLevel;
}

/** `logship collector --config F`: serve until SIGTERM/SIGINT, then drain in-flight batches and exit 0. */
export function collectorCommand(context: CliContext): Command {
  return new Command("collector")
    .description("run a collector node: receive agent batches and store them durably")
    .requiredOption("-c, --config <file>", "collector config file (YAML)")
    .option("--dry-run", "print the events read as NDJSON (--input, else standard input) as the config's transforms and routes leave them, each with its stream; store nothing, listen nowhere")
    .option("--input <file>", "with --dry-run: NDJSON events to read (what `logship agent --dry-run` prints) instead of standard input")
    .addOption(new Option("--log-format <format>", "format of logship's own log (default: text on a TTY, else json)").choices(["json", "text"]))
    .addOption(new Option("--log-level <level>", "level of logship's own log").choices(["debug", "info", "warn", "error"]).default("info"))
    .action(async (options: CollectorOptions) => {
      // Loaded here, not with the CLI: the agent's process never builds the collector's config schema.
      const { loadCollectorConfig } = await import("../../../collector/config.ts");
      const config = loadCollectorConfig(options.config, context.env);
      if (options.dryRun === true) return dryRun(config, options.input, context);
      if (options.input !== undefined) throw new ConfigError("--input is for --dry-run");
      const logger = createLogger({
        level: options.logLevel,
        format: options.logFormat ?? (process.stderr.isTTY ? "text" : "json"),
        write: context.writeErr,
      });
      let stop: (signal: string) => void = () => undefined;
      const stopped = new Promise<string>((resolve) => (stop = resolve));
      const onSigterm = (): void => stop("SIGTERM");
      const onSigint = (): void => stop("SIGINT");
      process.once("SIGTERM", onSigterm);
      process.once("SIGINT", onSigint);
      try {
        const { startCollector } = await import("../../../collector/main.ts");
        const collector = await startCollector({ config, logger });
        const signal = await stopped;
        logger.info("shutting down: finishing in-flight batches", { signal });
        await collector.stop();
      } finally {
        process.off("SIGTERM", onSigterm);
        process.off("SIGINT", onSigint);
      }
    });
}

/** `--dry-run`: the transforms and routes over NDJSON events (collector/routing/dry-run.ts); a summary line on stderr. */
async function dryRun(config: CollectorConfig, input: string | undefined, context: CliContext): Promise<void> {
  const { collectorDryRun } = await import("../../../collector/routing/dry-run.ts");
  // Imported here, not at the top: every command loads this module, and only this one reads lines.
  const { createInterface } = await import("node:readline");
  const stream = input === undefined ? process.stdin : createReadStream(input);
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  const totals = await collectorDryRun({ processing: { transforms: config.transforms, routes: config.routes }, lines, writeOut: context.writeOut, writeErr: context.writeErr });
  const perStream = Object.entries(totals.streams).map(([name, count]) => `${name} ${count}`).join(", ");
  context.writeErr(`logship: dry run: ${totals.events} events read, ${totals.events - totals.kept} dropped by the transforms, ${totals.kept} kept${perStream === "" ? "" : ` (${perStream})`}${totals.badLines > 0 ? `; ${totals.badLines} lines were not events` : ""}\n`);
  if (totals.badLines > 0) context.exitCode = EXIT_RUNTIME_FAILURE;
}
