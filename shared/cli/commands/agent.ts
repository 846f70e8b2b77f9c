import { setFlagsFromString } from "node:v8";
import { Command, Option } from "commander";
import { ConfigError } from "../../errors.ts";
import { createLogger, type LogLevel } from "../../logger.ts";
import type { CliContext } from "../context.ts";
import { onSignal } from "../signals.ts";

interface AgentOptions {
  config: string;
  dryRun?: boolean;
  once?: boolean;
  logFormat?: "json" | "text";
  logLevel: LogLevel;
}

/** `logship agent --config F [--dry-run [--once]]`. */
export function agentCommand(context: CliContext): Command {
  return new Command("agent")
    .description("run the agent: tail files by rule and ship their events")
    .requiredOption("-c, --config <file>", "agent config file (YAML)")
    .option("--dry-run", "print the events the rules produce as NDJSON, from the start of each file; ship nothing, write no checkpoint")
    .option("--once", "with --dry-run: exit at the end of the files")
    .addOption(new Option("--log-format <format>", "format of logship's own log (default: text on a TTY, else json)").choices(["json", "text"]))
    .addOption(new Option("--log-level <level>", "level of logship's own log").choices(["debug", "info", "warn", "error"]).default("info"))
    .action(async (options: AgentOptions) => {
      if (options.once === true && options.dryRun !== true) throw new ConfigError("--once needs --dry-run");
      const { loadAgentConfig } = await import("../../../agent/config.ts");
      const config = loadAgentConfig(options.config, context.env);
      const logger = createLogger({
        level: options.logLevel,
        format: options.logFormat ?? (process.stderr.isTTY ? "text" : "json"),
        write: context.writeErr,
      });
      const controller = new AbortController();
      const stop = (): void => controller.abort();
      process.once("SIGTERM", stop);
      process.once("SIGINT", stop);
      try {
        const { roleFlagsUnderLoad } = await import("../../../packaging/role-options.ts");
        const flagsUnderLoad = roleFlagsUnderLoad("agent", process.execArgv, process.env);
        // Each mode loads only its own code (a smaller process: the agent runs on every host).
        if (options.dryRun === true) {
          // A dry run reads its files as fast as it can from the start: no idle time to save memory in.
          if (flagsUnderLoad.length > 0) setFlagsFromString(flagsUnderLoad.join(" "));
          const { runDryRun } = await import("../../../agent/main.ts");
          await runDryRun({ config, configFile: options.config, once: options.once === true, out: process.stdout, logger, signal: controller.signal });
          return;
        }
        const { runAgent } = await import("../../../agent/run.ts");
        await runAgent({
          config,
          configFile: options.config,
          logger,
          signal: controller.signal,
          apiListen: config.api.listen,
          // Started with V8's optimizing compilers held back (the role's options): let go once it reads fast.
          flagsUnderLoad,
          // SIGHUP re-reads the file and applies its tail rules (docs/RELOAD.md).
          reload: { load: () => loadAgentConfig(options.config, context.env), subscribe: onSignal("SIGHUP") },
        });
      } finally {
        process.off("SIGTERM", stop);
        process.off("SIGINT", stop);
      }
    });
}
