/**
 * `logship up` running: a collector (collector/main.ts, embedded log and
 * search index, HTTP API) and a local agent (agent/run.ts) shipping to it
 * over loopback HTTP, in one process. The agent goes through the same
 * ingest path as any remote agent (auth, limits, dedupe, the log's fsync),
 * so what up shows is what a fleet would do.
 *
 * Order: the collector starts first (the agent's first batch needs it), then
 * the agent, then the banner on stdout says how to search. When `signal`
 * aborts (SIGTERM/SIGINT), the agent stops first — it stops reading, spools
 * what it holds, gives in-flight batches `delivery.shutdown_timeout` to be
 * acknowledged by the still-running collector, and writes its checkpoints —
 * then the collector stops (its in-flight batches, sink runners, log).
 *
 * Reload (SIGHUP, docs/RELOAD.md): the up config is read and planned again
 * and its agent part goes to the agent's reload, as for `logship agent`;
 * the collector keeps the settings it started with.
 */
import type { Env } from "../shared/config/env.ts";
import { LogshipError } from "../shared/errors.ts";
import type { Logger } from "../shared/logger.ts";
import { localAgentConfig, type UpPlan } from "./config.ts";
import type { AgentReloadSource } from "../agent/run.ts";
import { banner } from "./banner.ts";
import { localTokens } from "./tokens.ts";

export interface RunUpOptions {
  plan: UpPlan;
  env: Env;
  logger: Logger;
  /** Aborted: stop (agent first, then collector). */
  signal: AbortSignal;
  /** Where the banner goes (stdout; the log is on stderr). */
  writeOut: (text: string) => void;
  /** How to invoke logship in the printed commands. */
  command: string;
  /** Reload the agent's tail rules on request: `replan` reads the config and flags again (throws ConfigError). */
  reload?: { replan: () => UpPlan; subscribe: AgentReloadSource["subscribe"] };
}

/** Resolves once both are stopped; rejects (after stopping the collector) when either fails. */
export async function runUp(options: RunUpOptions): Promise<void> {
  const { plan, logger } = options;
  const tokens = await localTokens({ configured: plan.collector.tokens, agentToken: plan.agentToken, dataDir: plan.dataDir, env: options.env });
  // Imported here: the agent process loads every command module, and this one needs the collector's code (node:sqlite among it).
  const { startCollector } = await import("../collector/main.ts");
  const collector = await startCollector({ config: { ...plan.collector, tokens: tokens.tokens }, logger: logger.child({ component: "collector" }) }).catch((error: unknown) => {
    throw listenError(error, plan.collector.listen);
  });
  try {
    const collectorUrl = loopbackUrl(collector.url);
    const { runAgent } = await import("../agent/run.ts");
    const reload = options.reload;
    const agentToken = tokens.agentToken;
    await runAgent({
      ...(reload === undefined ? {} : { reload: { load: () => localAgentConfig(reload.replan(), collectorUrl, agentToken), subscribe: reload.subscribe } }),
      config: localAgentConfig(plan, collectorUrl, tokens.agentToken),
      configFile: plan.agentConfigFile,
      logger: logger.child({ component: "agent" }),
      signal: options.signal,
      apiListen: plan.agentApiListen,
      onRunning: (_agent, agentApi) => {
        options.writeOut(banner({ command: options.command, url: collectorUrl, plan, tokens, agentApi }));
        logger.info("logship up is running", { url: collectorUrl, data_dir: plan.dataDir, sources: plan.agent.sources.map((source) => source.name) });
      },
    });
  } finally {
    await collector.stop();
  }
  logger.info("logship up stopped");
}

/** A taken address is the likely first failure of a second `up` on a machine: say what to do. */
function listenError(error: unknown, listen: string): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  if (code !== "EADDRINUSE" && code !== "EACCES") return error;
  const why = code === "EADDRINUSE" ? "the address is in use (another logship up or collector?)" : "permission denied";
  return new LogshipError("LOGSHIP_UP_LISTEN", `cannot listen on ${listen}: ${why}; pass --listen host:port or set collector.listen`, { cause: error });
}

/** The collector's URL as a local client reaches it: a wildcard address means loopback. */
export function loopbackUrl(url: string): string {
  return url.replace("//0.0.0.0:", "//127.0.0.1:").replace("//[::]:", "//[::1]:");
}
