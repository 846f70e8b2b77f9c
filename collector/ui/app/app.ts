/**
 * The search page once signed in: the query bar and range picker, then a
 * search (results first, so they paint as early as possible; then the
 * histogram and the facets), the URL kept in step so that a search can be
 * shared, and the live tail in place of the results while "Live" is on.
 */
import type { Event } from "../../../shared/event.ts";
import { QueryError } from "../../../shared/errors.ts";
import { parseQuery } from "../../../shared/query/parser.ts";
import { ApiError, type Api, type Parameters } from "./api.ts";
import { clearQueryError, renderQueryError } from "./caret.ts";
import { showContext } from "./context.ts";
import { byId } from "./dom.ts";
import { renderFacets } from "./facets.ts";
import { highlighter, type Highlighter } from "./highlight.ts";
import { histogramView, type HistogramView } from "./histogram.ts";
import { addClause, filterClause } from "./query-text.ts";
import { PAGE_EVENTS, ResultsView } from "./results.ts";
import type { RowActions } from "./rows.ts";
import { describeRange, isRelativeRange, rangeBounds, rangeParameters, stateFromUrl, urlOf, type SearchState } from "./state.ts";
import { LiveTail } from "./tail.ts";
import { markSubmitted, measureAfterPaint } from "./timing.ts";

/** The page says what went wrong with a refused token, on the sign-in form. */
export type SignOut = (message: string | undefined) => void;

export class SearchApp {
  private api: Api | undefined;
  private readonly signOut: SignOut;
  private readonly query = byId<HTMLInputElement>("query");
  private readonly rangeSelect = byId<HTMLSelectElement>("range");
  private readonly absolute = byId<HTMLElement>("absolute-range");
  private readonly sinceInput = byId<HTMLInputElement>("range-since");
  private readonly untilInput = byId<HTMLInputElement>("range-until");
  private readonly queryError = byId<HTMLElement>("query-error");
  private readonly summary = byId<HTMLElement>("summary");
  private readonly error = byId<HTMLElement>("error");
  private readonly facets = byId<HTMLElement>("facets");
  private readonly liveButton = byId<HTMLButtonElement>("live-button");
  private readonly pauseButton = byId<HTMLButtonElement>("pause-button");
  private readonly histogram: HistogramView;
  private readonly results: ResultsView;
  private readonly tail: LiveTail;
  private state: SearchState = stateFromUrl(location.search);
  private controller: AbortController | undefined;
  /** Of the search shown: its matches (negative: at least that many) and the ms to its first results. */
  private matches: number | undefined;
  private firstResultsMs: number | undefined;

  constructor(signOut: SignOut) {
    this.signOut = signOut;
    const actions: RowActions = { filter: (field, value, negate) => this.filter(field, value, negate), context: (event) => this.context(event) };
    this.histogram = histogramView(byId("histogram"), (sinceMs, untilMs) => this.submit({ query: this.state.query, range: { kind: "absolute", sinceMs, untilMs } }));
    this.results = new ResultsView({ list: byId("results"), sentinel: byId("more"), actions, onError: (error) => this.fail(error) });
    this.tail = new LiveTail({ list: byId("tail-events"), status: byId("tail-status"), actions, onError: (error) => this.fail(error) });
    this.wire();
  }

  /** Shows the page, searching with `api` (a signed-in token), and runs the URL's search. */
  start(api: Api): void {
    this.api = api;
    byId("app").hidden = false;
    this.show(stateFromUrl(location.search));
    this.query.focus();
  }

  private wire(): void {
    byId<HTMLFormElement>("search-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.submit({ query: this.query.value, range: this.state.range });
    });
    this.query.addEventListener("input", () => clearQueryError(this.queryError));
    this.rangeSelect.addEventListener("change", () => {
      const value = this.rangeSelect.value;
      if (isRelativeRange(value)) return this.submit({ query: this.query.value, range: { kind: "relative", span: value } });
      const bounds = rangeBounds(this.state.range, Date.now());
      this.sinceInput.value = utcInputValue(bounds.sinceMs);
      this.untilInput.value = utcInputValue(bounds.untilMs);
      this.absolute.hidden = false;
      this.sinceInput.focus();
    });
    byId("range-apply").addEventListener("click", () => {
      const sinceMs = Date.parse(`${this.sinceInput.value}Z`);
      const untilMs = Date.parse(`${this.untilInput.value}Z`);
      if (!(sinceMs < untilMs)) return this.showError("The range needs a start before its end.");
      this.submit({ query: this.query.value, range: { kind: "absolute", sinceMs, untilMs } });
    });
    byId("zoom-out").addEventListener("click", () => {
      const { sinceMs, untilMs } = rangeBounds(this.state.range, Date.now());
      const widthMs = untilMs - sinceMs;
      this.submit({ query: this.state.query, range: { kind: "absolute", sinceMs: sinceMs - Math.round(widthMs / 2), untilMs: untilMs + Math.round(widthMs / 2) } });
    });
    this.liveButton.addEventListener("click", () => this.setLive(!this.tail.running));
    this.pauseButton.addEventListener("click", () => {
      this.tail.setPaused(!this.tail.paused);
      this.pauseButton.setAttribute("aria-pressed", String(this.tail.paused));
      this.pauseButton.textContent = this.tail.paused ? "Resume" : "Pause";
    });
    byId("signout-button").addEventListener("click", () => this.leave(undefined));
    const dialog = byId<HTMLDialogElement>("context");
    byId("context-close").addEventListener("click", () => dialog.close());
    document.addEventListener("keydown", (event) => {
      const typing = event.target instanceof HTMLInputElement || event.target instanceof HTMLSelectElement || event.target instanceof HTMLTextAreaElement;
      if (event.key === "/" && !typing && !dialog.open) {
        event.preventDefault();
        this.query.focus();
        this.query.select();
      }
    });
    window.addEventListener("popstate", () => this.show(stateFromUrl(location.search)));
  }

  /** A new search from the bar, the picker, a zoom or a filter: it goes into the history, then runs. */
  private submit(state: SearchState): void {
    markSubmitted();
    if (urlOf(state) !== location.search) history.pushState(null, "", urlOf(state));
    this.show(state);
  }

  /** Puts `state` into the controls and runs it (the live tail restarts with the query instead). */
  private show(state: SearchState): void {
    this.state = state;
    this.query.value = state.query;
    this.rangeSelect.value = state.range.kind === "relative" ? state.range.span : "absolute";
    this.absolute.hidden = state.range.kind === "relative";
    if (state.range.kind === "absolute") {
      this.sinceInput.value = utcInputValue(state.range.sinceMs);
      this.untilInput.value = utcInputValue(state.range.untilMs);
    }
    void this.run();
  }

  private async run(): Promise<void> {
    const api = this.api;
    if (api === undefined) return;
    this.controller?.abort();
    const controller = new AbortController();
    this.controller = controller;
    const { signal } = controller;
    clearQueryError(this.queryError);
    this.error.hidden = true;
    let highlight: Highlighter;
    try {
      highlight = highlighter(parseQuery(this.state.query));
    } catch (error) {
      if (!(error instanceof QueryError)) throw error;
      renderQueryError(this.queryError, this.state.query, error.column, error.reason);
      return;
    }
    if (this.tail.running) {
      this.tail.start(api, this.state.query, highlight);
      return;
    }
    document.body.dataset["busy"] = "true";
    this.matches = undefined;
    this.firstResultsMs = undefined;
    delete this.summary.dataset["matches"];
    this.summary.textContent = "Searching…";
    const parameters: Parameters = { q: this.state.query, ...this.rangeParameters() };
    try {
      const page = await api.search({ ...parameters, limit: String(PAGE_EVENTS) }, signal);
      if (signal.aborted) return;
      this.results.show(page, (cursor, pageSignal) => api.search({ ...parameters, limit: String(PAGE_EVENTS), cursor }, pageSignal), highlight);
      this.summarize(undefined, undefined);
      measureAfterPaint((milliseconds) => {
        if (!signal.aborted) this.summarize(undefined, milliseconds);
      });
      // After the first page: the collector runs one index read at a time, and the results come first.
      const [histogram, facets] = await Promise.allSettled([api.histogram(parameters, signal), api.facets(parameters, signal)]);
      if (signal.aborted) return;
      if (histogram.status === "fulfilled") {
        this.histogram.render(histogram.value);
        this.summarize(histogram.value.buckets.reduce((sum, bucket) => sum + bucket.count, 0) * (histogram.value.complete ? 1 : -1), undefined);
      } else this.fail(histogram.reason);
      if (facets.status === "fulfilled") renderFacets(this.facets, facets.value, (field, value, negate) => this.filter(field, value, negate));
      else this.fail(facets.reason);
    } catch (error) {
      if (!signal.aborted) this.fail(error);
    } finally {
      if (this.controller === controller) document.body.dataset["busy"] = "false";
    }
  }

  /** The range as API parameters; a relative one ends at the collector's "now". */
  private rangeParameters(): Parameters {
    const { since, until } = rangeParameters(this.state.range);
    return { since, until: until ?? "now" };
  }

  /** The summary line: matches (negative: at least that many), rows shown, the range, the time to first results. */
  private summarize(matches: number | undefined, firstResultsMs: number | undefined): void {
    if (matches !== undefined) this.matches = matches;
    if (firstResultsMs !== undefined) this.firstResultsMs = firstResultsMs;
    const parts: string[] = [];
    if (this.matches !== undefined) parts.push(this.matches >= 0 ? `${this.matches.toLocaleString("en")} matches` : `at least ${(-this.matches).toLocaleString("en")} matches`);
    parts.push(`${this.results.count.toLocaleString("en")} shown`, describeRange(this.state.range));
    if (this.firstResultsMs !== undefined) parts.push(`first results in ${Math.round(this.firstResultsMs)} ms`);
    this.summary.textContent = parts.join(" · ");
    if (this.matches !== undefined) this.summary.dataset["matches"] = String(this.matches);
  }

  private setLive(live: boolean): void {
    this.liveButton.setAttribute("aria-pressed", String(live));
    byId("tail").hidden = !live;
    byId("results").hidden = live;
    byId("more").hidden = live;
    this.pauseButton.setAttribute("aria-pressed", "false");
    this.pauseButton.textContent = "Pause";
    if (!live) {
      this.tail.stop();
      void this.run();
      return;
    }
    this.controller?.abort();
    if (this.api === undefined) return;
    try {
      this.tail.start(this.api, this.state.query, highlighter(parseQuery(this.state.query)));
    } catch (error) {
      if (!(error instanceof QueryError)) throw error;
      renderQueryError(this.queryError, this.state.query, error.column, error.reason);
    }
  }

  private filter(field: string, value: string, negate: boolean): void {
    this.submit({ query: addClause(this.state.query, filterClause(field, value, negate)), range: this.state.range });
  }

  private context(event: Event): void {
    if (this.api !== undefined) void showContext(byId<HTMLDialogElement>("context"), this.api, event);
  }

  private fail(error: unknown): void {
    if (error instanceof ApiError) {
      if (error.status === 401 || error.status === 403) return this.leave(error);
      if (error.code === "LOGSHIP_QUERY" && error.column !== undefined) {
        renderQueryError(this.queryError, this.state.query, error.column, error.message.replace(/^invalid query at column \d+: /, ""));
        this.summary.textContent = "";
        return;
      }
      return this.showError(error.message);
    }
    this.showError(error instanceof Error ? error.message : String(error));
  }

  private showError(message: string): void {
    this.error.textContent = message;
    this.error.hidden = false;
  }

  private leave(error: ApiError | undefined): void {
    this.controller?.abort();
    this.api = undefined;
    this.setLive(false);
    this.results.clear();
    byId("app").hidden = true;
    this.signOut(error === undefined ? undefined : error.status === 401 ? "This collector does not know that token (any more). Sign in again." : `This token cannot search: ${error.message}`);
  }
}

/** A time as a datetime-local value in UTC, to the second. */
function utcInputValue(timeMs: number): string {
  return new Date(timeMs).toISOString().slice(0, 19);
}
