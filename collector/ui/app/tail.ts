/**
 * Live tail (`GET /v1/tail`, Server-Sent Events read through fetch so that
 * the token goes in the Authorization header, which EventSource cannot
 * send): matching events stream in at the top as the collector indexes
 * them, newest first.
 *
 * Bounded at any rate: events are parsed as they arrive but put on the page
 * in animation frames, at most TAIL_ROWS_PER_FRAME_MAX rows a frame (a
 * collector sends a batch's events at once: spreading them keeps every
 * frame short), at most TAIL_ROWS_MAX rows are kept (older ones are removed
 * from the bottom), and at most TAIL_ROWS_MAX events wait, paused or not
 * (older waiting ones are dropped and counted). So the page's work per
 * frame and its memory do not grow with the rate (2,000 lines/s is ~35
 * rows a frame).
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
import { TAIL_RECONNECT_MS_FIRST, TAIL_RECONNECT_MS_MAX, TAIL_ROWS_MAX, TAIL_ROWS_PER_FRAME_MAX } from "./tail-limits.ts";

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
  private waiting: Event[] = [];
  private frame: number | undefined;
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
          for (const message of parser.push(decoder.decode(value, { stream: true }))) {
            lastEventId = message.lastEventId;
            if (message.data !== null) this.receive(JSON.parse(message.data) as Event);
          }
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

  private receive(event: Event): void {
    this.received++;
    this.waiting.push(event);
    if (this.waiting.length > TAIL_ROWS_MAX) {
      const excess = this.waiting.length - TAIL_ROWS_MAX;
      this.waiting.splice(0, excess);
      this.dropped += excess;
    }
    this.schedule();
  }

  /** One update per animation frame: the waiting events onto the page, or while paused only the status line. */
  private schedule(): void {
    if (this.frame !== undefined) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = undefined;
      if (this.paused) this.showStatus();
      else this.flush();
    });
  }

  /** The oldest waiting events (up to a frame's worth) onto the top of the list, newest first; the oldest rows off the bottom. */
  private flush(): void {
    const { list } = this.options;
    const batch = this.waiting.splice(0, TAIL_ROWS_PER_FRAME_MAX);
    const fragment = document.createDocumentFragment();
    for (let index = batch.length - 1; index >= 0; index--) fragment.append(eventRow(batch[index] as Event, this.highlight, this.options.actions));
    list.prepend(fragment);
    this.shown += batch.length;
    while (list.childElementCount > TAIL_ROWS_MAX) list.lastElementChild?.remove();
    this.showStatus();
    if (this.waiting.length > 0) this.schedule();
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
