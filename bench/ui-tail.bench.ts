/**
 * The web UI's live tail at a steady 2,000 lines/s (issue 9: "the page
 * stays responsive at 2,000 lines/s; older lines are dropped from the
 * view"), measured in the browser.
 *
 *   npx node bench/ui-tail.bench.ts [--rate 2000] [--seconds 20] [--clicks 5] [--trace]
 *
 * A bundled collector (embedded log and search index) fed by a bundled
 * agent tailing a file that a writer appends `rate` lines a second to
 * (test/helpers/paced-writer.ts), for `seconds`. Chromium (headless, driven
 * by playwright-core) has the page in live tail for a query that matches
 * every line (and marks a word of each) from before the first line until
 * the last. In the page (test/helpers/tail-probe.ts): the gaps between
 * animation frames (over 50 ms, p50, p95, longest), long tasks, and, in
 * the second half, `clicks` pairs of Pause and Resume (a pause of 250 ms),
 * each click timed from its event's timestamp to after the next paint,
 * beside the browser's Event Timing of the inputs (over 100 ms, longest).
 * With --trace, from a Chromium trace of the page's main thread: its CPU
 * time, and the CPU time it ran during the long tasks against their wall
 * time (on shared cores a long task can be mostly a wait for a core; the
 * trace costs the browser CPU time of its own, so it is not on by
 * default). Then, once the page has every line: lines received against
 * written, rows put on the page and dropped unshown (shown + dropped =
 * received), and the rows in the document at the end and at most (the
 * bound).
 *
 * Prints one JSON object per case: `idle_page`, the same page in live tail
 * with no lines (what the machine's other work does to the frames), then
 * `live_tail`. The machine's load average is in each: the collector, the
 * agent, the writer and Chromium share its cores with whatever else runs.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { setTimeout } from "node:timers/promises";
import { parseArgs } from "node:util";
import type { Browser, Page } from "playwright-core";
import { launchChromium } from "../test/helpers/browser.ts";
import { writePaced } from "../test/helpers/paced-writer.ts";
import { installTailProbe, pageNowMs, probedRowsMax, probeSummary, tailCounts, type TailCounts } from "../test/helpers/tail-probe.ts";
import { startCollector, stopCollector } from "./bench-collector.ts";
import { bundleLogship } from "./bundle.ts";
import { AGENT_ENV, AGENT_NODE_OPTIONS } from "./node-options.ts";
import { freePort } from "./processes.ts";
import { TOKENS } from "./search-data.ts";

const { values } = parseArgs({ options: { rate: { type: "string", default: "2000" }, seconds: { type: "string", default: "20" }, clicks: { type: "string", default: "5" }, trace: { type: "boolean", default: false } } });
const linesPerSecond = Number(values.rate);
const seconds = Number(values.seconds);
const clickPairs = Number(values.clicks);
/** The live query: every line has the word, so every line matches and has a mark. */
const QUERY = "checkout";
/** How long each pause of the Pause/Resume pairs lasts, and the time between pairs. */
const PAUSE_MS = 250;
const CLICK_SPACING_MS = 1500;
/** The trace category of Chromium's task events (RunTask), with their thread CPU time. */
const TASK_TRACE_CATEGORY = "disabled-by-default-devtools.timeline";
/** How long the page may take to receive every line after the writer stops. */
const CATCH_UP_TIMEOUT_MS = 120_000;

const root = process.env["LOGSHIP_BENCH_DATA"] ?? join(import.meta.dirname, "..", ".bench-data");
const work = join(root, "ui-tail");
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const logFile = join(work, "app.log");
writeFileSync(logFile, "");

/** An access-log-like line of ~150 bytes. */
function line(sequence: number): string {
  return `ts=${new Date().toISOString()} level=info service=checkout method=GET path=/api/orders/${sequence} status=200 duration_ms=${sequence % 97} msg="tail line seq=${sequence} served"`;
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}

async function startAgent(logship: string, collectorUrl: string): Promise<ChildProcess> {
  const port = await freePort();
  const config = join(work, "agent.yaml");
  writeFileSync(
    config,
    `data_dir: ${join(work, "agent")}\nhost: bench\ncollectors: [${collectorUrl}]\ntoken: ${TOKENS.ingest}\napi: { listen: 127.0.0.1:${port} }\nsources:\n  - name: app\n    paths: [${JSON.stringify(logFile)}]\n    start_at: beginning\n`,
  );
  const child = spawn(process.execPath, [...AGENT_NODE_OPTIONS, logship, "agent", "--config", config, "--log-format", "json", "--log-level", "warn"], { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, ...AGENT_ENV } });
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) return child;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error("the agent did not answer /healthz within 30 s");
    await setTimeout(50);
  }
}

async function stopAgent(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
}


/**
 * CPU seconds Chromium's processes have used so far (the DevTools protocol's
 * SystemInfo.getProcessInfo): the page's renderers, and every process of
 * the browser. Less swayed by other work on the machine than frame times.
 */
async function chromiumCpuSeconds(browser: Browser): Promise<{ renderer: number; all: number }> {
  const session = await browser.newBrowserCDPSession();
  const { processInfo } = (await session.send("SystemInfo.getProcessInfo")) as { processInfo: { type: string; cpuTime: number }[] };
  await session.detach();
  const sum = (infos: { cpuTime: number }[]): number => infos.reduce((total, info) => total + info.cpuTime, 0);
  return { renderer: sum(processInfo.filter((info) => info.type === "renderer")), all: sum(processInfo) };
}

/** A trace event of Chromium's (the Trace Event Format): complete events carry their wall (`dur`) and thread CPU (`tdur`) time in µs. */
interface TraceEvent {
  ph: string;
  name: string;
  pid: number;
  tid: number;
  dur?: number;
  tdur?: number;
  args?: { name?: string };
}

/**
 * The page's main thread, from a Chromium trace of the stream: its tasks'
 * CPU time, and its long tasks (over 50 ms) in wall time and in the CPU
 * time the thread actually ran during them. On a machine whose cores are
 * shared, a long task whose CPU time is a fraction of its wall time was
 * mostly waiting for a core, not working.
 */
function mainThreadTasks(trace: Buffer): { cpuMs: number; longTasks: number; longTaskWallMs: number; longTaskCpuMs: number } {
  const events = (JSON.parse(trace.toString("utf8")) as { traceEvents: TraceEvent[] }).traceEvents;
  const mains = new Set(events.filter((event) => event.ph === "M" && event.name === "thread_name" && event.args?.name === "CrRendererMain").map((event) => `${event.pid}:${event.tid}`));
  const tasksByThread = new Map<string, TraceEvent[]>();
  for (const event of events) {
    const thread = `${event.pid}:${event.tid}`;
    if (event.ph !== "X" || event.name !== "RunTask" || !mains.has(thread)) continue;
    tasksByThread.set(thread, [...(tasksByThread.get(thread) ?? []), event]);
  }
  // The page's renderer is the busiest one (other renderers are Chromium's own, idle).
  const cpu = (tasks: TraceEvent[]): number => tasks.reduce((sum, task) => sum + (task.tdur ?? 0), 0) / 1000;
  const tasks = [...tasksByThread.values()].sort((a, b) => cpu(b) - cpu(a))[0] ?? [];
  const long = tasks.filter((task) => (task.dur ?? 0) > 50_000);
  return { cpuMs: cpu(tasks), longTasks: long.length, longTaskWallMs: long.reduce((sum, task) => sum + (task.dur ?? 0), 0) / 1000, longTaskCpuMs: cpu(long) };
}

/** Pause/Resume pairs through the second half of the stream. */
async function clickPausePairs(page: Page, signal: AbortSignal): Promise<TailCounts> {
  await setTimeout((seconds * 1000) / 2);
  const beforePauses = await tailCounts(page);
  for (let pair = 0; pair < clickPairs && !signal.aborted; pair++) {
    await page.click("#pause-button");
    await setTimeout(PAUSE_MS);
    await page.click("#pause-button");
    await setTimeout(CLICK_SPACING_MS);
  }
  return beforePauses;
}

/** One case: a fresh page in live tail while the writer appends `rate` lines a second for `seconds`; its JSON result. */
async function runCase(browser: Browser, collectorUrl: string, name: string, rate: number): Promise<Record<string, unknown>> {
  const loadAtStart = loadavg()[0] ?? 0;
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(`${collectorUrl}/?${new URLSearchParams({ q: QUERY, range: "15m" })}`);
  await page.fill("#signin-token", TOKENS.search);
  await page.press("#signin-token", "Enter");
  await page.waitForSelector('body[data-busy="false"] #summary[data-matches]', { state: "attached" });
  await page.click("#live-button");
  await page.waitForSelector('#tail-status[data-state="live"]');
  await installTailProbe(page, "#tail-events", "#pause-button");

  const cpuBefore = await chromiumCpuSeconds(browser);
  if (values.trace) await browser.startTracing(page, { categories: [TASK_TRACE_CATEGORY] });
  const fromMs = await pageNowMs(page);
  const writing = new AbortController();
  const clicking = clickPausePairs(page, writing.signal);
  const [written] = await Promise.all([writePaced(logFile, { linesPerSecond: rate, lines: rate * seconds, line }), setTimeout(seconds * 1000)]);
  writing.abort();
  const beforePauses = await clicking;
  const toMs = await pageNowMs(page);
  const tasks = values.trace ? mainThreadTasks(await browser.stopTracing()) : undefined;
  const cpuAfter = await chromiumCpuSeconds(browser);
  const streamSeconds = (toMs - fromMs) / 1000;
  const atWriterEnd = await tailCounts(page);
  const deadline = Date.now() + CATCH_UP_TIMEOUT_MS;
  let final = atWriterEnd;
  while (final.received < written || final.waiting > 0) {
    if (Date.now() > deadline) throw new Error(`the page received ${final.received} of ${written} lines (${final.waiting} waiting) within ${CATCH_UP_TIMEOUT_MS} ms of the writer's end`);
    await setTimeout(100);
    final = await tailCounts(page);
  }
  if (final.shown + final.dropped !== final.received) throw new Error(`shown ${final.shown} + dropped ${final.dropped} ≠ received ${final.received}`);
  const summary = await probeSummary(page, fromMs, toMs);
  const rowsAtEnd = await page.locator("#tail-events > li").count();
  const rowsMax = await probedRowsMax(page);
  await page.close();
  return {
    bench: "ui_tail",
    case: name,
    path: "writer → file → bundled agent → bundled collector (log, search index) → GET /v1/tail → Chromium (headless) live tail, 1280×800",
    query: QUERY,
    lines_per_s: rate,
    seconds,
    lines_written: written,
    lines_received_when_writer_stopped: atWriterEnd.received,
    lines_received: final.received,
    rows_put_on_page: final.shown,
    lines_dropped_unshown: final.dropped,
    lines_dropped_before_pauses: beforePauses.dropped,
    rows_in_dom_at_end: rowsAtEnd,
    rows_in_dom_max: rowsMax,
    renderer_cpu_s_per_s: round((cpuAfter.renderer - cpuBefore.renderer) / streamSeconds),
    chromium_cpu_s_per_s: round((cpuAfter.all - cpuBefore.all) / streamSeconds),
    frames_per_s: round(summary.framesPerSecond),
    frames_over_50_ms: summary.framesOver50Ms,
    frame_gap_p50_ms: round(summary.frameGapP50Ms),
    frame_gap_p95_ms: round(summary.frameGapP95Ms),
    frame_gap_max_ms: round(summary.frameGapMaxMs),
    long_tasks: summary.longTasks,
    long_task_total_ms: round(summary.longTaskTotalMs),
    long_task_max_ms: round(summary.longTaskMaxMs),
    ...(tasks === undefined
      ? {}
      : {
          traced: true,
          main_thread_cpu_s_per_s: round(tasks.cpuMs / 1000 / streamSeconds),
          long_task_cpu_ms: round(tasks.longTaskCpuMs),
          long_task_cpu_share: round(tasks.longTaskCpuMs / Math.max(1, tasks.longTaskWallMs)),
        }),
    pause_clicks: summary.clicks,
    click_to_paint_p50_ms: round(summary.clickToPaintP50Ms),
    click_to_paint_max_ms: round(summary.clickToPaintMaxMs),
    inputs_over_100_ms: summary.slowInputs,
    input_max_ms: round(summary.slowInputMaxMs),
    load_1m_start: round(loadAtStart),
    load_1m_end: round(loadavg()[0] ?? 0),
  };
}

const logship = await bundleLogship(root);
const collector = await startCollector(logship, join(work, "collector"));
const agent = await startAgent(logship, collector.url);
const browser = await launchChromium();
try {
  // The same page with no lines first: what the machine's other work does to its frames, beside what the tail does.
  console.log(JSON.stringify(await runCase(browser, collector.url, "idle_page", 0)));
  console.log(JSON.stringify(await runCase(browser, collector.url, "live_tail", linesPerSecond)));
} finally {
  await browser.close();
  await stopAgent(agent);
  await stopCollector(collector);
}
