/**
 * The event model of DESIGN.md, as search returns it and as `--dry-run`
 * prints it. Inside the agent events travel as columnar `EventBlock`s (see
 * agent/events.ts); this object form is made only where a person or a sink
 * needs it.
 */
import { createHash } from "node:crypto";

export interface Event {
  id: string;
  time: string;
  observed_time: string;
  host: string;
  source: string;
  path: string;
  offset: number;
  message: string;
  fields: Record<string, unknown>;
  truncated?: true;
  /** The collector stream the event was routed to (docs/ROUTING.md); absent for the default stream. */
  stream?: string;
}

/**
 * The identity of one file's byte stream, fixed for its whole life: the same
 * file gives the same key after restarts and renames, so the same line always
 * gets the same event id (see docs/CHECKPOINTS.md, "Stream keys").
 */
export function streamKey(parts: { host: string; device: number; inode: number; generation: number; head: Buffer }): string {
  return createHash("sha256")
    .update(`${parts.host}\0${parts.device}\0${parts.inode}\0${parts.generation}\0`)
    .update(parts.head)
    .digest("base64url")
    .slice(0, 22);
}

/**
 * Deterministic event id: the first 16 characters (96 bits) of the stream
 * key, then the line's byte offset in base 36. Unique within a stream by
 * construction, across streams as long as 96-bit key prefixes differ; no
 * hashing per event (a SHA-256 per event was a third of a sink's decoding
 * time), and ids of one file share a prefix.
 */
export function eventId(key: string, offset: number): string {
  return key.slice(0, EVENT_ID_KEY_CHARS) + offset.toString(36);
}

const EVENT_ID_KEY_CHARS = 16;

/** The stream part of an event id (see eventId): the events of one file, whatever its name now, share it. */
export function eventIdStream(id: string): string {
  return id.slice(0, EVENT_ID_KEY_CHARS);
}

/** RFC 3339 UTC with milliseconds, as every event time is written. */
export function formatTime(ms: number): string {
  return new Date(ms).toISOString();
}
