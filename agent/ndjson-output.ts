/**
 * Writes events as NDJSON to a stream and acknowledges each block once the
 * stream took it: the output of `--dry-run`. Waits for `drain` when the
 * stream is full (a slow pipe slows the tailer; nothing piles up).
 */
import type { Writable } from "node:stream";
import { once } from "node:events";
import { blockEvents, type BlockOutput, type EventBlock } from "./events.ts";

export class NdjsonOutput implements BlockOutput {
  private readonly stream: Writable;
  events = 0;

  constructor(stream: Writable) {
    this.stream = stream;
  }

  async send(block: EventBlock): Promise<void> {
    let text = "";
    for (const event of blockEvents(block)) text += JSON.stringify(event) + "\n";
    block.release();
    this.events += block.count;
    if (!this.stream.write(text)) await once(this.stream, "drain");
    block.ack();
  }
}
