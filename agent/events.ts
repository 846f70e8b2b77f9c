/**
 * EventBlock: the unit that flows from the tailer to the shipper.
 *
 * One block holds consecutive events of one file stream, with the per-file
 * metadata (`stream`) carried once. Events without a parser or multiline rule
 * stay as raw line bytes (`lines`): no string and no object per line on the
 * hot path. Other events are decoded (`decoded`). Offsets and ids are derived
 * where they are needed.
 *
 * A block is acknowledged once, by `ack()`, when the downstream holds it
 * durably; only then may the file's checkpoint pass `endOffset`.
 */
import { type Event, eventId, formatTime } from "../shared/event.ts";
import type { LineRun } from "./tail/splitter.ts";
import type { VerbatimBytes } from "../shared/wire/batch.ts";

export interface StreamInfo {
  /** Stable identity of the file's byte stream (shared/event.ts streamKey). */
  key: string;
  source: string;
  /** The path the file had when the agent began tailing it, kept through renames. */
  path: string;
  host: string;
  /** Static fields of the source rule. */
  fields: Readonly<Record<string, unknown>>;
}

export interface DecodedEvents {
  offsets: number[];
  messages: string[];
  /** Parsed fields per event (undefined: none), already holding `parse_error` where parsing failed. */
  fields: (Record<string, unknown> | undefined)[];
  /** Parsed event time in ms per event (undefined: use observed time). */
  timesMs: (number | undefined)[];
  /**
   * Messages that are still the bytes of their line in the read buffer (an
   * ASCII line, not changed by a parser or transform): the encoder copies
   * those bytes (shared/wire/batch.ts VerbatimBytes). The buffer is valid
   * until the block's `release`.
   */
  verbatim?: (VerbatimBytes & { lines: number[] }) | undefined;
}

export interface EventBlock {
  stream: StreamInfo;
  /** When the block's bytes were read. */
  observedMs: number;
  /** File offset the checkpoint may move to once this block and all before it are acknowledged. */
  endOffset: number;
  count: number;
  /** Raw lines (no parser, no multiline) ... */
  lines: LineRun | null;
  /** ... or decoded events. Exactly one of the two is set when count > 0. */
  decoded: DecodedEvents | null;
  /** Indexes of events marked truncated. */
  truncated: number[];
  ack(): void;
  /**
   * The output no longer needs `lines` or `decoded.verbatim` (it copied
   * them): their buffer may be reused. Optional; call at most once, and
   * never touch `lines` or `decoded.verbatim` after it.
   */
  release(): void;
}

/** File offset of event `index`. */
export function eventOffset(block: EventBlock, index: number): number {
  if (block.lines !== null) return block.lines.bufferOffset + (block.lines.starts[index] as number);
  return (block.decoded as DecodedEvents).offsets[index] as number;
}

/** Message of event `index` (invalid UTF-8 replaced by U+FFFD). */
export function eventMessage(block: EventBlock, index: number): string {
  if (block.lines !== null) {
    const lines = block.lines;
    return lines.buffer.toString("utf8", lines.starts[index] as number, lines.ends[index] as number);
  }
  return (block.decoded as DecodedEvents).messages[index] as string;
}

/** The block's events as objects (dry-run output, tests; not the hot path). */
export function blockEvents(block: EventBlock): Event[] {
  const events: Event[] = [];
  const observed = formatTime(block.observedMs);
  const truncated = new Set(block.truncated);
  for (let index = 0; index < block.count; index++) {
    const offset = eventOffset(block, index);
    const parsed = block.decoded?.fields[index];
    const timeMs = block.decoded?.timesMs[index];
    const event: Event = {
      id: eventId(block.stream.key, offset),
      time: timeMs === undefined ? observed : formatTime(timeMs),
      observed_time: observed,
      host: block.stream.host,
      source: block.stream.source,
      path: block.stream.path,
      offset,
      message: eventMessage(block, index),
      // Static fields of the rule win over parsed ones: they are the operator's word.
      fields: parsed === undefined ? { ...block.stream.fields } : { ...parsed, ...block.stream.fields },
    };
    if (truncated.has(index)) event.truncated = true;
    events.push(event);
  }
  return events;
}

/** Where blocks go. `send` resolves when the block is accepted (it waits while full: backpressure). */
export interface BlockOutput {
  send(block: EventBlock): Promise<void>;
}
