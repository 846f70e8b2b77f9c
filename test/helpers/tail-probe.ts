/**
 * What the live tail does to the page, recorded in the page itself (the
 * live tail's test and benchmark): every animation frame's time (the gaps
 * between frames are how responsive the page is), the long tasks (over
 * 50 ms, PerformanceObserver `longtask`), the Event Timing entries of
 * inputs (their time to the next paint), the most rows the
 * list ever held (a MutationObserver after each change) and, if asked, the
 * text of every row put into it, and for each click on a button the time
 * from the click's timestamp to after the next paint (an animation frame,
 * then a message: the page's work for the click and the frame that shows
 * it).
 *
 * The test asserts on the rows only; the benchmark prints the times.
 */
import type { Page } from "playwright-core";

/** Frames, long tasks, events, clicks and rows recorded at most (20 s at 60 frames/s is 1,200 frames). */
export const PROBE_ENTRIES_MAX = 100_000;
/** Event Timing's smallest threshold: inputs that took less are not reported by the browser (most take a frame or two to their paint). */
export const EVENT_TIMING_THRESHOLD_MS = 16;
/** An input slower than this to its paint is counted as slow (a tenth of a second is where a reaction stops feeling instant). */
export const SLOW_INPUT_MS = 100;

interface ProbeRecord {
  frames: number[];
  longTasks: { startMs: number; durationMs: number }[];
  events: { name: string; startMs: number; durationMs: number }[];
  clicks: { startMs: number; toPaintMs: number }[];
  rowsMax: number;
  /** The text of every row put into the list, in the order of the changes (only with `recordRows`). */
  rowsAdded: string[];
}

/**
 * The browser APIs the probe uses, as the page has them: the project's
 * TypeScript has Node's globals, not the DOM library, and the functions
 * given to page.evaluate run in the page.
 */
interface PageScope {
  tailProbe: ProbeRecord;
  performance: { now(): number };
  requestAnimationFrame(callback: (timeMs: number) => void): number;
  PerformanceObserver: new (callback: (list: { getEntries(): { name: string; startTime: number; duration: number }[] }) => void) => { observe(options: { type: string; durationThreshold?: number }): void };
  MutationObserver: new (callback: (records: { addedNodes: ArrayLike<{ textContent: string | null }> }[]) => void) => { observe(target: PageElement, options: { childList: boolean }): void };
  MessageChannel: new () => { port1: { onmessage: (() => void) | null }; port2: { postMessage(message: null): void } };
  document: { querySelector(selector: string): PageElement | null };
}

interface PageElement {
  childElementCount: number;
  addEventListener(type: "click", listener: (event: { timeStamp: number }) => void, options: { capture: boolean }): void;
}

/** Starts recording in `page`: frames, long tasks, slow inputs, rows of `listSelector` (their text too with `recordRows`), clicks on `buttonSelector`. */
export async function installTailProbe(page: Page, listSelector: string, buttonSelector: string, recordRows = false): Promise<void> {
  await page.evaluate(
    ({ listSelector, buttonSelector, recordRows, entriesMax, thresholdMs }) => {
      const scope = globalThis as unknown as PageScope;
      const record: ProbeRecord = { frames: [], longTasks: [], events: [], clicks: [], rowsMax: 0, rowsAdded: [] };
      scope.tailProbe = record;
      const frame = (timeMs: number): void => {
        if (record.frames.length < entriesMax) record.frames.push(timeMs);
        scope.requestAnimationFrame(frame);
      };
      scope.requestAnimationFrame(frame);
      new scope.PerformanceObserver((list) => {
        for (const entry of list.getEntries()) if (record.longTasks.length < entriesMax) record.longTasks.push({ startMs: entry.startTime, durationMs: entry.duration });
      }).observe({ type: "longtask" });
      new scope.PerformanceObserver((list) => {
        for (const entry of list.getEntries()) if (record.events.length < entriesMax) record.events.push({ name: entry.name, startMs: entry.startTime, durationMs: entry.duration });
      }).observe({ type: "event", durationThreshold: thresholdMs });
      const list = scope.document.querySelector(listSelector);
      const button = scope.document.querySelector(buttonSelector);
      if (list === null || button === null) throw new Error(`no ${listSelector} or no ${buttonSelector} on the page`);
      new scope.MutationObserver((changes) => {
        record.rowsMax = Math.max(record.rowsMax, list.childElementCount);
        if (!recordRows) return;
        for (const change of changes) for (const row of Array.from(change.addedNodes)) if (record.rowsAdded.length < entriesMax) record.rowsAdded.push(row.textContent ?? "");
      }).observe(list, { childList: true });
      button.addEventListener(
        "click",
        (event) => {
          const startMs = event.timeStamp;
          scope.requestAnimationFrame(() => {
            const channel = new scope.MessageChannel();
            channel.port1.onmessage = () => {
              if (record.clicks.length < entriesMax) record.clicks.push({ startMs, toPaintMs: scope.performance.now() - startMs });
            };
            channel.port2.postMessage(null);
          });
        },
        { capture: true },
      );
    },
    { listSelector, buttonSelector, recordRows, entriesMax: PROBE_ENTRIES_MAX, thresholdMs: EVENT_TIMING_THRESHOLD_MS },
  );
}

/** The page's clock now (ms since navigation), to mark a window of the recording. */
export function pageNowMs(page: Page): Promise<number> {
  return page.evaluate(() => performance.now());
}

/** The most rows the list held after any change since the probe was installed. */
export function probedRowsMax(page: Page): Promise<number> {
  return page.evaluate(() => (globalThis as unknown as PageScope).tailProbe.rowsMax);
}

/** The text of every row put into the list so far (`recordRows`). */
export function probedRowsAdded(page: Page): Promise<string[]> {
  return page.evaluate(() => (globalThis as unknown as PageScope).tailProbe.rowsAdded);
}

export interface ProbeSummary {
  frames: number;
  framesPerSecond: number;
  /** Gaps between consecutive animation frames longer than 50 ms (a frame the eye sees as a stall). */
  framesOver50Ms: number;
  frameGapP50Ms: number;
  frameGapP95Ms: number;
  frameGapMaxMs: number;
  longTasks: number;
  longTaskTotalMs: number;
  longTaskMaxMs: number;
  clicks: number;
  clickToPaintP50Ms: number;
  clickToPaintMaxMs: number;
  /** Inputs (pointer, mouse, click events) that took more than SLOW_INPUT_MS to their next paint, by the browser's Event Timing. */
  slowInputs: number;
  slowInputMaxMs: number;
}

/** The recording between two times of the page's clock, summarised. */
export async function probeSummary(page: Page, fromMs: number, toMs: number): Promise<ProbeSummary> {
  const record = await page.evaluate(() => (globalThis as unknown as PageScope).tailProbe);
  const inWindow = (timeMs: number): boolean => timeMs >= fromMs && timeMs <= toMs;
  const frames = record.frames.filter(inWindow);
  const gaps = frames.slice(1).map((timeMs, index) => timeMs - (frames[index] as number));
  const sortedGaps = [...gaps].sort((a, b) => a - b);
  const longTasks = record.longTasks.filter((task) => inWindow(task.startMs));
  const clicks = record.clicks.filter((click) => inWindow(click.startMs)).map((click) => click.toPaintMs).sort((a, b) => a - b);
  const events = record.events.filter((event) => inWindow(event.startMs));
  const slowInputs = events.filter((event) => event.durationMs > SLOW_INPUT_MS);
  return {
    frames: frames.length,
    framesPerSecond: frames.length / ((toMs - fromMs) / 1000),
    framesOver50Ms: gaps.filter((gapMs) => gapMs > 50).length,
    frameGapP50Ms: percentile(sortedGaps, 0.5),
    frameGapP95Ms: percentile(sortedGaps, 0.95),
    frameGapMaxMs: sortedGaps.at(-1) ?? Number.NaN,
    longTasks: longTasks.length,
    longTaskTotalMs: longTasks.reduce((sum, task) => sum + task.durationMs, 0),
    longTaskMaxMs: Math.max(0, ...longTasks.map((task) => task.durationMs)),
    clicks: clicks.length,
    clickToPaintP50Ms: percentile(clicks, 0.5),
    clickToPaintMaxMs: clicks.at(-1) ?? Number.NaN,
    slowInputs: slowInputs.length,
    slowInputMaxMs: Math.max(0, ...events.map((event) => event.durationMs)),
  };
}

function percentile(sorted: readonly number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))] ?? Number.NaN;
}

export interface TailCounts {
  received: number;
  shown: number;
  dropped: number;
  waiting: number;
}

/** The live tail's counts, from its status line's data attributes. */
export async function tailCounts(page: Page): Promise<TailCounts> {
  const data = await page.locator("#tail-status").evaluate((element) => ({ ...(element as unknown as { dataset: Record<string, string> }).dataset }));
  return { received: Number(data["received"]), shown: Number(data["shown"]), dropped: Number(data["dropped"]), waiting: Number(data["waiting"]) };
}
