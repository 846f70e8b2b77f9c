/**
 * The shipping agent as a process runs it, shared by `logship agent` and
 * `logship up` (which runs it beside a collector in one process): the
 * Agent (agent.ts) and, when asked, its status API, until `signal` aborts;
 * then the agent drains (in-flight batches get `delivery.shutdown_timeout`),
 * writes its checkpoints and spool state, and the API closes.
 */
import type { Logger } from "../shared/logger.ts";
import { Agent } from "./agent.ts";
import { startAgentApi } from "./api.ts";
import type { AgentConfig } from "./config.ts";

export interface RunAgentOptions {
  config: AgentConfig;
  /** Relative globs resolve against its directory; error messages name it. */
  configFile: string;
  logger: Logger;
  signal: AbortSignal;
  /** Serve the status API on this address (`api.listen`); undefined: no API. */
  apiListen: string | undefined;
  /** Called once the agent is built and its API (if any) listens, before it starts reading. */
  onRunning?: (agent: Agent, apiAddress: string | undefined) => void;
}

/** Resolves once the agent stopped and flushed; rejects on what stopped it otherwise. */
export async function runAgent(options: RunAgentOptions): Promise<void> {
  const { config, logger } = options;
  const agent = new Agent({ config, configFile: options.configFile, logger, shutdownDeadlineMs: config.delivery.shutdown_timeout });
  const api = options.apiListen === undefined ? undefined : await startAgentApi(options.apiListen, () => agent.status(), logger, agent.metrics.registry);
  try {
    options.onRunning?.(agent, api?.address);
    await agent.run(options.signal);
  } finally {
    api?.server.close();
  }
  logger.info("agent stopped");
}
