/**
 * A real agent process for crash tests, whose downstream is a durable,
 * acknowledging sink inside the process (the collector's part, until the
 * collector exists):
 *
 *   node test/helpers/acking-agent.ts --config agent.yaml --sink events.ndjson
 *
 * It loads the agent config, builds the tail rules and runs the Tailer with
 * the real FileCheckpointStore in `data_dir`. Each block's events are
 * appended to the sink file as NDJSON in one write(), the file is
 * fdatasync'ed, and only then is the block acknowledged: everything
 * acknowledged is durable, like a collector's 200. Up to SINK_IN_FLIGHT
 * blocks are accepted and not yet acknowledged at a time; `--latency-max MS`
 * delays each block's write and then its acknowledgement by a random 0..MS
 * each (a collector's round trip), so a kill finds blocks in flight, and
 * acknowledgements arrive while the tailer reads on, and out of order.
 *
 * A SIGKILL can land in the middle of a write and leave a torn last line.
 * Like a log's recovery, the sink cuts the file back to its last newline on
 * start (those bytes were never acknowledged), so a torn line is only ever
 * the file's last one.
 *
 * stdout: one line "ready" once the tailer runs. stderr: the agent's log.
 * SIGTERM/SIGINT stop it gracefully (exit 0); any failure exits 1.
 */
import { open, type FileHandle } from "node:fs/promises";
import { parseArgs } from "node:util";
import { loadAgentConfig } from "../../agent/config.ts";
import { agentHost, buildSources, buildTailOptions } from "../../agent/build.ts";
import { blockEvents, type BlockOutput, type EventBlock } from "../../agent/events.ts";
import { FileCheckpointStore } from "../../agent/tail/checkpoint.ts";
import { Tailer } from "../../agent/tail/tailer.ts";
import { createLogger, type Logger, type LogLevel } from "../../shared/logger.ts";

const SINK_IN_FLIGHT = 4;

/** Cut the file back to just after its last newline; returns the bytes dropped. */
async function dropTornTail(file: FileHandle): Promise<number> {
  const { size } = await file.stat();
  const window = 64 * 1024;
  let end = size;
  while (end > 0) {
    const start = Math.max(0, end - window);
    const buffer = Buffer.allocUnsafe(end - start);
    let filled = 0;
    while (filled < buffer.length) {
      const { bytesRead } = await file.read(buffer, filled, buffer.length - filled, start + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    const newline = buffer.subarray(0, filled).lastIndexOf(0x0a);
    if (newline !== -1) {
      end = start + newline + 1;
      break;
    }
    end = start;
  }
  if (end === size) return 0;
  await file.truncate(end);
  await file.datasync();
  return size - end;
}

/**
 * Appends each block as NDJSON and fdatasyncs it, in the order sent, then
 * acknowledges it. With `latencyMaxMs`, a block reaches the file a random
 * 0..latencyMaxMs after it was accepted (the way to the collector), and its
 * acknowledgement comes another random 0..latencyMaxMs later (the answer),
 * so acknowledgements may come out of order, and a kill finds blocks accepted
 * but not yet durable as well as durable but not yet acknowledged.
 */
class DurableSink implements BlockOutput {
  private readonly file: FileHandle;
  private readonly logger: Logger;
  private readonly latencyMaxMs: number;
  private chain: Promise<void> = Promise.resolve();
  /** Blocks accepted and not yet acknowledged. */
  private inFlight = 0;
  private waiters: (() => void)[] = [];
  private failure: Error | null = null;
  blocks = 0;
  events = 0;

  constructor(file: FileHandle, logger: Logger, latencyMaxMs: number) {
    this.file = file;
    this.logger = logger;
    this.latencyMaxMs = latencyMaxMs;
  }

  async send(block: EventBlock): Promise<void> {
    if (this.failure !== null) throw this.failure;
    let text = "";
    for (const event of blockEvents(block)) text += JSON.stringify(event) + "\n";
    const data = Buffer.from(text);
    this.inFlight++;
    this.chain = this.chain.then(async () => {
      if (this.failure !== null) return this.settled();
      const transitMs = this.latency();
      if (transitMs > 0) await new Promise((resolve) => setTimeout(resolve, transitMs));
      try {
        await this.append(data);
        await this.file.datasync();
      } catch (error) {
        this.failure = error as Error;
        this.settled();
        return;
      }
      // Durable from here on: acknowledging it can only cause a re-send, never a loss.
      const acknowledge = (): void => {
        this.blocks++;
        this.events += block.count;
        block.ack();
        this.logger.debug("sink: block acknowledged", { key: block.stream.key, end_offset: block.endOffset, events: block.count });
        this.settled();
      };
      const answerMs = this.latency();
      if (answerMs === 0) acknowledge();
      else setTimeout(acknowledge, answerMs);
    });
    while (this.inFlight >= SINK_IN_FLIGHT && this.failure === null) await this.changed();
    if (this.failure !== null) throw this.failure;
  }

  /** Wait until every accepted block is written and acknowledged. */
  async flush(): Promise<void> {
    while (this.inFlight > 0 && this.failure === null) await this.changed();
    if (this.failure !== null) throw this.failure;
  }

  private latency(): number {
    return Math.floor(Math.random() * (this.latencyMaxMs + 1));
  }

  private settled(): void {
    this.inFlight--;
    for (const wake of this.waiters.splice(0)) wake();
  }

  private changed(): Promise<void> {
    return new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /** One write() (the file is opened O_APPEND); a short write is finished by more writes. */
  private async append(data: Buffer): Promise<void> {
    let written = 0;
    while (written < data.length) {
      const { bytesWritten } = await this.file.write(data, written, data.length - written, null);
      written += bytesWritten;
    }
  }
}


async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      config: { type: "string" },
      sink: { type: "string" },
      "log-level": { type: "string", default: "info" },
      "latency-max": { type: "string", default: "0" },
    },
    strict: true,
  });
  if (values.config === undefined || values.sink === undefined) {
    process.stderr.write("usage: acking-agent.ts --config FILE --sink FILE [--log-level L] [--latency-max MS]\n");
    return 2;
  }
  const logger = createLogger({ level: values["log-level"] as LogLevel, format: "text", write: (line) => process.stderr.write(line) });
  const config = loadAgentConfig(values.config, process.env);

  const sinkFile = await open(values.sink, "a+");
  const torn = await dropTornTail(sinkFile);
  if (torn > 0) logger.info("sink: dropped a torn last line (never acknowledged)", { bytes: torn });
  const sink = new DurableSink(sinkFile, logger, Number(values["latency-max"]));

  const controller = new AbortController();
  const stop = (): void => controller.abort();
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);

  const tailer = new Tailer({
    sources: buildSources(config, values.config),
    tail: buildTailOptions(config),
    host: agentHost(config),
    output: sink,
    // Each completed save is logged (debug) so that a failing crash test can be followed.
    checkpoints: new FileCheckpointStore(config.data_dir, (entries) =>
      logger.debug("checkpoint saved", { offsets: entries.map((entry) => `${entry.key}@${entry.offset}`).join(",") }),
    ),
    logger,
    fromBeginning: false,
    once: false,
    watch: true,
  });
  const running = tailer.run(controller.signal);
  process.stdout.write("ready\n");
  await running;
  // Blocks accepted before the stop are written and acknowledged; then the checkpoint takes them in.
  await sink.flush();
  await tailer.close();
  await sinkFile.close();
  logger.info("acking agent stopped", { blocks: sink.blocks, events: sink.events });
  return 0;
}

try {
  process.exitCode = await main();
} catch (error) {
  process.stderr.write(`acking-agent failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
}
