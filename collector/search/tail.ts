/**
 * The live tail, `GET /v1/tail` (docs/SEARCH.md, "Live tail"): Server-Sent
 * Events of the events indexed after a position that match a query. This
 * module is the HTTP side, the same whatever index answers; what is new and
 * in which order comes from the backend's TailSource (backend.ts): the
 * embedded index's sequences (embedded-tail.ts) or OpenSearch's settled
 * `indexed_at` stamps (opensearch/tail.ts).
 *
 * Each event goes out as `id: <its position>` + `data: <event JSON>`;
 * "every matching event after P" is the whole resume protocol, and what a
 * position looks like is the source's business (opaque to clients). The
 * stream opens with an id-only message holding its start position, so a
 * client that reconnects before the first match still resumes where it
 * started; heartbeats carry the position reached when the source read past
 * the last event sent (rows that did not match, time that settled), so a
 * reconnect need not read them again.
 *
 * Limits: TailLimits.streamsMax streams per collector (503
 * LOGSHIP_TAIL_BUSY beyond). A stream reads at its client's pace: it asks
 * the source for the next batch only once the last one was taken by the
 * socket, so nothing queues in the collector for a slow client. A client
 * that takes nothing for `drainTimeoutMs` while data waits is closed with a
 * warning in the log; it reconnects with its Last-Event-ID and catches up
 * from the index.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Event } from "../../shared/event.ts";
import type { Logger } from "../../shared/logger.ts";
import { sseMessage } from "../../shared/http/sse.ts";
import type { Query } from "../../shared/query/index.ts";
import { SearchRequestError } from "./errors.ts";

export interface TailLimits {
  /** A `: ping` comment this often keeps proxies and clients from closing an idle stream. */
  heartbeatMs: number;
  /** A client that takes nothing for this long while data waits is closed. */
  drainTimeoutMs: number;
  /** Open streams per collector at most. */
  streamsMax: number;
}

export const TAIL_LIMITS_DEFAULT: TailLimits = { heartbeatMs: 15_000, drainTimeoutMs: 30_000, streamsMax: 64 };
/** What an EventSource waits before reconnecting (the `retry:` field). */
const CLIENT_RETRY_MS = 1000;

/** A position a client sent back, and where it came from (named in a refusal). */
export interface TailPosition {
  name: "Last-Event-ID" | "last_event_id";
  text: string;
}

export interface TailRequest {
  tenant: string;
  query: Query;
  /** The position of the last event the client has; undefined: now. */
  after?: TailPosition;
}

/** Matching events in position order, and how far the source has read. */
export interface TailBatch {
  events: { position: string; event: Event }[];
  /** Every matching event up to here is in this batch or an earlier one (at or after the last event's position). */
  reached: string;
}

/** One stream's reader of new matching events (a backend's `tail`). */
export interface TailSource {
  /** Where the stream starts: the position asked for, else "now". */
  readonly start: string;
  /**
   * The next batch after the last one (or `start`); waits while there is
   * nothing new to read. Undefined once `signal` aborted.
   */
  next(signal: AbortSignal): Promise<TailBatch | undefined>;
  /** Lets go of what the source holds between reads (a subscription), if anything. */
  close?(): void;
}

/** The open tail streams of one collector, whatever their source. */
export class TailStreams {
  private readonly logger: Logger;
  private readonly limits: TailLimits;
  private open = 0;

  constructor(options: { logger: Logger; limits?: Partial<TailLimits> }) {
    this.logger = options.logger;
    this.limits = { ...TAIL_LIMITS_DEFAULT, ...options.limits };
  }

  /**
   * Streams from the source `openSource` makes until the client goes away
   * (or the server closes the connection). A refusal by `openSource` (a
   * position it cannot read) is thrown before anything is written.
   */
  async serve(request: IncomingMessage, response: ServerResponse, openSource: () => Promise<TailSource>, tenant: string): Promise<void> {
    if (this.open >= this.limits.streamsMax) throw new SearchRequestError("LOGSHIP_TAIL_BUSY", `${this.open} tail streams are open (at most ${this.limits.streamsMax}); retry later`);
    this.open++;
    try {
      const source = await openSource();
      try {
        await new TailStream(source, this.logger, this.limits, response, tenant).run(request.method === "HEAD");
      } finally {
        source.close?.();
      }
    } finally {
      this.open--;
    }
  }

  /** Streams open now (status, tests). */
  get streams(): number {
    return this.open;
  }
}

class TailStream {
  private readonly source: TailSource;
  private readonly logger: Logger;
  private readonly limits: TailLimits;
  private readonly response: ServerResponse;
  private readonly tenant: string;
  private readonly closing = new AbortController();
  /** Every matching event up to here has been written to the client. */
  private position: string;
  /** The source read past the last id the client received; a heartbeat hands it `position`. */
  private positionUnsent = false;

  constructor(source: TailSource, logger: Logger, limits: TailLimits, response: ServerResponse, tenant: string) {
    this.source = source;
    this.logger = logger;
    this.limits = limits;
    this.response = response;
    this.tenant = tenant;
    this.position = source.start;
  }

  private get closed(): boolean {
    return this.closing.signal.aborted;
  }

  async run(headOnly: boolean): Promise<void> {
    const { response } = this;
    response.writeHead(200, { "Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache", "X-Accel-Buffering": "no" });
    if (headOnly) return void response.end();
    const heartbeat = setInterval(() => this.heartbeat(), this.limits.heartbeatMs);
    response.once("close", () => this.closing.abort());
    try {
      response.write(sseMessage({ retryMs: CLIENT_RETRY_MS, id: this.position }));
      while (!this.closed) {
        const batch = await this.source.next(this.closing.signal);
        if (batch === undefined) break;
        for (const { position, event } of batch.events) {
          this.positionUnsent = false;
          await this.send(sseMessage({ id: position, data: JSON.stringify(event) }), position);
          if (this.closed) return;
        }
        if (batch.reached !== this.position) {
          this.positionUnsent = batch.reached !== batch.events.at(-1)?.position;
          this.position = batch.reached;
        }
        // Let ingest and other streams run between batches.
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
    } catch (error) {
      this.logger.warn("tail stream failed; closing it (the client resumes from its Last-Event-ID)", { tenant: this.tenant, position: this.position, error: error instanceof Error ? error.message : String(error) });
      response.destroy();
    } finally {
      clearInterval(heartbeat);
    }
  }

  /** Writes one message; waits for the socket to take it when its buffer is full, closing the stream if it does not in time. */
  private async send(text: string, position: string): Promise<void> {
    if (this.response.write(text)) return;
    const drained = await new Promise<boolean>((resolve) => {
      const done = (result: boolean): void => {
        clearTimeout(timer);
        this.response.off("drain", onDrain);
        this.response.off("close", onClose);
        resolve(result);
      };
      const onDrain = (): void => done(true);
      const onClose = (): void => done(true);
      const timer = setTimeout(() => done(false), this.limits.drainTimeoutMs);
      this.response.on("drain", onDrain);
      this.response.on("close", onClose);
    });
    if (drained) return;
    this.logger.warn("tail client too slow: it took nothing for drain_timeout; closing its stream (it resumes from its Last-Event-ID)", {
      tenant: this.tenant,
      position,
      drain_timeout_ms: this.limits.drainTimeoutMs,
      buffered_bytes: this.response.writableLength,
    });
    this.closing.abort();
    this.response.destroy();
  }

  /**
   * `: ping`, with the position when the source read past the last id sent
   * (so a reconnect skips what it read). While a batch is being written the
   * position is the previous batch's, behind the ids just sent: only once a
   * whole batch is out does it move, so the id never goes back.
   */
  private heartbeat(): void {
    if (this.closed || this.response.writableLength > 0) return;
    if (!this.positionUnsent) return void this.response.write(sseMessage({ comment: "ping" }));
    this.positionUnsent = false;
    this.response.write(sseMessage({ comment: "ping", id: this.position }));
  }
}
