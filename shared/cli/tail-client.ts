/**
 * How `logship search --follow` reads a collector's live tail
 * (`GET /v1/tail`, docs/SEARCH.md "Live tail"): one long request whose
 * Server-Sent Events are yielded as they come, and which is made again
 * after any break — a network error, a collector that stopped or restarted,
 * a 5xx or 429 answer, or silence longer than SILENCE_TIMEOUT_MS (the
 * collector sends a heartbeat every 15 s, so a dead connection is noticed).
 * Each new request sends `Last-Event-ID` with the last position received,
 * and the collector resumes right after it: nothing comes twice, nothing is
 * skipped. Attempts are spaced by full-jitter backoff (RECONNECT_BASE_MS
 * doubling up to RECONNECT_CAP_MS) and never given up; a refusal that
 * cannot succeed as asked (a 4xx: bad token, bad query) ends the follow
 * with the collector's reason.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { backoffMs } from "../../agent/ship/backoff.ts";
import { ConfigError } from "../errors.ts";
import type { Event } from "../event.ts";
import { SseParser } from "../http/sse.ts";
import { refusal, type CollectorTarget } from "./collector-api.ts";

export const RECONNECT_BASE_MS = 250;
export const RECONNECT_CAP_MS = 5_000;
/** Three missed heartbeats. */
export const SILENCE_TIMEOUT_MS = 45_000;
/** One event-stream line (one event as JSON) at most. */
const LINE_CHARS_MAX = 64 * 1024 * 1024;

/** A position only (the start of a stream, or a heartbeat past rows that did not match), or an event at its position. */
export type TailItem = { kind: "position"; position: string } | { kind: "event"; position: string; event: Event };

export interface FollowTailOptions {
  target: CollectorTarget;
  /** `q`, and `tenant` when asked for. */
  parameters: URLSearchParams;
  /** Ends the follow (SIGINT/SIGTERM): the generator returns. */
  signal: AbortSignal;
  /** One line for the operator when the stream breaks and when it is back. */
  notice: (line: string) => void;
  random?: () => number;
}

export async function* followTail(options: FollowTailOptions): AsyncGenerator<TailItem> {
  const { request } = await import("undici");
  const { target, signal } = options;
  const url = `${target.url}/v1/tail?${options.parameters}`;
  let position: string | undefined;
  let failures = 0;
  while (!signal.aborted) {
    let reason: string;
    try {
      const headers: Record<string, string> = { accept: "text/event-stream" };
      if (target.token !== undefined) headers["authorization"] = `Bearer ${target.token}`;
      if (position !== undefined) headers["last-event-id"] = position;
      const response = await request(url, { headers, signal, headersTimeout: SILENCE_TIMEOUT_MS, bodyTimeout: SILENCE_TIMEOUT_MS });
      if (response.statusCode !== 200) {
        const error = refusal(target, { status: response.statusCode, body: await response.body.text() });
        if (error instanceof ConfigError) throw error;
        reason = error.message;
      } else {
        const parser = new SseParser(LINE_CHARS_MAX);
        const decoder = new TextDecoder();
        for await (const chunk of response.body) {
          for (const message of parser.push(decoder.decode(chunk as Buffer, { stream: true }))) {
            if (message.lastEventId !== "") position = message.lastEventId;
            if (position === undefined) continue;
            if (failures > 0) options.notice(`${target.url}/v1/tail: following again from position ${position}`);
            failures = 0;
            if (message.data === null) yield { kind: "position", position };
            else yield { kind: "event", position, event: JSON.parse(message.data) as Event };
          }
        }
        reason = "the collector ended the stream";
      }
    } catch (error) {
      if (signal.aborted) return;
      if (error instanceof ConfigError) throw error;
      reason = error instanceof Error ? error.message : String(error);
    }
    if (failures === 0) options.notice(`${target.url}/v1/tail: ${reason}; reconnecting${position === undefined ? "" : ` from position ${position}`}`);
    try {
      await sleep(backoffMs(failures++, RECONNECT_BASE_MS, RECONNECT_CAP_MS, options.random), undefined, { signal });
    } catch (error) {
      if (signal.aborted) return;
      throw error;
    }
  }
}
