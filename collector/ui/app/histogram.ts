/**
 * The histogram of matches over the range (`GET /v1/histogram`), drawn as
 * SVG bars in a fixed viewBox stretched to the width of the page. Dragging
 * across it selects a span and zooms the search to it; a click on a bar
 * zooms to that bucket. The buttons beside it (zoom out) do the same from
 * the keyboard.
 */
import type { Histogram } from "./api.ts";
import { h } from "./dom.ts";
import { formatTime } from "./state.ts";

const SVG = "http://www.w3.org/2000/svg";
const VIEW_WIDTH = 1000;
const VIEW_HEIGHT = 100;
/** A drag narrower than this share of the width is a click. */
const DRAG_FRACTION_MIN = 0.005;

export interface HistogramView {
  /** Draws a histogram answer; its buckets' span is what a drag maps onto. */
  render(histogram: Histogram): void;
  clear(message: string): void;
}

/** The instant at `fraction` (0 to 1) of [sinceMs, untilMs), whole ms. */
export function timeAt(fraction: number, sinceMs: number, untilMs: number): number {
  return Math.round(sinceMs + Math.min(1, Math.max(0, fraction)) * (untilMs - sinceMs));
}

export function histogramView(container: HTMLElement, zoom: (sinceMs: number, untilMs: number) => void): HistogramView {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${VIEW_WIDTH} ${VIEW_HEIGHT}`);
  svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("role", "img");
  svg.classList.add("histogram-chart");
  const bars = document.createElementNS(SVG, "g");
  const selection = document.createElementNS(SVG, "rect");
  selection.classList.add("histogram-selection");
  selection.setAttribute("y", "0");
  selection.setAttribute("height", String(VIEW_HEIGHT));
  selection.setAttribute("visibility", "hidden");
  svg.append(bars, selection);
  const axis = h("div", { class: "histogram-axis" });
  const note = h("p", { class: "histogram-note", role: "status" });
  container.replaceChildren(svg, axis, note);

  let span: { sinceMs: number; untilMs: number } | undefined;
  let dragFrom: number | undefined;
  const fractionOf = (event: PointerEvent): number => {
    const box = svg.getBoundingClientRect();
    return box.width === 0 ? 0 : Math.min(1, Math.max(0, (event.clientX - box.left) / box.width));
  };
  const showSelection = (from: number, to: number): void => {
    selection.setAttribute("x", String(Math.min(from, to) * VIEW_WIDTH));
    selection.setAttribute("width", String(Math.abs(to - from) * VIEW_WIDTH));
    selection.setAttribute("visibility", "visible");
  };
  svg.addEventListener("pointerdown", (event) => {
    if (span === undefined || event.button !== 0) return;
    dragFrom = fractionOf(event);
    svg.setPointerCapture(event.pointerId);
    showSelection(dragFrom, dragFrom);
  });
  svg.addEventListener("pointermove", (event) => {
    if (dragFrom !== undefined) showSelection(dragFrom, fractionOf(event));
  });
  svg.addEventListener("pointerup", (event) => {
    if (dragFrom === undefined || span === undefined) return;
    const from = dragFrom;
    const to = fractionOf(event);
    dragFrom = undefined;
    selection.setAttribute("visibility", "hidden");
    if (Math.abs(to - from) < DRAG_FRACTION_MIN) return;
    zoom(timeAt(Math.min(from, to), span.sinceMs, span.untilMs), timeAt(Math.max(from, to), span.sinceMs, span.untilMs));
  });
  svg.addEventListener("pointercancel", () => {
    dragFrom = undefined;
    selection.setAttribute("visibility", "hidden");
  });

  return {
    render(histogram) {
      const first = histogram.buckets[0];
      const last = histogram.buckets.at(-1);
      if (first === undefined || last === undefined) return this.clear("No buckets in this range.");
      const sinceMs = Date.parse(first.time);
      const untilMs = Date.parse(last.time) + histogram.bucket_ms;
      span = { sinceMs, untilMs };
      const countMax = Math.max(1, ...histogram.buckets.map((bucket) => bucket.count));
      const width = VIEW_WIDTH / histogram.buckets.length;
      const rects = histogram.buckets.map((bucket, index) => {
        const height = (bucket.count / countMax) * VIEW_HEIGHT;
        const rect = document.createElementNS(SVG, "rect");
        rect.classList.add("histogram-bar");
        rect.setAttribute("x", String(index * width + width * 0.1));
        rect.setAttribute("width", String(width * 0.8));
        rect.setAttribute("y", String(VIEW_HEIGHT - height));
        rect.setAttribute("height", String(height));
        const title = document.createElementNS(SVG, "title");
        title.textContent = `${formatTime(Date.parse(bucket.time))}: ${bucket.count.toLocaleString("en")}`;
        rect.append(title);
        rect.addEventListener("click", () => {
          const startMs = Date.parse(bucket.time);
          zoom(startMs, startMs + histogram.bucket_ms);
        });
        return rect;
      });
      bars.replaceChildren(...rects);
      const total = histogram.buckets.reduce((sum, bucket) => sum + bucket.count, 0);
      svg.setAttribute("aria-label", `Histogram of ${total} matches in ${histogram.buckets.length} buckets of ${histogram.bucket_ms / 1000} s; drag across it to zoom`);
      axis.replaceChildren(h("span", {}, formatTime(sinceMs)), h("span", {}, `max ${countMax.toLocaleString("en")} per ${bucketText(histogram.bucket_ms)}`), h("span", {}, formatTime(untilMs)));
      note.textContent = histogram.complete ? "" : `Counted from ${histogram.counted_since ?? "?"} on only (the scan stopped at its budget): narrow the range for exact counts.`;
    },
    clear(message) {
      span = undefined;
      bars.replaceChildren();
      axis.replaceChildren();
      note.textContent = message;
    },
  };
}

function bucketText(bucketMs: number): string {
  if (bucketMs % 86_400_000 === 0) return `${bucketMs / 86_400_000} d`;
  if (bucketMs % 3_600_000 === 0) return `${bucketMs / 3_600_000} h`;
  if (bucketMs % 60_000 === 0) return `${bucketMs / 60_000} min`;
  return `${bucketMs / 1000} s`;
}
