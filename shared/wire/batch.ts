/**
 * Wire format v1: one agent batch (docs/WIRE.md). The HTTP body is this
 * payload compressed with zstd; the collector checks it and stores the
 * compressed bytes as they arrived; sinks decode it later.
 *
 * Payload (all integers little-endian):
 *
 *   "LSW1"                 magic + format version 1
 *   u32  header length
 *   header                 UTF-8 JSON: {agent, host, seq, floor, created_ms, streams: [{key, source, path, fields}]}
 *   segment*               each one file stream's consecutive events:
 *     u8   kind           1 = RAW, 2 = EVENTS
 *     u32  stream         index into header.streams
 *     f64  observed_ms    when the agent read these bytes
 *     u32  count          events in the segment
 *     u32  body length    bytes of the body that follows
 *     RAW body:    f64 base offset, u8 flags (bit 0: last line has no "\n"),
 *                  then the file's bytes: `count` lines, each ending in "\n"
 *                  ("\r\n" allowed; the "\r" is not part of the line).
 *                  A line's offset is base offset + its position.
 *     EVENTS body: per event: f64 offset, u8 flags (bit 0 truncated, bit 1
 *                  has time, bit 2 has fields), [f64 time_ms], u32 message
 *                  length, message (UTF-8), [u32 fields length, fields JSON].
 *   u32  CRC-32 (zlib) of every byte before it
 *
 * RAW keeps lines as the bytes read from the file: the agent copies a read
 * buffer's range once, and per-line work (offsets, ids) happens only where
 * events are decoded.
 */
import { crc32 } from "node:zlib";
import { type Event, eventId, formatTime } from "../event.ts";
import { LogshipError } from "../errors.ts";

export const WIRE_MAGIC = Buffer.from("LSW1", "latin1");
export const WIRE_VERSION = 1;

export const SEGMENT_RAW = 1;
export const SEGMENT_EVENTS = 2;
const SEGMENT_HEADER_BYTES = 1 + 4 + 8 + 4 + 4;
const RAW_UNTERMINATED = 1;
const EVENT_TRUNCATED = 1;
const EVENT_HAS_TIME = 2;
const EVENT_HAS_FIELDS = 4;

export interface WireStream {
  key: string;
  source: string;
  path: string;
  fields: Readonly<Record<string, unknown>>;
}

export interface BatchHeader {
  /** Stable id of the agent (data_dir/agent-id). */
  agent: string;
  host: string;
  /** Batch sequence number, unique per agent for ever. */
  seq: number;
  /** Every batch of this agent with seq below `floor` is acknowledged: never sent again. */
  floor: number;
  created_ms: number;
  streams: WireStream[];
}

/** Malformed payload: the collector answers 400 with this message. */
export class WireError extends LogshipError {
  constructor(message: string) {
    super("LOGSHIP_WIRE", message);
    this.name = "WireError";
  }
}

/** One segment as the encoder builds it: a fixed header and body parts (kept by reference until `finish`). */
export interface SegmentParts {
  parts: Buffer[];
  bytes: number;
  count: number;
}

export function rawSegment(stream: number, observedMs: number, baseOffset: number, count: number, lines: Buffer, unterminated: boolean): SegmentParts {
  const head = Buffer.allocUnsafe(SEGMENT_HEADER_BYTES + 9);
  let position = writeSegmentHeader(head, 0, SEGMENT_RAW, stream, observedMs, count, 9 + lines.length);
  position = head.writeDoubleLE(baseOffset, position);
  head.writeUInt8(unterminated ? RAW_UNTERMINATED : 0, position);
  return { parts: [head, lines], bytes: head.length + lines.length, count };
}

/**
 * A segment's events as columns, index by index (agent/events.ts
 * DecodedEvents has this shape): no object per event on the way to the wire.
 */
export interface WireEventColumns {
  offsets: readonly number[];
  messages: readonly string[];
  /** Parsed event time in ms (undefined: the reader uses the observed time). */
  timesMs: readonly (number | undefined)[];
  fields: readonly (Readonly<Record<string, unknown>> | undefined)[];
  /** Messages that are byte for byte a range of a buffer the agent read (VerbatimBytes); absent: none. */
  verbatim?: VerbatimBytes | undefined;
}

/** VerbatimBytes.lines: the message is not a range of the buffer, but holds ASCII characters only. */
export const ASCII_MESSAGE = -2;

/**
 * Where messages are already their UTF-8 bytes: event `index` is line
 * `lines[index]` of the read, `buffer[starts[line], ends[line])`, when that
 * is >= 0 (a line read as ASCII and not changed since). The encoder copies
 * those bytes instead of encoding the string (a copy is cheaper than a
 * UTF-8 write per message: issue 11's note). `lines[index] ===
 * ASCII_MESSAGE`: the message string is known to hold only ASCII (a changed
 * ASCII line), and is written one byte per character, which is cheaper
 * than UTF-8 encoding it. Any other negative value: encoded as UTF-8.
 */
export interface VerbatimBytes {
  buffer: Buffer;
  /** The read's line ranges (agent/tail/splitter.ts LineRun), shared, not copied. */
  starts: readonly number[];
  ends: readonly number[];
  lines: readonly number[];
}

/** One event given on its own (tests, benchmarks and the collector's tools; the agent gives columns). */
export interface WireEvent {
  offset: number;
  message: string;
  truncated?: boolean;
  timeMs: number | undefined;
  fields: Readonly<Record<string, unknown>> | undefined;
}

function isEventList(input: WireEventColumns | readonly WireEvent[]): input is readonly WireEvent[] {
  return Array.isArray(input);
}

function eventColumns(events: readonly WireEvent[]): WireEventColumns {
  return { offsets: events.map((event) => event.offset), messages: events.map((event) => event.message), timesMs: events.map((event) => event.timeMs), fields: events.map((event) => event.fields) };
}

/** Offset, flags and message length: the bytes every EVENTS record has. */
const EVENT_FIXED_BYTES = 8 + 1 + 4;
/** UTF-8 bytes per UTF-16 code unit at most (a lone surrogate becomes U+FFFD, 3 bytes). */
const UTF8_BYTES_PER_UNIT_MAX = 3;

/**
 * Where EVENTS segments are written: one buffer, each segment a range of it,
 * reused once the payload holding them is joined (`reset`). The agent's
 * BatchBuilder keeps one, so a batch's segments are written into memory
 * written before, not into a new buffer each (fresh pages the kernel must
 * fault in: with the agent's malloc settings every buffer above 64 KiB is
 * its own mapping; issue 11's note). It grows to the largest batch's
 * segments; a segment that does not fit moves to a larger buffer, and the
 * segments already written keep the old one.
 */
export class SegmentArena {
  /** The buffer being written; [0, used) holds segments not yet joined. */
  buffer: Buffer;
  used = 0;
  /** Bytes of segments since the last reset left in buffers the arena outgrew. */
  private outgrown = 0;

  constructor() {
    // Nothing until a segment is written: an agent whose sources send raw lines never writes one.
    this.buffer = Buffer.alloc(0);
  }

  /**
   * Room for `bytes` more after `position`, where the segment being written
   * began at `start`: a larger buffer if needed, the segment's bytes so far
   * moved to its beginning. Returns where `start` is now.
   */
  room(start: number, position: number, bytes: number): number {
    if (position + bytes <= this.buffer.length) return start;
    // Room for every segment since the last reset, not only this one: the next batch of the same size fits without growing.
    this.outgrown += start;
    const larger = Buffer.allocUnsafe(Math.max(this.outgrown + position - start + bytes, this.buffer.length * 2, ARENA_BYTES_MIN));
    this.buffer.copy(larger, 0, start, position);
    this.buffer = larger;
    this.used = 0;
    return 0;
  }

  /** The segments written are joined (or dropped): their bytes may be written over. */
  reset(): void {
    this.used = 0;
    this.outgrown = 0;
  }
}

/** The smallest buffer an arena takes. */
const ARENA_BYTES_MIN = 64 * 1024;

/** The arena of encoders that keep no segments: each segment is copied out at its exact size. */
const scratch = new SegmentArena();

/**
 * An EVENTS segment written in one pass from the columns (each fields
 * object made JSON once) into `arena`, as a range of its buffer; without
 * an arena, into a scratch buffer and copied out at its exact size. Strings
 * go through one `buffer.write` each: a copy loop in JS was slower per log
 * line (charCodeAt on the sliced strings the decoder makes; issue 11's
 * note); messages the columns give as verbatim bytes are copied from them.
 * `truncated`: indexes of events marked truncated.
 */
export function eventsSegment(stream: number, observedMs: number, input: WireEventColumns | readonly WireEvent[], truncated: readonly number[] = [], arena?: SegmentArena): SegmentParts {
  if (isEventList(input)) return eventsSegment(stream, observedMs, eventColumns(input), input.flatMap((event, index) => (event.truncated === true ? [index] : [])), arena);
  const events = input;
  const count = events.offsets.length;
  const truncatedSet = truncated.length === 0 ? null : new Set(truncated);
  const verbatim = events.verbatim;
  const target = arena ?? scratch;
  let start = target.room(target.used, target.used, SEGMENT_HEADER_BYTES);
  let position = start + SEGMENT_HEADER_BYTES;
  for (let index = 0; index < count; index++) {
    const message = events.messages[index] as string;
    const fields = events.fields[index];
    const json = fields === undefined ? undefined : JSON.stringify(fields);
    const timeMs = events.timesMs[index];
    const bytesMax = EVENT_FIXED_BYTES + 8 + 4 + UTF8_BYTES_PER_UNIT_MAX * (message.length + (json?.length ?? 0));
    const moved = target.room(start, position, bytesMax);
    position -= start - moved;
    start = moved;
    const buffer = target.buffer;
    const flags = (truncatedSet?.has(index) === true ? EVENT_TRUNCATED : 0) | (timeMs === undefined ? 0 : EVENT_HAS_TIME) | (json === undefined ? 0 : EVENT_HAS_FIELDS);
    position = buffer.writeDoubleLE(events.offsets[index] as number, position);
    position = buffer.writeUInt8(flags, position);
    if (timeMs !== undefined) position = buffer.writeDoubleLE(timeMs, position);
    const line = verbatim === undefined ? -1 : (verbatim.lines[index] as number);
    if (line >= 0) {
      const { buffer: source, starts, ends } = verbatim as VerbatimBytes;
      position = writeVerbatim(buffer, source, starts[line] as number, ends[line] as number, position);
    } else if (line === ASCII_MESSAGE) position = writeAscii(buffer, message, position);
    else position = writeString(buffer, message, position);
    if (json !== undefined) position = writeString(buffer, json, position);
  }
  writeSegmentHeader(target.buffer, start, SEGMENT_EVENTS, stream, observedMs, count, position - start - SEGMENT_HEADER_BYTES);
  if (arena !== undefined) {
    arena.used = position;
    return { parts: [arena.buffer.subarray(start, position)], bytes: position - start, count };
  }
  const segment = Buffer.allocUnsafe(position - start);
  scratch.buffer.copy(segment, 0, start, position);
  return { parts: [segment], bytes: segment.length, count };
}

/** u32 length + UTF-8 bytes of `text` at `position` (room checked by the caller); returns the position after it. */
function writeString(buffer: Buffer, text: string, position: number): number {
  const bytes = buffer.write(text, position + 4, "utf8");
  buffer.writeUInt32LE(bytes, position);
  return position + 4 + bytes;
}

/** u32 length + `text`, known to hold only ASCII, one byte per character at `position` (room checked by the caller); returns the position after it. */
function writeAscii(buffer: Buffer, text: string, position: number): number {
  buffer.writeUInt32LE(text.length, position);
  return position + 4 + buffer.write(text, position + 4, "latin1");
}

/** u32 length + `source[start, end)` at `position` (room checked by the caller); returns the position after it. */
function writeVerbatim(buffer: Buffer, source: Buffer, start: number, end: number, position: number): number {
  buffer.writeUInt32LE(end - start, position);
  return position + 4 + source.copy(buffer, position + 4, start, end);
}

function writeSegmentHeader(buffer: Buffer, at: number, kind: number, stream: number, observedMs: number, count: number, bodyBytes: number): number {
  let position = buffer.writeUInt8(kind, at);
  position = buffer.writeUInt32LE(stream, position);
  position = buffer.writeDoubleLE(observedMs, position);
  position = buffer.writeUInt32LE(count, position);
  return buffer.writeUInt32LE(bodyBytes, position);
}

/** Join header and segments into one payload with its CRC (in a buffer from `allocate`: at least the bytes asked). */
export function encodePayload(header: BatchHeader, segments: SegmentParts[], allocate: (bytes: number) => Buffer = Buffer.allocUnsafe): Buffer {
  const headerBytes = Buffer.from(JSON.stringify(header), "utf8");
  const lead = Buffer.allocUnsafe(8);
  WIRE_MAGIC.copy(lead, 0);
  lead.writeUInt32LE(headerBytes.length, 4);
  let total = lead.length + headerBytes.length + 4;
  for (const segment of segments) total += segment.bytes;
  const payload = allocate(total).subarray(0, total);
  let position = lead.copy(payload, 0);
  position += headerBytes.copy(payload, position);
  for (const segment of segments) {
    for (const part of segment.parts) position += part.copy(payload, position);
  }
  payload.writeUInt32LE(crc32(payload.subarray(0, position)), position);
  return payload;
}

export interface BatchSummary {
  header: BatchHeader;
  events: number;
  /** Earliest and latest observed time of its segments (for the log's time index). */
  observedMinMs: number;
  observedMaxMs: number;
  /** Size of the uncompressed payload. */
  payloadBytes: number;
}

/** Check a payload (magic, CRC, header, segment bounds) without decoding events. Throws WireError. */
export function validatePayload(payload: Buffer): BatchSummary {
  if (payload.length < 12 || !payload.subarray(0, 4).equals(WIRE_MAGIC)) throw new WireError("not a logship batch (bad magic or unsupported format version)");
  const crcPosition = payload.length - 4;
  if (crc32(payload.subarray(0, crcPosition)) !== payload.readUInt32LE(crcPosition)) throw new WireError("CRC mismatch: the batch was damaged on the way");
  const header = readHeader(payload);
  let events = 0;
  let observedMinMs = Number.POSITIVE_INFINITY;
  let observedMaxMs = Number.NEGATIVE_INFINITY;
  forEachSegment(payload, header, (segment) => {
    events += segment.count;
    observedMinMs = Math.min(observedMinMs, segment.observedMs);
    observedMaxMs = Math.max(observedMaxMs, segment.observedMs);
  });
  if (events === 0) observedMinMs = observedMaxMs = header.created_ms;
  return { header, events, observedMinMs, observedMaxMs, payloadBytes: payload.length };
}

function readHeader(payload: Buffer): BatchHeader {
  const headerLength = payload.readUInt32LE(4);
  if (8 + headerLength > payload.length - 4) throw new WireError("header runs past the end of the batch");
  let header: unknown;
  try {
    header = JSON.parse(payload.toString("utf8", 8, 8 + headerLength));
  } catch {
    throw new WireError("header is not valid JSON");
  }
  const candidate = header as Partial<BatchHeader>;
  if (
    typeof candidate !== "object" ||
    candidate === null ||
    typeof candidate.agent !== "string" ||
    candidate.agent.length === 0 ||
    typeof candidate.host !== "string" ||
    !Number.isSafeInteger(candidate.seq) ||
    !Number.isSafeInteger(candidate.floor) ||
    typeof candidate.created_ms !== "number" ||
    !Array.isArray(candidate.streams)
  ) {
    throw new WireError("header lacks agent, host, seq, floor, created_ms or streams");
  }
  for (const stream of candidate.streams) {
    if (typeof stream?.key !== "string" || typeof stream.source !== "string" || typeof stream.path !== "string" || typeof stream.fields !== "object" || stream.fields === null) {
      throw new WireError("a stream in the header lacks key, source, path or fields");
    }
  }
  return candidate as BatchHeader;
}

interface SegmentView {
  kind: number;
  stream: number;
  observedMs: number;
  count: number;
  bodyStart: number;
  bodyEnd: number;
}

function forEachSegment(payload: Buffer, header: BatchHeader, visit: (segment: SegmentView) => void): void {
  const end = payload.length - 4;
  let position = 8 + payload.readUInt32LE(4);
  while (position < end) {
    if (position + SEGMENT_HEADER_BYTES > end) throw new WireError(`segment header at byte ${position} runs past the end`);
    const kind = payload.readUInt8(position);
    const stream = payload.readUInt32LE(position + 1);
    const observedMs = payload.readDoubleLE(position + 5);
    const count = payload.readUInt32LE(position + 13);
    const bodyBytes = payload.readUInt32LE(position + 17);
    const bodyStart = position + SEGMENT_HEADER_BYTES;
    const bodyEnd = bodyStart + bodyBytes;
    if (kind !== SEGMENT_RAW && kind !== SEGMENT_EVENTS) throw new WireError(`unknown segment kind ${kind} at byte ${position}`);
    if (stream >= header.streams.length) throw new WireError(`segment at byte ${position} names stream ${stream}; the header has ${header.streams.length}`);
    if (bodyEnd > end) throw new WireError(`segment at byte ${position} runs past the end`);
    if (kind === SEGMENT_RAW && bodyBytes < 9) throw new WireError(`raw segment at byte ${position} is too short`);
    visit({ kind, stream, observedMs, count, bodyStart, bodyEnd });
    position = bodyEnd;
  }
}

/** Every event of a validated payload, as search returns it. Malformed records throw WireError. */
export function* payloadEvents(payload: Buffer): Generator<Event> {
  for (const { events } of segmentsWithEvents(payload)) yield* events;
}

/** One segment's events, with where they came from: what re-encoding a part of a batch needs (collector/routing/split.ts). */
export interface PayloadSegment {
  /** Index into the header's streams. */
  stream: number;
  observedMs: number;
  events: Event[];
}

/** The events of a validated payload, segment by segment. Malformed records throw WireError. */
export function* payloadSegments(payload: Buffer): Generator<PayloadSegment> {
  for (const { segment, events } of segmentsWithEvents(payload)) yield { stream: segment.stream, observedMs: segment.observedMs, events: [...events] };
}

/** Each segment of a payload with its events, decoded as they are read. */
function* segmentsWithEvents(payload: Buffer): Generator<{ segment: SegmentView; events: Generator<Event> }> {
  const header = readHeader(payload);
  const segments: SegmentView[] = [];
  forEachSegment(payload, header, (segment) => segments.push(segment));
  for (const segment of segments) {
    const stream = header.streams[segment.stream] as WireStream;
    const observed = formatTime(segment.observedMs);
    yield { segment, events: segment.kind === SEGMENT_RAW ? rawEvents(payload, segment, stream, header.host, observed) : decodedEvents(payload, segment, stream, header.host, observed) };
  }
}

function* rawEvents(payload: Buffer, segment: SegmentView, stream: WireStream, host: string, observed: string): Generator<Event> {
  const baseOffset = payload.readDoubleLE(segment.bodyStart);
  const unterminated = (payload.readUInt8(segment.bodyStart + 8) & RAW_UNTERMINATED) !== 0;
  const linesStart = segment.bodyStart + 9;
  let position = linesStart;
  for (let index = 0; index < segment.count; index++) {
    let newline = payload.indexOf(0x0a, position);
    if (newline === -1 || newline >= segment.bodyEnd) {
      if (!(unterminated && index === segment.count - 1)) throw new WireError("raw segment has fewer lines than its count");
      newline = segment.bodyEnd;
    }
    let end = newline;
    if (end > position && payload[end - 1] === 0x0d) end--;
    const offset = baseOffset + (position - linesStart);
    yield {
      id: eventId(stream.key, offset),
      time: observed,
      observed_time: observed,
      host,
      source: stream.source,
      path: stream.path,
      offset,
      message: payload.toString("utf8", position, end),
      fields: { ...stream.fields },
    };
    position = newline + 1;
  }
}

function* decodedEvents(payload: Buffer, segment: SegmentView, stream: WireStream, host: string, observed: string): Generator<Event> {
  let position = segment.bodyStart;
  const need = (bytes: number): void => {
    if (position + bytes > segment.bodyEnd) throw new WireError("event record runs past its segment");
  };
  for (let index = 0; index < segment.count; index++) {
    need(13);
    const offset = payload.readDoubleLE(position);
    const flags = payload.readUInt8(position + 8);
    position += 9;
    let time = observed;
    if ((flags & EVENT_HAS_TIME) !== 0) {
      need(8);
      time = formatTime(payload.readDoubleLE(position));
      position += 8;
    }
    need(4);
    const messageLength = payload.readUInt32LE(position);
    position += 4;
    need(messageLength);
    const message = payload.toString("utf8", position, position + messageLength);
    position += messageLength;
    let parsed: Record<string, unknown> = {};
    if ((flags & EVENT_HAS_FIELDS) !== 0) {
      need(4);
      const fieldsLength = payload.readUInt32LE(position);
      position += 4;
      need(fieldsLength);
      try {
        parsed = JSON.parse(payload.toString("utf8", position, position + fieldsLength)) as Record<string, unknown>;
      } catch {
        throw new WireError("event fields are not valid JSON");
      }
      position += fieldsLength;
    }
    const event: Event = {
      id: eventId(stream.key, offset),
      time,
      observed_time: observed,
      host,
      source: stream.source,
      path: stream.path,
      offset,
      message,
      // Static fields of the rule win over parsed ones (as in the agent's dry-run).
      fields: { ...parsed, ...stream.fields },
    };
    if ((flags & EVENT_TRUNCATED) !== 0) event.truncated = true;
    yield event;
  }
}
