/**
 * Per-file acknowledgement tracking. Blocks of one file are sent in file
 * order but may be acknowledged in any order; the acknowledged offset moves
 * only over a prefix of blocks that are all acknowledged, so a checkpoint
 * never passes an event that is not delivered.
 *
 * Limit: the queue holds one entry per block in flight; the output bounds
 * blocks in flight, so this is bounded too.
 */
interface Entry {
  endOffset: number;
  acked: boolean;
}

export class AckTracker {
  private readonly queue: Entry[] = [];
  private head = 0;
  ackedOffset: number;

  constructor(startOffset: number) {
    this.ackedOffset = startOffset;
  }

  /** Register the next block (ending at `endOffset`); returns its ack function (idempotent). */
  track(endOffset: number): () => void {
    const last = this.trackedOffset;
    if (endOffset < last) throw new Error(`assertion failed: block end ${endOffset} before ${last}`);
    const entry: Entry = { endOffset, acked: false };
    this.queue.push(entry);
    return () => {
      if (entry.acked) return;
      entry.acked = true;
      this.advance();
    };
  }

  /** End of the last block tracked (or the acknowledged offset when none is in flight). */
  get trackedOffset(): number {
    return this.queue.length > this.head ? (this.queue[this.queue.length - 1] as Entry).endOffset : this.ackedOffset;
  }

  /** Blocks sent and not yet acknowledged, counted up to the first gap. */
  get inFlight(): number {
    return this.queue.length - this.head;
  }

  private advance(): void {
    while (this.head < this.queue.length && (this.queue[this.head] as Entry).acked) {
      this.ackedOffset = (this.queue[this.head] as Entry).endOffset;
      this.head++;
    }
    if (this.head > 64 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }
}
