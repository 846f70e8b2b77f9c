/**
 * The agent process: loads its config, builds the tail rules and runs the
 * tailer until SIGTERM/SIGINT. `--dry-run` prints events instead of shipping
 * them and writes no checkpoint.
 */
import { MemoryCheckpointStore } from "./tail/checkpoint.ts";
import { Tailer } from "./tail/tailer.ts";
import type { Logger } from "../shared/logger.ts";
import type { AgentConfig } from "./config.ts";
import { agentHost, buildSources, buildTailOptions } from "./build.ts";
import { NdjsonOutput } from "./ndjson-output.ts";
import type { Writable } from "node:stream";

export interface DryRunOptions {
  config: AgentConfig;
  configFile: string;
  once: boolean;
  out: Writable;
  logger: Logger;
  signal: AbortSignal;
}

/** Print the events the rules produce, from the start of every matched file. Returns the event count. */
export async function runDryRun(options: DryRunOptions): Promise<number> {
  const output = new NdjsonOutput(options.out);
  const tailer = new Tailer({
    sources: buildSources(options.config, options.configFile),
    tail: buildTailOptions(options.config),
    host: agentHost(options.config),
    output,
    checkpoints: new MemoryCheckpointStore(),
    logger: options.logger,
    fromBeginning: true,
    once: options.once,
    watch: !options.once,
  });
  try {
    await tailer.run(options.signal);
  } finally {
    await tailer.close();
  }
  return output.events;
}
