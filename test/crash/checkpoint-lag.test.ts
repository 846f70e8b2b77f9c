/**
 * How much a crash re-sends is bounded by how stale the checkpoint can be:
 * acknowledged offsets reach disk within `checkpoint_interval`, also when the
 * acknowledgement comes after the block was sent (a shipper acknowledges
 * when the collector answers) and when the file has gone quiet.
 */
import { test } from "node:test";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BlockOutput, EventBlock } from "../../agent/events.ts";
import type { CheckpointEntry, CheckpointStore } from "../../agent/tail/checkpoint.ts";
import { startTailer, testSource, waitFor } from "../helpers/tail-harness.ts";

class RecordingStore implements CheckpointStore {
  readonly saves: { atMs: number; entries: CheckpointEntry[] }[] = [];
  async load(): Promise<CheckpointEntry[]> {
    return [];
  }
  async save(entries: CheckpointEntry[]): Promise<void> {
    this.saves.push({ atMs: Date.now(), entries: structuredClone(entries) });
  }
  savedAt(offset: number): number | null {
    return this.saves.find((save) => save.entries.some((entry) => entry.offset >= offset))?.atMs ?? null;
  }
}

/** Accepts blocks at once; acknowledges each `delayMs` later. */
class LateAckOutput implements BlockOutput {
  readonly delayMs: number;
  lastAckMs = 0;
  constructor(delayMs: number) {
    this.delayMs = delayMs;
  }
  async send(block: EventBlock): Promise<void> {
    const ack = (): void => {
      block.ack();
      this.lastAckMs = Date.now();
    };
    if (this.delayMs === 0) ack();
    else setTimeout(ack, this.delayMs);
  }
}

function lines(count: number): string {
  let text = "";
  for (let n = 0; n < count; n++) text += `line ${n}\n`;
  return text;
}

/** A file of 100 lines that then stays quiet, tailed with acknowledgements `ackDelayMs` late and every checkpoint write recorded. */
function tailQuietFile(t: { after: (fn: () => unknown) => void }, ackDelayMs: number, tail: { checkpointIntervalMs: number; statIntervalMs: number }) {
  const dir = mkdtempSync(join(tmpdir(), "logship-cplag-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, "quiet.log");
  writeFileSync(file, lines(100));
  const store = new RecordingStore();
  const output = new LateAckOutput(ackDelayMs);
  const tailer = startTailer({ sources: [testSource({ paths: [join(dir, "*.log")] })], output: output as never, checkpoints: store, tail: { ...tail, rescanIntervalMs: 60_000 } });
  t.after(() => tailer.stop());
  return { size: statSync(file).size, store, output };
}

test("an acknowledgement that arrives after a checkpoint write is checkpointed, though the file stays quiet", async (t) => {
  const { size, store, output } = tailQuietFile(t, 150, { checkpointIntervalMs: 50, statIntervalMs: 50 });
  await waitFor(() => output.lastAckMs > 0, 5000, "the acknowledgement");
  await waitFor(() => store.savedAt(size) !== null, 3000, `a checkpoint at offset ${size} while the tailer runs`);
});

test("an idle tailer writes acknowledged offsets on its checkpoint timer, not at its next stat", async (t) => {
  // The next stat is a minute away: only the checkpoint timer can write the offset within the wait.
  const { size, store, output } = tailQuietFile(t, 0, { checkpointIntervalMs: 20, statIntervalMs: 60_000 });
  await waitFor(() => store.savedAt(size) !== null, 10_000, `a checkpoint at offset ${size} before the next stat`);
  t.diagnostic(`checkpoint written ${(store.savedAt(size) as number) - output.lastAckMs} ms after the acknowledgement (checkpoint_interval 20 ms)`);
});
