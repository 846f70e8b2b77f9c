/**
 * An agent running in the test's own process (runAgent, as `logship agent`
 * runs it): the config as a user would write it, with test defaults (a
 * 20 ms linger, the API on a free loopback port, a 1 s shutdown), parsed by
 * the agent's schema. For tests that read its API (/status, /metrics)
 * without starting a process.
 */
import { join } from "node:path";
import { agentConfigSchema } from "../config.ts";
import { runAgent } from "../run.ts";
import { until } from "../../collector/testing/collector.ts";
import { silentLogger } from "../../shared/logger.ts";

export interface TestAgent {
  apiUrl: string;
  /** Stops the agent and waits until it has (its batches flushed or the shutdown timeout passed). */
  stop(): Promise<void>;
}

/** Starts an agent from `config` (data_dir, collectors, token, sources, …); resolves once its API listens. */
export async function startTestAgent(config: Record<string, unknown> & { data_dir: string }): Promise<TestAgent> {
  const parsed = agentConfigSchema.parse({ batch: { linger: "20ms" }, api: { listen: "127.0.0.1:0" }, delivery: { shutdown_timeout: "1s" }, ...config });
  const stopping = new AbortController();
  let apiUrl: string | undefined;
  const running = runAgent({
    config: parsed,
    configFile: join(config.data_dir, "agent.yaml"),
    logger: silentLogger,
    signal: stopping.signal,
    apiListen: parsed.api.listen,
    onRunning: (_agent, address) => (apiUrl = address),
  });
  let failure: unknown;
  running.catch((error: unknown) => (failure = error));
  await until(() => apiUrl !== undefined || failure !== undefined, "the agent API to listen");
  if (failure !== undefined) throw failure;
  return {
    apiUrl: apiUrl as string,
    async stop() {
      stopping.abort();
      await running;
    },
  };
}
