/**
 * Time from pressing Enter to the first results painted, measured in the
 * page with the User Timing API: a mark when the search is submitted, a
 * mark in the second animation frame after the rows are in the document
 * (the first frame's callback runs before its paint; the second one's runs
 * after it), and a measure between them. bench/ui.bench.ts reads the
 * measure; the summary line shows it.
 */
export const SUBMIT_MARK = "logship:submit";
export const PAINTED_MARK = "logship:first-results-painted";
export const FIRST_RESULTS_MEASURE = "logship:first-results";

export function markSubmitted(): void {
  performance.clearMarks(SUBMIT_MARK);
  performance.mark(SUBMIT_MARK);
}

/** Calls `done` with the ms from the submit mark to after the next paint (undefined if no submit was marked). */
export function measureAfterPaint(done: (milliseconds: number | undefined) => void): void {
  requestAnimationFrame(() =>
    requestAnimationFrame(() => {
      if (performance.getEntriesByName(SUBMIT_MARK, "mark").length === 0) return done(undefined);
      performance.mark(PAINTED_MARK);
      const measure = performance.measure(FIRST_RESULTS_MEASURE, SUBMIT_MARK, PAINTED_MARK);
      performance.clearMarks(SUBMIT_MARK);
      done(measure.duration);
    }),
  );
}
