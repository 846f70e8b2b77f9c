/**
 * Gathers EventBlocks into one wire batch (shared/wire/batch.ts). Per-file
 * metadata goes once into the header's stream table; raw line runs go in as
 * the file's bytes (one copy, when the payload is joined); decoded events
 * are written as EVENTS segments into the builder's arena (shared/wire/batch.ts
 * SegmentArena), which the next batch writes over.
 */
import type { DecodedEvents, EventBlock } from "../events.ts";
import { eventMessage, eventOffset } from "../events.ts";
import { encodePayload, eventsSegment, rawSegment, SegmentArena, type BatchHeader, type SegmentParts, type WireStream } from "../../shared/wire/batch.ts";

/** A stream's byte range covered by a batch: what the agent must not read again once the batch is spooled. */
export interface StreamRange {
  key: string;
  endOffset: number;
}

export interface BuiltBatch {
  payload: Buffer;
  events: number;
  /** Each stream's end offset in this batch. */
  ranges: StreamRange[];
  /** Acknowledge every block in the batch (their checkpoints may move). */
  acks: (() => void)[];
}

export class BatchBuilder {
  private streams: WireStream[] = [];
  private readonly streamIndex = new Map<string, number>();
  private segments: SegmentParts[] = [];
  /** Where this batch's EVENTS segments are written; written over once the batch is joined. */
  private readonly arena = new SegmentArena();
  private readonly ends = new Map<string, number>();
  private acks: (() => void)[] = [];
  private releases: (() => void)[] = [];
  bytes = 0;
  events = 0;
  firstAddedMs = 0;

  get empty(): boolean {
    return this.segments.length === 0 && this.acks.length === 0;
  }

  add(block: EventBlock, nowMs: number): void {
    if (this.empty) this.firstAddedMs = nowMs;
    let index = this.streamIndex.get(block.stream.key);
    if (index === undefined || !sameMetadata(this.streams[index] as WireStream, block.stream)) {
      // A new stream, or one whose rule changed (a config reload: new fields) within this batch: its own table entry.
      index = this.streams.length;
      this.streams.push({ key: block.stream.key, source: block.stream.source, path: block.stream.path, fields: block.stream.fields });
      this.streamIndex.set(block.stream.key, index);
      this.bytes += block.stream.key.length + block.stream.source.length + block.stream.path.length + 64;
    }
    const segment = blockSegment(block, index, this.arena);
    if (segment !== null) {
      this.segments.push(segment);
      this.bytes += segment.bytes;
      this.events += segment.count;
    }
    this.ends.set(block.stream.key, block.endOffset);
    this.acks.push(block.ack);
    // Decoded events are in their segment now (verbatim bytes copied); raw lines are copied when the batch is joined.
    if (block.lines === null) block.release();
    else this.releases.push(block.release);
  }

  /** Join the batch (into a buffer from `allocate`, if given) and hand the blocks' read buffers back. */
  build(header: Omit<BatchHeader, "streams">, allocate?: (bytes: number) => Buffer): BuiltBatch {
    const payload = encodePayload({ ...header, streams: this.streams }, this.segments, allocate);
    this.arena.reset();
    for (const release of this.releases) release();
    this.releases = [];
    const built: BuiltBatch = {
      payload,
      events: this.events,
      ranges: [...this.ends].map(([key, endOffset]) => ({ key, endOffset })),
      acks: this.acks,
    };
    this.streams = [];
    this.streamIndex.clear();
    this.segments = [];
    this.ends.clear();
    this.acks = [];
    this.bytes = 0;
    this.events = 0;
    return built;
  }
}

function blockSegment(block: EventBlock, stream: number, arena: SegmentArena): SegmentParts | null {
  if (block.count === 0) return null;
  const run = block.lines;
  if (run !== null && run.truncated.length === 0) {
    const first = run.starts[0] as number;
    const end = run.consumedOffset - run.bufferOffset;
    const unterminated = run.buffer[end - 1] !== 0x0a;
    return rawSegment(stream, block.observedMs, run.bufferOffset + first, block.count, run.buffer.subarray(first, end), unterminated);
  }
  if (run !== null) {
    // Raw lines with a cut one: the EVENTS form, which can mark it.
    const offsets: number[] = [];
    const messages: string[] = [];
    for (let index = 0; index < block.count; index++) {
      offsets.push(eventOffset(block, index));
      messages.push(eventMessage(block, index));
    }
    return eventsSegment(stream, block.observedMs, { offsets, messages, timesMs: [], fields: [] }, block.truncated, arena);
  }
  return eventsSegment(stream, block.observedMs, block.decoded as DecodedEvents, block.truncated, arena);
}

/** Blocks of one stream share its entry while its rule's metadata stays the same. */
function sameMetadata(entry: WireStream, stream: EventBlock["stream"]): boolean {
  if (entry.source !== stream.source || entry.path !== stream.path) return false;
  return entry.fields === stream.fields || JSON.stringify(entry.fields) === JSON.stringify(stream.fields);
}
