/**
 * The result list: newest first, one page (`limit`) at a time, the next page
 * fetched with the cursor when the end of the list scrolls into view
 * (infinite scroll). A page may be short or empty with a cursor when the
 * collector's scan budget stopped it (docs/SEARCH.md, "Bounded work"), so
 * paging goes on while the end stays in view and a cursor is left. At most
 * RESULT_ROWS_MAX rows are kept; past that the list asks for a narrower
 * search instead of growing.
 */
import type { Event } from "../../../shared/event.ts";
import type { SearchPage } from "./api.ts";
import type { Highlighter } from "./highlight.ts";
import { eventRow, type RowActions } from "./rows.ts";

/** Events per request. */
export const PAGE_EVENTS = 100;
/** Rows the list holds at most. */
export const RESULT_ROWS_MAX = 5000;

export type PageLoader = (cursor: string, signal: AbortSignal) => Promise<SearchPage>;

export class ResultsView {
  private readonly list: HTMLOListElement;
  private readonly sentinel: HTMLElement;
  private readonly actions: RowActions;
  private readonly onError: (error: unknown) => void;
  private cursor: string | null = null;
  private loader: PageLoader | undefined;
  private highlight: Highlighter = (message) => [{ text: message, hit: false }];
  private loading: AbortController | undefined;
  private rows = 0;

  constructor(options: { list: HTMLOListElement; sentinel: HTMLElement; actions: RowActions; onError: (error: unknown) => void }) {
    this.list = options.list;
    this.sentinel = options.sentinel;
    this.actions = options.actions;
    this.onError = options.onError;
    new IntersectionObserver((entries) => {
      if (entries.some((entry) => entry.isIntersecting)) void this.more();
    }).observe(this.sentinel);
    this.list.addEventListener("keydown", (event) => moveFocus(this.list, event));
  }

  /** Replaces the list with a first page, scrolled to the top; `load` fetches the pages after it. */
  show(page: SearchPage, load: PageLoader, highlight: Highlighter): void {
    window.scrollTo({ top: 0 });
    this.loading?.abort();
    this.loading = undefined;
    this.loader = load;
    this.highlight = highlight;
    this.rows = 0;
    this.list.replaceChildren();
    this.append(page);
  }

  /** Rows shown now. */
  get count(): number {
    return this.rows;
  }

  clear(): void {
    this.loading?.abort();
    this.loading = undefined;
    this.loader = undefined;
    this.cursor = null;
    this.rows = 0;
    this.list.replaceChildren();
    this.updateSentinel();
  }

  private append(page: SearchPage): void {
    const fragment = document.createDocumentFragment();
    for (const event of page.events) fragment.append(eventRow(event as Event, this.highlight, this.actions));
    this.list.append(fragment);
    this.rows += page.events.length;
    this.cursor = page.cursor;
    this.updateSentinel();
  }

  private updateSentinel(): void {
    const full = this.rows >= RESULT_ROWS_MAX;
    this.sentinel.hidden = this.cursor === null && !full;
    this.sentinel.textContent = full ? `${RESULT_ROWS_MAX.toLocaleString("en")} events shown: narrow the query or the range to see more.` : this.cursor === null ? "" : "Loading more…";
  }

  /** The next pages while the end of the list is in view. */
  private async more(): Promise<void> {
    while (this.cursor !== null && this.loader !== undefined && this.loading === undefined && this.rows < RESULT_ROWS_MAX && this.sentinelInView()) {
      const controller = new AbortController();
      this.loading = controller;
      try {
        const page = await this.loader(this.cursor, controller.signal);
        if (controller.signal.aborted) return;
        this.append(page);
      } catch (error) {
        if (!controller.signal.aborted) this.onError(error);
        return;
      } finally {
        if (this.loading === controller) this.loading = undefined;
      }
    }
  }

  private sentinelInView(): boolean {
    const box = this.sentinel.getBoundingClientRect();
    return !this.sentinel.hidden && box.top < window.innerHeight && box.bottom >= 0;
  }
}

/** Arrow keys (and j / k) move between the rows of a list. */
export function moveFocus(list: HTMLElement, event: KeyboardEvent): void {
  const step = event.key === "ArrowDown" || event.key === "j" ? 1 : event.key === "ArrowUp" || event.key === "k" ? -1 : 0;
  if (step === 0 || !(event.target instanceof HTMLElement) || !event.target.classList.contains("event-line")) return;
  const lines = [...list.querySelectorAll<HTMLElement>(".event-line")];
  const next = lines[lines.indexOf(event.target) + step];
  if (next === undefined) return;
  event.preventDefault();
  next.focus();
}
