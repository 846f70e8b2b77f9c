/**
 * `logship up [--config F] [--path GLOB ...] [--data-dir D] [--listen ADDR]`:
 * everything on one machine in one process — a collector (embedded log,
 * embedded search index, HTTP API) on 127.0.0.1:7170 and an agent tailing
 * files into it (up/, docs/UP.md). Config problems exit 2 before anything
 * listens; SIGTERM/SIGINT stop the agent first (it flushes and
 * checkpoints), then the collector, and exit 0. SIGHUP re-reads --config
 * and applies the agent's tail rules (docs/RELOAD.md); the collector
 * section is read only at start.
 */
import { basename, relative } from "node:path";
import { Command, Option } from "commander";
import { createLogger, type LogLevel } from "../../logger.ts";
import type { CliContext } from "../context.ts";
import { onSignal } from "../signals.ts";

interface UpOptions {
  config?: string;
  path?: string[];
  dataDir?: string;
  listen?: string;
  logFormat?: "json" | "text";
  logLevel: LogLevel;
}

export function upCommand(context: CliContext): Command {
  return new Command("up")
    .description("all-in-one on this machine: a collector on 127.0.0.1:7170 with its search index, and an agent tailing files into it")
    .option("-c, --config <file>", "up config (YAML): collector: and agent: sections, each a collector or agent config; default: none")
    .option("--path <glob>", "tail the files matching this glob from their beginning (repeatable; adds a source named files)", collect)
    .option("--data-dir <dir>", "where the log, the index, checkpoints and the token go (default: ./logship-data, or data_dir of --config)")
    .option("--listen <host:port>", "collector address (default: 127.0.0.1:7170, or collector.listen of --config)")
    .addOption(new Option("--log-format <format>", "format of logship's own log (default: text on a TTY, else json)").choices(["json", "text"]))
    .addOption(new Option("--log-level <level>", "level of logship's own log").choices(["debug", "info", "warn", "error"]).default("info"))
    .addHelpText(
      "after",
      [
        "",
        "Prints, once running, the search and status commands with the address and token.",
        "Data: log, index, checkpoints and the token file (./logship-data/token) under --data-dir.",
        "Tokens: $LOGSHIP_TOKEN, else the token file (made at the first start), unless collector.tokens is set.",
        "SIGTERM/SIGINT: the agent flushes and checkpoints, then the collector stops.",
        "SIGHUP: re-read --config and apply agent.sources (docs/RELOAD.md); other settings need a restart.",
        "",
        "Examples:",
        "  logship up --path '/var/log/myapp/*.log'",
        "  logship up --config up.yaml            # collector: and agent: sections (docs/UP.md)",
        "  logship schema up > up.schema.json     # for editors",
      ].join("\n"),
    )
    .action(async (options: UpOptions) => {
      // Imported here: every command module is loaded by every process, the agent's too.
      const { defaultUpConfig, loadUpConfig, planUp } = await import("../../../up/config.ts");
      const flags = { configFile: options.config, paths: options.path ?? [], dataDir: options.dataDir, listen: options.listen, cwd: process.cwd() };
      const readPlan = () => planUp(options.config === undefined ? defaultUpConfig() : loadUpConfig(options.config, context.env), flags);
      const plan = readPlan();
      const logger = createLogger({
        level: options.logLevel,
        format: options.logFormat ?? (process.stderr.isTTY ? "text" : "json"),
        write: context.writeErr,
      });
      const controller = new AbortController();
      const stop = (signal: string): void => {
        logger.info("shutting down: the agent flushes and checkpoints, then the collector stops (a second signal kills)", { signal });
        controller.abort();
        // A second signal of either kind gets Node's default: the process ends at once.
        process.off("SIGTERM", onSigterm);
        process.off("SIGINT", onSigint);
      };
      const onSigterm = (): void => stop("SIGTERM");
      const onSigint = (): void => stop("SIGINT");
      process.once("SIGTERM", onSigterm);
      process.once("SIGINT", onSigint);
      try {
        const { runUp } = await import("../../../up/run.ts");
        await runUp({
          plan,
          env: context.env,
          logger,
          signal: controller.signal,
          writeOut: context.writeOut,
          command: invocation(),
          reload: { replan: readPlan, subscribe: onSignal("SIGHUP") },
        });
      } finally {
        process.off("SIGTERM", onSigterm);
        process.off("SIGINT", onSigint);
      }
    });
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** How to run logship again from here: the installed binary, or this checkout's entry point under the pinned Node. */
function invocation(): string {
  const entry = process.argv[1];
  if (entry === undefined || !entry.endsWith(".ts")) return basename(process.execPath) === "node" ? "logship" : basename(process.execPath);
  return `npx node ${relative(process.cwd(), entry) || entry}`;
}
