import { Command, Option } from "commander";
import { createLogger, type LogLevel } from "../../logger.ts";
import type { CliContext } from "../context.ts";

interface CollectorOptions {
  config: string;
  logFormat?: "json" | "text";
  logLevel: LogLevel;
}

/** `logship collector --config F`: serve until SIGTERM/SIGINT, then drain in-flight batches and exit 0. */
export function collectorCommand(context: CliContext): Command {
  return new Command("collector")
    .description("run a collector node: receive agent batches and store them durably")
    .requiredOption("-c, --config <file>", "collector config file (YAML)")
    .addOption(new Option("--log-format <format>", "format of logship's own log (default: text on a TTY, else json)").choices(["json", "text"]))
    .addOption(new Option("--log-level <level>", "level of logship's own log").choices(["debug", "info", "warn", "error"]).default("info"))
    .action(async (options: CollectorOptions) => {
      // Loaded here, not with the CLI: the agent's process never builds the collector's config schema.
      const { loadCollectorConfig } = await import("../../../collector/config.ts");
      const config = loadCollectorConfig(options.config, context.env);
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
