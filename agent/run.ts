/**
 * The shipping agent as a process runs it, shared by `logship agent` and
 * `logship up` (which runs it beside a collector in one process): the
 * Agent (agent.ts) and, when asked, its status API, until `signal` aborts;
 * then the agent drains (in-flight batches get `delivery.shutdown_timeout`),
 * writes its checkpoints and spool state, and the API closes. With
 * `reload`, each request (SIGHUP) re-reads the config and applies its tail
 * rules (reload.ts, docs/RELOAD.md).
 */
import type { Logger } from "../shared/logger.ts";
import { Agent } from "./agent.ts";
import { startAgentApi } from "./api.ts";
import type { AgentConfig } from "./config.ts";
import { ConfigReloader } from "./reload.ts";

/** Where reload requests come from and how the config is read again. */
export interface AgentReloadSource {
  /** Reads and validates the config again; throws ConfigError listing every issue. */
  load: () => AgentConfig;
  /** Calls `onRequest` at each request (SIGHUP); returns the function that stops listening. */
  subscribe: (onRequest: () => void) => () => void;
}

export interface RunAgentOptions {
  config: AgentConfig;
  /** Relative globs resolve against its directory; error messages name it. */
  configFile: string;
  logger: Logger;
  signal: AbortSignal;
  /** Serve the status API on this address (`api.listen`); undefined: no API. */
  apiListen: string | undefined;
  /** Reload the tail rules on request; undefined: no reload. */
  reload?: AgentReloadSource;
  /** V8 flags to set once the agent reads fast (agent/optimizing-compilers.ts); none by default. */
  flagsUnderLoad?: readonly string[];
  /** Called once the agent is built and its API (if any) listens, before it starts reading. */
  onRunning?: (agent: Agent, apiAddress: string | undefined) => void;
}

/** Resolves once the agent stopped and flushed; rejects on what stopped it otherwise. */
export async function runAgent(options: RunAgentOptions): Promise<void> {
  const { config, logger } = options;
  const agent = new Agent({ config, configFile: options.configFile, logger, shutdownDeadlineMs: config.delivery.shutdown_timeout, flagsUnderLoad: options.flagsUnderLoad ?? [] });
  const reload = options.reload;
  let unsubscribe: (() => void) | undefined;
  if (reload !== undefined) {
    const reloader = new ConfigReloader({ agent, load: reload.load, logger });
    unsubscribe = reload.subscribe(() => void reloader.request());
  }
  const api = options.apiListen === undefined ? undefined : await startAgentApi(options.apiListen, () => agent.status(), logger, agent.metrics.registry).catch((error: unknown) => {
    unsubscribe?.();
    throw error;
  });
  try {
    options.onRunning?.(agent, api?.address);
    await agent.run(options.signal);
  } finally {
    unsubscribe?.();
    api?.server.close();
  }
  logger.info("agent stopped");
}
