/**
 * The live tail of the embedded index, `GET /v1/tail` (docs/SEARCH.md,
 * "Live tail"): Server-Sent Events of the events indexed after a position,
 * that match a query, in the order they were indexed.
 *
 * Positions are the index's sequences (search-index.ts): every row's rowid
 * is its tenant's insertion sequence, across all of the tenant's day
 * partitions, stored in the rows and so kept across restarts. Each event
 * goes out as `id: <its sequence>` + `data: <event JSON>`; "every row after
 * N" is the whole resume protocol. The stream opens with an id-only message
 * holding its start position (the tenant's last sequence when no position
 * was given: "now"), so a client that reconnects before the first match
 * still resumes where it started; heartbeats carry the position reached
 * when rows were read that did not match, so a reconnect need not read them
 * again.
 *
 * New rows: the index calls back after each commit (`onWrite`) with the
 * partition it wrote; a stream remembers those files and, when woken, reads
 * rows in (position, last sequence] from them. A stream resumed from a
 * position behind the last sequence first reads every partition of the
 * tenant whose highest sequence is after it (once). Rows of several
 * partitions are merged by sequence, CHUNK_ROWS per partition at a time, so
 * a reconnect at any id neither repeats nor skips: the rows after a
 * position are all committed in one synchronous `write` before any stream
 * reads.
 *
 * Limits: TAIL_STREAMS_MAX streams per collector (503 LOGSHIP_TAIL_BUSY
 * beyond). A stream reads the index at its client's pace: it reads a chunk
 * only once the last one was taken by the socket, so nothing queues in the
 * collector for a slow client. A client that takes nothing for
 * `drainTimeoutMs` while data waits is closed with a warning in the log; it
 * reconnects with its Last-Event-ID and catches up from the index.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Logger } from "../../shared/logger.ts";
import { sseMessage } from "../../shared/http/sse.ts";
import { compileQuery, type Query } from "../../shared/query/index.ts";
import { WakeableSleep } from "../../shared/wakeable-sleep.ts";
import { SearchRequestError } from "./errors.ts";
import type { StoredRow } from "./partition.ts";
import { storedEvent } from "./search.ts";
import type { SearchIndex } from "./search-index.ts";

export interface TailLimits {
  /** A `: ping` comment this often keeps proxies and clients from closing an idle stream. */
  heartbeatMs: number;
  /** A client that takes nothing for this long while data waits is closed. */
  drainTimeoutMs: number;
  /** Open streams per collector at most. */
  streamsMax: number;
}

export const TAIL_LIMITS_DEFAULT: TailLimits = { heartbeatMs: 15_000, drainTimeoutMs: 30_000, streamsMax: 64 };
/** Rows read from one partition per statement. */
const CHUNK_ROWS = 200;
/** What an EventSource waits before reconnecting (the `retry:` field). */
const CLIENT_RETRY_MS = 1000;

export interface TailRequest {
  tenant: string;
  query: Query;
  /** The position of the last event the client has; undefined: now. */
  after?: number;
}

interface SequencedRow extends StoredRow {
  sequence: number;
}

/** The open tail streams of one collector's index. */
export class TailStreams {
  private readonly index: SearchIndex;
  private readonly logger: Logger;
  private readonly limits: TailLimits;
  private open = 0;

  constructor(options: { index: SearchIndex; logger: Logger; limits?: Partial<TailLimits> }) {
    this.index = options.index;
    this.logger = options.logger;
    this.limits = { ...TAIL_LIMITS_DEFAULT, ...options.limits };
  }

  /** Streams until the client goes away (or the server closes the connection). */
  async serve(request: IncomingMessage, response: ServerResponse, tail: TailRequest): Promise<void> {
    if (this.open >= this.limits.streamsMax) throw new SearchRequestError("LOGSHIP_TAIL_BUSY", `${this.open} tail streams are open (at most ${this.limits.streamsMax}); retry later`);
    const stream = new TailStream(this.index, this.logger, this.limits, response, tail);
    this.open++;
    try {
      await stream.run(request.method === "HEAD");
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
  private readonly index: SearchIndex;
  private readonly logger: Logger;
  private readonly limits: TailLimits;
  private readonly response: ServerResponse;
  private readonly tenant: string;
  private readonly predicate: ReturnType<typeof compileQuery>;
  private readonly wake = new WakeableSleep();
  /** Partitions written since the last read. */
  private readonly written = new Set<string>();
  /** Every matching row up to here has been written to the client. */
  private position: number;
  /** The position the client last received (an event's id or an id-only message). */
  private sentPosition: number;
  /** Read every partition of the tenant on the next pass (a resume from before this process wrote). */
  private readAll: boolean;
  private closed = false;

  constructor(index: SearchIndex, logger: Logger, limits: TailLimits, response: ServerResponse, tail: TailRequest) {
    this.index = index;
    this.logger = logger;
    this.limits = limits;
    this.response = response;
    this.tenant = tail.tenant;
    this.predicate = compileQuery(tail.query);
    const last = index.sequence(tail.tenant);
    this.position = tail.after ?? last;
    this.sentPosition = this.position;
    this.readAll = this.position < last;
  }

  async run(headOnly: boolean): Promise<void> {
    const { response } = this;
    response.writeHead(200, { "Content-Type": "text/event-stream; charset=utf-8", "Cache-Control": "no-cache", "X-Accel-Buffering": "no" });
    if (headOnly) return void response.end();
    const unsubscribe = this.index.onWrite((tenant, file) => {
      if (tenant !== this.tenant) return;
      this.written.add(file);
      this.wake.wake();
    });
    const heartbeat = setInterval(() => this.heartbeat(), this.limits.heartbeatMs);
    response.once("close", () => {
      this.closed = true;
      this.wake.wake();
    });
    try {
      response.write(sseMessage({ retryMs: CLIENT_RETRY_MS, id: String(this.position) }));
      while (!this.closed) {
        if (this.index.sequence(this.tenant) > this.position) await this.readNewRows();
        else await this.wake.sleep(this.limits.heartbeatMs);
      }
    } catch (error) {
      this.logger.warn("tail stream failed; closing it (the client resumes from its Last-Event-ID)", { tenant: this.tenant, position: this.position, error: error instanceof Error ? error.message : String(error) });
      response.destroy();
    } finally {
      clearInterval(heartbeat);
      unsubscribe();
    }
  }

  /** Reads rows in (position, last sequence] from the partitions that may hold them, merged by sequence; writes the matches. */
  private async readNewRows(): Promise<void> {
    const last = this.index.sequence(this.tenant);
    let files = [...this.written];
    this.written.clear();
    if (this.readAll) {
      files = this.index.partitions(this.tenant, undefined, undefined, "asc").map((ref) => ref.file);
      this.readAll = false;
    }
    files = files.filter((file) => this.index.partition(file, false).lastSequence() > this.position);
    while (this.position < last && !this.closed) {
      // Every row up to `bound` in every file has been fetched: a file that returned a full chunk may hold more after its last row.
      let bound = last;
      const rows: SequencedRow[] = [];
      for (const file of files) {
        const chunk = this.index.partition(file, false).select(
          "SELECT rowid AS sequence, * FROM events WHERE rowid > ? AND rowid <= ? ORDER BY rowid LIMIT ?",
          [this.position, last, CHUNK_ROWS],
        ) as SequencedRow[];
        const lastRow = chunk.at(-1);
        if (chunk.length === CHUNK_ROWS && lastRow !== undefined) bound = Math.min(bound, lastRow.sequence);
        rows.push(...chunk);
      }
      rows.sort((a, b) => a.sequence - b.sequence);
      for (const row of rows) {
        if (row.sequence > bound) break;
        const event = storedEvent(row);
        if (!this.predicate(event)) continue;
        await this.send(sseMessage({ id: String(row.sequence), data: JSON.stringify(event) }), row.sequence);
        if (this.closed) return;
      }
      this.position = bound;
      // Let ingest and other streams run between chunks.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** Writes one message; waits for the socket to take it when its buffer is full, closing the stream if it does not in time. */
  private async send(text: string, position: number): Promise<void> {
    this.sentPosition = position;
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
      position: this.sentPosition,
      drain_timeout_ms: this.limits.drainTimeoutMs,
      buffered_bytes: this.response.writableLength,
    });
    this.closed = true;
    this.response.destroy();
  }

  /**
   * `: ping`, with the position when rows were read since the last id sent
   * that did not match (so a reconnect skips them). Mid-chunk the last event
   * sent can be past `position`: the id never goes back.
   */
  private heartbeat(): void {
    if (this.closed || this.response.writableLength > 0) return;
    if (this.position <= this.sentPosition) return void this.response.write(sseMessage({ comment: "ping" }));
    this.sentPosition = this.position;
    this.response.write(sseMessage({ comment: "ping", id: String(this.position) }));
  }
}
