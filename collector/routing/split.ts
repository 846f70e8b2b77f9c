/**
 * One batch through the collector's transforms and routes (docs/ROUTING.md):
 * its events decoded segment by segment, each transformed (a step may drop
 * it), routed to a stream, and every stream's events re-encoded as a wire v1
 * payload of their own, compressed with zstd, ready to be appended to that
 * stream's log. Runs on the decode worker threads (decode-worker.ts), never
 * on the main thread.
 *
 * What a part keeps of the batch: the header (agent, host, seq, floor,
 * created_ms) and its file streams (key, source, path), so every event keeps
 * its id (stream key + offset) and sinks stay idempotent. Events become
 * EVENTS segments, one per input segment and stream, with the input
 * segment's observed time; each event carries its whole fields (a step may
 * have changed a static one), so the header's static fields are emptied.
 *
 * A batch without transforms whose events all go to one stream is not
 * re-encoded: its part is the body as received (`body: null`), as on the
 * path without routes.
 */
import { constants, zstdCompressSync } from "node:zlib";
import type { Event } from "../../shared/event.ts";
import { encodePayload, eventsSegment, payloadSegments, type BatchHeader, type BatchSummary, type SegmentParts } from "../../shared/wire/batch.ts";
import type { TransformChain } from "../../agent/transforms/chain.ts";
import type { Router } from "./router.ts";
import { DEFAULT_STREAM } from "./streams.ts";

/** zstd level of re-encoded parts: the agent's default, cheap on the decode threads and about as small as the agent's own output. */
export const PART_ZSTD_LEVEL = 3;

/** The events of one batch that go to one stream. */
export interface StreamPart {
  stream: string;
  /** The part as a compressed wire v1 payload; null: the body as received (nothing changed, one stream). */
  body: Uint8Array | null;
  events: number;
  observedMinMs: number;
  observedMaxMs: number;
}

export interface SplitResult {
  /** Sorted by stream name (every copy of a batch claims its parts in one order, ingest/service.ts); no part without events (but a batch of 0 events is one 0-event part of the default stream). */
  parts: StreamPart[];
  /** Events dropped by the transforms. */
  dropped: number;
}

export interface Processing {
  chain: TransformChain | null;
  router: Router;
}

interface PartBuilder {
  segments: SegmentParts[];
  events: number;
  observedMinMs: number;
  observedMaxMs: number;
}

/** Splits a validated payload (its summary from validatePayload). Throws WireError on malformed records. */
export function splitBatch(payload: Buffer, summary: BatchSummary, processing: Processing, nowMs: number): SplitResult {
  if (summary.events === 0) return { parts: [wholePart(DEFAULT_STREAM, summary)], dropped: 0 };
  const builders = new Map<string, PartBuilder>();
  let dropped = 0;
  for (const segment of payloadSegments(payload)) {
    const byStream = new Map<string, Event[]>();
    for (const event of segment.events) {
      if (processing.chain !== null && !processing.chain.apply(event, nowMs)) {
        dropped++;
        continue;
      }
      const stream = processing.router(event);
      let events = byStream.get(stream);
      if (events === undefined) byStream.set(stream, (events = []));
      events.push(event);
    }
    for (const [stream, events] of byStream) {
      let builder = builders.get(stream);
      if (builder === undefined) builders.set(stream, (builder = { segments: [], events: 0, observedMinMs: segment.observedMs, observedMaxMs: segment.observedMs }));
      builder.segments.push(encodeSegment(segment.stream, segment.observedMs, events));
      builder.events += events.length;
      builder.observedMinMs = Math.min(builder.observedMinMs, segment.observedMs);
      builder.observedMaxMs = Math.max(builder.observedMaxMs, segment.observedMs);
    }
  }
  const [only] = builders.keys();
  if (processing.chain === null && builders.size === 1 && only !== undefined) return { parts: [wholePart(only, summary)], dropped };
  const header = partHeader(summary.header);
  const parts: StreamPart[] = [];
  for (const [stream, builder] of [...builders].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const payloadBytes = encodePayload(header, builder.segments);
    const body = zstdCompressSync(payloadBytes, { params: { [constants.ZSTD_c_compressionLevel]: PART_ZSTD_LEVEL } });
    parts.push({ stream, body, events: builder.events, observedMinMs: builder.observedMinMs, observedMaxMs: builder.observedMaxMs });
  }
  return { parts, dropped };
}

function wholePart(stream: string, summary: BatchSummary): StreamPart {
  return { stream, body: null, events: summary.events, observedMinMs: summary.observedMinMs, observedMaxMs: summary.observedMaxMs };
}

/** The batch's header with the file streams' static fields emptied: each event carries its whole fields. */
function partHeader(header: BatchHeader): BatchHeader {
  return { ...header, streams: header.streams.map((stream) => ({ key: stream.key, source: stream.source, path: stream.path, fields: {} })) };
}

function encodeSegment(stream: number, observedMs: number, events: readonly Event[]): SegmentParts {
  const offsets: number[] = [];
  const messages: string[] = [];
  const timesMs: (number | undefined)[] = [];
  const fields: (Record<string, unknown> | undefined)[] = [];
  const truncated: number[] = [];
  for (const [index, event] of events.entries()) {
    offsets.push(event.offset);
    messages.push(event.message);
    const timeMs = Date.parse(event.time);
    timesMs.push(timeMs === observedMs ? undefined : timeMs);
    fields.push(Object.keys(event.fields).length === 0 ? undefined : event.fields);
    if (event.truncated === true) truncated.push(index);
  }
  return eventsSegment(stream, observedMs, { offsets, messages, timesMs, fields }, truncated);
}
