/**
 * Delivery acceptance (issue 3), end to end with real processes: a
 * `logship agent` tails 4 files while writers append numbered lines, ships to
 * a `logship collector`, and every line must be in the collector's log
 * exactly once (counted with `logship log dump`):
 *
 * 1. undisturbed, 1,000,000 lines (4 × 250,000);
 * 2. while the agent is SIGKILLed and restarted 10 times at random moments;
 * 3. while the collector is SIGKILLed and restarted 10 times (same port).
 *
 * With kills, the writers are paced by the kills (a file's k-th of n write
 * bursts waits for ⌊k/n · 11⌋ kills), so every kill lands while lines are
 * being written and shipped. After the writers finish, the test waits until
 * the agent's /status shows every file acknowledged to its end and an empty
 * spool, then stops both with SIGTERM (each must exit 0) and counts.
 *
 * Replay: LOGSHIP_E2E_SEED=<seed> (printed as a diagnostic) repeats the kill
 * delays. LOGSHIP_E2E_KEEP=1 keeps the scratch directory (it is always kept
 * on failure).
 */
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { randomInt } from "node:crypto";
import { appendFile, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { agentSetup, agentStatus, collectorSetup, dumpLog, exactlyOnce, waitDelivered, type AgentSetup, type CollectorSetup, type LogshipProcess } from "../helpers/processes.ts";
import { prng } from "../helpers/fault-proxy.ts";

const SEED = process.env.LOGSHIP_E2E_SEED === undefined ? randomInt(2 ** 31) : Number(process.env.LOGSHIP_E2E_SEED);
const KEEP = process.env.LOGSHIP_E2E_KEEP === "1";
const NAMES = ["a", "b", "c", "d"];
const KILLS = 10;
/** Upper bound for the backlog to drain after the writers finish (only reached when something is wrong). */
const DELIVERY_TIMEOUT_MS = 150_000;
const PADDING = "the quick brown fox jumps over the lazy dog";

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

interface Scenario {
  name: string;
  linesPerFile: number;
  /** Write bursts per file. */
  bursts: number;
  /** Pause after each burst. */
  pauseMs: number;
  /** Runs while the writers write; `killed` counts kills done (the writers wait for them). */
  disturb?: (run: Run) => Promise<void>;
}

interface Run {
  random: () => number;
  agent: AgentSetup;
  collector: CollectorSetup;
  /** Kills done so far; the writers are paced by it. */
  killed: number;
  /** Set when the disturbance failed: the writers stop waiting for kills. */
  failed: unknown;
  /** Duplicates acknowledged by the collector, as the agent processes reported them (a SIGKILLed agent's last few may be missed). */
  duplicates: number;
  /** Every process started, for the logs kept on failure. */
  processes: { name: string; process: LogshipProcess }[];
}

async function startAgent(run: Run): Promise<void> {
  run.processes.push({ name: `agent-${run.processes.filter((entry) => entry.name.startsWith("agent")).length}`, process: await run.agent.start() });
}

async function startCollector(run: Run): Promise<void> {
  run.processes.push({ name: `collector-${run.processes.filter((entry) => entry.name.startsWith("collector")).length}`, process: await run.collector.start() });
}

async function writeLines(path: string, name: string, count: number, scenario: Scenario, run: Run, paced: boolean): Promise<void> {
  const perBurst = Math.ceil(count / scenario.bursts);
  for (let burst = 0; burst * perBurst < count; burst++) {
    if (paced) {
      const killsNeeded = Math.floor((burst / scenario.bursts) * (KILLS + 1));
      while (run.killed < killsNeeded) {
        if (run.failed !== null) throw run.failed;
        await sleep(20);
      }
    }
    let text = "";
    for (let seq = burst * perBurst; seq < Math.min(count, (burst + 1) * perBurst); seq++) text += `file=${name} seq=${seq} ${PADDING}\n`;
    await appendFile(path, text);
    await sleep(scenario.pauseMs);
  }
}


/** Follows the agent's duplicate counter across restarts (each process counts from 0). */
function watchDuplicates(run: Run): { stop(): Promise<void> } {
  let stopped = false;
  let process: LogshipProcess | null = null;
  let lastSeen = 0;
  const loop = (async () => {
    while (!stopped) {
      const current = run.agent.process;
      if (current !== process) {
        process = current;
        lastSeen = 0;
      }
      const status = await agentStatus(run.agent);
      if (status !== null && run.agent.process === process && status.batches.duplicates > lastSeen) {
        run.duplicates += status.batches.duplicates - lastSeen;
        lastSeen = status.batches.duplicates;
      }
      await sleep(200);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
    },
  };
}


async function runScenario(t: TestContext, scenario: Scenario): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), `logship-e2e-${scenario.name}-`));
  let passed = false;
  const logsDir = join(dir, "logs");
  await mkdir(logsDir);
  const paths = NAMES.map((name) => join(logsDir, `${name}.log`));
  for (const path of paths) await writeFile(path, "");
  const collector = await collectorSetup(join(dir, "collector"));
  const agent = await agentSetup(join(dir, "agent"), [collector.url], [join(logsDir, "*.log")]);
  const run: Run = { random: prng(SEED), agent, collector, killed: 0, failed: null, duplicates: 0, processes: [] };
  await startCollector(run);
  await startAgent(run);
  const duplicates = watchDuplicates(run);
  try {
    const startedMs = Date.now();
    const paced = scenario.disturb !== undefined;
    const disturbing = scenario.disturb?.(run).catch((error: unknown) => {
      run.failed = error;
      throw error;
    });
    await Promise.all([...paths.map((path, index) => writeLines(path, NAMES[index] as string, scenario.linesPerFile, scenario, run, paced)), disturbing]);
    const wroteMs = Date.now();
    const status = await waitDelivered(agent, paths, DELIVERY_TIMEOUT_MS);
    const deliveredMs = Date.now();
    await duplicates.stop();

    const agentProcess = agent.process as LogshipProcess;
    const collectorProcess = collector.process as LogshipProcess;
    await agentProcess.kill("SIGTERM");
    assert.deepEqual(await agentProcess.exited, { code: 0, signal: null }, `agent exit on SIGTERM; last log:\n${agentProcess.log.slice(-10).join("\n")}`);
    await collectorProcess.kill("SIGTERM");
    assert.deepEqual(await collectorProcess.exited, { code: 0, signal: null }, `collector exit on SIGTERM; last log:\n${collectorProcess.log.slice(-10).join("\n")}`);

    const events = await dumpLog(collector.configPath);
    const counts = Object.fromEntries(NAMES.map((name) => [name, scenario.linesPerFile]));
    const report = exactlyOnce(events, counts);
    t.diagnostic(
      `${scenario.name}: seed ${SEED}; ${NAMES.length * scenario.linesPerFile} lines written in ${wroteMs - startedMs} ms, all acknowledged ${deliveredMs - wroteMs} ms later; ` +
        `kills ${run.killed}; events in the log ${events.length}; missing ${report.missing}; duplicates in the log ${report.duplicates}; ` +
        `batches acknowledged as duplicates by the collector ≥ ${run.duplicates} (last agent process: ${status.batches.duplicates} of ${status.batches.delivered} delivered, ${status.batches.retries} retries)`,
    );
    assert.equal(report.missing, 0, `missing lines (seed ${SEED}): ${report.examples.join(", ")}`);
    assert.equal(report.duplicates, 0, `duplicate lines (seed ${SEED}): ${report.examples.join(", ")}`);
    assert.equal(events.length, NAMES.length * scenario.linesPerFile, "events in the log");
    passed = true;
  } finally {
    await duplicates.stop();
    run.failed ??= new Error("test ended");
    await agent.process?.kill("SIGKILL");
    await collector.process?.kill("SIGKILL");
    if (passed && !KEEP) await rm(dir, { recursive: true, force: true });
    else {
      // A process that failed to start is not in the list yet.
      if (agent.process !== null && !run.processes.some((entry) => entry.process === agent.process)) run.processes.push({ name: "agent-failed-start", process: agent.process });
      if (collector.process !== null && !run.processes.some((entry) => entry.process === collector.process)) run.processes.push({ name: "collector-failed-start", process: collector.process });
      for (const { name, process } of run.processes) await writeFile(join(dir, `${name}.log`), process.log.join("\n") + "\n");
      t.diagnostic(`scratch directory kept (with every process's log): ${dir}`);
    }
  }
}

test("1,000,000 lines from 4 files reach the collector's log exactly once", { timeout: 300_000 }, async (t) => {
  await runScenario(t, { name: "plain", linesPerFile: 250_000, bursts: 100, pauseMs: 150 });
});

/**
 * KILLS times, at random moments (from right after a start to well into
 * steady tailing): SIGKILL one process, check it died of that, let the
 * agent's requests pile up for `downMs()` and start it again.
 */
async function killAndRestart(run: Run, which: "agent" | "collector", downMs: () => number): Promise<void> {
  for (let kill = 0; kill < KILLS; kill++) {
    await sleep(Math.floor(run.random() ** 2 * 2_000));
    const process = run[which].process as LogshipProcess;
    await process.kill("SIGKILL");
    assert.equal((await process.exited).signal, "SIGKILL", `the ${which} died before it was killed; last log:\n${process.log.slice(-10).join("\n")}`);
    run.killed++;
    await sleep(downMs());
    await (which === "agent" ? startAgent(run) : startCollector(run));
  }
}

test("exactly once while the agent is SIGKILLed and restarted 10 times", { timeout: 300_000 }, async (t) => {
  // Restarted at once: it restores and re-sends its spool.
  await runScenario(t, { name: "agent-kills", linesPerFile: 100_000, bursts: 110, pauseMs: 20, disturb: (run) => killAndRestart(run, "agent", () => 0) });
});

test("exactly once while the collector is SIGKILLed and restarted 10 times", { timeout: 300_000 }, async (t) => {
  // Down for a moment: the agent's requests fail and pile up meanwhile.
  await runScenario(t, { name: "collector-kills", linesPerFile: 100_000, bursts: 110, pauseMs: 20, disturb: (run) => killAndRestart(run, "collector", () => Math.floor(run.random() * 500)) });
});
