/**
 * Runs a Tailer in-process over real files with an output that collects the
 * events and acknowledges them: the tailer's behaviour without any network.
 */
import type { Event } from "../../shared/event.ts";
import { silentLogger, type Logger } from "../../shared/logger.ts";
import { blockEvents, type BlockOutput, type EventBlock } from "../../agent/events.ts";
import { MemoryCheckpointStore, type CheckpointStore } from "../../agent/tail/checkpoint.ts";
import { sourceRuntime, type SourceRuntime, type TailOptions } from "../../agent/tail/source.ts";
import { Tailer } from "../../agent/tail/tailer.ts";

export const testTailOptions: TailOptions = {
  openFilesMax: 256,
  closeInactiveMs: 60_000,
  rescanIntervalMs: 200,
  readBytesPerPass: 64 * 1024,
  rotateWaitMs: 2_000,
  checkpointIntervalMs: 100,
  fingerprintBytes: 1024,
  statIntervalMs: 50,
  statIntervalMaxMs: 1_000,
};

export function testSource(init: Partial<Omit<SourceRuntime, "createJoiner">> & { paths: string[] }): SourceRuntime {
  return sourceRuntime({
    name: "test",
    exclude: [],
    startAt: "beginning",
    fields: {},
    parser: null,
    multiline: null,
    lineBytesMax: 1024 * 1024,
    ...init,
  });
}

export class CollectingOutput implements BlockOutput {
  readonly events: Event[] = [];
  blocks = 0;
  async send(block: EventBlock): Promise<void> {
    this.blocks++;
    for (const event of blockEvents(block)) this.events.push(event);
    // Hand the read buffer back, as real outputs do: a reuse bug shows up as corrupted messages.
    block.release();
    block.ack();
  }
}

export interface HarnessOptions {
  sources: SourceRuntime[];
  tail?: Partial<TailOptions>;
  output?: BlockOutput;
  checkpoints?: CheckpointStore;
  once?: boolean;
  /** Watch directories for file events (default: unless `once`); off, files are found and followed by rescans and polls alone. */
  watch?: boolean;
  host?: string;
  logger?: Logger;
}

/** Start a tailer; returns its output and a stop function that waits for it to end. */
export function startTailer(options: HarnessOptions): { output: CollectingOutput; tailer: Tailer; done: Promise<void>; stop: () => Promise<void> } {
  const output = (options.output ?? new CollectingOutput()) as CollectingOutput;
  const controller = new AbortController();
  const tailer = new Tailer({
    sources: options.sources,
    tail: { ...testTailOptions, ...options.tail },
    host: options.host ?? "test-host",
    output,
    checkpoints: options.checkpoints ?? new MemoryCheckpointStore(),
    logger: options.logger ?? silentLogger,
    fromBeginning: false,
    once: options.once ?? false,
    watch: options.watch ?? !(options.once ?? false),
  });
  const done = tailer.run(controller.signal).then(() => tailer.close());
  return {
    output,
    tailer,
    done,
    stop: async () => {
      controller.abort();
      await done;
    },
  };
}

/** Wait until `condition` holds, polling; fails after `timeoutMs`. */
export async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
