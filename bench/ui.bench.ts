/**
 * The web UI (issue 9, docs/UI.md): time from pressing Enter in the query
 * bar to the first results painted, measured in the browser, over the
 * search benchmark's 10 M-event index (bench/search-data.ts: built once,
 * cached in .bench-data/search/).
 *
 *   npx node bench/ui.bench.ts [--events 10000000] [--runs 20]
 *
 * Debian's Chromium (headless, driven by playwright-core) opens the page of
 * a bundled collector whose data_dir holds the index, signs in, and sets the
 * range to the dataset's 48 hours. Each run types the query and presses
 * Enter; the page's own User Timing measure (collector/ui/app/timing.ts)
 * runs from the submit to the second animation frame after the rows are in
 * the document, i.e. after they were painted. The next run starts once the
 * histogram and the facets that follow the results are in too. Beside it,
 * the browser's Resource Timing of the GET /v1/search request (sent to
 * last byte), the part of the time spent waiting for the collector.
 *
 * Prints one JSON object per case: the needle (NEEDLE_COUNT events over the
 * whole range, the target's case) and the newest page of every event.
 */
import { parseArgs } from "node:util";
import type { Page } from "playwright-core";
import { launchChromium } from "../test/helpers/browser.ts";
import { startCollector, stopCollector } from "./bench-collector.ts";
import { bundleLogship } from "./bundle.ts";
import { cachedIndex, DATA_END_MS, DATA_SPAN_MS, NEEDLE, NEEDLE_COUNT, SEARCH_BENCH_ROOT, TOKENS } from "./search-data.ts";

const { values } = parseArgs({ options: { events: { type: "string", default: "10000000" }, runs: { type: "string", default: "20" } } });
const totalEvents = Number(values.events);
const runs = Number(values.runs);
/** The target for the needle: first results painted within this. */
const TARGET_MS = 300;
const FIRST_RESULTS_MEASURE = "logship:first-results";
/** A query that matches nothing, for the page's first load (the runs then start from a page at rest). */
const IDLE_QUERY = "zq0idle0x";

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

function percentile(sorted: readonly number[], fraction: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(fraction * sorted.length) - 1))] ?? Number.NaN;
}

/** Waits until the page's search is done (results, histogram and facets). */
async function searched(page: Page): Promise<void> {
  await page.waitForSelector('body[data-busy="false"] #summary[data-matches]', { state: "attached", timeout: 120_000 });
}

/** One run: Enter on `query`; the page's measure, the search request's duration and the rows shown. */
async function run(page: Page, query: string): Promise<{ firstResultsMs: number; requestMs: number; rows: number }> {
  await page.evaluate(() => {
    performance.clearMeasures();
    performance.clearResourceTimings();
  });
  await page.fill("#query", query);
  await page.press("#query", "Enter");
  await page.waitForFunction((name) => performance.getEntriesByName(name, "measure").length > 0, FIRST_RESULTS_MEASURE, { polling: 10, timeout: 120_000 });
  await searched(page);
  const timings = await page.evaluate((name) => ({
    measure: performance.getEntriesByName(name, "measure").map((entry) => entry.duration),
    request: performance
      .getEntriesByType("resource")
      .filter((entry) => entry.name.includes("/v1/search?"))
      .map((entry) => entry.duration),
  }), FIRST_RESULTS_MEASURE);
  const firstResultsMs = timings.measure[0];
  const requestMs = timings.request[0];
  if (firstResultsMs === undefined || requestMs === undefined) throw new Error(`no measure or no search request timing: ${JSON.stringify(timings)}`);
  return { firstResultsMs, requestMs, rows: await page.locator("#results > li").count() };
}

const logship = await bundleLogship(SEARCH_BENCH_ROOT);
const { dataDirectory } = await cachedIndex(totalEvents);
const collector = await startCollector(logship, dataDirectory);
const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const range = new URLSearchParams({ q: IDLE_QUERY, since: new Date(DATA_END_MS - DATA_SPAN_MS).toISOString(), until: new Date(DATA_END_MS).toISOString() });
  await page.goto(`${collector.url}/?${range}`);
  await page.fill("#signin-token", TOKENS.search);
  await page.press("#signin-token", "Enter");
  await searched(page);
  const cases = [
    { name: "needle", query: NEEDLE, expectedRows: NEEDLE_COUNT, target: true },
    { name: "newest_page", query: "", expectedRows: 100, target: false },
  ];
  for (const benchCase of cases) {
    const first = await run(page, benchCase.query);
    const measured: { firstResultsMs: number; requestMs: number }[] = [];
    for (let index = 0; index < runs; index++) {
      const result = await run(page, benchCase.query);
      if (result.rows !== benchCase.expectedRows) throw new Error(`${benchCase.name}: ${result.rows} rows shown, expected ${benchCase.expectedRows}`);
      measured.push(result);
      process.stderr.write(`ui bench: ${benchCase.name} run ${index + 1}: ${round(result.firstResultsMs)} ms (search request ${round(result.requestMs)} ms)\n`);
    }
    const sorted = measured.map((result) => result.firstResultsMs).sort((a, b) => a - b);
    const requests = measured.map((result) => result.requestMs).sort((a, b) => a - b);
    const p50 = percentile(sorted, 0.5);
    console.log(
      JSON.stringify({
        bench: "ui",
        case: benchCase.name,
        path: "Enter in Chromium (headless) → GET /v1/search (limit 100) of a bundled collector → rows painted",
        query: benchCase.query,
        range: "full (48 h, 3 partitions)",
        events: totalEvents,
        rows: benchCase.expectedRows,
        runs,
        first_ms: round(first.firstResultsMs),
        p50_ms: round(p50),
        p95_ms: round(percentile(sorted, 0.95)),
        max_ms: round(sorted.at(-1) ?? Number.NaN),
        search_request_p50_ms: round(percentile(requests, 0.5)),
        ...(benchCase.target ? { target: `p50 < ${TARGET_MS} ms`, meets_target: p50 < TARGET_MS } : {}),
      }),
    );
  }
} finally {
  await browser.close();
  await stopCollector(collector);
}
