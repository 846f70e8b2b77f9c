/**
 * The `_bulk` requests of one send: NDJSON, two lines per event
 *
 *   {"create":{"_index":"logship-default-2026.11.29","_id":"<event id>"}}
 *   {<the document, collector/opensearch/documents.ts>,"indexed_at":<ms>}
 *
 * `indexed_at` is stamped when a request is about to be sent (`bulkBody`),
 * not when the send was cut into requests: the requests of a send go a few
 * at a time, and the stamp should be as close as the collector can make it
 * to the moment OpenSearch indexes the document (the live tail reads by it,
 * docs/SEARCH.md). A request holds each document without its closing brace.
 *
 * `create`, not `index`: a document that is already there (a replay, a
 * retried request OpenSearch had applied) answers 409 and is left alone,
 * which the sink counts as delivered; nothing is rewritten or stored twice.
 *
 * Requests are cut at `bytesMax` (uncompressed) and `eventsMax`; an event
 * larger than `bytesMax` goes alone. An event whose time is not an RFC 3339
 * time in years 0000–9999 has no day, so no index: it is refused before
 * any request, with that reason (as the embedded index refuses it).
 */
import { assert } from "../../../shared/errors.ts";
import { parseTime } from "../../../shared/query/values.ts";
import { eventDocument, INDEXED_AT_FIELD } from "../../opensearch/documents.ts";
import type { IndexNames } from "../../opensearch/index-name.ts";
import type { SinkEvent } from "../types.ts";

export interface BulkRequest {
  /** Per item: the action line and the document's JSON up to (without) its closing brace. */
  parts: Buffer[];
  /** The body's bytes (with the stamps). */
  bytes: number;
  /** Index into the send of each item, in the order of the response's items. */
  items: number[];
}

/** Stamps have at most 13 digits (until the year 2286), so each costs at most this many bytes: `,"indexed_at":` + digits + `}` + LF. */
const STAMP_MS_LIMIT = 10 ** 13;
const STAMP_BYTES = `,"${INDEXED_AT_FIELD}":}\n`.length + 13;

export interface EncodedSend {
  requests: BulkRequest[];
  /** Events no request carries: index into the send and why. */
  refused: { index: number; reason: string }[];
}

/** Encodes the events of `indexes` (positions in `events`) into bounded bulk requests. */
export function encodeBulk(events: readonly SinkEvent[], indexes: Iterable<number>, names: IndexNames, limits: { bytesMax: number; eventsMax: number }): EncodedSend {
  const requests: BulkRequest[] = [];
  const refused: { index: number; reason: string }[] = [];
  let parts: Buffer[] = [];
  let items: number[] = [];
  let bytes = 0;
  const flush = (): void => {
    if (items.length === 0) return;
    requests.push({ parts, bytes, items });
    parts = [];
    items = [];
    bytes = 0;
  };
  for (const index of indexes) {
    const event = events[index] as SinkEvent;
    const timeMs = parseTime(event.time);
    if (timeMs === undefined) {
      refused.push({ index, reason: `time ${JSON.stringify(event.time)} is not an RFC 3339 time between years 0000 and 9999` });
      continue;
    }
    const document = JSON.stringify(eventDocument(event, event.tenant));
    const part = Buffer.from(`${JSON.stringify({ create: { _index: names.indexFor(event.tenant, timeMs), _id: event.id } })}\n${document.slice(0, -1)}`);
    const itemBytes = part.length + STAMP_BYTES;
    if (items.length > 0 && (bytes + itemBytes > limits.bytesMax || items.length >= limits.eventsMax)) flush();
    parts.push(part);
    items.push(index);
    bytes += itemBytes;
  }
  flush();
  return { requests, refused };
}

/** The NDJSON body of `request`, every document stamped `indexed_at: indexedAtMs`. */
export function bulkBody(request: BulkRequest, indexedAtMs: number): Buffer {
  assert(Number.isSafeInteger(indexedAtMs) && indexedAtMs >= 0 && indexedAtMs < STAMP_MS_LIMIT, "indexed_at is a whole number of ms with at most 13 digits");
  const stamp = Buffer.from(`,"${INDEXED_AT_FIELD}":${indexedAtMs}}\n`);
  const chunks: Buffer[] = [];
  for (const part of request.parts) chunks.push(part, stamp);
  return Buffer.concat(chunks);
}
