/**
 * The web UI's live tail at 2,000 lines/s (issue 9: "the page stays
 * responsive at 2,000 lines/s; older lines are dropped from the view, not
 * kept without limit"), in Debian's Chromium against a real collector fed
 * by a real agent tailing a file that a writer appends 2,000 numbered lines
 * a second to (test/helpers/paced-writer.ts).
 *
 * What is asserted holds however busy the machine is (nothing about time;
 * bench/ui-tail.bench.ts measures the frames): every line written reaches
 * the page, and each one is either put on the page or counted as dropped
 * unshown (shown + dropped = written, every row put on the page recorded
 * as it went in: no line twice, in the order written); the list never holds
 * more than its bound of rows and ends holding the newest lines, newest
 * first; Pause holds new rows back (nothing goes into the list while more
 * than a list's worth comes in, the overflow counted as dropped) and Resume
 * puts the newest in.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TAIL_ROWS_MAX } from "../../collector/ui/app/tail-limits.ts";
import { launchChromium } from "../helpers/browser.ts";
import { writePaced } from "../helpers/paced-writer.ts";
import { REPO, agentSetup, collectorSetup, until } from "../helpers/processes.ts";
import { installTailProbe, probedRowsAdded, probedRowsMax, tailCounts } from "../helpers/tail-probe.ts";
import { cleanups } from "../helpers/cleanups.ts";

const SEARCH_TOKEN = "ui-tail-search-token";
const LINES_PER_SECOND = 2000;
/** 8 s of lines at 2,000 a second. */
const LINES = 16_000;
/** Pause once the page has this many lines (mid-stream, with more than a list's worth still to come). */
const PAUSE_AFTER_LINES = 4000;
const SCREENSHOTS = join(REPO, "test-output", "ui");

function line(sequence: number): string {
  return `ts=${new Date().toISOString()} level=info service=checkout msg="tail line seq=${sequence} served"`;
}

/** The `seq=` of a row's text. */
function sequenceOf(text: string): number {
  const match = /seq=(\d+) /.exec(text);
  assert.ok(match !== null, `a row without seq=: ${text}`);
  return Number(match[1]);
}


test("live tail at 2,000 lines/s: the rows stay at their bound, every line shown or counted as dropped, pause holds and resume continues", { timeout: 240_000 }, async (t) => {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const directory = mkdtempSync(join(tmpdir(), "logship-ui-tail-"));
  const defer = cleanups(t);
  defer(() => rmSync(directory, { recursive: true, force: true }));
  const appLog = join(directory, "app.log");
  await writeFile(appLog, "");

  const collectorConfig = await collectorSetup(join(directory, "collector"), `  - { token: ${SEARCH_TOKEN}, tenant: default, role: search }\n`);
  const collector = await collectorConfig.start();
  defer(() => collector.kill());
  const agent = await (await agentSetup(join(directory, "agent"), [collectorConfig.url], [appLog])).start();
  defer(() => agent.kill());

  const browser = await launchChromium();
  defer(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  const pageErrors: string[] = [];
  page.on("pageerror", (error) => pageErrors.push(error.message));
  await page.goto(`${collectorConfig.url}/?q=checkout&range=15m`);
  await page.fill("#signin-token", SEARCH_TOKEN);
  await page.press("#signin-token", "Enter");
  await page.waitForSelector('body[data-busy="false"] #summary[data-matches]', { state: "attached" });
  await page.click("#live-button");
  await page.waitForSelector('#tail-status[data-state="live"]');
  await installTailProbe(page, "#tail-events", "#pause-button", true);

  const writing = writePaced(appLog, { linesPerSecond: LINES_PER_SECOND, lines: LINES, line });
  defer(() => writing);

  // Pause mid-stream: nothing goes into the list while more than a list's worth of lines comes in.
  await until(`${PAUSE_AFTER_LINES} lines on the page`, 60_000, async () => ((await tailCounts(page)).received >= PAUSE_AFTER_LINES ? true : undefined));
  await page.click("#pause-button");
  const atPause = await tailCounts(page);
  const rowsAddedAtPause = (await probedRowsAdded(page)).length;
  const topAtPause = await page.locator("#tail-events > li").first().textContent();
  await until("more than a list's worth of lines while paused", 60_000, async () => {
    const counts = await tailCounts(page);
    return counts.waiting === TAIL_ROWS_MAX && counts.dropped > atPause.dropped ? counts : undefined;
  });
  assert.equal((await probedRowsAdded(page)).length, rowsAddedAtPause, "no row went into the list while paused");
  assert.equal(await page.locator("#tail-events > li").first().textContent(), topAtPause);
  assert.match((await page.textContent("#tail-status")) ?? "", /^Paused · 500 new waiting \([\d,]+ older dropped\)/);
  await page.screenshot({ path: join(SCREENSHOTS, "13-live-2000-paused.png") });

  // Resume: the waiting lines go in, newer than the top row at the pause.
  await page.click("#pause-button");
  await until("rows put in after resuming", 60_000, async () => ((await probedRowsAdded(page)).length > rowsAddedAtPause ? true : undefined));
  assert.ok(sequenceOf((await page.locator("#tail-events > li").first().textContent()) ?? "") > sequenceOf(topAtPause ?? ""));

  // The end: every line reached the page; each was put on the page once, in order, or counted as dropped.
  assert.equal(await writing, LINES);
  const final = await until("every line on the page and none waiting", 120_000, async () => {
    const counts = await tailCounts(page);
    return counts.received === LINES && counts.waiting === 0 ? counts : undefined;
  });
  await page.screenshot({ path: join(SCREENSHOTS, "14-live-2000.png") });
  assert.equal(final.shown + final.dropped, LINES, `shown ${final.shown} + dropped ${final.dropped}`);
  assert.ok(final.dropped >= TAIL_ROWS_MAX, "the pause dropped lines");
  const added = (await probedRowsAdded(page)).map(sequenceOf);
  assert.equal(added.length, final.shown, "every row put on the page was counted as shown");
  // A change puts a batch in newest first; batch after batch, the lines go in in the order written.
  const seen = new Set(added);
  assert.equal(seen.size, added.length, "no line put on the page twice");
  assert.ok(added.every((sequence) => sequence >= 0 && sequence < LINES));

  // The list: at its bound, and never over it; the newest lines, newest first.
  const rows = await page.locator("#tail-events > li").allTextContents();
  assert.equal(rows.length, TAIL_ROWS_MAX);
  assert.equal(await probedRowsMax(page), TAIL_ROWS_MAX);
  assert.deepEqual(
    rows.map(sequenceOf),
    Array.from({ length: TAIL_ROWS_MAX }, (_, index) => LINES - 1 - index),
  );
  assert.match((await page.textContent("#tail-status")) ?? "", new RegExp(`^Live · ${LINES.toLocaleString("en")} received \\(${final.dropped.toLocaleString("en")} too fast to show\\)`));
  assert.deepEqual(pageErrors, []);
});
