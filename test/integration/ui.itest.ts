/**
 * The web UI (issue 9) in a real browser: Debian's Chromium driven by
 * playwright-core against a real collector (`logship collector`) fed by a
 * real agent tailing a file whose lines carry their own times (logfmt,
 * `ts`), so every count the page shows is checked against the generator:
 *
 *   sign in (a wrong token and an ingest token are told apart first), run a
 *   query and scroll through every match, zoom by dragging across the
 *   histogram, expand an event and open its context, filter by a facet,
 *   follow lines written after the page opened (and pause), share the URL
 *   and reopen it in a fresh tab, and see that another tenant's token finds
 *   only its own events. A screenshot of each state goes to
 *   test-output/ui/, at 1280×800, and a narrow and a dark one at the end.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { appendFile, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { launchChromium } from "../helpers/browser.ts";
import { INGEST_TOKEN, REPO, agentSetup, collectorSetup, until } from "../helpers/processes.ts";
import { cleanups } from "../helpers/cleanups.ts";

const SEARCH_TOKEN = "ui-search-token";
const OTHER_SEARCH_TOKEN = "ui-other-search-token";
const OTHER_INGEST_TOKEN = "ui-other-ingest-token";
const TOKENS_YAML = [
  `  - { token: ${SEARCH_TOKEN}, tenant: default, role: search }`,
  `  - { token: ${OTHER_INGEST_TOKEN}, tenant: other, role: ingest }`,
  `  - { token: ${OTHER_SEARCH_TOKEN}, tenant: other, role: search }`,
  "",
].join("\n");
const SCREENSHOTS = join(REPO, "test-output", "ui");
const VIEWPORT = { width: 1280, height: 800 };

/** Lines of the generator: one a second, ending now; every third is an error. */
const LINES = 400;
const OTHER_LINES = 25;

interface Generated {
  timeMs: number;
  level: "error" | "warn" | "info";
  line: string;
}

function generate(endMs: number): Generated[] {
  return Array.from({ length: LINES }, (_, n) => {
    const timeMs = endMs - (LINES - n) * 1000;
    const level = n % 3 === 0 ? "error" : n % 2 === 0 ? "warn" : "info";
    return { timeMs, level, line: `ts=${new Date(timeMs).toISOString()} level=${level} user=u${n % 4} msg="request req${n} ${level === "error" ? "failed" : "done"}"` };
  });
}

async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`) });
}

async function signIn(page: Page, token: string): Promise<void> {
  await page.fill("#signin-token", token);
  await page.press("#signin-token", "Enter");
}

/** Waits until the page's search (results, histogram and facets) is done; returns the matches it shows. */
async function searched(page: Page): Promise<number> {
  await page.waitForSelector('body[data-busy="false"] #summary[data-matches]', { state: "attached" });
  return Number(await page.getAttribute("#summary", "data-matches"));
}

async function search(page: Page, query: string): Promise<number> {
  await page.fill("#query", query);
  await page.press("#query", "Enter");
  return searched(page);
}

/** Scrolls the results until every page is loaded; returns the rows. */
async function scrollToEnd(page: Page): Promise<number> {
  const more = page.locator("#more");
  const rows = page.locator("#results > li");
  while (!(await more.isHidden())) {
    const before = await rows.count();
    await more.evaluate((element) => element.scrollIntoView());
    await until("the next page after scrolling", 10_000, async () => ((await rows.count()) > before || (await more.isHidden()) ? true : undefined));
  }
  return rows.count();
}

test("web UI in Chromium: sign-in, counted search with infinite scroll, histogram zoom, event details and context, facet filter, live tail with pause, shared URL, tenant isolation", { timeout: 240_000 }, async (t) => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const directory = mkdtempSync(join(tmpdir(), "logship-ui-"));
  const defer = cleanups(t);
  defer(() => rmSync(directory, { recursive: true, force: true }));
  const appLog = join(directory, "app.log");
  const otherLog = join(directory, "other.log");
  const generated = generate(Date.now());
  await writeFile(appLog, generated.map((entry) => `${entry.line}\n`).join(""));
  await writeFile(otherLog, Array.from({ length: OTHER_LINES }, (_, n) => `ts=${new Date().toISOString()} level=error msg="other tenant secret${n}"\n`).join(""));

  const collectorConfig = await collectorSetup(join(directory, "collector"), TOKENS_YAML);
  const collector = await collectorConfig.start();
  defer(() => collector.kill());
  const parser = `    parser: { type: logfmt, time_field: ts, time_format: rfc3339 }\n`;
  const agentConfig = await agentSetup(join(directory, "agent"), [collectorConfig.url], [appLog], parser);
  const agent = await agentConfig.start();
  defer(() => agent.kill());
  const otherConfig = await agentSetup(join(directory, "other-agent"), [collectorConfig.url], [otherLog], parser);
  await writeFile(otherConfig.configPath, (await readFile(otherConfig.configPath, "utf8")).replace(`token: ${INGEST_TOKEN}`, `token: ${OTHER_INGEST_TOKEN}`));
  const otherAgent = await otherConfig.start();
  defer(() => otherAgent.kill());
  const indexed = async (token: string): Promise<number> => {
    const response = await fetch(`${collectorConfig.url}/v1/histogram?since=1h&until=now`, { headers: { authorization: `Bearer ${token}` } });
    const body = (await response.json()) as { buckets: { count: number }[] };
    return body.buckets.reduce((sum, bucket) => sum + bucket.count, 0);
  };
  await until("every line indexed in both tenants", 60_000, async () => ((await indexed(SEARCH_TOKEN)) === LINES && (await indexed(OTHER_SEARCH_TOKEN)) === OTHER_LINES ? true : undefined));

  const browser: Browser = await launchChromium();
  defer(() => browser.close());
  const context = await browser.newContext({ viewport: VIEWPORT });
  const page = await context.newPage();
  const pageErrors: string[] = [];
  page.on("pageerror", (error) => pageErrors.push(error.message));

  // Sign-in: a wrong token and an ingest token each get a clear message; the search token gets the page.
  await page.goto(`${collectorConfig.url}/?range=1h`);
  await signIn(page, "not-a-token");
  await page.waitForSelector("#signin-error:not([hidden])");
  assert.match((await page.textContent("#signin-error")) ?? "", /does not know that token/);
  await screenshot(page, "01-wrong-token");
  await signIn(page, INGEST_TOKEN);
  await page.locator("#signin-error", { hasText: "cannot search" }).waitFor();
  assert.match((await page.textContent("#signin-error")) ?? "", /role search or admin/);
  await signIn(page, SEARCH_TOKEN);
  await page.waitForSelector("#app:not([hidden])");
  assert.equal(await searched(page), LINES);

  // A query counted against the generator; every match reachable by scrolling (more than one page); terms highlighted.
  const errors = generated.filter((entry) => entry.level === "error");
  assert.ok(errors.length > 100);
  assert.equal(await search(page, "level:error failed"), errors.length);
  assert.equal(await page.locator("#results mark").first().textContent(), "failed");
  await screenshot(page, "02-results");
  assert.equal(await scrollToEnd(page), errors.length);
  const shownTimes = await page.locator("#results .event-time").evaluateAll((elements) => elements.map((element) => element.getAttribute("datetime") ?? ""));
  assert.deepEqual(shownTimes, [...shownTimes].sort().reverse(), "newest first");

  // A broken query: the column is pointed at, nothing is searched.
  await page.fill("#query", "level:(error");
  await page.press("#query", "Enter");
  await page.waitForSelector("#query-error:not([hidden])");
  assert.match((await page.textContent("#query-error")) ?? "", /Column 7: unclosed \(/);
  assert.equal(await page.textContent("#query-error .error-at"), "(");

  // Zoom: drag across the part of the histogram that holds events; the range becomes absolute and the count is the generator's for it.
  assert.equal(await search(page, ""), LINES);
  const chart = await page.locator(".histogram-chart").boundingBox();
  assert.ok(chart !== null);
  const y = chart.y + chart.height / 2;
  await page.mouse.move(chart.x + chart.width * 0.86, y);
  await page.mouse.down();
  await page.mouse.move(chart.x + chart.width * 0.9, y, { steps: 4 });
  await page.mouse.move(chart.x + chart.width * 0.94, y, { steps: 4 });
  await page.mouse.up();
  await page.waitForURL(/since=.*until=/);
  const zoomedMatches = await searched(page);
  const zoomed = new URL(page.url()).searchParams;
  const sinceMs = Date.parse(zoomed.get("since") ?? "");
  const untilMs = Date.parse(zoomed.get("until") ?? "");
  const expectedZoomed = generated.filter((entry) => entry.timeMs >= sinceMs && entry.timeMs < untilMs).length;
  assert.ok(expectedZoomed > 0 && expectedZoomed < LINES, `the drag selected ${expectedZoomed} of ${LINES} events`);
  assert.equal(zoomedMatches, expectedZoomed);
  assert.equal(await page.inputValue("#range"), "absolute");
  await screenshot(page, "03-zoomed");

  // Expand an event: every field, with filter buttons; then its context, from the same file.
  await page.goBack();
  await page.waitForURL((url) => !url.searchParams.has("since"));
  assert.equal(await searched(page), LINES);
  assert.equal(await search(page, "req200"), 1);
  await page.click("#results .event-line");
  await page.waitForSelector("#results .event-details");
  const detailsText = (await page.textContent("#results .event-details")) ?? "";
  for (const expected of ["fields.level", "fields.user", "u0", "path", appLog]) assert.ok(detailsText.includes(expected), `${expected} in the details`);
  await screenshot(page, "04-expanded");
  await page.click("#results .context-button");
  await page.waitForSelector("#context .context-match");
  const contextLines = await page.locator("#context .context-line").allTextContents();
  assert.equal(contextLines.length, 41);
  assert.match(contextLines[20] ?? "", /req200 done/);
  assert.match(contextLines[19] ?? "", /req199 done/);
  assert.match(contextLines[21] ?? "", /req201 failed/);
  await screenshot(page, "05-context");
  await page.keyboard.press("Escape");
  await page.locator("#context").waitFor({ state: "hidden" });

  // "Filter out" on a field of the expanded event, then a facet value: the query grows, the count follows the generator.
  await page.click('#results .event-details button[aria-label="Filter out fields.user: u0"]');
  assert.equal(await searched(page), 0);
  assert.equal(await page.inputValue("#query"), 'req200 -fields.user:"u0"');
  assert.equal(await search(page, ""), LINES);
  await page.click('.facet[data-field="fields.level"] .facet-value[title="Filter for fields.level: warn"]');
  const warnings = generated.filter((entry) => entry.level === "warn").length;
  assert.equal(await searched(page), warnings);
  assert.equal(await page.inputValue("#query"), 'fields.level:"warn"');
  const userFacet = await page.locator('.facet[data-field="fields.user"] .facet-count').allTextContents();
  assert.equal(userFacet.reduce((sum, count) => sum + Number(count), 0), warnings);
  await screenshot(page, "06-facet-filter");

  // Share the URL: a fresh tab has no token (it is not in the URL), signs in, and shows the same search.
  const shared = page.url();
  assert.ok(!shared.includes(SEARCH_TOKEN));
  const recipient = await context.newPage();
  await recipient.goto(shared);
  await recipient.waitForSelector("#signin:not([hidden])");
  await signIn(recipient, SEARCH_TOKEN);
  assert.equal(await searched(recipient), warnings);
  assert.equal(await recipient.inputValue("#query"), 'fields.level:"warn"');
  await screenshot(recipient, "07-shared-url");
  await recipient.close();

  // Live tail: lines written after the page opened stream in at the top; pause holds them back.
  await page.fill("#query", "live");
  await page.press("#query", "Enter");
  await searched(page);
  await page.click("#live-button");
  await page.waitForSelector('#tail-status[data-state="live"]');
  const live = (from: number, count: number): string =>
    Array.from({ length: count }, (_, n) => `ts=${new Date().toISOString()} level=info user=u9 msg="live line${from + n}"\n`).join("");
  await appendFile(appLog, live(0, 30));
  await page.locator("#tail-events > li").nth(29).waitFor();
  assert.equal(await page.locator("#tail-events > li").count(), 30);
  assert.match((await page.locator("#tail-events .event-message").first().textContent()) ?? "", /live line29/);
  await screenshot(page, "08-live");
  await page.click("#pause-button");
  await appendFile(appLog, live(30, 5));
  await page.locator("#tail-status", { hasText: "5 new waiting" }).waitFor();
  assert.equal(await page.locator("#tail-events > li").count(), 30);
  await screenshot(page, "09-paused");
  await page.click("#pause-button");
  await page.locator("#tail-events > li").nth(34).waitFor();
  assert.equal(await page.locator("#tail-events > li").count(), 35);
  assert.match((await page.locator("#tail-events .event-message").first().textContent()) ?? "", /live line34/);
  await page.click("#live-button");
  assert.equal(await searched(page), 35);

  // Narrow window and dark theme: the same page, laid out in one column.
  await page.setViewportSize({ width: 420, height: 800 });
  await screenshot(page, "10-narrow");
  await page.emulateMedia({ colorScheme: "dark" });
  await page.setViewportSize(VIEWPORT);
  await screenshot(page, "11-dark");

  // Tenants: default's token never sees other's events, and other's token sees only its own.
  assert.equal(await search(page, "secret*"), 0);
  await page.click("#signout-button");
  await page.waitForSelector("#signin:not([hidden])");
  await signIn(page, OTHER_SEARCH_TOKEN);
  await page.waitForSelector("#app:not([hidden])");
  assert.equal(await search(page, ""), OTHER_LINES);
  const paths = await page.locator('.facet[data-field="path"] .facet-text').allTextContents();
  assert.deepEqual(paths, [otherLog]);
  assert.equal(await search(page, "req*"), 0);
  await screenshot(page, "12-other-tenant");

  assert.deepEqual(pageErrors, []);
});
