/**
 * Live tail (`GET /v1/tail`, Server-Sent Events read through fetch so that
 * the token goes in the Authorization header, which EventSource cannot
 * send): matching events stream in at the top as the collector indexes
 * them, newest first.
 *
 * Bounded at any rate (docs/UI.md, "Live tail at high rates"): events are
 * kept as the JSON text they came in until they are shown; the list is
 * updated at most once per TAIL_FLUSH_INTERVAL_MS, in an animation frame,
 * with at most TAIL_ROWS_PER_FLUSH_MAX rows (the oldest waiting first), and
 * fewer while updates take the page longer than TAIL_UPDATE_MS_TARGET (a
 * slow device, or a CPU busy with other work: the rows per update halve
 * after a slow update and grow back by TAIL_ROWS_PER_FLUSH_STEP after a
 * quick one, so the page stays responsive and shows what it can); at
 * most TAIL_ROWS_MAX rows are kept (older ones leave the bottom) and at most
 * TAIL_ROWS_MAX events wait, paused or not (the oldest waiting ones are
 * dropped unshown and counted: they would have left the bottom of the list
 * before the newer ones were in). So the page's work per second and its
 * memory do not grow with the rate. Why updates are spaced out rather
 * than one per frame: an update costs the page a fixed part (style, layout,
 * paint of the list) plus a part per row, and at 2,000 lines/s an update in
 * every frame paid the fixed part 60 times a second and left no frame free
 * for a click; with 10 updates a second bench/ui-tail.bench.ts measured
 * fewer long tasks and a quicker Pause (docs/UI.md).
 *
 * A stream that breaks is reopened after a backoff (250 ms doubling to
 * TAIL_RECONNECT_MS_MAX) with the last position as Last-Event-ID: nothing
 * is missed or shown twice. A refusal (token, query) ends the tail.
 */
import type { Event } from "../../../shared/event.ts";
import { SseParser } from "../../../shared/http/sse.ts";
import { ApiError, type Api } from "./api.ts";
import type { Highlighter } from "./highlight.ts";
import { moveFocus } from "./results.ts";
import { eventRow, type RowActions } from "./rows.ts";
import {
  TAIL_FLUSH_INTERVAL_MS,
  TAIL_RECONNECT_MS_FIRST,
  TAIL_RECONNECT_MS_MAX,
  TAIL_ROWS_MAX,
  TAIL_ROWS_PER_FLUSH_MAX,
  TAIL_ROWS_PER_FLUSH_MIN,
  TAIL_ROWS_PER_FLUSH_STEP,
  TAIL_UPDATE_MS_TARGET,
} from "./tail-limits.ts";

/** An event-stream line longer than this is refused (events are at most max_line_bytes plus their fields). */
const TAIL_LINE_CHARS_MAX = 16 * 1024 * 1024;

export interface LiveTailOptions {
  list: HTMLOListElement;
  status: HTMLElement;
  actions: RowActions;
  /** A refusal that ends the tail (a bad token or query). */
  onError: (error: ApiError) => void;
}

export class LiveTail {
  private readonly options: LiveTailOptions;
  private controller: AbortController | undefined;
  private highlight: Highlighter = (message) => [{ text: message, hit: false }];
  /** Events not on the page yet, oldest first, as the JSON text of the stream (parsed only if shown). */
  private waiting: string[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private frame: number | undefined;
  /** When the list was last updated (the animation frame's time). */
  private flushedMs = Number.NEGATIVE_INFINITY;
  /** Rows the next update may put on the page: TAIL_ROWS_PER_FLUSH_MAX, less while updates are slow. */
  private rowsPerFlush = TAIL_ROWS_PER_FLUSH_MAX;
  /** Events received, put on the page, and dropped unshown (too many waiting); received = shown + dropped + waiting. */
  private received = 0;
  private shown = 0;
  private dropped = 0;
  private state: "connecting" | "live" | "reconnecting" = "connecting";
  paused = false;

  constructor(options: LiveTailOptions) {
    this.options = options;
    options.list.addEventListener("keydown", (event) => moveFocus(options.list, event));
  }

  get running(): boolean {
    return this.controller !== undefined;
  }

  start(api: Api, query: string, highlight: Highlighter): void {
    this.stop();
    this.highlight = highlight;
    this.waiting = [];
    this.received = 0;
    this.shown = 0;
    this.dropped = 0;
    this.paused = false;
    this.options.list.replaceChildren();
    const controller = new AbortController();
    this.controller = controller;
    void this.run(api, query, controller.signal);
    this.showStatus();
  }

  stop(): void {
    this.controller?.abort();
    this.controller = undefined;
    if (this.frame !== undefined) cancelAnimationFrame(this.frame);
    this.frame = undefined;
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  setPaused(paused: boolean): void {
    this.paused = paused;
    this.schedule();
    this.showStatus();
  }

  private async run(api: Api, query: string, signal: AbortSignal): Promise<void> {
    let lastEventId: string | undefined;
    let delayMs = TAIL_RECONNECT_MS_FIRST;
    while (!signal.aborted) {
      try {
        const stream = await api.openTail(query, lastEventId, signal);
        this.state = "live";
        this.showStatus();
        delayMs = TAIL_RECONNECT_MS_FIRST;
        const reader = stream.getReader();
        const decoder = new TextDecoder();
        const parser = new SseParser(TAIL_LINE_CHARS_MAX);
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          const events: string[] = [];
          for (const message of parser.push(decoder.decode(value, { stream: true }))) {
            lastEventId = message.lastEventId;
            if (message.data !== null) events.push(message.data);
          }
          if (events.length > 0) this.receive(events);
        }
      } catch (error) {
        if (signal.aborted) return;
        if (error instanceof ApiError && error.status >= 400 && error.status < 500) {
          this.stop();
          this.options.onError(error);
          return;
        }
      }
      if (signal.aborted) return;
      this.state = "reconnecting";
      this.showStatus();
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      delayMs = Math.min(delayMs * 2, TAIL_RECONNECT_MS_MAX);
    }
  }

  /** Events of one read of the stream (JSON text) join the waiting ones; beyond TAIL_ROWS_MAX the oldest waiting are dropped. */
  private receive(events: string[]): void {
    this.received += events.length;
    const kept = events.length > TAIL_ROWS_MAX ? events.slice(-TAIL_ROWS_MAX) : events;
    this.dropped += events.length - kept.length;
    for (const event of kept) this.waiting.push(event);
    const excess = this.waiting.length - TAIL_ROWS_MAX;
    if (excess > 0) {
      this.waiting.splice(0, excess);
      this.dropped += excess;
    }
    this.schedule();
  }

  /** The next update: in the first animation frame at least TAIL_FLUSH_INTERVAL_MS after the last one. */
  private schedule(): void {
    if (this.timer !== undefined || this.frame !== undefined) return;
    const waitMs = this.flushedMs + TAIL_FLUSH_INTERVAL_MS - performance.now();
    if (waitMs <= 0) return this.requestFrame();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.requestFrame();
    }, waitMs);
  }

  private requestFrame(): void {
    this.frame = requestAnimationFrame((timeMs) => {
      this.frame = undefined;
      this.flushedMs = timeMs;
      if (this.paused) return this.showStatus();
      const rows = this.flush();
      // The next frame starts once this one's script, style, layout and paint are done: its time is the update's cost.
      requestAnimationFrame((nextMs) => this.adapt(rows, nextMs - timeMs));
    });
  }

  /** Halves the rows per update after a slow one; gives some back after a quick one that used its full allowance. */
  private adapt(rows: number, updateMs: number): void {
    if (updateMs > TAIL_UPDATE_MS_TARGET) this.rowsPerFlush = Math.max(TAIL_ROWS_PER_FLUSH_MIN, Math.floor(this.rowsPerFlush / 2));
    else if (rows >= this.rowsPerFlush) this.rowsPerFlush = Math.min(TAIL_ROWS_PER_FLUSH_MAX, this.rowsPerFlush + TAIL_ROWS_PER_FLUSH_STEP);
  }

  /** The oldest waiting events (up to an update's worth) onto the top of the list, newest first; the oldest rows off the bottom. Returns the rows put in. */
  private flush(): number {
    const { list } = this.options;
    const batch = this.waiting.splice(0, this.rowsPerFlush);
    const fragment = document.createDocumentFragment();
    for (let index = batch.length - 1; index >= 0; index--) fragment.append(eventRow(JSON.parse(batch[index] as string) as Event, this.highlight, this.options.actions));
    list.prepend(fragment);
    this.shown += batch.length;
    while (list.childElementCount > TAIL_ROWS_MAX) list.lastElementChild?.remove();
    this.showStatus();
    if (this.waiting.length > 0) this.schedule();
    return batch.length;
  }

  private showStatus(): void {
    const received = `${this.received.toLocaleString("en")} received`;
    const text = this.paused
      ? `Paused · ${this.waiting.length.toLocaleString("en")} new waiting${this.dropped > 0 ? ` (${this.dropped.toLocaleString("en")} older dropped)` : ""} · ${received}`
      : this.state === "live"
        ? `Live · ${received}${this.dropped > 0 ? ` (${this.dropped.toLocaleString("en")} too fast to show)` : ""} · newest ${TAIL_ROWS_MAX} shown`
        : this.state === "reconnecting"
          ? `Reconnecting… · ${received}`
          : "Connecting…";
    const { status } = this.options;
    status.textContent = text;
    status.dataset["state"] = this.paused ? "paused" : this.state;
    // The counts as numbers, for tests and the benchmark to read (the text is for people).
    status.dataset["received"] = String(this.received);
    status.dataset["shown"] = String(this.shown);
    status.dataset["dropped"] = String(this.dropped);
    status.dataset["waiting"] = String(this.waiting.length);
  }
}
