/**
 * The `_bulk` requests of one send: NDJSON, two lines per event
 *
 *   {"create":{"_index":"logship-default-2026.11.29","_id":"<event id>"}}
 *   {<the document, collector/opensearch/documents.ts>}
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
import { parseTime } from "../../../shared/query/values.ts";
import { eventDocument } from "../../opensearch/documents.ts";
import type { IndexNames } from "../../opensearch/index-name.ts";
import type { SinkEvent } from "../types.ts";

export interface BulkRequest {
  /** The NDJSON body. */
  body: Buffer;
  /** Index into the send of each item, in the order of the response's items. */
  items: number[];
}

export interface EncodedSend {
  requests: BulkRequest[];
  /** Events no request carries: index into the send and why. */
  refused: { index: number; reason: string }[];
}

/** Encodes the events of `indexes` (positions in `events`) into bounded bulk requests. */
export function encodeBulk(events: readonly SinkEvent[], indexes: Iterable<number>, names: IndexNames, limits: { bytesMax: number; eventsMax: number }): EncodedSend {
  const requests: BulkRequest[] = [];
  const refused: { index: number; reason: string }[] = [];
  let lines: Buffer[] = [];
  let items: number[] = [];
  let bytes = 0;
  const flush = (): void => {
    if (items.length === 0) return;
    requests.push({ body: Buffer.concat(lines, bytes), items });
    lines = [];
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
    const action = Buffer.from(`${JSON.stringify({ create: { _index: names.indexFor(event.tenant, timeMs), _id: event.id } })}\n${JSON.stringify(eventDocument(event, event.tenant))}\n`);
    if (items.length > 0 && (bytes + action.length > limits.bytesMax || items.length >= limits.eventsMax)) flush();
    lines.push(action);
    items.push(index);
    bytes += action.length;
  }
  flush();
  return { requests, refused };
}
