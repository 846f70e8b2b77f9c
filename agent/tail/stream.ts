/**
 * FileStream: one file's byte stream as the agent follows it — its identity
 * (key, head, generation), where reading is, and what is acknowledged. A
 * stream outlives the file handle: a stream whose file was truncated
 * (copytruncate) is `detached` and may be adopted by the rotated copy, which
 * holds the bytes it had not read yet; a stream restored from a checkpoint is
 * an `orphan` until discovery finds its file.
 */
import type { FileHandle } from "node:fs/promises";
import { AckTracker } from "./acks.ts";
import { ownCopy } from "./fingerprint.ts";
import { EventDecoder } from "./decode.ts";
import { LineSplitter } from "./splitter.ts";
import type { SourceRuntime } from "./source.ts";

export type StreamState =
  /** Open and followed. */
  | "active"
  /** Open, but its file was deleted or renamed out of every rule: read to the end, then closed. */
  | "draining"
  /** Closed after `close_inactive`; reopened when its file grows. */
  | "idle"
  /** Lost its file to truncation; waits `rotate_wait` for a rotated copy to adopt it. */
  | "detached"
  /** Known from the checkpoint, file not found yet. */
  | "orphan"
  /** Finished: nothing more will be read. Dropped once fully acknowledged. */
  | "done";

export const MARKER_BYTES = 16;

export class FileStream {
  /** The rule the stream follows; a config reload may change it (`retarget`). */
  source: SourceRuntime;
  key: string | null;
  readonly generation: number;
  /** The path the file had when first tailed (the event `path`). */
  readonly pathLabel: string;
  /** Where the file was last seen. */
  currentPath: string;
  device: number;
  inode: number;
  handle: FileHandle | null = null;
  state: StreamState;
  /** First bytes of the file, up to fingerprint_bytes (grows while the file is small). */
  head: Buffer;
  /** From a checkpoint: hash of the first `headBytes` bytes, until the file is found. */
  headHash: { bytes: number; hash: string } | null = null;
  /** From a checkpoint: hash of the `bytes` bytes before `offset` (the checkpointed offset). */
  markerHash: { bytes: number; hash: string; offset: number } | null = null;
  /** The MARKER_BYTES bytes before `readOffset`: detects truncation on the next read. */
  lastBytes: Buffer;
  readOffset: number;
  splitter: LineSplitter;
  decoder: EventDecoder;
  readonly acks: AckTracker;
  /** A read may find new bytes (file grew, a change event, or the last read filled its budget). */
  mayHaveData = true;
  lastGrowthMs: number;
  /** File size last seen by stat (0: unknown); sizes the next read. */
  sizeSeen = 0;
  stateSinceMs: number;

  constructor(init: {
    source: SourceRuntime;
    key: string | null;
    generation: number;
    pathLabel: string;
    currentPath: string;
    device: number;
    inode: number;
    state: StreamState;
    head: Buffer;
    offset: number;
    /** Where acknowledgement starts, when below `offset` (bytes between them are spooled, not yet acknowledged). */
    ackedOffset?: number;
    lastBytes: Buffer;
    nowMs: number;
  }) {
    this.source = init.source;
    this.key = init.key;
    this.generation = init.generation;
    this.pathLabel = init.pathLabel;
    this.currentPath = init.currentPath;
    this.device = init.device;
    this.inode = init.inode;
    this.state = init.state;
    this.head = init.head;
    this.readOffset = init.offset;
    this.lastBytes = init.lastBytes;
    this.splitter = new LineSplitter({ lineBytesMax: init.source.lineBytesMax, startOffset: init.offset });
    this.decoder = new EventDecoder(init.source.parser, init.source.createJoiner(), init.source.transforms !== null);
    this.acks = new AckTracker(init.ackedOffset ?? init.offset);
    this.lastGrowthMs = init.nowMs;
    this.stateSinceMs = init.nowMs;
  }

  get inodeKey(): string {
    return `${this.device}:${this.inode}`;
  }

  setState(state: StreamState, nowMs: number): void {
    this.state = state;
    this.stateSinceMs = nowMs;
  }

  /**
   * Follow the file under another rule (config reload), from where reading
   * is: the carried partial line goes on under the new rule's line limit,
   * parser and multiline joining. The caller emitted the event the old
   * joiner held first.
   */
  retarget(source: SourceRuntime): void {
    if (this.decoder.heldOffset !== null) throw new Error("assertion failed: no multiline event held when a stream changes rule");
    this.source = source;
    this.splitter = this.splitter.withLineBytesMax(source.lineBytesMax);
    this.decoder = new EventDecoder(source.parser, source.createJoiner(), source.transforms !== null);
  }

  /** Remember the bytes just before the new read offset (in a buffer of their own: ownCopy). */
  advanceRead(chunk: Buffer): void {
    this.readOffset += chunk.length;
    if (chunk.length >= MARKER_BYTES) {
      this.lastBytes = ownCopy(chunk.subarray(chunk.length - MARKER_BYTES));
    } else {
      const joined = Buffer.concat([this.lastBytes, chunk]);
      this.lastBytes = ownCopy(joined.subarray(Math.max(0, joined.length - MARKER_BYTES)));
    }
  }
}
